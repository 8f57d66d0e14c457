/*
 * fwd_peer.c - the cache_peer table: compiled from the conf, the hash
 * methods' load multipliers, and each peer's up/dead state (the contract
 * is in fwd_peer.h).
 *
 *	fwd_peers_new()		cache_peer lines, then cache_peer_access,
 *				always_direct, never_direct; the CARP,
 *				sourcehash and userhash arrays
 *	fwd_peer_failed()	connect-fail-limit failures in a row: dead
 *	fwd_peer_up()		dead until dead_peer_timeout has passed
 *	fwd_peer_succeeded()	up again, round-robin counts cleared
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"
#include "fwd/fwd_int.h"
#include "fwd/fwd_peer.h"
#include "tls/tls.h"

#define ROTL32(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

static const char *const fwd_hier_names[FWD_HIER__COUNT] = {
#define FWD_HIER(sym, name)	[FWD_HIER_##sym] = name,
	FWD_HIER_CODES
#undef FWD_HIER
};
static const char *const fwd_hier_timeout_names[FWD_HIER__COUNT] = {
#define FWD_HIER(sym, name)	[FWD_HIER_##sym] = "TIMEOUT_" name,
	FWD_HIER_CODES
#undef FWD_HIER
};

const char *
fwd_hier_name(unsigned h)
{
	unsigned c = h & ~FWD_HIER_TIMEOUT;

	if (c >= FWD_HIER__COUNT)
		return ("HIER_NONE");
	return (h & FWD_HIER_TIMEOUT ? fwd_hier_timeout_names[c] :
	    fwd_hier_names[c]);
}

/* -- the hashes -------------------------------------------------------------- */

/*
 * Squid adds each byte as a C char: signed on the machines it runs on, so
 * a byte of 0x80 and more counts as a negative number.  Done the same
 * way here, whatever char is, so that non-ASCII URLs hash as Squid's do.
 */
static uint32_t
fwd_hash_byte(uint32_t h, unsigned char c)
{
	return (h + ROTL32(h, 19) + (uint32_t)(int32_t)(signed char)c);
}

uint32_t
fwd_carp_peer_hash(const char *name)
{
	uint32_t h = 0;

	for (; *name != '\0'; name++)
		h = fwd_hash_byte(h, (unsigned char)*name);
	h += h * 0x62531965U;
	return (ROTL32(h, 21));
}

uint32_t
fwd_carp_key_hash(uint32_t h, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = fwd_hash_byte(h, (unsigned char)key[i]);
	return (h);
}

uint32_t
fwd_carp_combine(uint32_t key_hash, uint32_t peer_hash)
{
	uint32_t c = key_hash ^ peer_hash;

	c += c * 0x62531965U;
	return (ROTL32(c, 21));
}

/*
 * The load factor of each member is its share of the weights; the
 * multipliers follow from them in weight order (the CARP draft's X_k):
 *	X_k = ((K-k+1) (P_k - P_{k-1}) / (X_1 ... X_{k-1}) + X_{k-1}^(K-k+1))
 *	      ^ (1 / (K-k+1))
 * Equal weights give equal multipliers whatever their order; the order
 * still matters to CARP, whose key hash runs on from peer to peer, so
 * the sort is stable (glibc's qsort, under Squid, is a merge sort).
 */
static void
fwd_peers_hash_array(struct fwd_peers *p, unsigned flag, uint8_t *idx,
    uint8_t *n, size_t off)
{
	struct fwd_peer_hash *h;
	double p_last = 0.0, x_last = 0.0, xn = 1.0, kk1;
	unsigned i, j, k;
	uint8_t tmp;
	int w = 0;

	*n = 0;
	for (i = 0; i < p->n; i++) {
		if (!(p->v[i].options & flag) || p->v[i].weight == 0)
			continue;
		idx[(*n)++] = (uint8_t)i;
		w += p->v[i].weight;
	}
	for (k = 0; k < *n; k++) {
		h = (struct fwd_peer_hash *)(void *)((char *)&p->v[idx[k]] +
		    off);
		h->hash = fwd_carp_peer_hash(p->v[idx[k]].name);
		h->load_factor = (double)p->v[idx[k]].weight / (double)w;
		if (floor(h->load_factor * 1000.0) == 0.0)
			h->load_factor = 0.0;
	}
	for (i = 1; i < *n; i++)	/* insertion sort: stable */
		for (j = i; j > 0 && p->v[idx[j - 1]].weight >
		    p->v[idx[j]].weight; j--) {
			tmp = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = tmp;
		}
	for (k = 1; k <= *n; k++) {
		kk1 = (double)(*n - k + 1);
		h = (struct fwd_peer_hash *)(void *)((char *)&p->v[idx[k - 1]] +
		    off);
		h->load_multiplier = (kk1 * (h->load_factor - p_last)) / xn;
		h->load_multiplier += pow(x_last, kk1);
		h->load_multiplier = pow(h->load_multiplier, 1.0 / kk1);
		xn *= h->load_multiplier;
		x_last = h->load_multiplier;
		p_last = h->load_factor;
	}
}

/* -- compiling ------------------------------------------------------------- */

/* Options cuttle accepts and does not act on: warned about once a load,
 * at the first line that gives each. */
static const char *const fwd_peer_ignored[] = {
	"proxy-only", "standby=", "originserver", "background-ping",
	"closest-only", "multicast-responder", "multicast-siblings",
	"basetime=", "ttl=", "htcp", "htcp=", "htcp-", "no-delay",
	"auth-no-keytab", "digest-url=", "forceddomain=",
	"front-end-https", "connection-auth", "no-tproxy",
};

/* A line's TLS options, until the line is whole. */
struct fwd_peer_tls {
	bool		on;
	const char	*cafile, *capath, *cert, *key, *cipher, *options;
	unsigned	flags;
	bool		no_default_ca;
};

struct fwd_peer_parse {
	int		*errors;
	struct fwd_peer_tls	tls;
	bool		warned[sizeof fwd_peer_ignored /
			    sizeof fwd_peer_ignored[0]];
};

static bool
fwd_peer_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return (false);
	*out = v;
	return (true);
}

/* Squid's rfc1738_unescape(): %XX decoded in place. */
static void
fwd_peer_unescape(char *s)
{
	char *out = s;
	unsigned v;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0' &&
		    sscanf(s + 1, "%2x", &v) == 1) {
			*out++ = (char)v;
			s += 2;
		} else
			*out++ = *s;
	}
	*out = '\0';
}

static char *
fwd_base64(const char *in, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(len / 3 * 4 + 16), *o;
	const unsigned char *s = (const unsigned char *)in;
	uint32_t v;
	size_t i;

	if (out == NULL)
		return (NULL);
	o = stpcpy(out, "Basic ");
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = tbl[(v >> 6) & 63];
		*o++ = tbl[v & 63];
	}
	if (i < len) {
		v = (uint32_t)s[i] << 16 | (i + 1 < len ?
		    (uint32_t)s[i + 1] << 8 : 0);
		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (out);
}

static void
fwd_peer_error(struct fwd_peer_parse *pp, const struct conf_line *l,
    const char *what, const char *word)
{
	log_msg(LG_ERR, SEC_CONF, "%s:%u: cache_peer: %s \"%s\"", l->file,
	    l->line, what, word);
	(*pp->errors)++;
}

/* carp-key=scheme,host,port,path,params */
static bool
fwd_peer_carp_key(struct fwd_peer *pe, const char *list)
{
	static const struct {
		const char	*name;
		uint8_t		bit;
	} keys[] = {
		{ "scheme", FWD_CARP_KEY_SCHEME }, { "host", FWD_CARP_KEY_HOST },
		{ "port", FWD_CARP_KEY_PORT }, { "path", FWD_CARP_KEY_PATH },
		{ "params", FWD_CARP_KEY_PARAMS },
	};
	const char *w = list, *comma;
	size_t i, len;

	while (*w != '\0') {
		comma = strchr(w, ',');
		len = comma != NULL ? (size_t)(comma - w) : strlen(w);
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (len == strlen(keys[i].name) &&
			    strncmp(w, keys[i].name, len) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0])
			return (false);
		pe->carp_key |= keys[i].bit;
		w += len + (comma != NULL);
	}
	return (pe->carp_key != 0);
}

/* The TLS options, Squid 5's names and the older ssl* ones; true when w
 * was one (tls.flags ~0u: a bad tls-flags=). */
static bool
fwd_peer_tls_option(struct fwd_peer_parse *pp, struct fwd_peer *pe, char *w)
{
	static const struct {
		const char	*tls, *ssl;
		size_t		off;
	} paths[] = {
		{ "tls-cafile=", "sslcafile=",
		    offsetof(struct fwd_peer_tls, cafile) },
		{ "tls-capath=", "sslcapath=",
		    offsetof(struct fwd_peer_tls, capath) },
		{ "tls-cert=", "sslcert=",
		    offsetof(struct fwd_peer_tls, cert) },
		{ "tls-key=", "sslkey=", offsetof(struct fwd_peer_tls, key) },
		{ "tls-cipher=", "sslcipher=",
		    offsetof(struct fwd_peer_tls, cipher) },
		{ "tls-options=", "ssloptions=",
		    offsetof(struct fwd_peer_tls, options) },
	};
	struct fwd_peer_tls *t = &pp->tls;
	const char *v, *f, *comma;
	size_t i, len;

	if (strcmp(w, "tls") == 0 || strcmp(w, "ssl") == 0) {
		t->on = true;
		return (true);
	}
	if (strcmp(w, "tls-default-ca=off") == 0) {
		t->no_default_ca = true;
		return (true);
	}
	if (strcmp(w, "tls-default-ca=on") == 0 ||
	    strcmp(w, "tls-default-ca") == 0)
		return (true);
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		len = strlen(paths[i].tls);
		if (strncmp(w, paths[i].tls, len) == 0)
			v = w + len;
		else if (strncmp(w, paths[i].ssl, strlen(paths[i].ssl)) == 0)
			v = w + strlen(paths[i].ssl);
		else
			continue;
		*(const char **)(void *)((char *)t + paths[i].off) = v;
		return (true);
	}
	if (strncmp(w, "tls-domain=", 11) == 0 ||
	    strncmp(w, "ssldomain=", 10) == 0) {
		free(pe->tls_domain);
		pe->tls_domain = strdup(strchr(w, '=') + 1);
		return (true);
	}
	if (strncmp(w, "tls-flags=", 10) != 0 &&
	    strncmp(w, "sslflags=", 9) != 0)
		return (false);
	for (f = strchr(w, '=') + 1; *f != '\0'; f += len + (*comma != '\0')) {
		comma = f + strcspn(f, ",:");
		len = (size_t)(comma - f);
		if (len == 16 && strncmp(f, "DONT_VERIFY_PEER", 16) == 0)
			t->flags |= TLS_DONT_VERIFY_PEER;
		else if (len == 18 && strncmp(f, "DONT_VERIFY_DOMAIN", 18) == 0)
			t->flags |= TLS_DONT_VERIFY_DOMAIN;
		else {
			t->flags = ~0u;
			return (true);
		}
	}
	return (true);
}

/* The line's TLS context, once its options are all in; false when it
 * cannot be made (logged with file:line). */
static bool
fwd_peer_tls_ctx(struct fwd_peer_parse *pp, const struct conf_line *l,
    struct fwd_peer *pe)
{
	const struct fwd_peer_tls *t = &pp->tls;
	struct tls_options o;
	char err[512];
	int r;

	if (!t->on) {
		if (t->cafile != NULL || t->cert != NULL || t->key != NULL ||
		    t->capath != NULL || t->flags != 0)
			log_msg(LG_WARN, SEC_CONF, "%s:%u: cache_peer %s: "
			    "tls-* options without tls: the peer is spoken "
			    "to in plain HTTP", l->file, l->line, pe->name);
		return (true);
	}
	memset(&o, 0, sizeof o);
	o.cafile = t->cafile;
	o.capath = t->capath;
	o.cert = t->cert;
	o.key = t->key;
	o.cipher = t->cipher;
	o.options = t->options;
	o.flags = t->flags;
	o.no_default_ca = t->no_default_ca;
	r = tls_ctx_client_new(&o, &pe->tls, err, sizeof err);
	if (r == 0)
		return (true);
	if (r == -ENOMEM)
		snprintf(err, sizeof err, "out of memory");
	log_msg(LG_ERR, SEC_CONF, "%s:%u: cache_peer %s: %s", l->file,
	    l->line, pe->name, err);
	(*pp->errors)++;
	return (false);
}

/* One option word; false when it is bad (logged). */
static bool
fwd_peer_option(struct fwd_peer_parse *pp, const struct conf_line *l,
    struct fwd_peer *pe, char *w)
{
	static const struct {
		const char	*word;
		unsigned	flag;
	} flags[] = {
		{ "default", FWD_PEER_DEFAULT },
		{ "round-robin", FWD_PEER_ROUNDROBIN },
		{ "weighted-round-robin", FWD_PEER_WEIGHTED_RR },
		{ "carp", FWD_PEER_CARP },
		{ "sourcehash", FWD_PEER_SOURCEHASH },
		{ "userhash", FWD_PEER_USERHASH },
		{ "no-query", FWD_PEER_NO_QUERY },
		{ "allow-miss", FWD_PEER_ALLOW_MISS },
		{ "no-digest", 0 }, { "no-netdb-exchange", 0 },
	};
	size_t i, len;
	long v;

	for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (strcmp(w, flags[i].word) != 0)
			continue;
		if ((flags[i].flag & (FWD_PEER_CARP | FWD_PEER_SOURCEHASH |
		    FWD_PEER_USERHASH)) && pe->type != FWD_PEER_PARENT) {
			fwd_peer_error(pp, l, "only a parent can be", w);
			return (false);
		}
		pe->options |= flags[i].flag;
		return (true);
	}
	if (strncmp(w, "weight=", 7) == 0 && fwd_peer_number(w + 7, 0,
	    1000000, &v))
		pe->weight = (int)v;
	else if (strncmp(w, "connect-fail-limit=", 19) == 0 &&
	    fwd_peer_number(w + 19, 0, 1000000, &v))
		pe->connect_fail_limit = (int)v;
	else if (strncmp(w, "max-conn=", 9) == 0 && fwd_peer_number(w + 9, 0,
	    1000000, &v))
		pe->max_conn = (int)v;
	else if (strncmp(w, "connect-timeout=", 16) == 0 &&
	    fwd_peer_number(w + 16, 0, 86400, &v))
		pe->connect_timeout = (double)v;
	else if (strncmp(w, "name=", 5) == 0 && w[5] != '\0') {
		free(pe->name);
		pe->name = strdup(w + 5);
		if (pe->name == NULL) {
			fwd_peer_error(pp, l, "out of memory at", w);
			return (false);
		}
	} else if (strncmp(w, "carp-key=", 9) == 0) {
		/* Squid wants carp first, as here. */
		if (!(pe->options & FWD_PEER_CARP) ||
		    !fwd_peer_carp_key(pe, w + 9)) {
			fwd_peer_error(pp, l, "carp-key= needs carp before it "
			    "and scheme,host,port,path,params:", w);
			return (false);
		}
	} else if (fwd_peer_tls_option(pp, pe, w)) {
		if (pp->tls.flags == ~0u) {
			fwd_peer_error(pp, l, "tls-flags= takes "
			    "DONT_VERIFY_PEER,DONT_VERIFY_DOMAIN, not", w);
			return (false);
		}
	} else if (strncmp(w, "login=", 6) == 0 && w[6] != '\0') {
		fwd_peer_unescape(w + 6);
		if (strcmp(w + 6, "PASSTHRU") == 0 || strcmp(w + 6,
		    "PASS") == 0)
			pe->login_type = FWD_LOGIN_PASSTHRU;
		else if (strchr(w + 6, ':') != NULL && w[6] != '*') {
			pe->login_type = FWD_LOGIN_BASIC;
			free(pe->login);
			pe->login = fwd_base64(w + 6, strlen(w + 6));
			if (pe->login == NULL) {
				fwd_peer_error(pp, l, "out of memory at", w);
				return (false);
			}
		} else {
			fwd_peer_error(pp, l, "login= takes user:password, "
			    "PASS or PASSTHRU, not", w);
			return (false);
		}
	} else {
		for (i = 0; i < sizeof fwd_peer_ignored /
		    sizeof fwd_peer_ignored[0]; i++) {
			len = strlen(fwd_peer_ignored[i]);
			if (strncmp(w, fwd_peer_ignored[i], len) != 0)
				continue;
			if (!pp->warned[i])
				log_msg(LG_WARN, SEC_CONF, "%s:%u: cache_peer "
				    "option %s is not implemented and is "
				    "ignored", l->file, l->line, w);
			pp->warned[i] = true;
			return (true);
		}
		fwd_peer_error(pp, l, "unknown or bad option", w);
		return (false);
	}
	return (true);
}

static void
fwd_peer_fini(struct fwd_peer *pe)
{
	free(pe->name);
	free(pe->host);
	free(pe->login);
	free(pe->tls_domain);
	tls_ctx_free(&pe->tls);
	acl_rules_free(&pe->access);
}

/* cache_peer host type http-port icp-port [options]; false when bad
 * (counted and logged). */
static bool
fwd_peer_line(struct fwd_peer_parse *pp, struct fwd_peers *p,
    const struct conf_line *l)
{
	struct fwd_peer *pe = &p->v[p->n];
	char *w;
	unsigned i;
	long v;

	memset(pe, 0, sizeof *pe);
	pe->file = l->file;
	pe->line = l->line;
	if (l->argc < 4) {
		fwd_peer_error(pp, l, "expected host parent|sibling "
		    "http-port icp-port, got", l->argc > 0 ? l->argv[0] : "");
		return (false);
	}
	if (strcmp(l->argv[1], "parent") == 0)
		pe->type = FWD_PEER_PARENT;
	else if (strcmp(l->argv[1], "sibling") == 0)
		pe->type = FWD_PEER_SIBLING;
	else {
		fwd_peer_error(pp, l, "the type is parent or sibling, not",
		    l->argv[1]);
		return (false);
	}
	if (!fwd_peer_number(l->argv[2], 1, 65535, &v)) {
		fwd_peer_error(pp, l, "bad http-port", l->argv[2]);
		return (false);
	}
	pe->http_port = (uint16_t)v;
	if (!fwd_peer_number(l->argv[3], 0, 65535, &v)) {
		fwd_peer_error(pp, l, "bad icp-port", l->argv[3]);
		return (false);
	}
	pe->icp_port = (uint16_t)v;
	pe->host = strdup(l->argv[0]);
	pe->name = strdup(l->argv[0]);
	if (pe->host == NULL || pe->name == NULL) {
		fwd_peer_error(pp, l, "out of memory at", l->argv[0]);
		goto bad;
	}
	for (w = pe->host; *w != '\0'; w++)
		*w = (char)tolower((unsigned char)*w);
	memset(&pp->tls, 0, sizeof pp->tls);
	for (i = 4; i < l->argc; i++) {
		if (l->argv[i][0] == '#')
			break;
		if (!fwd_peer_option(pp, l, pe, l->argv[i]))
			goto bad;
	}
	if (!fwd_peer_tls_ctx(pp, l, pe))
		goto bad;
	if (pe->weight < 1)
		pe->weight = 1;
	if (pe->connect_fail_limit < 1)
		pe->connect_fail_limit = 10;
	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->v[i].name, pe->name) == 0) {
			fwd_peer_error(pp, l, "a second peer named", pe->name);
			goto bad;
		}
	pe->tcp_up = pe->connect_fail_limit;
	pe->rr_count = 1;
	p->n++;
	return (true);
bad:
	fwd_peer_fini(pe);
	return (false);
}

/* cache_peer_access name allow|deny acls: one rule list per peer. */
static int
fwd_peers_access(struct fwd_peers *p, const struct conf *conf,
    const struct acl_set *acls)
{
	const struct conf_lines *ls = &conf->cache_peer_access;
	struct conf_line *mine;
	struct conf_lines rules;
	size_t i, n;
	unsigned k;
	int errors = 0;

	mine = calloc(ls->n + 1, sizeof *mine);
	if (mine == NULL)
		return (1);
	for (i = 0; i < ls->n; i++) {
		for (k = 0; k < p->n; k++)
			if (ls->v[i].argc > 0 && strcasecmp(ls->v[i].argv[0],
			    p->v[k].name) == 0)
				break;
		if (k == p->n) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: cache_peer_access: "
			    "no cache_peer is named \"%s\"", ls->v[i].file,
			    ls->v[i].line, ls->v[i].argc > 0 ?
			    ls->v[i].argv[0] : "");
			errors++;
		}
	}
	for (k = 0; k < p->n; k++) {
		n = 0;
		for (i = 0; i < ls->n; i++) {
			if (ls->v[i].argc < 2 || strcasecmp(ls->v[i].argv[0],
			    p->v[k].name) != 0)
				continue;
			mine[n] = ls->v[i];
			mine[n].argc--;
			mine[n].argv++;
			n++;
		}
		if (n == 0)
			continue;
		rules.v = mine;
		rules.n = n;
		p->v[k].access = acl_rules_compile(acls, &rules,
		    "cache_peer_access", &errors);
		if (p->v[k].access == NULL)
			errors++;
	}
	free(mine);
	return (errors);
}

struct fwd_peers *
fwd_peers_new(const struct conf *conf, const struct acl_set *acls,
    int *errors)
{
	struct fwd_peer_parse pp = { .errors = errors };
	struct fwd_peers *p;
	size_t i;

	if (conf->cache_peer.n == 0 && conf->always_direct.n == 0 &&
	    conf->never_direct.n == 0) {
		for (i = 0; i < conf->cache_peer_access.n; i++) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: cache_peer_access: "
			    "there is no cache_peer",
			    conf->cache_peer_access.v[i].file,
			    conf->cache_peer_access.v[i].line);
			(*errors)++;
		}
		return (NULL);
	}
	if (conf->cache_peer.n > FWD_MAX_PEERS) {
		log_msg(LG_ERR, SEC_CONF, "%s:%u: cache_peer: more than %u "
		    "peers", conf->cache_peer.v[FWD_MAX_PEERS].file,
		    conf->cache_peer.v[FWD_MAX_PEERS].line, FWD_MAX_PEERS);
		(*errors)++;
	}
	ALLOC_OBJ(p, FWD_PEERS_MAGIC);
	if (p == NULL)
		goto nomem;
	p->refs = 1;
	p->v = calloc(FWD_MAX_PEERS, sizeof *p->v);
	if (p->v == NULL)
		goto nomem;
	for (i = 0; i < conf->cache_peer.n && p->n < FWD_MAX_PEERS; i++)
		(void)fwd_peer_line(&pp, p, &conf->cache_peer.v[i]);
	*errors += fwd_peers_access(p, conf, acls);
	if (conf->always_direct.n > 0 && (p->always_direct =
	    acl_rules_compile(acls, &conf->always_direct, "always_direct",
	    errors)) == NULL)
		(*errors)++;
	if (conf->never_direct.n > 0 && (p->never_direct =
	    acl_rules_compile(acls, &conf->never_direct, "never_direct",
	    errors)) == NULL)
		(*errors)++;
	p->prefer_direct = conf->prefer_direct;
	p->nonhierarchical_direct = conf->nonhierarchical_direct;
	p->dead_peer_timeout = conf->dead_peer_timeout;
	fwd_peers_hash_array(p, FWD_PEER_CARP, p->carp, &p->ncarp,
	    offsetof(struct fwd_peer, carp));
	fwd_peers_hash_array(p, FWD_PEER_SOURCEHASH, p->sourcehash,
	    &p->nsourcehash, offsetof(struct fwd_peer, sourcehash));
	fwd_peers_hash_array(p, FWD_PEER_USERHASH, p->userhash,
	    &p->nuserhash, offsetof(struct fwd_peer, userhash));
	return (p);
nomem:
	fwd_peers_unref(&p);
	log_msg(LG_ERR, SEC_CONF, "cache_peer: out of memory");
	(*errors)++;
	return (NULL);
}

void
fwd_peers_ref(struct fwd_peers *p)
{
	CHECK_OBJ_NOTNULL(p, FWD_PEERS_MAGIC);
	p->refs++;
}

void
fwd_peers_unref(struct fwd_peers **pp)
{
	struct fwd_peers *p = *pp;
	unsigned i;

	*pp = NULL;
	if (p == NULL)
		return;
	CHECK_OBJ_NOTNULL(p, FWD_PEERS_MAGIC);
	if (--p->refs > 0)
		return;
	for (i = 0; p->v != NULL && i < p->n; i++)
		fwd_peer_fini(&p->v[i]);
	free(p->v);
	acl_rules_free(&p->always_direct);
	acl_rules_free(&p->never_direct);
	FREE_OBJ(p);
}

unsigned
fwd_peers_count(const struct fwd_peers *p)
{
	return (p != NULL ? p->n : 0);
}

const char *
fwd_peer_name(const struct fwd_peers *p, unsigned i)
{
	CHECK(i < p->n);
	return (p->v[i].name);
}

const struct acl_rules *
fwd_peers_always_direct(const struct fwd_peers *p)
{
	return (p->always_direct);
}

const struct acl_rules *
fwd_peers_never_direct(const struct fwd_peers *p)
{
	return (p->never_direct);
}

const struct acl_rules *
fwd_peer_access(const struct fwd_peers *p, unsigned i)
{
	CHECK(i < p->n);
	return (p->v[i].access);
}

void
fwd_peer_view(const struct fwd_peers *p, unsigned i, struct fwd_peer_view *v)
{
	const struct fwd_peer *pe;

	CHECK(i < p->n);
	pe = &p->v[i];
	v->name = pe->name;
	v->host = pe->host;
	v->http_port = pe->http_port;
	v->icp_port = pe->icp_port;
	v->sibling = pe->type == FWD_PEER_SIBLING;
	v->no_query = (pe->options & FWD_PEER_NO_QUERY) != 0;
	v->allow_miss = (pe->options & FWD_PEER_ALLOW_MISS) != 0;
	v->weight = pe->weight;
	v->fetches = pe->fetches;
	v->conn_open = pe->conn_open;
	v->last_failure = pe->last_failure;
	v->tcp_up = pe->tcp_up;
}

size_t
fwd_peer_flags(const struct fwd_peers *p, unsigned i, char *buf, size_t len)
{
	static const struct {
		unsigned	flag;
		const char	*word;
	} words[] = {
		{ FWD_PEER_NO_QUERY, "no-query" },
		{ FWD_PEER_DEFAULT, "default" },
		{ FWD_PEER_ROUNDROBIN, "round-robin" },
		{ FWD_PEER_WEIGHTED_RR, "weighted-round-robin" },
		{ FWD_PEER_CARP, "carp" },
		{ FWD_PEER_SOURCEHASH, "sourcehash" },
		{ FWD_PEER_USERHASH, "userhash" },
		{ FWD_PEER_ALLOW_MISS, "allow-miss" },
	};
	const struct fwd_peer *pe;
	size_t n = 0, k;
	int w;

	CHECK(i < p->n);
	CHECK(len > 0);
	pe = &p->v[i];
	buf[0] = '\0';
	for (k = 0; k < sizeof words / sizeof words[0] && n < len; k++)
		if (pe->options & words[k].flag) {
			w = snprintf(buf + n, len - n, " %s", words[k].word);
			n += w > 0 ? (size_t)w : 0;
		}
	if (pe->weight != 1 && n < len) {
		w = snprintf(buf + n, len - n, " weight=%d", pe->weight);
		n += w > 0 ? (size_t)w : 0;
	}
	if (pe->tls != NULL && n < len) {
		w = snprintf(buf + n, len - n, " tls");
		n += w > 0 ? (size_t)w : 0;
	}
	if (pe->login_type != FWD_LOGIN_NONE && n < len) {
		/* The credentials stay out of the page. */
		w = snprintf(buf + n, len - n, " login=%s", pe->login_type ==
		    FWD_LOGIN_PASSTHRU ? "PASSTHRU" : "*");
		n += w > 0 ? (size_t)w : 0;
	}
	return (n < len ? n : len - 1);
}

bool
fwd_peer_is_up(const struct fwd_peers *p, unsigned i, double now)
{
	CHECK(i < p->n);
	return (fwd_peer_up(p, &p->v[i], now));
}

struct fwd_peer_icp *
fwd_peer_icp(struct fwd_peers *p, unsigned i)
{
	CHECK(i < p->n);
	return (&p->v[i].icp);
}

/* -- up and dead ------------------------------------------------------------ */

/* Squid's neighborUp(): connections fail (until the wait is over: the
 * next request is the probe), or ICP queries go unanswered. */
bool
fwd_peer_up(const struct fwd_peers *p, const struct fwd_peer *pe, double now)
{
	if (pe->icp.probe_start > 0 && now - pe->icp.probe_start >
	    p->dead_peer_timeout)
		return (false);
	return (pe->tcp_up > 0 || now - pe->dead_since >=
	    p->dead_peer_timeout);
}

double
fwd_peers_dead_peer_timeout(const struct fwd_peers *p)
{
	return (p->dead_peer_timeout);
}

void
fwd_peer_failed(struct fwd_peers *p, struct fwd_peer *pe, double now)
{
	(void)p;
	pe->last_failure = now;
	if (pe->tcp_up == 0) {		/* the retry after the wait failed */
		pe->dead_since = now;
		return;
	}
	if (--pe->tcp_up == 0) {
		pe->dead_since = now;
		log_msg(LG_WARN, SEC_FWD, "detected DEAD %s: %s",
		    pe->type == FWD_PEER_PARENT ? "parent" : "sibling",
		    pe->name);
	}
}

/* Back to life: every round-robin count starts again, so the peer is
 * not flooded with what it missed (Squid's peerClearRR()). */
void
fwd_peer_succeeded(struct fwd_peers *p, struct fwd_peer *pe)
{
	unsigned i;

	if (pe->tcp_up == 0) {
		log_msg(LG_NOTICE, SEC_FWD, "detected REVIVED %s: %s",
		    pe->type == FWD_PEER_PARENT ? "parent" : "sibling",
		    pe->name);
		for (i = 0; i < p->n; i++)
			p->v[i].rr_count = 1;
	}
	pe->tcp_up = pe->connect_fail_limit;
}
