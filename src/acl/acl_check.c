/*
 * acl_check.c - rule checks that may wait for a lookup.
 *
 * A check runs the rules as acl_rules_check() does, but stops before an
 * acl that cannot answer yet: dst for a host that is a name (the origin's
 * address), srcdomain (the client's name).  It starts that lookup, keeps
 * its place (rule, term), and goes on from there when the answer comes;
 * the rules before that point are not evaluated again.  Fast acls never
 * wait, and an acl after a decisive one is never looked up for: a client
 * denied by src costs no DNS.
 *
 *	acl_check_start()	answer now, or ACL_WAIT and a lookup out
 *	  check_dst_done()	\\ the lookup's completion: the answer into
 *	  check_name_done()	/ lk, then on from where it stopped
 *	acl_check_cancel()	cancels the lookup; fn gets ACL_CANCELLED
 *	fn(ck, answer)		once per ACL_WAIT, from the loop (it is the
 *				lookup's completion that calls it, and those
 *				never run inside the call that started them)
 *
 * A lookup that fails (no such name, a timeout, no memory) is a lookup
 * done: the acl sees no address or no name and does not match, as in
 * Squid.  Answers are kept in the caller's struct acl_lookups, so the
 * other checks of the request (cache, reply_body_max_size,
 * http_reply_access) do not look up again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl_int.h"
#include "base/check.h"
#include "base/log.h"
#include "dns/dns.h"

static dns_done_fn check_dst_done;
static dns_name_fn check_name_done;

void
acl_lookups_fini(struct acl_lookups *lk)
{
	free(lk->src_name);
	free(lk->user);
	free(lk->ext_user);
	free(lk->ext_tag);
	free(lk->ext_log);
	memset(lk, 0, sizeof *lk);
}

void
acl_lookups_view(const struct acl_lookups *lk, struct acl_request *req)
{
	req->known = lk->known;
	req->dst = lk->known & ACL_KNOW_DST && lk->dst.sa.sa_family !=
	    AF_UNSPEC ? &lk->dst.sa : NULL;
	req->src_name = lk->src_name;
	req->src_name_len = lk->src_name != NULL ? strlen(lk->src_name) : 0;
	req->user = lk->user;
	req->user_len = lk->user != NULL ? strlen(lk->user) : 0;
	req->user_ips = lk->user_ips;
	req->user_ips_over = lk->auth_ips_over;
	req->user_ips_ctx = lk->auth_ctx;
	req->ext = lk->ext;
	req->next = lk->next;
	req->ext_user = lk->ext_user;
	req->ext_tag = lk->ext_tag;
}

/* The answer of external acl a for this request, kept: each is asked at
 * most once a request (and past ACL_EXT_MAX of them, the others do not
 * match). */
static void
check_ext_keep(struct acl_lookups *lk, const void *a, bool match,
    const struct acl_ext_notes *nt)
{
	char *u = nt->user != NULL ? strdup(nt->user) : NULL;
	char *g = nt->tag != NULL ? strdup(nt->tag) : NULL;
	char *l = nt->log != NULL ? strdup(nt->log) : NULL;

	if (lk->next < ACL_EXT_MAX) {
		lk->ext[lk->next].acl = a;
		lk->ext[lk->next].match = match;
		lk->next++;
	}
	if (u != NULL) {
		free(lk->ext_user);
		lk->ext_user = u;
	}
	if (g != NULL) {
		free(lk->ext_tag);
		lk->ext_tag = g;
	}
	if (l != NULL) {
		free(lk->ext_log);
		lk->ext_log = l;
	}
}

bool
acl_check_denied_by_auth(const struct acl_check *ck)
{
	return (ck->magic == ACL_CHECK_MAGIC && ck->auth_acl);
}

bool
acl_lookups_auth_failed(const struct acl_lookups *lk)
{
	return ((lk->known & ACL_KNOW_USER) && lk->user == NULL);
}

/* Start the lookup ck->need asks for: false when it cannot be made (no
 * resolver, no memory), and the lookup then counts as done, unanswered. */
static bool
check_lookup(struct acl_check *ck)
{
	struct acl_request *req = ck->req;
	struct acl_lookups *lk = ck->lk;
	char *user = NULL;

	if (ck->need == ACL_NEED_EXTERNAL) {
		struct acl_ext_notes nt = { NULL, NULL, NULL };
		bool match = false;
		const struct acl *a = acl_rules_term_acl(ck->rules, ck->rule,
		    ck->term);

		ck->ext_acl = a;
		if (lk->next >= ACL_EXT_MAX)
			log_msg(LG_WARN, SEC_ACL, "more than %u external acls "
			    "for one request: the others do not match",
			    ACL_EXT_MAX);
		else if (lk->externals != NULL && acl_external_start(
		    lk->externals, a, req, ck, &match, &nt) == 1)
			return (true);
		check_ext_keep(lk, a, match, &nt);
		if (lk->ext[lk->next - 1].acl != a) {
			/* Full: a takes the last place, unmatched. */
			lk->ext[ACL_EXT_MAX - 1].acl = a;
			lk->ext[ACL_EXT_MAX - 1].match = false;
		}
		acl_lookups_view(lk, req);
		return (false);
	}
	if (ck->need == ACL_NEED_USER) {
		if (lk->auth_start != NULL && lk->auth_start(lk->auth_ctx, ck,
		    &user) == 1)
			return (true);
		lk->user = user;
		lk->known |= ACL_KNOW_USER;
		acl_lookups_view(lk, req);
		return (false);
	}
	if (ck->dns != NULL && ck->need == ACL_NEED_DST)
		ck->q = dns_lookup(ck->dns, req->host, req->host_len,
		    check_dst_done, ck);
	else if (ck->dns != NULL && req->src != NULL)
		ck->q = dns_lookup_addr(ck->dns, req->src, check_name_done,
		    ck);
	if (ck->q != NULL)
		return (true);
	if (ck->dns != NULL)
		log_msg(LG_WARN, SEC_ACL, "no memory to look up %s for acls",
		    ck->need == ACL_NEED_DST ? "the origin's address" :
		    "the client's name");
	ck->lk->known |= ck->need == ACL_NEED_DST ? ACL_KNOW_DST :
	    ACL_KNOW_SRC_NAME;
	acl_lookups_view(ck->lk, req);
	return (false);
}

/* Evaluate from where ck stopped until an answer or a lookup under way. */
static enum acl_answer
check_run(struct acl_check *ck)
{
	struct acl_decision d;
	enum acl_answer a;
	enum acl_need need;

	for (;;) {
		a = acl_rules_eval(ck->rules, ck->req,
		    (enum acl_answer)ck->if_no_rules, &ck->rule, &ck->term,
		    &need, &d);
		if (a != ACL_WAIT) {
			ck->auth_acl = a == ACL_DENY && !d.implicit &&
			    d.auth_acl;
			return (a);
		}
		ck->need = (uint8_t)need;
		if (check_lookup(ck))
			return (ACL_WAIT);
	}
}

enum acl_answer
acl_check_start(struct acl_check *ck, const struct acl_rules *r,
    struct acl_request *req, struct acl_lookups *lk,
    struct dns_resolver *dns, enum acl_answer if_no_rules, acl_check_fn *fn,
    void *arg)
{
	enum acl_answer a;

	AN(req);
	AN(lk);
	AN(fn);
	CHECK(if_no_rules == ACL_ALLOW || if_no_rules == ACL_DENY);
	memset(ck, 0, sizeof *ck);
	ck->magic = ACL_CHECK_MAGIC;
	if (r == NULL)
		return (if_no_rules);
	ck->rules = r;
	ck->req = req;
	ck->lk = lk;
	ck->dns = dns;
	ck->fn = fn;
	ck->arg = arg;
	ck->if_no_rules = (uint8_t)if_no_rules;
	acl_lookups_view(lk, req);
	a = check_run(ck);
	ck->waiting = a == ACL_WAIT;
	if (ck->waiting)
		(void)acl_rules_hold(r);	/* released as fn runs */
	return (a);
}

/* A lookup ended: on from where the check stopped, or tell the owner it
 * was cancelled.  The lookup's completion is this call's only caller. */
static void
check_resume(struct acl_check *ck)
{
	struct acl_rules *held;
	enum acl_answer a;

	ck->q = NULL;
	acl_lookups_view(ck->lk, ck->req);
	a = ck->cancelled ? ACL_CANCELLED : check_run(ck);
	if (a != ACL_WAIT) {
		/* fn may start another check in ck: the rules are let go
		 * after it, through a copy. */
		held = (struct acl_rules *)(uintptr_t)ck->rules;
		ck->waiting = false;
		ck->fn(ck, a, ck->arg);
		acl_rules_free(&held);
	}
}

static void
check_dst_done(struct dns_query *q, const struct dns_result *res, void *arg)
{
	struct acl_check *ck = arg;
	const struct sockaddr *sa;

	(void)q;
	CHECK_OBJ_NOTNULL(ck, ACL_CHECK_MAGIC);
	if (res->status == DNS_OK && !ck->cancelled) {
		sa = &res->ans->addrs[0].sa;
		if (sa->sa_family == AF_INET)
			ck->lk->dst.sin = *(const struct sockaddr_in *)
			    (const void *)sa;
		else if (sa->sa_family == AF_INET6)
			ck->lk->dst.sin6 = *(const struct sockaddr_in6 *)
			    (const void *)sa;
	}
	if (!ck->cancelled)
		ck->lk->known |= ACL_KNOW_DST;
	check_resume(ck);
}

static void
check_name_done(struct dns_query *q, const struct dns_name_result *res,
    void *arg)
{
	struct acl_check *ck = arg;

	(void)q;
	CHECK_OBJ_NOTNULL(ck, ACL_CHECK_MAGIC);
	/* No name, or no memory for it, matches no srcdomain acl. */
	if (res->status == DNS_OK && !ck->cancelled)
		ck->lk->src_name = strdup(res->name);
	if (!ck->cancelled)
		ck->lk->known |= ACL_KNOW_SRC_NAME;
	check_resume(ck);
}

void
acl_check_auth_done(struct acl_check *ck, const char *user)
{
	CHECK_OBJ_NOTNULL(ck, ACL_CHECK_MAGIC);
	CHECK(ck->waiting && ck->need == ACL_NEED_USER);
	if (!ck->cancelled) {
		free(ck->lk->user);
		ck->lk->user = user != NULL ? strdup(user) : NULL;
		if (user != NULL && ck->lk->user == NULL)
			log_msg(LG_WARN, SEC_ACL, "no memory for the user "
			    "name: taken as no credentials");
		ck->lk->known |= ACL_KNOW_USER;
	}
	check_resume(ck);
}

void
acl_check_ext_done(struct acl_check *ck, bool match,
    const struct acl_ext_notes *notes)
{
	CHECK_OBJ_NOTNULL(ck, ACL_CHECK_MAGIC);
	CHECK(ck->waiting && ck->need == ACL_NEED_EXTERNAL);
	ck->ext_q = NULL;
	if (!ck->cancelled)
		check_ext_keep(ck->lk, ck->ext_acl, match, notes);
	check_resume(ck);
}

void
acl_check_cancel(struct acl_check *ck)
{
	CHECK_OBJ_NOTNULL(ck, ACL_CHECK_MAGIC);
	if (!ck->waiting || ck->cancelled)
		return;
	ck->cancelled = true;
	if (ck->need == ACL_NEED_EXTERNAL) {
		acl_external_cancel(ck);	/* its completion still comes */
		return;
	}
	if (ck->need == ACL_NEED_USER) {
		/* Its completion still comes. */
		ck->lk->auth_cancel(ck->lk->auth_ctx);
		return;
	}
	dns_cancel(&ck->q);		/* its completion still comes */
}

bool
acl_check_waiting(const struct acl_check *ck)
{
	return (ck->magic == ACL_CHECK_MAGIC && ck->waiting);
}
