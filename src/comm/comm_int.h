/*
 * comm_int.h - comm's private structures; included by src/comm/ only.
 */
#ifndef CUTTLE_COMM_INT_H
#define CUTTLE_COMM_INT_H

#include <ev.h>

#include "base/list.h"
#include "comm/comm.h"

struct comm_signal {
	unsigned		magic;
#define COMM_SIGNAL_MAGIC	0x5a61c0deU
	ev_signal		w;
	struct comm_loop	*loop;
	comm_signal_fn		*fn;
	void			*arg;
	struct list		link;
};

struct comm_loop {
	unsigned		magic;
#define COMM_LOOP_MAGIC		0x1007c0deU
	struct ev_loop		*ev;
	struct list		signals;	/* struct comm_signal */
	unsigned		listeners;	/* open comm_listener count */
};

struct comm_listener {
	unsigned		magic;
#define COMM_LISTENER_MAGIC	0x115e4e40U
	struct comm_loop	*loop;
	int			fd;
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
};

#endif /* CUTTLE_COMM_INT_H */
