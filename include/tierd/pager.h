/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pager.h — libtierpager's public C API.
 *
 * One pager per process (it owns the process's userfaultfd). Two ways in:
 *  - `tierctl run -- CMD` preloads libtierpager.so; its constructor reads
 *    the TIERD_* environment (tier_pager_opts_from_env) and manages all of
 *    the program's anonymous private memory (scan_maps);
 *  - a program links the library and calls tier_pager_init() and
 *    tier_pager_manage() for the regions it chooses.
 *
 * Every function returns 0 or a negative errno; the reason of a failed
 * tier_pager_init() is in tier_pager_strerror().
 */
#ifndef TIERD_PAGER_H
#define TIERD_PAGER_H

#ifdef __BPF__
#error "pager.h is for user space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIER_PAGER_NODE_DEFAULT (-1) /* the CXL node if there is one, else local */
#define TIER_PAGER_NODE_LOCAL (-2) /* no mempolicy: the kernel's default */

struct tier_pager_opts {
	const char *pool_uris; /* "mem:64M", "shm:/dev/shm/p", "tcp://h:p", comma lists */
	uint64_t pool_bytes; /* lease to ask for; 0: 64 GiB (servers grant less) */
	uint64_t local_limit_bytes; /* resident managed memory cap; 0: no cap */
	int node; /* NUMA node for pages faulted in, or TIER_PAGER_NODE_* */
	unsigned int nr_handlers; /* fault-handler threads; 0: 2 */
	unsigned int spin_us; /* busy-poll after a fault for this long; 0: 200 */
	unsigned int verbose; /* 1: start/stop lines and stats at exit on stderr */
	bool scan_maps; /* manage all anonymous private memory (preload) */
	bool no_prefetch; /* turn the stream prefetcher off */
	bool idle_poll; /* polling idle while faults come in (idlepoll.c; needs root) */
};

struct tier_pager_stats {
	uint64_t nr_managed_pages; /* pages in registered regions */
	uint64_t nr_resident_pages; /* managed pages present in local memory */
	uint64_t nr_pool_pages; /* managed pages whose only copy is in the pool */
	uint64_t limit_pages; /* the local limit in pages (0: none) */
	uint64_t nr_faults; /* missing faults handled */
	uint64_t nr_wp_faults; /* write-protect faults handled */
	uint64_t nr_zero_fills; /* first touches */
	uint64_t nr_fetches; /* pages read from the pool on a fault */
	uint64_t nr_prefetches; /* pages read ahead by the stream detector */
	uint64_t nr_evictions; /* pages taken out of local memory */
	uint64_t nr_pool_writes; /* pages written to the pool (dirty evictions) */
	uint64_t nr_clean_drops; /* evictions without a pool write */
	uint64_t nr_evict_cancels; /* evictions cancelled by a write */
	uint64_t nr_regions; /* regions registered */
	uint64_t nr_events; /* remap/unmap events handled */
	uint64_t nr_space_waits; /* faults that had to wait for eviction */
	uint64_t nr_foreign_zaps; /* pages found zapped behind the pager's back (glibc) */
};

/* Defaults for every field. */
void tier_pager_opts_init(struct tier_pager_opts *o);

/*
 * Fill @o from TIERD_POOL, TIERD_POOL_SIZE, TIERD_LOCAL_LIMIT, TIERD_NODE,
 * TIERD_HANDLERS, TIERD_SPIN_US, TIERD_VERBOSE, TIERD_PREFETCH (0 = off),
 * TIERD_IDLE_POLL (1 = on).
 * Returns -ENOENT when TIERD_POOL is unset, -EINVAL with a message in @err
 * for a bad value.
 */
int tier_pager_opts_from_env(struct tier_pager_opts *o, char *err, size_t errlen);

/* Parse "123", "64K", "512M", "2G", "1T" (binary units, optional "B"/"iB"). */
int tier_pager_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);

int tier_pager_init(const struct tier_pager_opts *o);
const char *tier_pager_strerror(void);

/* Manage [addr, addr+len): anonymous private memory, page aligned. */
int tier_pager_manage(void *addr, size_t len);

/*
 * Evict the resident managed pages in [addr, addr+len) now (the seam for
 * the controller's commands). Pages being written are skipped.
 */
int tier_pager_evict(void *addr, size_t len);

/*
 * Bring the pool pages in [addr, addr+len) back into local memory now
 * (the controller's "fetch" command). Others are left as they are.
 */
int tier_pager_fetch(void *addr, size_t len);

/* Bring every pooled page back (used before fork); eviction stays paused
 * until tier_pager_resume(). */
int tier_pager_fetch_all(void);
void tier_pager_resume(void);

void tier_pager_get_stats(struct tier_pager_stats *s);

/* Bring every page back, unregister and stop the threads. */
void tier_pager_shutdown(void);

#endif /* TIERD_PAGER_H */
