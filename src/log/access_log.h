/*
 * access_log.h - access.log: one line per transaction, Squid's formats.
 *
 * Contract (doc/internals/log.md):
 * - Lines go to every file an `access_log` line names, in that line's
 *   format: Squid's native one ("squid", the default), the other formats
 *   Squid predefines (common, combined, referrer, useragent) or a
 *   `logformat` of Squid's %-codes.  Fields are escaped as Squid escapes
 *   them and an empty one is "-", so SARG, Calamaris and lightsquid read
 *   the files unchanged.
 * - Writing never blocks the loop for long and never fails the caller:
 *   lines are buffered per file (64 KiB unless buffer-size= says
 *   otherwise) and written when the buffer is full and at most a second
 *   after they were logged (a one-shot loop timer, armed only while
 *   something waits).  A write that fails is counted and reported once;
 *   what cannot be buffered meanwhile is dropped and counted, and the log
 *   says so again when writing works again.
 * - access_log_reopen() is what rotation calls (SIGUSR1, -k rotate): the
 *   files are flushed and opened again by name, so a file logrotate
 *   renamed is left complete and a new one starts.
 *
 * Lifecycle:
 *	access_log_open()	formats compiled, files opened (errors counted)
 *	access_log_write()	a line buffered in every file
 *	access_log_flush()	buffers written now (also done by the timer)
 *	access_log_reopen()	flushed, files opened again by name
 *	access_log_close()	flushed, closed, freed
 */
#ifndef CUTTLE_LOG_ACCESS_LOG_H
#define CUTTLE_LOG_ACCESS_LOG_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

struct comm_loop;
struct conf_lines;
struct http_msg;

/*
 * One finished transaction, as the client side saw it.  A plain record:
 * the log copies what it needs during access_log_write() and keeps no
 * pointer.  Every pointer may be NULL and every number 0; what is missing
 * is logged as "-" (or as Squid logs it: status 000, NONE_NONE, HIER_NONE).
 */
struct access_entry {
	double			start;		/* request began (%tS, %tr) */
	double			end;		/* it finished: %ts %tu %tl
						 * %tg; 0: the loop's now */
	const struct sockaddr	*client;	/* %>a %>p */
	/* Where it came in (%la %lp): asked for only when a format prints
	 * it; NULL, or local(local_arg) NULL: "-". */
	const struct sockaddr	*(*local)(void *local_arg);
	void			*local_arg;
	const struct sockaddr	*server;	/* origin or peer: %<a %<p;
						 * NULL: not forwarded, and
						 * %<bs %<tt %<pt %dt are "-" */
	const struct sockaddr	*server_local;	/* %<la %<lp */
	const char		*server_name;	/* its host name: %<A */
	const char		*code;		/* %Ss "TCP_MISS" */
	const char		*hier;		/* %Sh "HIER_DIRECT" */
	unsigned		status;		/* %>Hs sent to the client */
	unsigned		server_status;	/* %<Hs received */
	const char		*method;	/* %rm; NULL: the request's */
	const char		*url;		/* %ru as the client asked, or
						 * "host:443" for CONNECT */
	const char		*user;		/* %un %ul */
	const char		*ext_user;	/* %ue: an external acl's
						 * user= */
	const char		*ext_tag;	/* %et: its tag= */
	const char		*ext_log;	/* %ea: its log= */
	const char		*store_id;	/* the store_id_program's
						 * store-id= */
	/* %note (all, "name: value\r\n" each) and %{name}note: Squid's
	 * annotations that cuttle has: tag, user (an external acl's) and
	 * store-id. */
	const char		*mime_type;	/* %mt; NULL: the reply's
						 * Content-Type (its type only,
						 * as Squid logs it) */
	const char		*err_code;	/* %err_code "ERR_DNS_FAIL" */
	const char		*err_detail;	/* %err_detail */
	uint64_t		bytes_out;	/* %<st: sent to the client,
						 * headers included */
	uint64_t		hdr_bytes_out;	/* %<sh */
	uint64_t		bytes_in;	/* %>st: received from it */
	uint64_t		hdr_bytes_in;	/* %>sh */
	uint64_t		server_body_bytes; /* %<bs */
	double			server_time;	/* %<tt: seconds with servers */
	double			peer_time;	/* %<pt: the last one's reply */
	double			dns_time;	/* %dt */
	const struct http_msg	*request;	/* %>h %{Name}>h %rv; method */
	const struct http_msg	*reply;		/* %<h %{Name}<h; mime type */
};

struct access_log;

/*
 * access_log_open() - compile every `logformat` line, then open the file
 * of every `access_log` line (O_APPEND, created 0640).  Problems are
 * logged with file:line and counted in *errors: an unknown format code or
 * logformat name, a module cuttle lacks (syslog:, udp:, tcp:), a file
 * that cannot be opened; such a line logs nothing.  ACL names after the
 * format are not evaluated yet: a warning says so and the line logs every
 * transaction (an `access_log none` line with ACLs then stops nothing).
 * "stdio:" and "daemon:" before a path are accepted (cuttle writes the
 * file itself).  With no lines at all nothing is logged.
 * Returns the log (also when *errors grew: the caller decides whether a
 * configuration with errors runs), or NULL on ENOMEM.
 */
struct access_log	*access_log_open(struct comm_loop *loop,
			    const struct conf_lines *access_log,
			    const struct conf_lines *logformat, int *errors);

/* access_log_active() - false when no file would get a line: the caller
 * may skip filling an entry. */
bool	access_log_active(const struct access_log *l);

/* access_log_write() - format e for every file and buffer it; arms the
 * flush timer.  Never blocks for long, never fails (see the contract). */
void	access_log_write(struct access_log *l, const struct access_entry *e);

/* access_log_flush() - write every buffer now (shutdown, tests).  What
 * the file does not take now (a full disk, a pipe without room) stays
 * buffered for the timer. */
void	access_log_flush(struct access_log *l);

/* access_log_reopen() - flush, then open every file again by its name
 * and switch to it.  A file that cannot be opened is reported and keeps
 * its old descriptor.  Returns 0 or the first failure's -errno. */
int	access_log_reopen(struct access_log *l);

/* access_log_chown() - give every open file to uid:gid (fchown), before
 * cuttle drops from root to cache_effective_user, so that rotation can
 * still reopen a file by its name afterwards (Squid does the same).
 * Returns 0 or the first failure's -errno (each one logged). */
int	access_log_chown(struct access_log *l, uid_t uid, gid_t gid);

/* access_log_close() - flush, close the files, free; NULLs *lp, which
 * may be NULL. */
void	access_log_close(struct access_log **lp);

struct access_log_stats {
	unsigned	files;		/* files open */
	uint64_t	lines;		/* lines buffered (one per file) */
	uint64_t	bytes;		/* bytes written */
	uint64_t	write_errors;	/* failed write() calls */
	uint64_t	dropped;	/* lines lost: no room, no memory */
	size_t		pending;	/* bytes buffered, not yet written */
};
void	access_log_stats(const struct access_log *l,
	    struct access_log_stats *st);

#endif /* CUTTLE_LOG_ACCESS_LOG_H */
