// SPDX-License-Identifier: GPL-2.0
/* pool_shm.c — placeholder until the shm transport lands. */
#include <errno.h>

#include "pool_internal.h"

static int shm_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots)
{
	tier_pool_set_error("the shm transport is not built yet");
	return -EOPNOTSUPP;
}

static int shm_io(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return -EOPNOTSUPP;
}

static void shm_close(struct tier_pool_conn *c)
{
}

const struct tier_pool_ops tier_pool_shm_ops = {
	.scheme = "shm",
	.open = shm_open,
	.read = shm_io,
	.write = shm_io,
	.close = shm_close,
};
