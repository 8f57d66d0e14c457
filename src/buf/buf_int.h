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
	/* Per class (the last: blocks above BUF_CLASS_MAX), for the
	 * cache manager's mem page. */
	uint32_t		inuse[BUF_CLASSES + 1];
	uint32_t		cached[BUF_CLASSES];
};

#endif /* CUTTLE_BUF_INT_H */
