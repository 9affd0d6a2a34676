/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heat.h — per-page access heat of one managed cgroup.
 *
 * Every tracked 4 KiB page has one 32-bit record (4 bytes of metadata per
 * page, no per-page pointers), stored in arrays, one per managed region:
 *
 *   bits  0..23  heat: a decayed access count in fixed point, 1 access =
 *                HEAT_ONE (64), saturating at HEAT_MAX (~262k accesses)
 *   bits 24..25  tier: where the page is now (enum heat_tier)
 *   bit  26      HEAT_F_PINNED: never move (mlocked, tierd's or the pager's own)
 *   bits 27..31  free
 *
 * Decay is applied in bulk, once per plan round (heat_decay()), not lazily
 * per record. Why: every round reads every record anyway (the planner's
 * histograms), so one more sequential pass per round is cheap (17 ms for
 * 16 Mi pages here), while recording an access, the hot path, stays a
 * single saturating add: no timestamp in the record, no per-access
 * exponential, and all spare bits go to the count. The factor
 * 2^(-dt/half_life) is computed in Q32 fixed point without libm. Rounding
 * down makes a page never touched again reach exactly 0, at the cost of a
 * slightly faster decay at the lowest heats (below one access).
 *
 * Regions are keyed by (pid, start): one table can hold every process of a
 * cgroup. They are sorted and never overlap within a pid; lookups are a
 * binary search, with a one-entry cache for batches that hit the same
 * region. Not thread-safe: one table belongs to tierd's planning loop.
 *
 * Seams for tierd (include/tierd/events.h records):
 *  - struct tierd_fault_rec -> heat_record(t, rec->pid, rec->address, N),
 *    N = the BPF 1-in-N fault sampling factor (policy heat.fault_sample_every);
 *  - struct tierd_damon_rec -> heat_record_range(t, pid of rec->target_id,
 *    rec->start, rec->end, rec->nr_accesses);
 *  - PEBS/hint samples -> heat_record_batch();
 *  - placement from move_pages(2) status, executed moves, or the pager's
 *    evict/fetch reports -> heat_set_tier(); the pager's and tierd's own
 *    mlocked pages -> heat_set_pinned();
 *  - regions from the pager's registrations or /proc/PID/maps ->
 *    heat_region_add()/heat_region_remove(), process exit -> heat_forget_pid();
 *  - each round: heat_decay(t, now_ms), then plan_round() (planner.h);
 *    heat_histogram() for status.
 */
#ifndef TIERD_HEAT_H
#define TIERD_HEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAT_PAGE_SHIFT 12
#define HEAT_PAGE_SIZE (1ull << HEAT_PAGE_SHIFT)

#define HEAT_FRAC_BITS 6
#define HEAT_ONE (1u << HEAT_FRAC_BITS) /* one access */
#define HEAT_BITS 24
#define HEAT_MAX ((1u << HEAT_BITS) - 1)
#define HEAT_TIER_SHIFT 24
#define HEAT_TIER_MASK (3u << HEAT_TIER_SHIFT)
#define HEAT_F_PINNED (1u << 26)

/* Faster tiers have smaller numbers; 0 means "not known yet". */
enum heat_tier {
	HEAT_TIER_UNKNOWN = 0,
	HEAT_TIER_DRAM = 1,
	HEAT_TIER_CXL = 2,
	HEAT_TIER_POOL = 3,
};
#define HEAT_NR_TIERS 4

const char *heat_tier_name(enum heat_tier t);

static inline uint32_t heat_rec_heat(uint32_t rec)
{
	return rec & HEAT_MAX;
}

static inline enum heat_tier heat_rec_tier(uint32_t rec)
{
	return (enum heat_tier)((rec & HEAT_TIER_MASK) >> HEAT_TIER_SHIFT);
}

static inline uint32_t heat_rec_make(uint32_t heat, enum heat_tier tier, uint32_t flags)
{
	return (heat > HEAT_MAX ? HEAT_MAX : heat) | ((uint32_t)tier << HEAT_TIER_SHIFT) | flags;
}

struct heat_region {
	uint32_t pid; /* the process (tgid) whose address space this is */
	uint32_t reserved;
	uint64_t start; /* page-aligned virtual address */
	uint64_t nr_pages;
	uint32_t recs[]; /* one record per page, see the top of this file */
};

struct heat_table {
	struct heat_region **regions; /* sorted by (pid, start) */
	unsigned nr_regions, cap_regions;
	unsigned last_hit; /* index of the region the last lookup found */
	uint64_t nr_pages; /* tracked pages in all regions */
	uint32_t half_life_ms;
	uint64_t last_decay_ms; /* clock of the last heat_decay() */
	uint64_t nr_untracked; /* accesses recorded at no tracked page */
};

/* Log2 histogram of heat, per tier: bucket 0 holds heat 0, bucket b >= 1
 * holds heat in [2^(b-1), 2^b) (raw units: HEAT_ONE per access). */
#define HEAT_HIST_BUCKETS (HEAT_BITS + 1)
struct heat_hist {
	uint64_t nr_pages[HEAT_NR_TIERS][HEAT_HIST_BUCKETS];
	uint64_t nr_pages_tier[HEAT_NR_TIERS];
	uint64_t nr_pages_total;
};

int heat_table_init(struct heat_table *t, uint32_t half_life_ms, uint64_t now_ms);
void heat_table_free(struct heat_table *t);

/* Track LEN bytes at START (page-aligned) of PID: records start cold, tier
 * unknown. -EINVAL (unaligned, empty, wraps), -EEXIST (overlaps), -ENOMEM. */
int heat_region_add(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t len_bytes);
/* Stop tracking the region that starts at START. -ENOENT if none. */
int heat_region_remove(struct heat_table *t, uint32_t pid, uint64_t start);
/* Stop tracking every region of PID (the process exited). Returns how many. */
unsigned heat_forget_pid(struct heat_table *t, uint32_t pid);

/* The record of PID's page at ADDR, or NULL if untracked. */
uint32_t *heat_lookup(struct heat_table *t, uint32_t pid, uint64_t addr);

/* One access source, decoded by tierd from the observer's records. */
struct heat_sample {
	uint32_t pid;
	uint32_t weight; /* accesses this sample stands for (>= 1) */
	uint64_t addr;
};

/* Add WEIGHT accesses to the page at ADDR. 0, or -ENOENT if untracked. */
int heat_record(struct heat_table *t, uint32_t pid, uint64_t addr, uint32_t weight);
/* The same for N samples; returns how many hit a tracked page. */
size_t heat_record_batch(struct heat_table *t, const struct heat_sample *s, size_t n);
/* WEIGHT accesses to every tracked page in [START, END) (a DAMON region
 * report: nr_accesses applies to each page). Returns pages touched. */
uint64_t heat_record_range(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t end,
			   uint32_t weight);

/* Where pages are. Return 0/-ENOENT, and pages changed. */
int heat_set_tier(struct heat_table *t, uint32_t pid, uint64_t addr, enum heat_tier tier);
uint64_t heat_set_tier_range(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t end,
			     enum heat_tier tier);
int heat_set_pinned(struct heat_table *t, uint32_t pid, uint64_t addr, bool pinned);

/* Q32 factor 2^(-dt_ms / half_life_ms): 1.0 = 2^32 (returned as UINT32_MAX + 1 in 64 bits). */
uint64_t heat_decay_factor_q32(uint64_t dt_ms, uint32_t half_life_ms);
/* Decay every record for the time since the last call (clock in ms). */
void heat_decay(struct heat_table *t, uint64_t now_ms);

void heat_histogram(const struct heat_table *t, struct heat_hist *h);
/* The bucket of a heat value, and the smallest heat in a bucket. */
unsigned heat_hist_bucket(uint32_t heat);
uint32_t heat_hist_bucket_min(unsigned bucket);

/* Bytes of memory the table uses: records plus region headers and index. */
uint64_t heat_table_bytes(const struct heat_table *t);

#endif /* TIERD_HEAT_H */
