// SPDX-License-Identifier: GPL-2.0
/* memsrv_rdma.c — placeholder until the RDMA listener lands. */
#include <errno.h>

#include "memsrv.h"
#include "../pool/pool_internal.h"

int memsrv_rdma_listen(const char *host, const char *port, int *fd)
{
	tier_pool_set_error("RDMA is not built yet");
	return -EOPNOTSUPP;
}

void memsrv_rdma_handle(void)
{
}

void memsrv_rdma_shutdown(void)
{
}
