/*
 * client_ports.c - the listening sockets of http_port and https_port,
 * and how they move across a reconfigure (the contract is in
 * client_ports.h).
 *
 *	client_ports_open()	ls[i] listening on ports[i], accepting
 *	client_ports_prepare()	next: from[i] names the socket of cur it
 *				keeps (ls[i] NULL until commit), or
 *				SIZE_MAX and ls[i] bound anew
 *	client_ports_commit()	kept sockets move from cur to next, new
 *				ones accept, cur's others close; cur freed
 *	client_ports_close()	every ls[i] there is closes; freed
 *
 * A set keeps copies of the addresses it was made for, so the conf they
 * came from may go before the set does (reconfigure frees the old conf
 * once the new one is in force).  An https_port's TLS context is made
 * with the set, from the files as they are then: a reconfigure reads
 * them again, and a kept socket accepts for the new set's port (new
 * certificate) from the commit on, while the connections accepted
 * before keep the context they were made with (OpenSSL's refcount).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "client/client.h"
#include "client/client_ports.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "tls/tls.h"
#include "tls/tls_mint.h"

#define CLIENT_PORTS_BACKLOG	1024

struct client_ports {
	unsigned		magic;
#define CLIENT_PORTS_MAGIC	0xc1e7b0a7U
	struct client_ctx	*ctx;
	struct comm_loop	*loop;
	struct conf_port	*ports;		/* copies, one per line */
	struct comm_listener	**ls;		/* NULL: none (yet) */
	struct client_port	*port;		/* what ls[i] accepts for */
	size_t			nconf;		/* conf lines: ports, port */
	size_t			*from;		/* prepared: SIZE_MAX a new
						 * socket, else cur's index */
	size_t			n;
};

/* An https_port's context, from its conf line; problems are told with
 * the line's file:line, as the parser tells its own. */
static int
ports_tls(const struct conf_port *cp, struct tls_ctx **out)
{
	const struct conf_port_tls *ct = cp->tls;
	struct tls_options o;
	char err[512];
	int r;

	memset(&o, 0, sizeof o);
	o.cert = ct->cert;
	o.key = ct->key;
	o.cafile = ct->cafile;
	o.capath = ct->capath;
	o.cipher = ct->cipher;
	o.options = ct->options;
	o.min_version = ct->min_version;
	r = tls_ctx_server_new(&o, out, err, sizeof err);
	if (r == -EINVAL)
		log_msg(LG_ERR, SEC_CONF, "%s:%u: https_port: %s",
		    cp->file != NULL ? cp->file : "-", cp->line, err);
	else if (r != 0)
		log_msg(LG_ERR, SEC_CONF, "%s:%u: https_port: %s",
		    cp->file != NULL ? cp->file : "-", cp->line,
		    strerror(-r));
	return (r);
}

/* An http_port ssl-bump's minter: its CA read and checked now (start,
 * -k parse, reconfigure), told with the line's file:line. */
static int
ports_mint(const struct conf_port *cp, struct tls_mint **out)
{
	const struct conf_port_tls *b = cp->bump;
	const char *file = cp->file != NULL ? cp->file : "-";
	char err[512];
	bool warn = false;
	int r;

	r = tls_mint_new(b->cert, b->key, (size_t)b->cert_cache, b->leaf_rsa ?
	    TLS_MINT_RSA2048 : TLS_MINT_P256, out, &warn,
	    err, sizeof err);
	if (r != 0) {
		log_msg(LG_ERR, SEC_CONF, "%s:%u: http_port ssl-bump: %s",
		    file, cp->line, r == -EINVAL ? err : strerror(-r));
		return (r);
	}
	if (warn)
		log_msg(LG_WARN, SEC_CONF, "%s:%u: http_port ssl-bump: the "
		    "CA key %s may be read by other users than its owner "
		    "(chmod 600 it)", file, cp->line, b->key != NULL ? b->key :
		    b->cert);
	return (0);
}

static int
ports_new(struct client_ctx *ctx, struct comm_loop *loop,
    const struct conf *conf, struct client_ports **pp)
{
	struct client_ports *p;
	size_t i;
	int err = 0;

	*pp = NULL;
	ALLOC_OBJ(p, CLIENT_PORTS_MAGIC);
	if (p == NULL)
		return (-ENOMEM);
	p->ctx = ctx;
	p->loop = loop;
	p->ports = calloc(conf->nports + 1, sizeof *p->ports);
	p->ls = calloc(conf->nports + 1, sizeof *p->ls);
	p->port = calloc(conf->nports + 1, sizeof *p->port);
	p->from = calloc(conf->nports + 1, sizeof *p->from);
	if (p->ports == NULL || p->ls == NULL || p->port == NULL ||
	    p->from == NULL) {
		client_ports_close(&p);
		return (-ENOMEM);
	}
	/* Every context is made, so that every bad line is told. */
	for (i = 0; i < conf->nports; i++) {
		p->ports[i] = conf->ports[i];
		/* The conf's, which may go first: not kept. */
		p->ports[i].tls = NULL;
		p->ports[i].bump = NULL;
		p->ports[i].file = NULL;
		p->from[i] = SIZE_MAX;
		p->port[i].ctx = ctx;
		if (conf->ports[i].tls != NULL && ports_tls(&conf->ports[i],
		    &p->port[i].tls) != 0 && err == 0)
			err = -EINVAL;
		if (conf->ports[i].bump != NULL && ports_mint(&conf->ports[i],
		    &p->port[i].mint) != 0 && err == 0)
			err = -EINVAL;
	}
	p->nconf = conf->nports;
	if (err != 0) {
		client_ports_close(&p);
		return (err);
	}
	*pp = p;
	return (0);
}

/* Two http_port lines are one listening socket when family, address and
 * port agree. */
static bool
ports_same(const struct conf_port *a, const struct conf_port *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->addr.ss_family != b->addr.ss_family)
		return (false);
	if (a->addr.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)&a->addr;
		b4 = (const struct sockaddr_in *)(const void *)&b->addr;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->addr.ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)&a->addr;
		b6 = (const struct sockaddr_in6 *)(const void *)&b->addr;
		return (a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0);
	}
	return (false);
}

/* ls[i] accepts from now on; logged with the address actually bound
 * (port 0 resolved). */
static void
ports_accept(struct client_ports *p, size_t i, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[80];

	client_listen(&p->port[i], p->ls[i]);
	comm_listener_addr(p->ls[i], &ss, &sslen);
	log_msg(LG_NOTICE, SEC_MAIN, "%slistening on %s%s", what,
	    comm_addr_format((struct sockaddr *)&ss, addr, sizeof addr),
	    p->port[i].tls != NULL ? " (https_port)" :
	    p->port[i].mint != NULL ? " (ssl-bump)" : "");
}

int
client_ports_open(struct client_ctx *ctx, struct comm_loop *loop,
    const struct conf *conf, struct client_ports **pp)
{
	struct client_ports *p;
	char addr[80];
	size_t i;
	int err;

	*pp = NULL;
	err = ports_new(ctx, loop, conf, &p);
	if (err != 0)
		return (err);
	for (i = 0; i < conf->nports; i++) {
		p->n++;
		err = comm_listen(loop,
		    (const struct sockaddr *)&p->ports[i].addr,
		    p->ports[i].addrlen, CLIENT_PORTS_BACKLOG, &p->ls[i]);
		if (err != 0) {
			log_msg(LG_CRIT, SEC_MAIN, "cannot listen on %s: %s",
			    comm_addr_format((const struct sockaddr *)
			    &p->ports[i].addr, addr, sizeof addr),
			    strerror(-err));
			client_ports_close(&p);
			return (err);
		}
		ports_accept(p, i, "");
	}
	*pp = p;
	return (0);
}

int
client_ports_prepare(const struct client_ports *cur, const struct conf *conf,
    struct client_ports **next)
{
	struct client_ports *p;
	char addr[80];
	size_t i, j;
	bool *taken;
	int err = 0;

	CHECK_OBJ_NOTNULL(cur, CLIENT_PORTS_MAGIC);
	*next = NULL;
	err = ports_new(cur->ctx, cur->loop, conf, &p);
	if (err != 0)
		return (err);
	taken = calloc(cur->n + 1, sizeof *taken);
	if (taken == NULL) {
		client_ports_close(&p);
		return (-ENOMEM);
	}
	for (i = 0; i < conf->nports && err == 0; i++) {
		p->n++;
		for (j = 0; j < cur->n; j++)
			if (!taken[j] && ports_same(&p->ports[i],
			    &cur->ports[j]))
				break;
		if (j < cur->n) {
			taken[j] = true;
			p->from[i] = j;
			continue;
		}
		err = comm_listen(p->loop,
		    (const struct sockaddr *)&p->ports[i].addr,
		    p->ports[i].addrlen, CLIENT_PORTS_BACKLOG, &p->ls[i]);
		if (err != 0)
			log_msg(LG_ERR, SEC_MAIN, "reconfigure: cannot listen "
			    "on %s: %s", comm_addr_format((const struct
			    sockaddr *)&p->ports[i].addr, addr,
			    sizeof addr), strerror(-err));
	}
	free(taken);
	if (err != 0) {
		client_ports_close(&p);
		return (err);
	}
	*next = p;
	return (0);
}

void
client_ports_commit(struct client_ports **pp, struct client_ports **nextp)
{
	struct client_ports *cur = *pp, *p = *nextp;
	char addr[80];
	size_t i;

	CHECK_OBJ_NOTNULL(cur, CLIENT_PORTS_MAGIC);
	CHECK_OBJ_NOTNULL(p, CLIENT_PORTS_MAGIC);
	for (i = 0; i < p->n; i++) {
		if (p->from[i] != SIZE_MAX) {
			p->ls[i] = cur->ls[p->from[i]];
			cur->ls[p->from[i]] = NULL;
			p->from[i] = SIZE_MAX;
			/* Its next connections get this set's port: the
			 * certificate as read now. */
			client_listen(&p->port[i], p->ls[i]);
			continue;
		}
		ports_accept(p, i, "reconfigure: ");
	}
	/* Connections accepted through the sockets closing here go on. */
	for (i = 0; i < cur->n; i++) {
		if (cur->ls[i] == NULL)
			continue;
		log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: no longer "
		    "listening on %s", comm_addr_format((const struct
		    sockaddr *)&cur->ports[i].addr, addr, sizeof addr));
		comm_listener_close(&cur->ls[i]);
	}
	client_ports_close(pp);
	*pp = p;
	*nextp = NULL;
}

void
client_ports_close(struct client_ports **pp)
{
	struct client_ports *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	*pp = NULL;
	CHECK_OBJ(p, CLIENT_PORTS_MAGIC);
	for (i = 0; i < p->n; i++)
		if (p->ls[i] != NULL)
			comm_listener_close(&p->ls[i]);
	for (i = 0; p->port != NULL && i < p->nconf; i++) {
		tls_ctx_free(&p->port[i].tls);
		tls_mint_free(&p->port[i].mint);
	}
	free(p->ports);
	free(p->ls);
	free(p->port);
	free(p->from);
	FREE_OBJ(p);
}

int
client_ports_check(const struct conf *conf)
{
	struct client_ports *p;
	int err;

	err = ports_new(NULL, NULL, conf, &p);
	client_ports_close(&p);
	return (err);
}

size_t
client_ports_count(const struct client_ports *p)
{
	return (p != NULL ? p->n : 0);
}
