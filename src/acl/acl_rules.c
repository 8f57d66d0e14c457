/*
 * acl_rules.c - http_access-style rules: "allow|deny [!]aclname ...".
 *
 *	acl_rules_compile()	each line -> a rule: action and a run of
 *				terms (acl pointer, negated or not)
 *	acl_rules_decide()	first rule whose terms all match decides
 *	acl_rules_free()
 *
 * All terms of all rules sit in one array; a rule is an index range into
 * it.  A check allocates nothing and stops at the first term that fails,
 * so cheap acls written first (as stock configurations do: "deny CONNECT
 * !SSL_ports") keep checks cheap.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "conf/conf.h"
#include "acl/acl_int.h"

struct acl_term {
	const struct acl	*acl;
	bool			negate;
};

struct acl_rule {
	const char		*file;
	unsigned		line;
	enum acl_answer		action;
	uint32_t		first;		/* index into terms */
	uint32_t		n;
};

struct acl_rules {
	unsigned		magic;
#define ACL_RULES_MAGIC		0xac1e0001U
	unsigned		refs;	/* the owner's, and each waiting
					 * check's (acl_rules_hold()) */
	struct acl_set		*set;	/* held: the acls it names */
	struct acl_rule		*v;
	size_t			n;
	struct acl_term		*terms;
	size_t			nterms;
	struct acl_files	files;
	bool			need_dst;
	bool			need_src_name;
	bool			need_conns;
};

/* One line; false when out of memory. */
static bool
rules_line(struct acl_rules *r, const struct acl_set *set,
    const struct conf_line *l, const char *directive, int *errors)
{
	struct acl_where w = { .line = l->line, .directive = directive,
	    .errors = errors };
	char syntax[128];
	struct acl_term *t;
	struct acl_rule *rule;
	const struct acl *a;
	enum acl_answer action;
	const char *name;
	size_t start = r->nterms;
	unsigned i, bad = 0;
	bool negate;

	snprintf(syntax, sizeof syntax, "%s allow|deny [!]aclname ...",
	    directive);
	w.syntax = syntax;
	w.file = acl_files_intern(&r->files, l->file);
	if (w.file == NULL)
		return (false);
	if (strcmp(l->argv[0], "allow") == 0)
		action = ACL_ALLOW;
	else if (strcmp(l->argv[0], "deny") == 0)
		action = ACL_DENY;
	else {
		acl_error(&w, NULL, "\"%s\" is neither allow nor deny",
		    l->argv[0]);
		return (true);
	}
	if (l->argc < 2) {
		acl_error(&w, "name \"all\" for a rule that matches every "
		    "request", "%s with no acl", l->argv[0]);
		return (true);
	}
	t = realloc(r->terms, (r->nterms + l->argc - 1) * sizeof *t);
	if (t == NULL)
		return (false);
	r->terms = t;
	for (i = 1; i < l->argc; i++) {
		name = l->argv[i];
		negate = name[0] == '!';
		if (negate)
			name++;
		a = *name != '\0' ? acl_set_find(set, name) : NULL;
		if (a == NULL) {
			acl_error(&w, "define it with an acl line (built-in: "
			    "all, localhost, to_localhost, manager, CONNECT)",
			    "unknown acl \"%s\"", name);
			bad++;
			continue;
		}
		if ((acl_types[a->type].flags & ACLF_REPLY) != 0 &&
		    strcmp(directive, "http_access") == 0)
			acl_warn(&w, "use it in http_reply_access", "acl %s: "
			    "%s needs a reply, which http_access does not "
			    "have: it never matches here", a->name,
			    acl_types[a->type].name);
		if ((acl_types[a->type].flags & ACLF_DST) != 0)
			r->need_dst = true;
		if ((acl_types[a->type].flags & ACLF_RDNS) != 0)
			r->need_src_name = true;
		if ((acl_types[a->type].flags & ACLF_CONNS) != 0)
			r->need_conns = true;
		t[r->nterms].acl = a;
		t[r->nterms].negate = negate;
		r->nterms++;
	}
	if (bad > 0) {
		r->nterms = start;	/* a rule missing a term is no rule */
		return (true);
	}
	rule = realloc(r->v, (r->n + 1) * sizeof *rule);
	if (rule == NULL)
		return (false);
	r->v = rule;
	rule = &r->v[r->n++];
	rule->file = w.file;
	rule->line = l->line;
	rule->action = action;
	rule->first = (uint32_t)start;
	rule->n = (uint32_t)(r->nterms - start);
	return (true);
}

struct acl_rules *
acl_rules_compile(const struct acl_set *set, const struct conf_lines *rules,
    const char *directive, int *errors)
{
	struct acl_where w = { .file = directive, .directive = directive,
	    .errors = errors };
	struct acl_rules *r;
	size_t i;

	AN(set);
	AN(directive);
	AN(errors);
	ALLOC_OBJ(r, ACL_RULES_MAGIC);
	if (r == NULL)
		goto nomem;
	r->refs = 1;
	r->set = acl_set_hold(set);
	for (i = 0; rules != NULL && i < rules->n; i++) {
		if (!rules_line(r, set, &rules->v[i], directive, errors)) {
			w.file = rules->v[i].file;
			w.line = rules->v[i].line;
			goto nomem;
		}
	}
	return (r);
nomem:
	acl_rules_free(&r);
	acl_error(&w, "give cuttle more memory", "out of memory");
	return (NULL);
}

void
acl_rules_free(struct acl_rules **rp)
{
	struct acl_rules *r;

	if (*rp == NULL)
		return;
	TAKE_OBJ_NOTNULL(r, rp, ACL_RULES_MAGIC);
	if (--r->refs > 0)
		return;
	acl_set_free(&r->set);
	free(r->v);
	free(r->terms);
	acl_files_fini(&r->files);
	FREE_OBJ(r);
}

struct acl_rules *
acl_rules_hold(const struct acl_rules *r)
{
	struct acl_rules *held = (struct acl_rules *)(uintptr_t)r;

	CHECK_OBJ_NOTNULL(held, ACL_RULES_MAGIC);
	held->refs++;
	return (held);
}

const struct acl *
acl_rules_term_acl(const struct acl_rules *r, uint32_t rule, uint32_t term)
{
	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	CHECK(rule < r->n && term < r->v[rule].n);
	return (r->terms[r->v[rule].first + term].acl);
}

enum acl_answer
acl_rules_eval(const struct acl_rules *r, const struct acl_request *req,
    enum acl_answer if_no_rules, uint32_t *rulep, uint32_t *termp,
    enum acl_need *need, struct acl_decision *d)
{
	const struct acl_rule *rule, *at = NULL;
	const struct acl_term *t;
	const struct acl *last = NULL;
	enum acl_answer answer;
	enum acl_need n;
	size_t i, j;

	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	AN(req);
	CHECK(*rulep <= r->n);
	j = *termp;
	for (i = *rulep; i < r->n; i++, j = 0) {
		rule = &r->v[i];
		for (; j < rule->n; j++) {
			t = &r->terms[rule->first + j];
			last = t->acl;
			if (need != NULL &&
			    (n = acl_need_of(t->acl, req)) != ACL_NEED_NONE) {
				*rulep = (uint32_t)i;
				*termp = (uint32_t)j;
				*need = n;
				return (ACL_WAIT);
			}
			if (acl_match(t->acl, req) == t->negate)
				break;
		}
		if (j == rule->n)
			break;
	}
	if (r->n == 0)
		answer = if_no_rules;
	else if (i < r->n) {
		at = &r->v[i];
		answer = at->action;
	} else {
		/* No rule matched: the opposite of the last one (Squid). */
		at = &r->v[r->n - 1];
		answer = at->action == ACL_ALLOW ? ACL_DENY : ACL_ALLOW;
	}
	if (d != NULL) {
		d->answer = answer;
		d->file = at != NULL ? at->file : NULL;
		d->line = at != NULL ? at->line : 0;
		d->implicit = at != NULL && i == r->n;
		d->acl = last != NULL ? last->name : NULL;
		d->auth_acl = last != NULL && (last->type == ACL_T_PROXY_AUTH ||
		    last->type == ACL_T_PROXY_AUTH_REGEX);
	}
	return (answer);
}

enum acl_answer
acl_rules_decide(const struct acl_rules *r, const struct acl_request *req,
    enum acl_answer if_no_rules, struct acl_decision *d)
{
	uint32_t rule = 0, term = 0;

	return (acl_rules_eval(r, req, if_no_rules, &rule, &term, NULL, d));
}

enum acl_answer
acl_rules_check(const struct acl_rules *r, const struct acl_request *req,
    enum acl_answer if_no_rules)
{
	return (acl_rules_decide(r, req, if_no_rules, NULL));
}

size_t
acl_rules_count(const struct acl_rules *r)
{
	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	return (r->n);
}

bool
acl_rules_need_dst(const struct acl_rules *r)
{
	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	return (r->need_dst);
}

bool
acl_rules_need_src_name(const struct acl_rules *r)
{
	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	return (r->need_src_name);
}

bool
acl_rules_need_conns(const struct acl_rules *r)
{
	CHECK_OBJ_NOTNULL(r, ACL_RULES_MAGIC);
	return (r->need_conns);
}
