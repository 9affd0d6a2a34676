// SPDX-License-Identifier: GPL-2.0
/*
 * preload.c — libtierpager.so as an LD_PRELOAD library (`tierctl run`).
 *
 * The constructor reads the TIERD_* environment and starts the pager over
 * all of the program's anonymous memory; if anything is missing (no
 * TIERD_POOL, a kernel without userfaultfd write-protect, an unreachable
 * pool) it says why on stderr and the program runs unmanaged.
 *
 * madvise() is interposed for MADV_DONTNEED/MADV_REMOVE: after them the
 * pages must read as zeros (jemalloc relies on it), so the pager forgets
 * the pool copies first. (UFFD_FEATURE_EVENT_REMOVE would report them
 * too, but it also reports the pager's own zaps and makes the evictor
 * wait for a handler thread on each.) glibc's own internal madvise calls
 * are not seen; they only trim free memory whose content glibc never
 * reads back, and a resident page zapped behind the pager's back is
 * recognised by its next fault.
 *
 * mmap() (and mmap64, its other name) is interposed so that anonymous
 * memory the program maps itself is registered before mmap returns
 * (tp_mapped); what glibc maps internally is found by the maps scan.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pager_sys.h"

int madvise(void *addr, size_t len, int advice)
{
	long rc;

	if (advice == MADV_DONTNEED || advice == MADV_REMOVE)
		tp_discard_range((uintptr_t)addr, (uintptr_t)addr + len);
	rc = syscall(SYS_madvise, addr, len, advice);
	return (int)rc;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED)
		tp_mapped(p, len, prot, flags);
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

__attribute__((constructor)) static void tp_preload_init(void)
{
	struct tier_pager_opts o;
	char err[256];
	int rc;

	rc = tier_pager_opts_from_env(&o, err, sizeof(err));
	if (rc == -ENOENT)
		return; /* loaded without `tierctl run`: stay out of the way */
	if (rc) {
		tp_log("%s; running unmanaged", err);
		return;
	}
	rc = tier_pager_init(&o);
	if (rc) {
		tp_log("%s; running unmanaged", tier_pager_strerror());
		return;
	}
}

__attribute__((destructor)) static void tp_preload_fini(void)
{
	struct tier_pager_stats s;

	if (!tp_is_active() || !tp_opts()->verbose)
		return;
	tier_pager_get_stats(&s);
	tp_log(
	    "stats: managed %llu pages, resident %llu (limit %llu), pool %llu; faults %llu "
	    "(zero %llu, fetched %llu, prefetched %llu), wp faults %llu; evicted %llu "
	    "(pool writes %llu, clean drops %llu, cancelled %llu); events %llu, space waits %llu, "
	    "zapped behind our back %llu",
	    (unsigned long long)s.nr_managed_pages, (unsigned long long)s.nr_resident_pages,
	    (unsigned long long)s.limit_pages, (unsigned long long)s.nr_pool_pages,
	    (unsigned long long)s.nr_faults, (unsigned long long)s.nr_zero_fills,
	    (unsigned long long)s.nr_fetches, (unsigned long long)s.nr_prefetches,
	    (unsigned long long)s.nr_wp_faults, (unsigned long long)s.nr_evictions,
	    (unsigned long long)s.nr_pool_writes, (unsigned long long)s.nr_clean_drops,
	    (unsigned long long)s.nr_evict_cancels, (unsigned long long)s.nr_events,
	    (unsigned long long)s.nr_space_waits, (unsigned long long)s.nr_foreign_zaps);
}
