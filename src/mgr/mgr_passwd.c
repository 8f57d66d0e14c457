/*
 * mgr_passwd.c - cachemgr_passwd: which password opens which action.
 *
 * Squid's rules (cache_cf.cc, CacheManager::CheckPassword()): the first
 * line that names an action, or `all`, decides; "none" means no password
 * is asked, "disable" that the action is refused, anything else is the
 * password.  An action protected by default (MGR_F_PROTECTED) that no
 * line names is refused: a proxy never hands out its configuration or
 * stops itself because nobody thought of a password.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/secret.h"
#include "mgr/mgr.h"

struct mgr_pw_rule {
	char	*password;
	char	*action;	/* "all" matches any */
};

struct mgr_passwd {
	unsigned		magic;
#define MGR_PASSWD_MAGIC	0x3e6a9a55U
	struct mgr_pw_rule	*v;
	size_t			n;
};

void
mgr_passwd_free(struct mgr_passwd **pp)
{
	struct mgr_passwd *pw;
	size_t i;

	if (*pp == NULL)
		return;
	TAKE_OBJ_NOTNULL(pw, pp, MGR_PASSWD_MAGIC);
	for (i = 0; i < pw->n; i++) {
		free(pw->v[i].password);
		free(pw->v[i].action);
	}
	free(pw->v);
	FREE_OBJ(pw);
}

struct mgr_passwd *
mgr_passwd_compile(const struct conf_lines *lines, int *errors)
{
	struct mgr_passwd *pw;
	const struct conf_line *l;
	size_t i, total = 0;
	unsigned j;

	ALLOC_OBJ(pw, MGR_PASSWD_MAGIC);
	if (pw == NULL) {
		(*errors)++;
		return (NULL);
	}
	for (i = 0; lines != NULL && i < lines->n; i++)
		total += lines->v[i].argc;
	if (total > 0 && (pw->v = calloc(total, sizeof *pw->v)) == NULL) {
		FREE_OBJ(pw);
		(*errors)++;
		return (NULL);
	}
	for (i = 0; lines != NULL && i < lines->n; i++) {
		l = &lines->v[i];
		if (l->argc < 2) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: cachemgr_passwd: "
			    "a password and at least one action are needed",
			    l->file, l->line);
			log_msg(LG_ERR, SEC_CONF, "    advice: cachemgr_passwd "
			    "secret config shutdown, or cachemgr_passwd none "
			    "all");
			(*errors)++;
			continue;
		}
		for (j = 1; j < l->argc; j++) {
			pw->v[pw->n].password = strdup(l->argv[0]);
			pw->v[pw->n].action = strdup(l->argv[j]);
			if (pw->v[pw->n].password == NULL ||
			    pw->v[pw->n].action == NULL) {
				pw->n++;
				mgr_passwd_free(&pw);
				(*errors)++;
				return (NULL);
			}
			pw->n++;
		}
	}
	return (pw);
}

const char *
mgr_passwd_get(const struct mgr_passwd *pw, const char *action)
{
	size_t i;

	if (pw == NULL)
		return (NULL);
	CHECK_OBJ(pw, MGR_PASSWD_MAGIC);
	for (i = 0; i < pw->n; i++)
		if (strcmp(pw->v[i].action, action) == 0 ||
		    strcmp(pw->v[i].action, "all") == 0)
			return (pw->v[i].password);
	return (NULL);
}

const char *
mgr_protection(const struct mgr_passwd *pw, const struct mgr_action *a)
{
	const char *p = mgr_passwd_get(pw, a->name);

	if (p == NULL)
		return ((a->flags & MGR_F_PROTECTED) ? "hidden" : "public");
	if (strcmp(p, "disable") == 0)
		return ("disabled");
	if (strcmp(p, "none") == 0)
		return ("public");
	return ("protected");
}

bool
mgr_password_ok(const struct mgr_passwd *pw, const struct mgr_action *a,
    const char *password)
{
	const char *p = mgr_passwd_get(pw, a->name);

	if (p == NULL)
		return ((a->flags & MGR_F_PROTECTED) == 0);
	if (strcmp(p, "disable") == 0)
		return (false);
	if (strcmp(p, "none") == 0)
		return (true);
	/* As proxy authentication compares its secrets: no timing tells
	 * how much of a guess was right. */
	return (password != NULL && secret_equal(password, p));
}
