/*
 * store_mgr.c - the memory cache's manager pages: objects (every
 * indexed entry) and storedir (the cache as Squid's Store Directory
 * Statistics show a cache_dir).  Registered by store_register_pages()
 * with the index as their arg; what every page shares (cache_mem, the
 * replacement policy, the time) comes with the request.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "mgr/mgr.h"
#include "store/store.h"

static double
store_mgr_kb(uint64_t bytes)
{
	return ((double)bytes / 1024.0);
}

/* -- objects --------------------------------------------------------------- */

struct store_mgr_walk {
	struct mgr_out	*o;
	double		now;
	uint64_t	n;
};

static void
store_mgr_object_one(struct store_entry *e, void *arg)
{
	struct store_mgr_walk *w = arg;
	const struct http_cache_meta *meta = store_entry_meta(e);
	const struct http_msg *rep = store_entry_reply(e);
	char hex[STORE_KEY_LEN * 2 + 1];
	int64_t age;

	w->n++;
	age = http_cache_age(meta, (int64_t)w->now);
	mgr_out_printf(w->o, "KEY %s\n", store_key_hex(store_entry_key(e),
	    hex));
	if (store_entry_url(e) != NULL)
		mgr_out_printf(w->o, "\tGET %s%s\n", store_entry_url(e),
		    meta->flags & HCM_VARY_MARKER ? " (Vary marker)" : "");
	mgr_out_printf(w->o, "\t%s IN_MEMORY\n", store_entry_state(e) ==
	    STORE_COMPLETE ? "STORE_OK     " : "STORE_PENDING");
	mgr_out_printf(w->o, "\tLV:%jd AGE:%jd EX:%jd\n",
	    (intmax_t)meta->response_time, (intmax_t)age,
	    (intmax_t)(meta->response_time + meta->lifetime -
	    meta->corrected_initial_age));
	mgr_out_printf(w->o, "\t%u locks, %u clients\n",
	    store_entry_nreaders(e), store_entry_nreaders(e));
	if (rep != NULL)
		mgr_out_printf(w->o, "\tstatus %u\n", rep->status);
	mgr_out_printf(w->o, "\tinmem_hi: %ju\n",
	    (uintmax_t)store_entry_body_len(e));
	mgr_out_printf(w->o, "\tmem: %ju bytes\n\n",
	    (uintmax_t)store_entry_mem(e));
}

static int
store_mgr_objects(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	struct store_index *idx = arg;
	struct store_mgr_walk w = { o, c->now, 0 };

	store_index_walk(idx, store_mgr_object_one, &w);
	mgr_out_printf(o, "%ju objects\n", (uintmax_t)w.n);
	return (0);
}

/* -- storedir -------------------------------------------------------------- */

static int
store_mgr_storedir(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct store_index *idx = arg;
	struct store_index_stats ss;
	double max = c->conf != NULL ? (double)c->conf->cache_mem : 0;

	store_index_stats(idx, &ss);
	mgr_out_printf(o, "Store Directory Statistics:\n");
	mgr_out_printf(o, "Store Entries          : %ju\n",
	    (uintmax_t)ss.entries);
	mgr_out_printf(o, "Maximum Swap Size      : 0 KB\n");
	mgr_out_printf(o, "Current Store Swap Size: 0.00 KB\n");
	mgr_out_printf(o, "Current Capacity       : 0.00%% used, 0.00%% "
	    "free\n\n");
	mgr_out_printf(o, "Store Directory #0 (memory): %s\n", "cache_mem");
	mgr_out_printf(o, "Maximum Size: %.0f KB\n", max / 1024.0);
	mgr_out_printf(o, "Current Size: %.2f KB\n", store_mgr_kb(ss.bytes));
	mgr_out_printf(o, "Percent Used: %0.2f%%\n", max > 0 ?
	    100.0 * (double)ss.bytes / max : 0.0);
	mgr_out_printf(o, "Current entries: %ju\n", (uintmax_t)ss.entries);
	mgr_out_printf(o, "Replacement policy: %s\n", c->conf != NULL &&
	    c->conf->memory_replacement_policy == CONF_REPL_SIEVE ? "sieve" :
	    "lru");
	mgr_out_printf(o, "Objects added: %ju, evicted: %ju, removed: %ju\n",
	    (uintmax_t)ss.added, (uintmax_t)ss.evicted,
	    (uintmax_t)ss.removed);
	mgr_out_printf(o, "(no disk store yet)\n");
	return (0);
}

int
store_register_pages(struct store_index *idx, struct mgr_registry *r)
{
	int err;

	AN(idx);
	err = mgr_register(r, MGR_SEC_STORE, "objects", "All Cache Objects",
	    0, store_mgr_objects, idx);
	/* The disk stores' storedir, when there are some, has this one. */
	if (err == 0 && mgr_registry_find(r, "storedir", 8) == NULL)
		err = mgr_register(r, MGR_SEC_STORE, "storedir",
		    "Store Directory Stats", 0, store_mgr_storedir, idx);
	return (err);
}
