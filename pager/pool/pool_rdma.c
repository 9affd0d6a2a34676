// SPDX-License-Identifier: GPL-2.0
/* pool_rdma.c — placeholder until the rdma transport lands. */
#include <errno.h>

#include "pool_internal.h"

static int rdma_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots)
{
	tier_pool_set_error("the rdma transport is not built yet");
	return -EOPNOTSUPP;
}

static int rdma_io(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return -EOPNOTSUPP;
}

static void rdma_close(struct tier_pool_conn *c)
{
}

const struct tier_pool_ops tier_pool_rdma_ops = {
	.scheme = "rdma",
	.open = rdma_open,
	.read = rdma_io,
	.write = rdma_io,
	.close = rdma_close,
};
