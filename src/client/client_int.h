/*
 * client_int.h - the client side's private structures; src/client/ only.
 *
 *	client_conn 1 --- 0..1 client_txn --- 1 store_entry --- fwd
 *
 * A connection handles its requests one at a time, in order; pipelined
 * requests wait in conn->in, unparsed, until the reply before them has
 * been written.
 */
#ifndef CUTTLE_CLIENT_INT_H
#define CUTTLE_CLIENT_INT_H

#include <sys/socket.h>
#include <netinet/in.h>

#include "acl/acl.h"
#include "base/list.h"
#include "base/result.h"
#include "buf/buf.h"
#include "client/client.h"
#include "client/errpage.h"
#include "fwd/fwd.h"
#include "fwd/fwd_peer.h"
#include "http/http_cache.h"
#include "http/http_msg.h"
#include "http/http_url.h"
#include "icp/icp.h"
#include "mgr/mgr.h"
#include "mgr/mgr_page.h"
#include "store/store.h"

#define CLIENT_IN_MAX		(64 * 1024)	/* buffered ahead, unparsed */
#define CLIENT_IN_SLICES	64		/* ... in at most this many reads */
#define CLIENT_WINDOW		(256 * 1024)	/* private entry window */
/*
 * Body bytes per write.  Large hits are bound by the kernel, not by
 * cuttle: each write ends with a push that wakes the client and draws
 * an ACK, so fewer, larger writes mean fewer segments, wakeups and ACKs
 * per byte.  Measured on loopback (1 MiB hits, per proxy CPU-second):
 * 256 KiB writes 3,400, 512 KiB 5,400, 1 MiB 5,500, 2 MiB 5,600, and 16
 * MiB hits best at 1-2 MiB (4 MiB and more fill the socket buffer and
 * go out in partial writes).  A hit's pages are the cache's own, so a
 * larger write pins no extra memory; a private entry's window still
 * bounds what a miss holds.
 */
#define CLIENT_WRITE_MAX	(1024 * 1024)
#define CLIENT_LINGER		2.0		/* seconds draining at close */
#define CLIENT_TIME_SLACK	1e-3		/* a deadline this near: due */

struct client_ctx {
	unsigned		magic;
#define CLIENT_CTX_MAGIC	0xc11e4c7aU
	struct client_deps	deps;
	struct list		conns;		/* in accept order */
	struct comm_timer	*lifetime;	/* client_lifetime: due for
						 * the oldest of conns */
	struct mgr_client_figures stats;	/* connections, the cache's,
						 * as the manager reads them */
	struct mgr_stats	*counters;	/* traffic: the manager's, or
						 * own_counters without one */
	struct mgr_stats	own_counters;
	struct list		fetches;	/* struct client_fetch */
	struct list		disk_reads;	/* client_disk.c's, under way */
	struct buf		*parsing;	/* block under the parser, while
						 * a connection's input is
						 * parsed (client_conn.c) */
	uint64_t		serial;		/* the last Vary marker's */
	bool			draining;	/* no keep-alive any more */
};

struct client_txn;
struct client_fetch;
struct auth_check;
struct acl_request;
struct client_adapt_txn;

/* An address in the room it needs: a sockaddr_storage is 128 bytes, and
 * two of them per idle connection count (< 1 KiB each is the target). */
union client_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

struct client_conn {
	unsigned		magic;
#define CLIENT_CONN_MAGIC	0xc11ec044U
	unsigned		pending;	/* completions to come, and
					 * calls running (client_conn_hold) */
	struct client_ctx	*ctx;
	struct comm_conn	*conn;
	struct list		link;		/* ctx->conns */
	union client_addr	peer;
	/* The IPv4 address it came in on, once asked (local4_known): in
	 * the hole after peer, so a keep-alive connection's helper lines
	 * (%la) cost one getsockname() and not one a request. */
	struct in_addr		local4;
	struct http_parser	*parser;
	struct buf_chain	in;		/* received, not yet parsed */
	struct client_txn	*txn;		/* the request being served */
	unsigned		nreq;
	/* One bit each: an idle connection is 168 bytes, a 176-byte
	 * malloc() chunk. */
	bool			reading : 1;
	bool			eof : 1;	/* the client sent FIN */
	bool			lingering : 1;	/* replied; draining, then
						 * close */
	bool			closing : 1;
	bool			expired : 1;	/* client_lifetime reached */
	bool			local4_known : 1;
	/* The port it came in on, for every request (myport, X-Cache-
	 * Lookup); the address only when asked: client_txn_local(). */
	uint16_t		local_port;
	struct client_bump	*bump;		/* ssl-bump port; NULL: none */
};

/* How a request meets the cache (client_cache.c). */
enum client_cache_role {
	CACHE_NONE,		/* forwarded as it is, never stored */
	CACHE_HIT,		/* served from a stored entry */
	CACHE_JOINED,		/* reads an entry another request fills */
	CACHE_FILL,		/* its fetch fills a new entry */
	CACHE_REVALIDATE	/* its fetch revalidates t->stale */
};

enum client_txn_state {
	TXN_HEADERS,		/* reading the request header section */
	TXN_BODY,		/* passing request content on */
	TXN_WAIT,		/* request done, waiting for the reply */
	TXN_REPLY,		/* writing the reply */
	TXN_DONE
};

/*
 * The request path (client_steps.c, where the graph is drawn): one row a
 * step, CLIENT_STEP(sym, function, what it does).  A step returns the
 * next one, CLIENT_STEP_END (handed to what answers) or CLIENT_STEP_WAIT
 * (parked until a lookup completes).
 */
#define CLIENT_STEPS							\
	CLIENT_STEP(RECV,	client_step_recv,				\
	    "the URL and Host: the manager's or a proxy request")		\
	CLIENT_STEP(ACCESS,	client_step_access,				\
	    "http_access; may wait (dst, srcdomain)")			\
	CLIENT_STEP(ADMIT,	client_step_admit,				\
	    "denied, the manager, a tunnel, or HTTP to forward")		\
	CLIENT_STEP(REWRITE,	client_step_rewrite,				\
	    "url_rewrite_program: rewrite, redirect; may wait")		\
	CLIENT_STEP(STOREID,	client_step_storeid,				\
	    "store_id_program: the cache key; may wait")			\
	CLIENT_STEP(MGR,	client_step_mgr,				\
	    "the cache manager answers")					\
	CLIENT_STEP(TUNNEL,	client_step_tunnel,				\
	    "CONNECT: a tunnel")						\
	CLIENT_STEP(BUMP,	client_step_bump,			\
	    "CONNECT on an ssl-bump port: 200, then ssl_bump's steps")	\
	CLIENT_STEP(LIMIT,	client_step_limit,				\
	    "reply_body_max_size, line by line; may wait")		\
	CLIENT_STEP(CACHEABLE,	client_step_cacheable,				\
	    "the `cache` rules; may wait")					\
	CLIENT_STEP(LOOKUP,	client_step_lookup,				\
	    "the cache: a hit, a join, PURGE; a miss or not its business "	\
	    "goes to PEER")							\
	CLIENT_STEP(PEER,	client_step_peer,				\
	    "where a miss may go: always/never_direct, cache_peer_access, "	\
	    "the peers in Squid's order; may wait (client_peer.c)")		\
	CLIENT_STEP(FETCH,	client_step_fetch,				\
	    "a miss or a revalidation, fetched into the cache")		\
	CLIENT_STEP(PASS,	client_step_pass,				\
	    "forwarded as it is, never stored")

enum client_step {
#define CLIENT_STEP(sym, fn, what)	CLIENT_STEP_##sym,
	CLIENT_STEPS
#undef CLIENT_STEP
	CLIENT_STEP__COUNT,
	CLIENT_STEP_WAIT = CLIENT_STEP__COUNT,	/* parked */
	CLIENT_STEP_END				/* handed over */
};

typedef enum client_step client_step_fn(struct client_txn *t);

/* client_step_name() - "RECV", ... "WAIT", "END". */
const char	*client_step_name(enum client_step s);

struct client_txn {
	unsigned		magic;
#define CLIENT_TXN_MAGIC	0xc11e7a40U
	struct client_conn	*cc;
	uint8_t			state;		/* enum client_txn_state */
	struct http_msg		req;
	struct http_url		url;
	double			t_start;
	struct store_entry	*e;
	struct store_reader	reader;
	bool			reader_open;
	struct fwd		*fwd;		/* NULL once fwd is done */
	struct buf_chain	body;		/* request content to pass on */
	bool			req_done;	/* every request byte read */
	bool			body_sending;
	bool			headers_sent;	/* reply status line written */
	bool			chunked_out;	/* reply framed chunked */
	bool			close_after;	/* no keep-alive after this */
	bool			reply_complete;	/* every byte handed to comm */
	bool			errpage;	/* the reply is cuttle's own */
	uint8_t			end;		/* enum result_end: how a cut
						 * transfer is logged */
	unsigned		writes;		/* writes in flight */
	unsigned		busy;		/* held by a running call */
	unsigned		status;		/* sent to the client */
	uint64_t		bytes_out;
	uint8_t			code;		/* enum result_code */
	const char		*err_name;	/* ERR_... of an error page */
	union client_addr	server;		/* where it was forwarded */
	union client_addr	local;		/* client_txn_local(), once */
	bool			local_known;
	struct client_tunnel	*tunnel;	/* CONNECT */
	uint64_t		max_body;	/* reply_body_max_size; 0: any */
	/* The cache's view (client_cache.c). */
	uint8_t			role;		/* enum client_cache_role */
	bool			from_store;	/* a stored reply: Age */
	bool			revalidated;	/* the stored reply, after a
						 * 304 for this request */
	char			*private_fields;	/* lines the cache did
						 * not store (private=
						 * "..."), for this
						 * request's reply only */
	size_t			private_fields_len;
	bool			invalidate;	/* unsafe method: purge on 2xx/3xx */
	bool			limit_body;	/* body_left counts what to send */
	uint16_t		status_override;	/* 304 or 206; 0: none */
	uint64_t		body_left;
	uint64_t		range_first;
	uint64_t		range_len;	/* of the representation */
	char			*curl;		/* normalised URL, or NULL */
	size_t			curl_len;
	struct store_key	key;		/* what it looked up */
	struct store_entry	*stale;		/* being revalidated */
	struct client_fetch	*fetch;		/* filling t->e, while both
						 * live */
	struct http_cc		reqcc;
	/* A memory miss the disk answers (client_disk.c). */
	struct store_entry	*disk_e;	/* read, for LOOKUP again */
	bool			disk_wait;	/* a disk read is out */
	bool			disk_tried;	/* LOOKUP asked the disk */
	bool			disk_tried_variant;	/* for a variant */
	bool			variant_key;	/* t->key is a variant's */
	bool			disk_hit;	/* served what it read */
	bool			disk_failed;	/* the read failed: a miss */
	struct list		disk_link;	/* a disk read's waiters */
	/* The request path (client_steps.c). */
	uint8_t			step;		/* enum client_step: where it
						 * is, or resumes */
	uint8_t			answer;		/* the last check's (enum
						 * acl_answer) */
	uint8_t			limit_next;	/* reply_body_max_size line */
	bool			storable;	/* what `cache` said */
	struct acl_check	ck;		/* the check under way */
	struct acl_lookups	lk;		/* what checks looked up */
	struct acl_request	view;		/* what the check looks at */
	struct auth_check	*auth_ck;	/* credentials being checked
						 * for lk (client_steps.c) */
	struct client_adapt_txn	*adapt;		/* url_rewrite, store_id
						 * (client_adapt.c); NULL:
						 * never asked */
	/* Where it may be forwarded (client_peer.c). */
	struct fwd_peers	*peers;		/* the table it selected with;
						 * NULL: the origin alone */
	struct fwd_hop		hops[FWD_MAX_HOPS];
	uint8_t			nhops;
	uint8_t			sel_next;	/* the rule list answered */
	uint8_t			direct;		/* enum fwd_direct */
	uint8_t			hier;		/* enum fwd_hier, logged */
	uint8_t			after_peer;	/* FETCH or PASS: where PEER
						 * goes on (LOOKUP says) */
	uint64_t		peer_denied;	/* by cache_peer_access */
	struct icp_query	*icpq;		/* ICP under way (PEER) */
	bool			icp_timedout;	/* logged TIMEOUT_... */
	uint8_t			icp_code;	/* what ICP said: enum
						 * fwd_hier; NONE: nothing */
	int16_t			icp_peer;
	bool			tunnel_peered;	/* CONNECT: PEER ran */
};

/* client_addr_set() - keep a copy of sa (IPv4 or IPv6; else unset). */
static inline void
client_addr_set(union client_addr *dst, const struct sockaddr *sa)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		dst->sin = *(const struct sockaddr_in *)(const void *)sa;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		dst->sin6 = *(const struct sockaddr_in6 *)(const void *)sa;
	else
		dst->sa.sa_family = AF_UNSPEC;
}

/* client_conn.c */
/* How a connection goes on after its transaction. */
enum client_conn_next {
	CLIENT_NEXT_REQUEST,	/* keep-alive: read the next request */
	CLIENT_NEXT_LINGER,	/* FIN, drain what the client still sends */
	CLIENT_NEXT_CLOSE	/* the client asked to close, and sent its
				 * whole request: nothing is left to drain */
};
void	client_conn_txn_done(struct client_conn *cc,
	    enum client_conn_next next);
void	client_conn_read_more(struct client_conn *cc);
void	client_conn_resume(struct client_conn *cc);
void	client_conn_abort(struct client_conn *cc);
/* client_conn_hold() - a completion to come (or a call running) that
 * needs cc; client_conn_release() when it is done, last thing: cc may
 * be freed then. */
void	client_conn_hold(struct client_conn *cc);
void	client_conn_release(struct client_conn *cc);
uint16_t	client_local_port(const struct client_conn *cc);
/* client_conn_local() - the address cc's client reached, into a: one
 * getsockname(); 0, or -errno with a->sa.sa_family AF_UNSPEC. */
int	client_conn_local(const struct client_conn *cc, union client_addr *a);
/* client_txn_local() - the same for t (a struct client_txn), asked once
 * per request and kept: acl_request's and access_entry's local().  NULL
 * when unknown. */
const struct sockaddr	*client_txn_local(void *t);

/* client_txn.c */
struct client_txn	*client_txn_new(struct client_conn *cc);
void	client_txn_headers(struct client_txn *t);
void	client_txn_body(struct client_txn *t, bool last);
void	client_txn_error(struct client_txn *t, enum errpage_id page,
	    const char *detail, int sys_errno);
/* client_txn_error_hdrs() - the same, the page carrying headers (whole
 * "Name: value\r\n" lines: a 407's Proxy-Authenticate). */
void	client_txn_error_hdrs(struct client_txn *t, enum errpage_id page,
	    const char *detail, const char *headers);
void	client_txn_parse_error(struct client_txn *t, enum http_err e);
void	client_txn_abort(struct client_txn *t);
void	client_txn_finish(struct client_txn *t);
void	client_txn_maybe_free(struct client_txn *t);

/* client_reply.c */
void	client_reply_start(struct client_txn *t);
void	client_reply_attach(struct client_txn *t);
void	client_reply_continue(struct client_txn *t);
void	client_reply_write(struct client_txn *t, struct buf_chain *out);
void	client_reply_write_all(struct client_txn *t, struct buf_chain *out);
int	client_reply_headers(struct client_txn *t, const struct http_msg *rep,
	    struct buf_chain *out);

/* client_txn.c: forward the request as it is, into a private entry. */
void	client_txn_forward(struct client_txn *t);
void	client_fwd_req_init(struct client_txn *t, struct fwd_req *fr);
/* client_txn_view() - t->view ready for a check (client_steps.c). */
void	client_txn_view(struct client_txn *t);
/* client_step_check() - rule list r for t (NULL: if_none), then on at
 * next: next at once when the answer is known (t->answer), else WAIT
 * and the path resumes at next once it is. */
enum client_step	client_step_check(struct client_txn *t,
			    const struct acl_rules *r, enum acl_answer if_none,
			    enum client_step next);
/* client_steps_resume() - something the path waited for has completed
 * (from the loop): on from t->step, unless t has ended meanwhile. */
void	client_steps_resume(struct client_txn *t);

/* client_adapt.c: the REWRITE and STOREID steps */
enum client_step	client_adapt_rewrite(struct client_txn *t);
enum client_step	client_adapt_storeid(struct client_txn *t);
/* client_adapt_waiting() - a helper's answer is still to come (the txn
 * lives until it has); client_adapt_cancel() makes it come now. */
bool	client_adapt_waiting(const struct client_txn *t);
void	client_adapt_cancel(struct client_txn *t);
void	client_adapt_txn_free(struct client_txn *t);
/* client_adapt_store_id() - the store-id the helper gave t, or NULL. */
const char	*client_adapt_store_id(const struct client_txn *t);

/* client_cache.c */
/* client_cache_request() - the cache's turn after the access checks: a
 * hit, a join, PURGE, or 504 for only-if-cached (END); a disk read
 * (WAIT); a miss or a stale entry to revalidate (FETCH, the stale entry
 * in t->stale), started by client_cache_fetch_miss() once PEER has
 * chosen where; PASS when the request is not the cache's business
 * (forward it as it is).  storable: what the `cache` rules said of
 * storing its reply. */
enum client_step	client_cache_request(struct client_txn *t,
			    bool storable);
/* client_cache_fetch_miss() - start FETCH's fetch; false when it could
 * not be (t->stale dropped): forward it as it is. */
bool	client_cache_fetch_miss(struct client_txn *t);
/* client_cache_reply() - the reply is in t->e and its header section is
 * about to be written: choose what to send (revalidation outcome, a
 * collapsed request that must fetch its own, 304, 206).  false when t
 * was redirected and will be called again. */
bool	client_cache_reply(struct client_txn *t);
/* client_cache_no_reply() - t->e ended without a reply: true when a
 * stale entry is served instead (stale-if-error). */
bool	client_cache_no_reply(struct client_txn *t);
void	client_cache_txn_finish(struct client_txn *t);
void	client_cache_txn_free(struct client_txn *t);
void	client_cache_cancel_all(struct client_ctx *ctx);

/* client_disk.c */
/* client_disk_start() - a memory miss for t->key: when a disk store has
 * the key, its read starts (or t joins one under way), t->disk_wait is
 * set and true returned (the request parks at LOOKUP; once the head is
 * read LOOKUP runs again with the entry in t->disk_e, still PENDING while
 * its chunks come, or with t->disk_failed).  False: not on disk. */
bool	client_disk_start(struct client_txn *t);
/* client_disk_fini() - the reads nobody waits for any more, cancelled
 * (the context goes). */
void	client_disk_fini(struct client_ctx *ctx);
/* client_disk_put() - e, complete and stored in memory, to its disk
 * store too (nothing when there is none, or it does not fit there). */
void	client_disk_put(struct client_ctx *ctx, struct store_entry *e);
/* client_disk_fill() - e, a fill under k whose reply rep (not yet e's)
 * was just found storable: when its Content-Length is over
 * maximum_object_size_in_memory, its bytes go to its disk store as they
 * arrive (the head once it completes). */
void	client_disk_fill(struct client_ctx *ctx, struct store_entry *e,
	    const struct http_msg *rep, const struct store_key *k);
/* client_disk_purge() - a tombstone for k where it is on disk; true if
 * it was. */
bool	client_disk_purge(struct client_ctx *ctx, const struct store_key *k);

/* client_peer.c: the PEER step */
/* client_peer_loop() - t's Via has this cuttle's own entry: the request
 * came back round a hierarchy. */
bool	client_peer_loop(const struct client_txn *t);
/* client_peer_step() - PEER, as client_steps.c runs it. */
enum client_step	client_peer_step(struct client_txn *t);
/* client_peer_fwd_req() - t's candidates into fr.  A fetch that did not
 * go through PEER (a collapsed request that must fetch its own variant,
 * a background revalidation) selects here, with the rule lists'
 * answers that need no lookup. */
void	client_peer_fwd_req(struct client_txn *t, struct fwd_req *fr);
void	client_peer_txn_free(struct client_txn *t);
/* client_peer_register_pages() - server_list, peers_json and the peers'
 * part of /metrics, read from the table in force. */
int	client_peer_register_pages(struct client_ctx *ctx,
	    struct mgr_registry *r);

/* client_tunnel.c: CONNECT */
void	client_tunnel_start(struct client_txn *t);
/* client_tunnel_splice() - the same once "200 Connection established" has
 * been written (ssl_bump's splice): connect, then relay. */
void	client_tunnel_splice(struct client_txn *t);
/* The client's bytes (a slice of what it sent) or its EOF, for the
 * tunnel: the connection's reads feed the tunnel once it is open. */
void	client_tunnel_from_client(struct client_txn *t);
void	client_tunnel_abort(struct client_txn *t);

/* client_bump.c: ssl_bump, on an http_port with ssl-bump */
struct client_bump;
struct tls_mint;
struct client_bump	*client_bump_new(struct client_conn *cc,
			    struct tls_mint *mint);
void	client_bump_free(struct client_bump **bp);
/* client_bump_wants() - t is a CONNECT that ssl_bump's steps take over
 * (after http_access allowed it). */
bool	client_bump_wants(const struct client_txn *t);
void	client_bump_start(struct client_txn *t);
/* client_bump_busy() - the connection must not read: the ClientHello
 * is to stay in the socket (a CONNECT being bumped, or one that may be
 * waiting behind the request being served). */
bool	client_bump_busy(const struct client_conn *cc);
/* client_bump_request() - a request inside a bumped connection becomes
 * https://host[:port]/path, or is answered with the origin's failure
 * (-1: answered; 0: go on). */
int	client_bump_request(struct client_txn *t);
void	client_bump_abort(struct client_txn *t);
/* client_bump_fwd_req() - a request inside a bumped connection allows
 * the origin's certificate errors that sslproxy_cert_error allowed. */
void	client_bump_fwd_req(const struct client_txn *t, struct fwd_req *fr);

/* client_log.c */
void	client_txn_log(struct client_txn *t);

/* client_mgr.c: cache manager requests; each finished txn counted. */
bool	client_mgr_request(struct client_txn *t);
int	client_mgr_url(struct client_txn *t);	/* cache_object:// */
void	client_mgr_serve(struct client_txn *t);
void	client_mgr_txn_done(struct client_txn *t);

#endif /* CUTTLE_CLIENT_INT_H */
