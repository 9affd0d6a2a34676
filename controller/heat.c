// SPDX-License-Identifier: GPL-2.0
/*
 * heat.c — per-page heat records in per-region arrays (see heat.h for the
 * record layout and why decay is applied in bulk once per round).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heat.h"

const char *heat_tier_name(enum heat_tier t)
{
	static const char *const names[] = { "unknown", "dram", "cxl", "pool" };

	return (unsigned)t < HEAT_NR_TIERS ? names[t] : "?";
}

int heat_table_init(struct heat_table *t, uint32_t half_life_ms, uint64_t now_ms)
{
	memset(t, 0, sizeof(*t));
	if (!half_life_ms)
		return -EINVAL;
	t->half_life_ms = half_life_ms;
	t->last_decay_ms = now_ms;
	return 0;
}

void heat_table_free(struct heat_table *t)
{
	for (unsigned i = 0; i < t->nr_regions; i++)
		free(t->regions[i]);
	free(t->regions);
	memset(t, 0, sizeof(*t));
}

/* (pid, addr) ordering of regions */
static int key_cmp(uint32_t pid_a, uint64_t a, uint32_t pid_b, uint64_t b)
{
	if (pid_a != pid_b)
		return pid_a < pid_b ? -1 : 1;
	return a < b ? -1 : a > b ? 1 : 0;
}

/* Index of the first region whose (pid, start) is > (pid, addr). */
static unsigned upper_bound(const struct heat_table *t, uint32_t pid, uint64_t addr)
{
	unsigned lo = 0, hi = t->nr_regions;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct heat_region *r = t->regions[mid];

		if (key_cmp(r->pid, r->start, pid, addr) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool contains(const struct heat_region *r, uint32_t pid, uint64_t addr)
{
	return r->pid == pid && addr >= r->start &&
	       (addr - r->start) >> HEAT_PAGE_SHIFT < r->nr_pages;
}

/* The region holding (pid, addr), or NULL. */
static struct heat_region *find(struct heat_table *t, uint32_t pid, uint64_t addr)
{
	if (t->last_hit < t->nr_regions && contains(t->regions[t->last_hit], pid, addr))
		return t->regions[t->last_hit];
	unsigned i = upper_bound(t, pid, addr);

	if (i == 0 || !contains(t->regions[i - 1], pid, addr))
		return NULL;
	t->last_hit = i - 1;
	return t->regions[i - 1];
}

int heat_region_add(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t len_bytes)
{
	uint64_t nr_pages = len_bytes >> HEAT_PAGE_SHIFT;
	struct heat_region *r;

	if (!len_bytes || (start | len_bytes) & (HEAT_PAGE_SIZE - 1) || start + len_bytes < start)
		return -EINVAL;
	unsigned i = upper_bound(t, pid, start);

	/* the previous region must end at or before START, the next begin at or after the end */
	if (i > 0 && t->regions[i - 1]->pid == pid &&
	    t->regions[i - 1]->start + (t->regions[i - 1]->nr_pages << HEAT_PAGE_SHIFT) > start)
		return -EEXIST;
	if (i < t->nr_regions && t->regions[i]->pid == pid &&
	    t->regions[i]->start < start + len_bytes)
		return -EEXIST;
	if (t->nr_regions == t->cap_regions) {
		unsigned cap = t->cap_regions ? t->cap_regions * 2 : 16;
		struct heat_region **v = realloc(t->regions, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->regions = v;
		t->cap_regions = cap;
	}
	r = calloc(1, sizeof(*r) + nr_pages * sizeof(r->recs[0]));
	if (!r)
		return -ENOMEM;
	r->pid = pid;
	r->start = start;
	r->nr_pages = nr_pages;
	memmove(&t->regions[i + 1], &t->regions[i], (t->nr_regions - i) * sizeof(t->regions[0]));
	t->regions[i] = r;
	t->nr_regions++;
	t->nr_pages += nr_pages;
	t->last_hit = i;
	return 0;
}

static void remove_at(struct heat_table *t, unsigned i)
{
	t->nr_pages -= t->regions[i]->nr_pages;
	free(t->regions[i]);
	memmove(&t->regions[i], &t->regions[i + 1],
		(t->nr_regions - i - 1) * sizeof(t->regions[0]));
	t->nr_regions--;
	t->last_hit = 0;
}

int heat_region_remove(struct heat_table *t, uint32_t pid, uint64_t start)
{
	unsigned i = upper_bound(t, pid, start);

	if (i == 0 || t->regions[i - 1]->pid != pid || t->regions[i - 1]->start != start)
		return -ENOENT;
	remove_at(t, i - 1);
	return 0;
}

unsigned heat_forget_pid(struct heat_table *t, uint32_t pid)
{
	unsigned n = 0;

	for (unsigned i = t->nr_regions; i-- > 0;) {
		if (t->regions[i]->pid == pid) {
			remove_at(t, i);
			n++;
		}
	}
	return n;
}

uint32_t *heat_lookup(struct heat_table *t, uint32_t pid, uint64_t addr)
{
	struct heat_region *r = find(t, pid, addr);

	return r ? &r->recs[(addr - r->start) >> HEAT_PAGE_SHIFT] : NULL;
}

static inline void add_heat(uint32_t *rec, uint32_t weight)
{
	uint64_t h = (uint64_t)heat_rec_heat(*rec) + ((uint64_t)weight << HEAT_FRAC_BITS);

	*rec = (*rec & ~HEAT_MAX) | (uint32_t)(h > HEAT_MAX ? HEAT_MAX : h);
}

int heat_record(struct heat_table *t, uint32_t pid, uint64_t addr, uint32_t weight)
{
	uint32_t *rec = heat_lookup(t, pid, addr);

	if (!rec) {
		t->nr_untracked++;
		return -ENOENT;
	}
	add_heat(rec, weight);
	return 0;
}

size_t heat_record_batch(struct heat_table *t, const struct heat_sample *s, size_t n)
{
	size_t hit = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t *rec = heat_lookup(t, s[i].pid, s[i].addr);

		if (rec) {
			add_heat(rec, s[i].weight);
			hit++;
		}
	}
	t->nr_untracked += n - hit;
	return hit;
}

/*
 * Pages [*first, *last) of region I that fall in [start, end), for range
 * operations; false once past the range. Regions are sorted, so a range
 * walk starts at the region holding START (or the next one) and goes on.
 */
static unsigned range_begin(const struct heat_table *t, uint32_t pid, uint64_t start)
{
	unsigned i = upper_bound(t, pid, start);

	return i ? i - 1 : 0;
}

static bool range_pages(const struct heat_table *t, unsigned i, uint32_t pid, uint64_t start,
			uint64_t end, uint64_t *first, uint64_t *last, bool *done)
{
	const struct heat_region *r = t->regions[i];

	if (r->pid > pid || (r->pid == pid && r->start >= end)) {
		*done = true;
		return false;
	}
	if (r->pid != pid)
		return false;
	*first = start > r->start ? (start - r->start) >> HEAT_PAGE_SHIFT : 0;
	*last = (end - r->start + HEAT_PAGE_SIZE - 1) >> HEAT_PAGE_SHIFT;
	if (*last > r->nr_pages)
		*last = r->nr_pages;
	return *first < *last;
}

uint64_t heat_record_range(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t end,
			   uint32_t weight)
{
	uint64_t first, last, n = 0;
	bool done = false;

	if (end <= start)
		return 0;
	for (unsigned i = range_begin(t, pid, start); i < t->nr_regions && !done; i++) {
		if (!range_pages(t, i, pid, start, end, &first, &last, &done))
			continue;
		for (uint64_t p = first; p < last; p++)
			add_heat(&t->regions[i]->recs[p], weight);
		n += last - first;
	}
	return n;
}

int heat_set_tier(struct heat_table *t, uint32_t pid, uint64_t addr, enum heat_tier tier)
{
	uint32_t *rec = heat_lookup(t, pid, addr);

	if (!rec)
		return -ENOENT;
	*rec = (*rec & ~HEAT_TIER_MASK) | ((uint32_t)tier << HEAT_TIER_SHIFT);
	return 0;
}

uint64_t heat_set_tier_range(struct heat_table *t, uint32_t pid, uint64_t start, uint64_t end,
			     enum heat_tier tier)
{
	uint64_t first, last, n = 0;
	bool done = false;

	if (end <= start)
		return 0;
	for (unsigned i = range_begin(t, pid, start); i < t->nr_regions && !done; i++) {
		uint32_t *recs = t->regions[i]->recs;

		if (!range_pages(t, i, pid, start, end, &first, &last, &done))
			continue;
		for (uint64_t p = first; p < last; p++)
			recs[p] = (recs[p] & ~HEAT_TIER_MASK) | ((uint32_t)tier << HEAT_TIER_SHIFT);
		n += last - first;
	}
	return n;
}

int heat_set_pinned(struct heat_table *t, uint32_t pid, uint64_t addr, bool pinned)
{
	uint32_t *rec = heat_lookup(t, pid, addr);

	if (!rec)
		return -ENOENT;
	*rec = pinned ? *rec | HEAT_F_PINNED : *rec & ~HEAT_F_PINNED;
	return 0;
}

/* 2^-(2^-i) in Q32 for i = 1..24: the fractional part of an exponent, bit by bit */
static const uint32_t exp2_neg_frac_q32[24] = {
	0xb504f334u, 0xd744fccbu, 0xeac0c6e8u, 0xf5257d15u, 0xfa83b2dbu, 0xfd3e0c0du,
	0xfe9e115cu, 0xff4ecb59u, 0xffa75652u, 0xffd3a752u, 0xffe9d2b3u, 0xfff4e91cu,
	0xfffa747fu, 0xfffd3a3bu, 0xfffe9d1du, 0xffff4e8eu, 0xffffa747u, 0xffffd3a3u,
	0xffffe9d2u, 0xfffff4e9u, 0xfffffa74u, 0xfffffd3au, 0xfffffe9du, 0xffffff4fu,
};

uint64_t heat_decay_factor_q32(uint64_t dt_ms, uint32_t half_life_ms)
{
	uint64_t one = 1ull << 32;

	if (!half_life_ms)
		return 0;
	if (dt_ms / half_life_ms >= 32)
		return 0;
	/* exponent dt/half_life in Q24 (dt < 32 half-lives here: no overflow) */
	uint64_t x_q24 = (dt_ms << 24) / half_life_ms;
	unsigned whole = (unsigned)(x_q24 >> 24);
	uint64_t f = one;

	for (unsigned i = 0; i < 24; i++)
		if (x_q24 & (1u << (23 - i)))
			f = (f * exp2_neg_frac_q32[i]) >> 32;
	return f >> whole;
}

void heat_decay(struct heat_table *t, uint64_t now_ms)
{
	if (now_ms <= t->last_decay_ms)
		return;
	uint64_t f = heat_decay_factor_q32(now_ms - t->last_decay_ms, t->half_life_ms);

	t->last_decay_ms = now_ms;
	for (unsigned i = 0; i < t->nr_regions; i++) {
		struct heat_region *r = t->regions[i];

		for (uint64_t p = 0; p < r->nr_pages; p++) {
			uint32_t rec = r->recs[p];
			uint32_t h = (uint32_t)(((uint64_t)heat_rec_heat(rec) * f) >> 32);

			r->recs[p] = (rec & ~HEAT_MAX) | h;
		}
	}
}

unsigned heat_hist_bucket(uint32_t heat)
{
	return heat ? 32 - (unsigned)__builtin_clz(heat) : 0;
}

uint32_t heat_hist_bucket_min(unsigned bucket)
{
	return bucket ? 1u << (bucket - 1) : 0;
}

void heat_histogram(const struct heat_table *t, struct heat_hist *h)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < t->nr_regions; i++) {
		const struct heat_region *r = t->regions[i];

		for (uint64_t p = 0; p < r->nr_pages; p++) {
			uint32_t rec = r->recs[p];

			h->nr_pages[heat_rec_tier(rec)][heat_hist_bucket(heat_rec_heat(rec))]++;
		}
	}
	for (unsigned tier = 0; tier < HEAT_NR_TIERS; tier++) {
		for (unsigned b = 0; b < HEAT_HIST_BUCKETS; b++)
			h->nr_pages_tier[tier] += h->nr_pages[tier][b];
		h->nr_pages_total += h->nr_pages_tier[tier];
	}
}

uint64_t heat_table_bytes(const struct heat_table *t)
{
	uint64_t n = sizeof(*t) + t->cap_regions * sizeof(t->regions[0]);

	for (unsigned i = 0; i < t->nr_regions; i++)
		n += sizeof(struct heat_region) + t->regions[i]->nr_pages * sizeof(uint32_t);
	return n;
}
