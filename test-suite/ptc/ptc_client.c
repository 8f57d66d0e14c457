/*
 * ptc_client.c - raw clients: `client c1 -connect ${p1_sock} {...} -run`.
 *
 * Lifecycle of a client:
 *	client_get()		first mention; the block and options are kept
 *	client_start()		-start: a thread connects (bounded by the
 *				timeout), runs the block, closes; -repeat N
 *				times, one connection after the other;
 *				-concurrent N such threads at once
 *	client_wait()		-wait: joins it; -run is -start then -wait
 *	ptc_client_wait_all()	the end of the test waits for the rest
 *
 * A client's failure ends the test from its own thread (ptc_fail()), so a
 * client thread always runs to its end: there is nothing to stop.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptc.h"

struct ptc_client {
	unsigned		magic;
#define PTC_CLIENT_MAGIC	0x70746304
	struct ptc_client	*next;
	char			*name;
	char			*script;
	size_t			scriptlen;
	unsigned		scriptline;
	char			connect[80];
	struct sockaddr_storage	addr;
	unsigned		addrlen;
	unsigned long		repeat;
	unsigned long		concurrent;	/* threads at once */
	bool			running;
	pthread_t		*threads;
};

static struct ptc_client *clients;	/* main thread only */

/* A connected (non-blocking) socket, or the test fails. */
static int
client_connect(struct ptc_ctx *ctx, const struct ptc_client *c)
{
	struct pollfd pfd;
	socklen_t len;
	int fd, err = 0;

	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1)
		ptc_error(ctx, "socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) ==
	    -1) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, (int)(PTC_IO_TIMEOUT * 1000)) != 1)
				err = ETIMEDOUT;
			else {
				len = sizeof err;
				(void)getsockopt(fd, SOL_SOCKET, SO_ERROR,
				    &err, &len);
			}
		}
	}
	if (err != 0) {
		close(fd);
		ptc_fail(ctx, "cannot connect to %s: %s", c->connect,
		    strerror(err));
	}
	return (fd);
}

static void *
client_thread(void *arg)
{
	struct ptc_client *c = arg;
	struct ptc_tok block = { .s = c->script, .len = c->scriptlen,
	    .line = c->scriptline, .block = true };
	struct ptc_ctx ctx = { .magic = PTC_CTX_MAGIC, .name = c->name,
	    .kind = PTC_CLIENT, .line = c->scriptline };
	struct ptc_sess *s;
	unsigned long i;
	int fd;

	PTC_CHECK_OBJ(c, PTC_CLIENT_MAGIC);
	for (i = 0; i < c->repeat; i++) {
		fd = client_connect(&ctx, c);
		s = ptc_sess_new(c->name, PTC_CLIENT, fd, -1, c->connect);
		ptc_log(&s->ctx, "connected to %s", c->connect);
		ptc_sess_run(s, &block);
		ptc_log(&s->ctx, "done");
		ptc_sess_free(&s);
	}
	return (NULL);
}

static struct ptc_client *
client_get(struct ptc_ctx *ctx, const char *name)
{
	struct ptc_client *c;

	for (c = clients; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return (c);
	if (name[0] != 'c')
		ptc_error(ctx, "client names start with c (c1, c2...)");
	c = calloc(1, sizeof *c);
	if (c == NULL || (c->name = strdup(name)) == NULL)
		ptc_error(ctx, "out of memory");
	c->magic = PTC_CLIENT_MAGIC;
	c->repeat = 1;
	c->concurrent = 1;
	c->next = clients;
	clients = c;
	return (c);
}

static void
client_wait(struct ptc_ctx *ctx, struct ptc_client *c)
{
	unsigned long i;

	if (!c->running)
		ptc_error(ctx, "%s is not running", c->name);
	for (i = 0; i < c->concurrent; i++)
		pthread_join(c->threads[i], NULL);
	free(c->threads);
	c->threads = NULL;
	c->running = false;
}

static void
client_start(struct ptc_ctx *ctx, struct ptc_client *c)
{
	unsigned long i;

	if (c->running)
		ptc_error(ctx, "%s is running already", c->name);
	if (c->script == NULL)
		ptc_error(ctx, "%s has no script", c->name);
	if (c->connect[0] == '\0')
		ptc_error(ctx, "%s: no -connect address", c->name);
	c->threads = calloc(c->concurrent, sizeof *c->threads);
	if (c->threads == NULL)
		ptc_error(ctx, "out of memory");
	for (i = 0; i < c->concurrent; i++)
		if (pthread_create(&c->threads[i], NULL, client_thread, c) !=
		    0)
			ptc_error(ctx, "cannot start a thread");
	c->running = true;
}

/* client NAME [-connect ADDR] [-repeat N] [-concurrent N] [{block}]
 *             [-start] [-wait] [-run] */
void
ptc_cmd_client(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_client *c;
	int i;

	if (argc < 2 || argv[1].block)
		ptc_error(ctx, "usage: client NAME ...");
	c = client_get(ctx, argv[1].s);
	for (i = 2; i < argc; i++) {
		if (argv[i].block) {
			if (c->running)
				ptc_error(ctx, "%s is running", c->name);
			free(c->script);
			c->script = strndup(argv[i].s, argv[i].len);
			if (c->script == NULL)
				ptc_error(ctx, "out of memory");
			c->scriptlen = argv[i].len;
			c->scriptline = argv[i].line;
		} else if (ptc_tok_is(&argv[i], "-connect")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			if (c->running)
				ptc_error(ctx, "%s is running", c->name);
			i++;
			if (ptc_parse_sock(argv[i].s, &c->addr, &c->addrlen) !=
			    0 || strlen(argv[i].s) >= sizeof c->connect)
				ptc_error(ctx, "-connect %s: a loopback "
				    "address:port", argv[i].s);
			snprintf(c->connect, sizeof c->connect, "%s",
			    argv[i].s);
		} else if (ptc_tok_is(&argv[i], "-repeat")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			c->repeat = ptc_arg_ulong(ctx, &argv[++i]);
		} else if (ptc_tok_is(&argv[i], "-concurrent")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			if (c->running)
				ptc_error(ctx, "%s is running", c->name);
			c->concurrent = ptc_arg_ulong(ctx, &argv[++i]);
			if (c->concurrent == 0 || c->concurrent > 1000)
				ptc_error(ctx, "-concurrent: 1 to 1000");
		} else if (ptc_tok_is(&argv[i], "-start"))
			client_start(ctx, c);
		else if (ptc_tok_is(&argv[i], "-wait"))
			client_wait(ctx, c);
		else if (ptc_tok_is(&argv[i], "-run")) {
			client_start(ctx, c);
			client_wait(ctx, c);
		} else
			ptc_error(ctx, "client: unknown option %s", argv[i].s);
	}
}

void
ptc_client_wait_all(struct ptc_ctx *ctx)
{
	struct ptc_client *c;

	for (c = clients; c != NULL; c = c->next)
		if (c->running)
			client_wait(ctx, c);
}

void
ptc_client_free_all(void)
{
	struct ptc_client *c;

	while ((c = clients) != NULL) {
		clients = c->next;
		free(c->script);
		free(c->name);
		free(c);
	}
}
