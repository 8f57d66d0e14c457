/*
 * fwd_peer.h - cache peers (cache_peer lines) and choosing the next hop
 * among them and the origin server, as Squid 5 does.
 *
 * A struct fwd_peers is compiled from one conf (cache_peer,
 * cache_peer_access, always_direct, never_direct, prefer_direct,
 * nonhierarchical_direct, dead_peer_timeout) and holds the peers' state
 * as well (up or dead, round-robin counts, connections open): it is
 * refcounted, shared by the client side, which selects, and by every fwd
 * that goes to one of its peers.  A reconfigure compiles a new table;
 * requests under way keep the one they selected with.
 *
 * Selection (fwd_peers_select()) is a pure function of the table and the
 * request's view, in Squid's order: direct only (always_direct), the
 * parent methods (sourcehash, userhash, CARP, round-robin, weighted
 * round-robin, first up, default), then every parent up, then the origin
 * unless never_direct.  The rule lists that decide "direct" and which
 * peers a request may use are checked by the caller (they may wait for
 * a lookup) and handed in.
 *
 * CARP, sourcehash and userhash give what Squid's carp.cc and
 * peer_*hash.cc give for the same peers, weights and keys: mixed arrays
 * of Squid and cuttle children pick the same parent for a URL.
 */
#ifndef CUTTLE_FWD_PEER_H
#define CUTTLE_FWD_PEER_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct acl_rules;
struct acl_set;
struct comm_conn;
struct conf;
struct fwd_ctx;
struct fwd_peers;
struct http_msg;

#define FWD_MAX_PEERS	64	/* cache_peer lines */
#define FWD_MAX_HOPS	16	/* candidates one request tries */

/* Squid's hier_code names, as access.log prints them (%Sh). */
#define FWD_HIER_CODES							\
	FWD_HIER(NONE,			"HIER_NONE")			\
	FWD_HIER(DIRECT,		"HIER_DIRECT")			\
	FWD_HIER(SIBLING_HIT,		"SIBLING_HIT")			\
	FWD_HIER(PARENT_HIT,		"PARENT_HIT")			\
	FWD_HIER(DEFAULT_PARENT,	"DEFAULT_PARENT")		\
	FWD_HIER(SINGLE_PARENT,		"SINGLE_PARENT")		\
	FWD_HIER(FIRSTUP_PARENT,	"FIRSTUP_PARENT")		\
	FWD_HIER(FIRST_PARENT_MISS,	"FIRST_PARENT_MISS")		\
	FWD_HIER(CLOSEST_PARENT_MISS,	"CLOSEST_PARENT_MISS")		\
	FWD_HIER(CLOSEST_PARENT,	"CLOSEST_PARENT")		\
	FWD_HIER(CLOSEST_DIRECT,	"CLOSEST_DIRECT")		\
	FWD_HIER(NO_DIRECT_FAIL,	"NO_DIRECT_FAIL")		\
	FWD_HIER(ROUNDROBIN_PARENT,	"ROUNDROBIN_PARENT")		\
	FWD_HIER(CARP,			"CARP")				\
	FWD_HIER(ANY_OLD_PARENT,	"ANY_OLD_PARENT")		\
	FWD_HIER(USERHASH_PARENT,	"USERHASH_PARENT")		\
	FWD_HIER(SOURCEHASH_PARENT,	"SOURCEHASH_PARENT")

enum fwd_hier {
#define FWD_HIER(sym, name)	FWD_HIER_##sym,
	FWD_HIER_CODES
#undef FWD_HIER
	FWD_HIER__COUNT
};

/* Or'ed into a code kept for the log: ICP replies were missing when the
 * query timed out (Squid prints TIMEOUT_ before the code). */
#define FWD_HIER_TIMEOUT	0x80u

/* fwd_hier_name() - "HIER_DIRECT", "CARP", "TIMEOUT_CARP"... of a code,
 * FWD_HIER_TIMEOUT or'ed in or not. */
const char	*fwd_hier_name(unsigned h);

/* One candidate next hop, and why it was chosen. */
struct fwd_hop {
	int16_t		peer;		/* index in the table; -1: the origin */
	uint8_t		code;		/* enum fwd_hier */
};

/*
 * fwd_peers_new() - the table for conf, its rules compiled against acls
 * (which the rules hold: the table may outlive the caller's set).
 * Problems are logged with file:line; errors are added to *errors
 * (a bad line is left out), options cuttle does not act on are warned
 * about once each.  NULL when there are no cache_peer lines and no
 * always/never_direct rules (nothing to select), or out of memory
 * (counted as an error).
 */
struct fwd_peers	*fwd_peers_new(const struct conf *conf,
			    const struct acl_set *acls, int *errors);
void			fwd_peers_ref(struct fwd_peers *p);
/* fwd_peers_unref() - NULLs *pp, which may be NULL. */
void			fwd_peers_unref(struct fwd_peers **pp);

unsigned		fwd_peers_count(const struct fwd_peers *p);
/* The name= of peer i (its host by default). */
const char		*fwd_peer_name(const struct fwd_peers *p, unsigned i);
/* Rules; NULL when none were given. */
const struct acl_rules	*fwd_peers_always_direct(const struct fwd_peers *p);
const struct acl_rules	*fwd_peers_never_direct(const struct fwd_peers *p);
const struct acl_rules	*fwd_peer_access(const struct fwd_peers *p,
			    unsigned i);

/* What ICP and the manager read of peer i. */
struct fwd_peer_view {
	const char	*name;
	const char	*host;
	uint16_t	http_port;
	uint16_t	icp_port;
	bool		sibling;
	bool		no_query;
	bool		allow_miss;
	int		weight;
	/* For the manager. */
	uint64_t	fetches;	/* hops started to it */
	unsigned	conn_open;
	double		last_failure;	/* a connection's; 0: none */
	int		tcp_up;		/* failures before dead */
};
void	fwd_peer_view(const struct fwd_peers *p, unsigned i,
	    struct fwd_peer_view *v);
/* fwd_peer_flags() - peer i's options as its cache_peer line gives them
 * (Squid's server_list "Flags"), into buf; the length. */
size_t	fwd_peer_flags(const struct fwd_peers *p, unsigned i, char *buf,
	    size_t len);
/* fwd_peer_is_up() - connections to it work (or dead_peer_timeout has
 * passed since they failed), and it has not left ICP queries unanswered
 * for longer than dead_peer_timeout. */
bool	fwd_peer_is_up(const struct fwd_peers *p, unsigned i, double now);
/* fwd_peers_dead_peer_timeout() - dead_peer_timeout, in seconds. */
double	fwd_peers_dead_peer_timeout(const struct fwd_peers *p);

/* ICP's record of a peer, kept with it (Squid's icp.counts, stats.rtt). */
#define FWD_PEER_ICP_OPS	24	/* ICP opcodes are below this */
struct fwd_peer_icp {
	uint64_t	sent;		/* queries */
	uint64_t	acked;		/* replies */
	uint64_t	replies[FWD_PEER_ICP_OPS];	/* by opcode */
	int		rtt;		/* ms, running average */
	double		last_query;
	double		last_reply;
	/* Squid's stats.probe_start: the first query left unanswered
	 * since the last reply (0: none).  Silent for longer than
	 * dead_peer_timeout, the peer is dead until it answers again. */
	double		probe_start;
	bool		dead;		/* "Detected DEAD" logged */
};
struct fwd_peer_icp	*fwd_peer_icp(struct fwd_peers *p, unsigned i);

enum fwd_direct {
	FWD_DIRECT_MAYBE,	/* neither rule list said */
	FWD_DIRECT_YES,		/* always_direct allowed */
	FWD_DIRECT_NO		/* never_direct allowed */
};

/* The request, as selection sees it; borrowed for the call. */
struct fwd_select_req {
	const char		*scheme;	/* "http", "https" */
	const char		*host;		/* lower case, no brackets */
	size_t			host_len;
	uint16_t		port;
	const char		*path;		/* "/p?q" */
	size_t			path_len;
	const char		*uri;		/* Squid's effective URI:
						 * scheme://host[:port]/p?q */
	size_t			uri_len;
	const struct sockaddr	*client;	/* sourcehash */
	const char		*user;		/* userhash; NULL: none */
	bool			hierarchical;	/* Squid's flags.hierarchical */
	enum fwd_direct		direct;
	uint64_t		denied;		/* bit i: cache_peer_access
						 * denies peer i */
	double			now;
	/* What ICP said: icp_code FWD_HIER_SIBLING_HIT, PARENT_HIT or
	 * FIRST_PARENT_MISS for peer icp_peer, first of all; NONE: no
	 * answer to use. */
	uint8_t			icp_code;
	int16_t			icp_peer;
};

/*
 * fwd_peers_select() - the candidates for r, best first, into hops (at
 * most max); returns how many.  0 means the request has nowhere to go
 * (never_direct and no parent up): 503 ERR_CANNOT_FORWARD.  Round-robin
 * counts move as Squid's do, when a round-robin parent is chosen.
 */
unsigned	fwd_peers_select(struct fwd_peers *p,
		    const struct fwd_select_req *r, struct fwd_hop *hops,
		    unsigned max);

/* -- CONNECT through the hops (fwd_peer_tunnel.c) ------------------------ */

struct fwd_tunnel;

/* How a CONNECT's hops went; borrowed for the call. */
struct fwd_tunnel_answer {
	struct comm_conn	*conn;	/* the caller's from now on; NULL:
					 * every hop failed */
	const struct sockaddr	*addr;	/* the origin's, the peer's */
	int			peer;	/* peer index; -1: origin */
	uint8_t			code;	/* enum fwd_hier of the hop */
	enum store_err		err;	/* the last hop's failure */
	int			sys_errno;
	const char		*early;	/* bytes after the peer's 200:
					 * the server's, for the
					 * client */
	size_t			early_len;
};
typedef void fwd_tunnel_fn(const struct fwd_tunnel_answer *a, void *arg);

/*
 * fwd_tunnel_start() - a connection for req (a CONNECT to host:port;
 * ip6: host is an IPv6 address) through hops[0..nhops) of p, tried in
 * order: the origin directly, a peer by a CONNECT of its own carrying
 * its login= (only a 200 will do; anything else fails that hop, as a
 * refused connection does).  fn runs once, never from inside this
 * call.  NULL when out of memory (fn will not run).  nhops > 0.
 */
struct fwd_tunnel	*fwd_tunnel_start(struct fwd_ctx *ctx,
			    struct fwd_peers *p, const struct fwd_hop *hops,
			    unsigned nhops, const struct http_msg *req,
			    const char *host, size_t host_len, uint16_t port,
			    bool ip6, fwd_tunnel_fn *fn, void *arg);
/* fwd_tunnel_cancel() - give up; fn still runs once, with no
 * connection. */
void			fwd_tunnel_cancel(struct fwd_tunnel *ft);

/* -- the hashes, for tests ------------------------------------------------ */

/* fwd_carp_peer_hash() - a peer name's hash (Squid's carp.hash). */
uint32_t	fwd_carp_peer_hash(const char *name);
/* fwd_carp_key_hash() - h with key's bytes hashed in (Squid goes on
 * from the previous peer's value: start from 0 for the first). */
uint32_t	fwd_carp_key_hash(uint32_t h, const char *key, size_t len);
/* fwd_carp_combine() - a key hash and a peer hash into the score's
 * integer part. */
uint32_t	fwd_carp_combine(uint32_t key_hash, uint32_t peer_hash);
/* fwd_peers_carp() - the CARP parent for r among those up and allowed,
 * or -1; the load multiplier of each CARP peer into mult (NULL: not
 * wanted; at most FWD_MAX_PEERS, in table order, 0 for others). */
int		fwd_peers_carp(const struct fwd_peers *p,
		    const struct fwd_select_req *r, double *mult);

#endif /* CUTTLE_FWD_PEER_H */
