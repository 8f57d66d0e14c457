/*
 * fwd_int.h - the server side's private structures; src/fwd/ only.
 */
#ifndef CUTTLE_FWD_INT_H
#define CUTTLE_FWD_INT_H

#include "base/list.h"
#include "fwd/fwd.h"

#define FWD_MAX_ADDRS		8

#define FWD_IDLE_PER_HOST	256	/* pooled connections per host:port */

struct fwd_ctx {
	unsigned		magic;
#define FWD_CTX_MAGIC		0xf3dc7a11U
	struct comm_loop	*loop;
	struct dns_resolver	*dns;
	const struct conf	*conf;
	struct tls_ctx		*tls;		/* for https; NULL: none yet */
	unsigned		tls_gen;	/* bumped with each context */
	struct list		idle;		/* struct fwd_idle, newest last */
	unsigned		nidle;
	unsigned		nfwd;		/* forwardings not yet done */
	struct fwd_ctx_stats	stats;
};

/* One piece of request content on its way (fwd_send_body()).  The client
 * sends the next only once this one's sent() has run, so one record per
 * fwd is all there is: nothing to allocate, nothing to run out of. */
struct fwd_send {
	struct fwd		*f;
	fwd_sent_fn		*sent;
	void			*arg;
	bool			busy;	/* between send_body and sent() */
	bool			ok;
	struct buf_chain	chain;	/* framed, waiting for a connection */
	struct comm_call	call;	/* when nothing was written */
};

#define FWD_TLS_ALLOWED		8	/* errors a request may allow */

struct fwd {
	unsigned		magic;
#define FWD_MAGIC		0xf3d0f3d0U
	struct fwd_ctx		*ctx;
	struct store_entry	*e;
	fwd_done_fn		*done;
	void			*arg;
	struct comm_call	done_call;
	unsigned		pending;	/* completions still to come */
	char			*key;		/* "host:port", the pool's key
						 * (+ " tls/<gen>" for TLS) */
	char			*sni;		/* TLS: the host, for SNI and
						 * the name check */
	size_t			host_len;	/* of key: the host alone */
	uint16_t		port;
	struct sockaddr_storage	addrs[FWD_MAX_ADDRS];
	unsigned		naddrs;
	unsigned		next_addr;
	int			last_errno;
	struct dns_query	*dnsq;		/* lookup in flight */
	const char		*dns_reason;
	struct sockaddr_storage	*peer;		/* the address used */
	struct comm_conn	*conn;
	struct buf_chain	reqhdr;		/* kept to send again */
	struct fwd_send		send;		/* the content piece in flight */
	struct fwd_send		*queued;	/* &send, before a connection */
	struct http_parser	*parser;
	struct http_msg		reply;
	struct buf		*rbuf;		/* the read being parsed */
	uint64_t		max_body;	/* 0: no limit */
	fwd_reply_fn		*on_reply;
	void			*reply_arg;
	uint64_t		body_seen;
	bool			head;
	bool			tls;		/* https: TLS after connect */
	bool			tls_wait;	/* connecting; the request waits
						 * for the handshake to start */
	char			detail[160];	/* the page's %D, or "" */
	int			tls_allowed[FWD_TLS_ALLOWED];	/* fwd_req's */
	uint8_t			ntls_allowed;
	bool			idempotent;	/* and without content */
	bool			body_chunked;
	bool			body_started;
	bool			body_done;
	bool			connecting;
	bool			reused;
	bool			read_after_write;	/* reused: read once
						 * the request is out */
	bool			retried;
	bool			got_reply_byte;
	bool			parser_started;
	bool			have_reply;
	bool			keep_alive;
	bool			reusable;
	bool			failed;		/* out of memory mid-parse */
	bool			too_big;	/* over max_body mid-parse */
	bool			ended;		/* the entry has ended */
	bool			finishing;	/* done is queued */
};

void	fwd_free(struct fwd *f);
void	fwd_set_port(struct sockaddr_storage *ss, uint16_t port);
socklen_t	fwd_addrlen(const struct sockaddr_storage *ss);

/* The idle pool: a connection that can carry another request, by key. */
void	fwd_pool_put(struct fwd_ctx *ctx, struct comm_conn **cp,
	    const char *key, const struct sockaddr_storage *peer);
/* fwd_pool_take() - an idle connection to key, or NULL; *peer gets the
 * address it is connected to. */
struct comm_conn	*fwd_pool_take(struct fwd_ctx *ctx, const char *key,
			    struct sockaddr_storage *peer);

#endif /* CUTTLE_FWD_INT_H */
