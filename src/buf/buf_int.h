/*
 * buf_int.h - the pool's private structure; included by src/buf/ only.
 */
#ifndef CUTTLE_BUF_INT_H
#define CUTTLE_BUF_INT_H

#include "buf/buf.h"

struct buf_pool {
	unsigned		magic;
#define BUF_POOL_MAGIC		0xb0f09001U
	size_t			cache_max;
	struct buf		*free[BUF_CLASSES];	/* per class, LIFO */
	struct buf_pool_stats	st;
};

#endif /* CUTTLE_BUF_INT_H */
