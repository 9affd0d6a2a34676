// SPDX-License-Identifier: GPL-2.0
/* pool_tcp.c — placeholder until the tcp transport lands. */
#include <errno.h>

#include "pool_internal.h"

static int tcp_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots)
{
	tier_pool_set_error("the tcp transport is not built yet");
	return -EOPNOTSUPP;
}

static int tcp_io(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return -EOPNOTSUPP;
}

static void tcp_close(struct tier_pool_conn *c)
{
}

const struct tier_pool_ops tier_pool_tcp_ops = {
	.scheme = "tcp",
	.open = tcp_open,
	.read = tcp_io,
	.write = tcp_io,
	.close = tcp_close,
};

int tier_pool_tcp_debug_drop(struct tier_pool_conn *conn)
{
	return 0;
}

int tier_pool_server_stat(const char *uri, struct tier_proto_stat_reply *out)
{
	return -EOPNOTSUPP;
}
