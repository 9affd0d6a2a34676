// SPDX-License-Identifier: GPL-2.0
/*
 * placement.c — move_pages(2) for tierd: query where pages are (nodes =
 * NULL) and move them (MPOL_MF_MOVE). The raw syscall keeps libnuma out of
 * the daemon; the kernel's own return convention (-1/errno, and per-page
 * negative errnos in status[]) is converted here, once.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/mempolicy.h>
#include "placement.h"

static long sys_move_pages(uint32_t pid, unsigned long n, const uint64_t *addrs, const int *nodes,
			   int *status, int flags)
{
	_Static_assert(sizeof(uint64_t) == sizeof(void *), "pointers are 64-bit");
	return syscall(SYS_move_pages, (int)pid, n, (void **)addrs, nodes, status, flags);
}

int placement_query(uint32_t pid, const uint64_t *addrs, size_t n, int *status)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < PLACEMENT_BATCH ? n - i : PLACEMENT_BATCH;
		if (sys_move_pages(pid, k, addrs + i, NULL, status + i, 0) < 0)
			return -errno;
	}
	return 0;
}

long placement_move(uint32_t pid, const uint64_t *addrs, const int *nodes, size_t n, int *status)
{
	long moved = 0;
	size_t i, j, k;
	int err = 0;

	for (i = 0; i < n; i += k) {
		k = n - i < PLACEMENT_BATCH ? n - i : PLACEMENT_BATCH;
		/* A positive return is the number of pages that could not be
		 * moved; status[] still says where each one is. */
		if (sys_move_pages(pid, k, addrs + i, nodes + i, status + i, MPOL_MF_MOVE) < 0) {
			err = -errno;
			if (err == -ESRCH || err == -EPERM || err == -EINVAL)
				return moved ? moved : err;
			for (j = i; j < i + k; j++)
				status[j] = err;
			continue;
		}
		for (j = i; j < i + k; j++)
			moved += status[j] == nodes[j];
	}
	return moved;
}
