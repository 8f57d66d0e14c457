/*
 * fwd_int.h - the server side's private structures; src/fwd/ only.
 */
#ifndef CUTTLE_FWD_INT_H
#define CUTTLE_FWD_INT_H

#include "base/list.h"
#include "fwd/fwd.h"
#include "fwd/fwd_peer.h"

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
	/* The next hops (fwd_peer.h): hops[hop] is being tried. */
	struct fwd_peers	*peers;		/* NULL: the origin alone */
	struct fwd_hop		hops[FWD_MAX_HOPS];
	unsigned		nhops;
	unsigned		hop;
	struct fwd_peer		*pe;		/* hops[hop]'s; NULL: origin */
	bool			pe_held;	/* counted in pe->conn_open */
	struct comm_call	nowhere_call;	/* no hop: the end, from the
						 * loop as any other */
	struct buf_chain	peerhdr;	/* absolute-form, open-ended */
	char			*origin;	/* "host" of the URL, for the
						 * origin's hop */
	uint16_t		origin_port;
	bool			origin_tls;
	char			*passthru;	/* the client's
						 * Proxy-Authorization */
};

/* -- cache peers (fwd_peer.c) --------------------------------------------- */

enum fwd_peer_type {
	FWD_PEER_PARENT,
	FWD_PEER_SIBLING
};

/* login=: what goes to the peer as Proxy-Authorization. */
enum fwd_peer_login {
	FWD_LOGIN_NONE,
	FWD_LOGIN_BASIC,	/* user:pass, as given */
	FWD_LOGIN_PASSTHRU	/* the client's own (PASS, PASSTHRU) */
};

#define FWD_PEER_DEFAULT	0x0001u
#define FWD_PEER_ROUNDROBIN	0x0002u
#define FWD_PEER_WEIGHTED_RR	0x0004u
#define FWD_PEER_CARP		0x0008u
#define FWD_PEER_SOURCEHASH	0x0010u
#define FWD_PEER_USERHASH	0x0020u
#define FWD_PEER_NO_QUERY	0x0040u
#define FWD_PEER_ALLOW_MISS	0x0080u

#define FWD_CARP_KEY_SCHEME	0x01u
#define FWD_CARP_KEY_HOST	0x02u
#define FWD_CARP_KEY_PORT	0x04u
#define FWD_CARP_KEY_PATH	0x08u
#define FWD_CARP_KEY_PARAMS	0x10u

/* A hash method's view of a peer (Squid's carp, sourcehash, userhash). */
struct fwd_peer_hash {
	uint32_t	hash;		/* of the name */
	double		load_factor;
	double		load_multiplier;
};

struct fwd_peer {
	char			*name;
	char			*host;		/* lower case */
	uint16_t		http_port;
	uint16_t		icp_port;
	uint8_t			type;		/* enum fwd_peer_type */
	uint8_t			login_type;	/* enum fwd_peer_login */
	uint8_t			carp_key;	/* FWD_CARP_KEY_*; 0: the URI */
	unsigned		options;	/* FWD_PEER_* */
	int			weight;
	char			*login;		/* "Basic <base64>" */
	/* tls: HTTP to it over TLS, with its own context (tls-cafile=,
	 * tls-cert=, tls-key=, tls-flags=), the name checked tls-domain=
	 * or its host.  NULL: plain. */
	struct tls_ctx		*tls;
	char			*tls_domain;
	double			connect_timeout;	/* 0: connect_timeout */
	int			connect_fail_limit;
	int			max_conn;	/* 0: no limit */
	struct acl_rules	*access;	/* cache_peer_access */
	struct fwd_peer_hash	carp, sourcehash, userhash;
	/* State. */
	int			tcp_up;		/* failures left before dead */
	double			dead_since;
	double			last_failure;	/* 0: none yet */
	int			rr_count;
	unsigned		conn_open;	/* connections in use */
	uint64_t		fetches;
	struct fwd_peer_icp	icp;
	const char		*file;		/* its cache_peer line */
	unsigned		line;
};

struct fwd_peers {
	unsigned		magic;
#define FWD_PEERS_MAGIC		0xf3d9ee75U
	unsigned		refs;
	struct fwd_peer		*v;
	unsigned		n;
	/* Hash arrays: indexes into v, sorted by weight (stable). */
	uint8_t			carp[FWD_MAX_PEERS], ncarp;
	uint8_t			sourcehash[FWD_MAX_PEERS], nsourcehash;
	uint8_t			userhash[FWD_MAX_PEERS], nuserhash;
	struct acl_rules	*always_direct;
	struct acl_rules	*never_direct;
	bool			prefer_direct;
	bool			nonhierarchical_direct;
	double			dead_peer_timeout;
};

/* fwd_peer_up() - false while a dead peer waits out dead_peer_timeout
 * (Squid's neighborUp(), with the request as the probe). */
bool	fwd_peer_up(const struct fwd_peers *p, const struct fwd_peer *pe,
	    double now);
/* A connection to pe failed / succeeded (Squid's peerConnectFailed(),
 * peerConnectSucceded()). */
void	fwd_peer_failed(struct fwd_peers *p, struct fwd_peer *pe, double now);
void	fwd_peer_succeeded(struct fwd_peers *p, struct fwd_peer *pe);

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
