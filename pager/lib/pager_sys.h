/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pager_sys.h — what pager.c shares with the /proc/self/maps scanner and
 * the preload glue (the parts that make system calls).
 */
#ifndef TIERD_PAGER_SYS_H
#define TIERD_PAGER_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tierd/pager.h"

struct tp_range {
	uintptr_t start, end;
};

/* The maps scanner: manages anonymous private memory that appears. */
struct tp_scan {
	struct tp_range *excl; /* anonymous memory that existed at start */
	unsigned int nr_excl, max_excl;
	char *buf;
	size_t buf_size;
	uint64_t last_rss_pages;
	uint64_t last_size_pages; /* VmSize: mmap grows it before any page is touched */
	uint64_t last_full_ns;
	int statm_fd;
};

int tp_scan_init(struct tp_scan *s);
void tp_scan_tick(struct tp_scan *s);
/* Scan now (also from tier_pager_manage_all). */
void tp_scan_now(struct tp_scan *s);
/* Own the malloc heaps holding @addrs (pager threads' arenas); returns how
 * many are in the main heap (not ownable: its break moves for everybody). */
unsigned int tp_scan_own_heaps(struct tp_scan *s, const uintptr_t *addrs, unsigned int n);
void tp_own_add(uintptr_t start, uintptr_t end);

void tp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *tp_own_map(size_t len, bool lock);
bool tp_own_first(uintptr_t start, uintptr_t end, struct tp_range *out);
int tp_manage_range(uintptr_t start, uintptr_t end);
/* The program is about to zap [start, end) (madvise DONTNEED/REMOVE). */
void tp_discard_range(uintptr_t start, uintptr_t end);
void tp_forked_child(void);
/* The program mapped memory itself (preload.c interposes mmap). */
void tp_mapped(void *p, size_t len, int prot, int flags);

/* The channel to tierd (channel.c, hint.c; include/tierd/pager_ctl.h). */
void tp_channel_start(void);
void tp_channel_fetch_ns(uint64_t ns); /* one fetch's pool read: no lock, no allocation */
unsigned int tp_pool_runs(uintptr_t *cursor, struct tp_range *out, unsigned int max);
uintptr_t tp_pick_resident(uint64_t rnd);
/* hint.c: called by the channel thread about every 100 ms */
void tp_hint_set_rate(unsigned int pages_per_s);
void tp_hint_tick(uint64_t now_ns);
uint64_t tp_hint_count(void);
bool tp_is_active(void);
const struct tier_pager_opts *tp_opts(void);

/* idlepoll.c: polling idle (PM QoS CPU latency 0) while faults come in */
int tp_idle_poll_open(void);
void tp_idle_poll_fault(void);
void tp_idle_poll_tick(uint64_t now_ns, uint64_t last_fault_ns);
bool tp_idle_poll_active(void);
void tp_idle_poll_close(void);
void tp_idle_poll_forget(void); /* in a fork()ed child */

#endif /* TIERD_PAGER_SYS_H */
