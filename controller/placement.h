/* SPDX-License-Identifier: GPL-2.0 */
/*
 * placement.h — where a process's pages are, and moving them between NUMA
 * nodes: move_pages(2) on another process (the raw syscall; tierd needs
 * no libnuma). Thin on purpose: the decisions are planner.c's, the batching
 * of a plan into calls is tiering.c's.
 */
#ifndef TIERD_PLACEMENT_H
#define TIERD_PLACEMENT_H

#ifdef __BPF__
#error "placement.h is user-space only"
#endif

#include <stddef.h>
#include <stdint.h>

/* Pages per move_pages(2) call: big enough to amortise the syscall, small
 * enough that one call never holds the target's mmap lock for long. */
#define PLACEMENT_BATCH 1024

/*
 * Query: STATUS[i] = the node of PID's page at ADDRS[i], or a negative
 * errno (-ENOENT: not present, -EFAULT: not mapped...). N may be any size
 * (done in PLACEMENT_BATCH chunks). Returns 0 or -errno of the call
 * (-ESRCH: the process is gone; -EPERM).
 */
int placement_query(uint32_t pid, const uint64_t *addrs, size_t n, int *status);

/*
 * Move PID's pages at ADDRS[i] to NODES[i] (MPOL_MF_MOVE: pages only this
 * process maps). STATUS[i] gets the node the page is on afterwards or a
 * negative errno. Returns the number of pages now on their target node,
 * or -errno if the calls failed as a whole.
 */
long placement_move(uint32_t pid, const uint64_t *addrs, const int *nodes, size_t n, int *status);

#endif /* TIERD_PLACEMENT_H */
