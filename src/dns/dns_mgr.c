/*
 * dns_mgr.c - the resolver's manager page: ipcache, its counters and
 * the forward answers it holds, in Squid's layout.  Registered by
 * dns_register_pages() with the resolver as its arg; reconfigure, which
 * replaces the resolver, moves the page to the new one
 * (mgr_registry_rebind()) before the old one can be freed.
 */
#include "config.h"

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "comm/comm.h"
#include "dns/dns.h"
#include "mgr/mgr.h"

struct dns_mgr_walk {
	struct mgr_out	*o;
	double		now;
};

static int
dns_mgr_ipcache_one(const struct dns_answer *a, void *arg)
{
	struct dns_mgr_walk *w = arg;
	char addr[INET6_ADDRSTRLEN + 8];
	unsigned i;

	mgr_out_printf(w->o, " %-32.32s %-6s %6.0f %6s %2u(%2u)",
	    a->name, a->status == DNS_OK ? "" : " N",
	    a->expires > 0 ? a->expires - w->now : -1.0,
	    a->source == DNS_SRC_HOSTS ? "hosts" : a->source ==
	    DNS_SRC_LITERAL ? "lit" : "dns", a->naddrs, 0u);
	for (i = 0; i < a->naddrs; i++) {
		comm_addr_format(&a->addrs[i].sa, addr, sizeof addr);
		/* The port is 0: show the address alone. */
		if (strlen(addr) > 2 && strcmp(addr + strlen(addr) - 2,
		    ":0") == 0)
			addr[strlen(addr) - 2] = '\0';
		mgr_out_printf(w->o, " %s-OK", addr);
	}
	if (a->status != DNS_OK && a->reason != NULL)
		mgr_out_printf(w->o, " (%s)", a->reason);
	mgr_out_printf(w->o, "\n");
	return (0);
}

static int
dns_mgr_ipcache(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct dns_resolver *r = arg;
	struct dns_mgr_walk w = { o, c->now };
	struct dns_stats ds;

	dns_stats(r, &ds);
	mgr_out_printf(o, "IP Cache Statistics:\n");
	mgr_out_printf(o, "IPcache Entries Cached:  %u\n", ds.entries);
	mgr_out_printf(o, "IPcache Requests: %ju\n", (uintmax_t)ds.lookups);
	mgr_out_printf(o, "IPcache Hits:            %ju\n",
	    (uintmax_t)ds.hits);
	mgr_out_printf(o, "IPcache Negative Hits:       %ju\n",
	    (uintmax_t)ds.negative_hits);
	mgr_out_printf(o, "IPcache Numeric Hits:        %ju\n",
	    (uintmax_t)ds.literals);
	mgr_out_printf(o, "IPcache Misses:          %ju\n",
	    (uintmax_t)ds.misses);
	mgr_out_printf(o, "IPcache Invalid Request: 0\n\n\n");
	mgr_out_printf(o, "%-33.33s %3s %6s %6s  %s\n", "Hostname", "Flg",
	    "lstref", "TTL", "N(b)");
	(void)dns_walk(r, dns_mgr_ipcache_one, &w);
	return (0);
}

int
dns_register_pages(struct dns_resolver *r, struct mgr_registry *reg)
{
	AN(r);
	return (mgr_register(reg, MGR_SEC_DNS, "ipcache",
	    "IP Cache Stats and Contents", 0, dns_mgr_ipcache, r));
}
