/*
 * icp.h - ICP, the Internet Cache Protocol (RFC 2186), version 2 as
 * Squid speaks it: the codec, the server that answers siblings and
 * children from the memory cache, and the queries a miss sends to peers.
 *
 * The codec is pure: icp_decode() takes any bytes a socket gave and
 * either fills a struct icp_msg that points into them or says what was
 * wrong, never reading past len.  The rest runs on one loop, over one
 * comm_udp socket on icp_port: queries in are answered at once, replies
 * in are matched to the query under way by request number, URL and the
 * peer's address; anything else is counted and dropped.
 *
 * Lifecycle:
 *	icp_new()		the socket; NULL when icp_port is 0
 *	icp_set_deps()		what answers consult (reconfigure: again)
 *	icp_query_start()	ask the peers that take queries for a URL;
 *				fn runs once from the loop with the answer
 *				(first HIT, all in, or the timeout)
 *	icp_query_cancel()	fn is not called; the query is freed
 *	icp_free()		every query must have ended or been cancelled
 *				(probes of dead peers, which nobody waits
 *				for, are freed with it)
 */
#ifndef CUTTLE_ICP_H
#define CUTTLE_ICP_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acl_rules;
struct comm_loop;
struct fwd_peers;
struct mgr_registry;
struct store_index;

/* Opcodes (RFC 2186 and Squid's additions); the rest are unknown. */
#define ICP_OPCODES							\
	ICP_OP(INVALID,		0,	"ICP_INVALID")			\
	ICP_OP(QUERY,		1,	"ICP_QUERY")			\
	ICP_OP(HIT,		2,	"ICP_HIT")			\
	ICP_OP(MISS,		3,	"ICP_MISS")			\
	ICP_OP(ERR,		4,	"ICP_ERR")			\
	ICP_OP(SECHO,		10,	"ICP_SECHO")			\
	ICP_OP(DECHO,		11,	"ICP_DECHO")			\
	ICP_OP(MISS_NOFETCH,	21,	"ICP_MISS_NOFETCH")		\
	ICP_OP(DENIED,		22,	"ICP_DENIED")			\
	ICP_OP(HIT_OBJ,		23,	"ICP_HIT_OBJ")

enum icp_opcode {
#define ICP_OP(sym, val, name)	ICP_OP_##sym = val,
	ICP_OPCODES
#undef ICP_OP
	ICP_OP__END = 24	/* opcodes are below this */
};

/* icp_opcode_name() - "ICP_HIT", ...; NULL for an unknown opcode. */
const char	*icp_opcode_name(unsigned op);

#define ICP_VERSION	2
#define ICP_HDR_LEN	20
#define ICP_MAX_URL	4096	/* a longer URL is refused (Squid's
				 * MAX_URL is 8 KiB; RFC 2186 sets none) */
#define ICP_MAX_LEN	(ICP_HDR_LEN + 4 + ICP_MAX_URL + 1)

/* What was wrong with a datagram (each is counted). */
#define ICP_BADS							\
	ICP_BAD(NONE,		"ok")					\
	ICP_BAD(SHORT,		"shorter than the header")		\
	ICP_BAD(CUT,		"cut short by the socket")		\
	ICP_BAD(LENGTH,		"length field disagrees")		\
	ICP_BAD(VERSION,	"not version 2")			\
	ICP_BAD(OPCODE,		"unknown opcode")			\
	ICP_BAD(URL,		"URL missing, unterminated or too long")

enum icp_bad {
#define ICP_BAD(sym, what)	ICP_BAD_##sym,
	ICP_BADS
#undef ICP_BAD
	ICP_BAD__COUNT
};

const char	*icp_bad_name(enum icp_bad b);

/* One message, decoded; url points into the datagram. */
struct icp_msg {
	uint8_t		opcode;
	uint8_t		version;
	uint16_t	length;
	uint32_t	reqnum;
	uint32_t	flags;
	uint32_t	pad;
	uint32_t	sender;		/* network order, as sent */
	uint32_t	requester;	/* QUERY only */
	const char	*url;		/* NUL-terminated inside the datagram */
	size_t		url_len;
};

/*
 * icp_decode() - check and decode a datagram of len bytes (full: the
 * length it had on the wire, more than len when the socket cut it).
 * The length field must equal full; a QUERY has a requester address and
 * a NUL-terminated URL, a reply a NUL-terminated URL (may be empty for
 * ICP_ERR); URLs longer than ICP_MAX_URL are refused.
 */
enum icp_bad	icp_decode(const void *data, size_t len, size_t full,
		    struct icp_msg *m);
/*
 * icp_encode() - a message into buf (size bytes): opcode, reqnum, flags,
 * and the URL; a QUERY carries requester 0.0.0.0 as Squid's do.  Returns
 * its length, or 0 when it does not fit or the URL is too long.
 */
size_t		icp_encode(void *buf, size_t size, enum icp_opcode op,
		    uint32_t reqnum, uint32_t flags, const char *url,
		    size_t url_len);

/* -- the server and the queries ------------------------------------------- */

struct icp;

/* What answers consult, borrowed until the next icp_set_deps(). */
struct icp_deps {
	struct store_index	*store;		/* NULL: every query misses */
	const struct acl_rules	*icp_access;	/* NULL: deny all */
	const struct acl_rules	*miss_access;	/* NULL: allow all */
	long			query_timeout;	/* ms; 0: adaptive */
	long			max_query_timeout;	/* ms */
};

/* Counters, for the manager. */
struct icp_stats {
	uint64_t	in;			/* datagrams received */
	uint64_t	bad[ICP_BAD__COUNT];	/* refused by the codec */
	uint64_t	queries_in;
	uint64_t	replies_out[ICP_OP__END];	/* by opcode */
	uint64_t	queries_out;
	uint64_t	replies_in[ICP_OP__END];
	uint64_t	late;			/* a reply for no query under
						 * way */
	uint64_t	unknown_peer;		/* a reply from no peer asked */
	uint64_t	send_errors;
	uint64_t	timeouts;		/* queries that timed out */
};

/*
 * icp_new() - bind ICP on port (every IPv4 address; 127.0.0.1 when
 * loopback is set, for tests).  *err: 0, or a negative errno.  NULL with
 * *err 0 when port is 0: no ICP.
 */
struct icp	*icp_new(struct comm_loop *loop, long port, int *err);
void		icp_set_deps(struct icp *icp, const struct icp_deps *d);
void		icp_free(struct icp **ip);
const struct icp_stats	*icp_stats(const struct icp *icp);
uint16_t	icp_port(const struct icp *icp);

/* The outcome of a query, as peer selection takes it. */
struct icp_answer {
	int		peer;		/* index in the table; -1: none */
	uint8_t		code;		/* enum fwd_hier: SIBLING_HIT,
					 * PARENT_HIT, FIRST_PARENT_MISS;
					 * HIER_NONE: no answer to use */
	bool		timedout;	/* replies were missing */
	unsigned	sent, replies;
};

struct icp_query;
typedef void icp_query_fn(struct icp_query *q, const struct icp_answer *a,
    void *arg);

/*
 * icp_query_start() - ask the peers of p that take queries about url
 * (NUL-terminated): those with an icp-port, not no-query, not denied
 * (bit i of denied), siblings only when hierarchical; a dead peer is
 * asked too, not waited for, and its reply brings it back (Squid's
 * dead_peer_timeout).  NULL when no peer up is asked (or out of
 * memory): nothing is pending for the caller.  Otherwise fn runs
 * once from the loop: at the first ICP_HIT, when every peer expected has
 * answered, or at the timeout.  p is held until then.
 */
struct icp_query	*icp_query_start(struct icp *icp, struct fwd_peers *p,
			    const char *url, uint64_t denied,
			    bool hierarchical, icp_query_fn *fn, void *arg);
/* icp_query_cancel() - end q now, fn not called; NULLs *qp (may be NULL). */
void	icp_query_cancel(struct icp_query **qp);

/* icp_register_pages() - mgr:icp and the ICP lines of /metrics. */
int	icp_register_pages(struct icp *icp, struct mgr_registry *r);

#endif /* CUTTLE_ICP_H */
