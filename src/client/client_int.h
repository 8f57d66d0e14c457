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

#include "base/list.h"
#include "buf/buf.h"
#include "client/client.h"
#include "client/errpage.h"
#include "http/http_msg.h"
#include "http/http_url.h"
#include "store/store.h"

#define CLIENT_IN_MAX		(64 * 1024)	/* buffered ahead, unparsed */
#define CLIENT_IN_SLICES	64		/* ... in at most this many reads */
#define CLIENT_WINDOW		(256 * 1024)	/* private entry window */
#define CLIENT_WRITE_MAX	(256 * 1024)	/* body bytes per writev */
#define CLIENT_LINGER		2.0		/* seconds draining at close */

struct client_ctx {
	unsigned		magic;
#define CLIENT_CTX_MAGIC	0xc11e4c7aU
	struct client_deps	deps;
	struct list		conns;
	struct client_stats	stats;
	bool			draining;	/* no keep-alive any more */
};

struct client_txn;

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
	struct client_ctx	*ctx;
	struct comm_conn	*conn;
	struct list		link;
	union client_addr	peer;
	union client_addr	local;
	struct comm_timer	*lifetime;	/* client_lifetime */
	struct http_parser	*parser;
	struct buf_chain	in;		/* received, not yet parsed */
	struct buf		*parsing;	/* block under the parser */
	struct client_txn	*txn;		/* the request being served */
	unsigned		pending;	/* completions to come, and
					 * calls running (client_conn_hold) */
	unsigned		nreq;
	bool			reading;
	bool			eof;		/* the client sent FIN */
	bool			lingering;	/* replied; draining, then close */
	bool			closing;
};

enum client_txn_state {
	TXN_HEADERS,		/* reading the request header section */
	TXN_BODY,		/* passing request content on */
	TXN_WAIT,		/* request done, waiting for the reply */
	TXN_REPLY,		/* writing the reply */
	TXN_DONE
};

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
	unsigned		writes;		/* writes in flight */
	unsigned		busy;		/* held by a running call */
	unsigned		status;		/* sent to the client */
	uint64_t		bytes_out;
	const char		*code;		/* TCP_MISS, TCP_DENIED ... */
	const char		*err_name;	/* ERR_... of an error page */
	union client_addr	server;		/* where it was forwarded */
	struct client_tunnel	*tunnel;	/* CONNECT */
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
void	client_conn_txn_done(struct client_conn *cc, bool keep_alive);
void	client_conn_read_more(struct client_conn *cc);
void	client_conn_resume(struct client_conn *cc);
void	client_conn_abort(struct client_conn *cc);
uint16_t	client_local_port(const struct client_conn *cc);

/* client_txn.c */
struct client_txn	*client_txn_new(struct client_conn *cc);
void	client_txn_headers(struct client_txn *t);
void	client_txn_body(struct client_txn *t, bool last);
void	client_txn_error(struct client_txn *t, enum errpage_id page,
	    const char *detail, int sys_errno);
void	client_txn_parse_error(struct client_txn *t, enum http_err e);
void	client_txn_abort(struct client_txn *t);
void	client_txn_finish(struct client_txn *t);
void	client_txn_maybe_free(struct client_txn *t);

/* client_reply.c */
void	client_reply_start(struct client_txn *t);
void	client_reply_continue(struct client_txn *t);
void	client_reply_write(struct client_txn *t, struct buf_chain *out);
void	client_reply_write_all(struct client_txn *t, struct buf_chain *out);
int	client_reply_headers(struct client_txn *t, const struct http_msg *rep,
	    struct buf_chain *out);

/* client_tunnel.c: CONNECT */
void	client_tunnel_start(struct client_txn *t);
/* The client's bytes (a slice of what it sent) or its EOF, for the
 * tunnel: the connection's reads feed the tunnel once it is open. */
void	client_tunnel_from_client(struct client_txn *t);
void	client_tunnel_abort(struct client_txn *t);

/* client_log.c */
void	client_txn_log(struct client_txn *t);

#endif /* CUTTLE_CLIENT_INT_H */
