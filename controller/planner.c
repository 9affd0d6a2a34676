// SPDX-License-Identifier: GPL-2.0
/*
 * planner.c — the three-tier plan (see planner.h for the rule and the
 * guarantees).
 *
 * Shape: four sequential passes over the records, no per-page allocation.
 * Selecting "the hottest N pages" exactly would need a sort of millions of
 * pages; instead each selection is a histogram pass plus a cut: every page
 * in a bucket above the cut bucket is taken, and in the cut bucket itself
 * a quota is taken in address order (incumbents first at a tier boundary).
 * Because later passes walk the pages in the same order with the same
 * quotas, they reproduce earlier decisions without storing them:
 *   1. histogram of DRAM keys (heat, raised by the hysteresis margin for
 *      pages already in DRAM) -> DRAM cut;
 *   2. pages the DRAM cut rejects: histogram of CXL keys -> CXL cut;
 *   3. target tier of every page; the pages that would move, by class
 *      (from, to), into per-class heat histograms;
 *   4. rate limits and room turn into per-class cuts (coldest demotions,
 *      hottest promotions first); emit the moves that pass them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner.h"
#include "policy.h"

#define NB PLAN_HIST_BUCKETS

const char *plan_reason_name(enum plan_reason r)
{
	static const char *const names[] = { "hot", "dram-cold", "warm", "cxl-cold" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* log2 bucket with 8 linear sub-buckets: exact below 16, then 1/8 octave */
static inline unsigned bucket_of(uint32_t key)
{
	if (key < 16)
		return key;
	unsigned e = 31 - (unsigned)__builtin_clz(key);

	return (e - 2) * 8 + ((key >> (e - 3)) & 7);
}

unsigned plan_bucket(uint32_t key)
{
	return bucket_of(key);
}

uint32_t plan_bucket_min(unsigned bucket)
{
	if (bucket < 16)
		return bucket;
	unsigned e = bucket / 8 + 2;

	return (8u + bucket % 8) << (e - 3);
}

/*
 * A cut through a histogram: take every page in a bucket beyond B (above
 * B when descending, below when ascending); in bucket B take the first
 * quota[0] incumbents and quota[1] others met in address order.
 */
struct cut {
	int b;
	bool ascending;
	uint64_t quota[2], seen[2];
};

static void cut_none(struct cut *c, bool ascending)
{
	memset(c, 0, sizeof(*c));
	c->ascending = ascending;
	c->b = ascending ? -1 : NB;
}

static void cut_all(struct cut *c, bool ascending)
{
	memset(c, 0, sizeof(*c));
	c->ascending = ascending;
	c->b = ascending ? NB : -1;
}

static inline bool cut_take(struct cut *c, unsigned bucket, unsigned incumbent)
{
	int b = (int)bucket;

	if (__builtin_expect(b == c->b, 0)) {
		unsigned k = incumbent ? 0 : 1;

		return c->seen[k]++ < c->quota[k];
	}
	return c->ascending ? b < c->b : b > c->b;
}

static void cut_rewind(struct cut *c)
{
	c->seen[0] = c->seen[1] = 0;
}

/* The K highest keys of H (per bucket: [0] incumbents, [1] others). */
static void select_top(uint64_t (*h)[2], uint64_t k, struct cut *c)
{
	uint64_t cum = 0;

	if (k == 0) {
		cut_none(c, false);
		return;
	}
	for (int b = NB - 1; b >= 0; b--) {
		uint64_t n = h[b][0] + h[b][1];

		if (cum + n >= k) {
			uint64_t room = k - cum;

			cut_none(c, false);
			c->b = b;
			c->quota[0] = room < h[b][0] ? room : h[b][0];
			c->quota[1] = room - c->quota[0];
			return;
		}
		cum += n;
	}
	cut_all(c, false);
}

/*
 * The first K pages of several classes merged, hottest first (or coldest
 * first when ASCENDING); ties in the cut bucket go to the classes in the
 * order given. Per class: its cut, and how many it gets.
 */
static void select_merged(uint64_t (*ch)[NB], const int *cls, unsigned n, uint64_t k,
			  bool ascending, struct cut *cuts, uint64_t *counts)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < n; i++) {
		cut_none(&cuts[cls[i]], ascending);
		counts[i] = 0;
	}
	if (k == 0)
		return;
	for (int s = 0; s < NB; s++) {
		int b = ascending ? s : NB - 1 - s;
		uint64_t in_bucket = 0;

		for (unsigned i = 0; i < n; i++)
			in_bucket += ch[cls[i]][b];
		if (cum + in_bucket >= k) {
			uint64_t room = k - cum;

			for (unsigned i = 0; i < n; i++) {
				uint64_t q = room < ch[cls[i]][b] ? room : ch[cls[i]][b];

				cuts[cls[i]].b = b;
				cuts[cls[i]].quota[0] = q;
				counts[i] += q;
				room -= q;
			}
			return;
		}
		cum += in_bucket;
		for (unsigned i = 0; i < n; i++)
			counts[i] += ch[cls[i]][b];
	}
	for (unsigned i = 0; i < n; i++)
		cut_all(&cuts[cls[i]], ascending);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

enum lower_tier {
	LOWER_NONE, /* nothing below DRAM: every page stays in DRAM */
	LOWER_CXL, /* CXL is the floor (no pool) */
	LOWER_POOL, /* the pool is the floor, no CXL node */
	LOWER_BOTH, /* CXL, then the pool */
};

struct plan_work {
	uint64_t h1[NB][2], h2[NB][2]; /* tier boundary histograms */
	uint64_t ch[PLAN_NR_CLASSES][NB]; /* per-class heat histograms */
	struct cut c1, c2; /* DRAM and CXL boundary cuts */
	struct cut cc[PLAN_NR_CLASSES]; /* per-class rate/room cuts */
	enum lower_tier lower;
	uint32_t hyst_pct;
};

/*
 * A page's key at a tier boundary: incumbents count hysteresis_pct more,
 * and (with any hysteresis) at least one access more: at low heats a
 * percentage is no margin at all, and region-level samplers (DAMON gives
 * every page of a region the same count) make cold pages flicker between
 * 0 and 2 accesses, which churned spare DRAM in the VM test.
 */
static inline uint32_t key_of(uint32_t heat, bool incumbent, uint32_t pct)
{
	uint64_t margin = (uint64_t)heat * pct / 100;

	if (!incumbent)
		return heat;
	if (pct && margin < HEAT_ONE)
		margin = HEAT_ONE;
	return heat + margin > UINT32_MAX ? UINT32_MAX : (uint32_t)(heat + margin);
}

static int class_of(enum heat_tier from, enum heat_tier to)
{
	static const int map[HEAT_NR_TIERS][HEAT_NR_TIERS] = {
		[HEAT_TIER_DRAM] = { [HEAT_TIER_CXL] = PLAN_DRAM_TO_CXL,
				     [HEAT_TIER_POOL] = PLAN_DRAM_TO_POOL },
		[HEAT_TIER_CXL] = { [HEAT_TIER_DRAM] = PLAN_CXL_TO_DRAM,
				    [HEAT_TIER_POOL] = PLAN_CXL_TO_POOL },
		[HEAT_TIER_POOL] = { [HEAT_TIER_DRAM] = PLAN_POOL_TO_DRAM,
				     [HEAT_TIER_CXL] = PLAN_POOL_TO_CXL },
	};

	return from == to ? -1 : map[from][to];
}

static const uint8_t class_to[PLAN_NR_CLASSES] = {
	[PLAN_CXL_TO_POOL] = HEAT_TIER_POOL,  [PLAN_DRAM_TO_POOL] = HEAT_TIER_POOL,
	[PLAN_DRAM_TO_CXL] = HEAT_TIER_CXL,   [PLAN_CXL_TO_DRAM] = HEAT_TIER_DRAM,
	[PLAN_POOL_TO_DRAM] = HEAT_TIER_DRAM, [PLAN_POOL_TO_CXL] = HEAT_TIER_CXL,
};

static void rewind_all(struct plan_work *w)
{
	cut_rewind(&w->c1);
	cut_rewind(&w->c2);
	for (int i = 0; i < PLAN_NR_CLASSES; i++)
		cut_rewind(&w->cc[i]);
}

static struct plan_threshold threshold_of(const struct cut *c, uint32_t hyst_pct)
{
	struct plan_threshold t;

	if (c->b < 0)
		return (struct plan_threshold){ 0, 0 };
	if (c->b >= NB)
		return (struct plan_threshold){ PLAN_NONE, PLAN_NONE };
	t.enter_heat = plan_bucket_min((unsigned)c->b);
	t.stay_heat = (uint32_t)((uint64_t)t.enter_heat * 100 / (100 + hyst_pct));
	return t;
}

void plan_budget_from_policy(const struct policy *p, const struct policy_cgroup *cg,
			     uint64_t usage_bytes, bool has_cxl, bool pool_ready,
			     struct plan_budget *b)
{
	uint64_t dram = policy_size_resolve(&cg->dram, usage_bytes);
	uint64_t cxl = policy_size_resolve(&cg->cxl, usage_bytes);

	*b = (struct plan_budget){
		.dram_pages = dram == UINT64_MAX ? PLAN_UNLIMITED : dram >> HEAT_PAGE_SHIFT,
		.cxl_pages = cxl == UINT64_MAX ? PLAN_UNLIMITED : cxl >> HEAT_PAGE_SHIFT,
		.has_cxl = has_cxl,
		.pool = cg->pool && pool_ready,
		.max_promote_pages =
		    policy_round_pages(p->moves.max_promote_mb_s, p->moves.interval_ms),
		.max_demote_pages =
		    policy_round_pages(p->moves.max_demote_mb_s, p->moves.interval_ms),
		.hysteresis_pct = p->moves.hysteresis_pct,
	};
}

size_t plan_moves_needed(const struct heat_table *t, const struct plan_budget *b)
{
	uint64_t n = add_sat(b->max_promote_pages, b->max_demote_pages);

	n = min_u64(n, t->nr_pages);
	return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

static void class_offsets(const struct plan_result *res, uint64_t *off)
{
	/* execution order: pool-bound demotions, DRAM->CXL, into DRAM, pool->CXL */
	off[PLAN_CXL_TO_POOL] = 0;
	off[PLAN_DRAM_TO_POOL] = off[PLAN_CXL_TO_POOL] + res->nr_planned[PLAN_CXL_TO_POOL];
	off[PLAN_DRAM_TO_CXL] = off[PLAN_DRAM_TO_POOL] + res->nr_planned[PLAN_DRAM_TO_POOL];
	off[PLAN_CXL_TO_DRAM] = off[PLAN_DRAM_TO_CXL] + res->nr_planned[PLAN_DRAM_TO_CXL];
	off[PLAN_POOL_TO_DRAM] = off[PLAN_CXL_TO_DRAM] + res->nr_planned[PLAN_CXL_TO_DRAM];
	off[PLAN_POOL_TO_CXL] = off[PLAN_POOL_TO_DRAM] + res->nr_planned[PLAN_POOL_TO_DRAM];
}

/*
 * The scratch byte of each page (one byte per page, for one round): after
 * pass 2 whether the DRAM cut took it; after pass 3 its move class + 1, or
 * 0 for no move. It spares passes 3 and 4 from redoing earlier decisions.
 */
enum { S_SKIP = 0, S_DRAM = 1, S_REST = 2 };

/*
 * The passes keep counters and settings in locals: the histograms are
 * written through pointers, and the compiler would otherwise reload
 * anything that might alias them on every page.
 */

/* 1: where pages are; DRAM keys */
static void pass_dram_keys(const struct heat_table *t, struct plan_work *w, struct plan_result *res,
			   uint64_t *pinned)
{
	uint64_t(*restrict h1)[2] = w->h1;
	uint64_t nr[HEAT_NR_TIERS] = { 0 }, nr_pinned[HEAT_NR_TIERS] = { 0 };
	const uint32_t pct = w->hyst_pct;

	for (unsigned ri = 0; ri < t->nr_regions; ri++) {
		const struct heat_region *r = t->regions[ri];
		const uint32_t *recs = r->recs;
		const uint64_t n = r->nr_pages;

		for (uint64_t p = 0; p < n; p++) {
			uint32_t rec = recs[p];
			enum heat_tier tier = heat_rec_tier(rec);
			bool in_dram = tier == HEAT_TIER_DRAM;

			nr[tier]++;
			if (tier == HEAT_TIER_UNKNOWN)
				continue;
			if (rec & HEAT_F_PINNED) {
				nr_pinned[tier]++;
				continue;
			}
			h1[bucket_of(key_of(heat_rec_heat(rec), in_dram, pct))][!in_dram]++;
		}
	}
	for (int i = 0; i < HEAT_NR_TIERS; i++) {
		res->nr_pages[i] = nr[i];
		pinned[i] = nr_pinned[i];
	}
}

/* 2: the DRAM cut; CXL keys of the pages it leaves */
static void pass_cxl_keys(const struct heat_table *t, struct plan_work *w, uint8_t *restrict sc)
{
	uint64_t(*restrict h2)[2] = w->h2;
	struct cut c1 = w->c1;
	const uint32_t pct = w->hyst_pct;
	const bool both = w->lower == LOWER_BOTH;
	uint64_t i = 0;

	for (unsigned ri = 0; ri < t->nr_regions; ri++) {
		const struct heat_region *r = t->regions[ri];
		const uint32_t *recs = r->recs;
		const uint64_t n = r->nr_pages;

		for (uint64_t p = 0; p < n; p++, i++) {
			uint32_t rec = recs[p], heat = heat_rec_heat(rec);
			enum heat_tier tier = heat_rec_tier(rec);
			bool in_dram = tier == HEAT_TIER_DRAM;
			bool in_mem = in_dram || tier == HEAT_TIER_CXL;

			if (tier == HEAT_TIER_UNKNOWN || rec & HEAT_F_PINNED) {
				sc[i] = S_SKIP;
				continue;
			}
			if (cut_take(&c1, bucket_of(key_of(heat, in_dram, pct)), in_dram)) {
				sc[i] = S_DRAM;
				continue;
			}
			sc[i] = S_REST;
			if (both)
				h2[bucket_of(key_of(heat, in_mem, pct))][!in_mem]++;
		}
	}
}

/* 3: every page's target; the would-be moves by class */
static void pass_targets(const struct heat_table *t, struct plan_work *w, uint8_t *restrict sc,
			 struct plan_result *res)
{
	static const enum heat_tier floor_of[] = {
		[LOWER_NONE] = HEAT_TIER_DRAM,
		[LOWER_CXL] = HEAT_TIER_CXL,
		[LOWER_POOL] = HEAT_TIER_POOL,
		[LOWER_BOTH] = HEAT_TIER_POOL,
	};
	uint64_t(*restrict ch)[NB] = w->ch;
	uint64_t target[HEAT_NR_TIERS] = { 0 }, wanted[PLAN_NR_CLASSES] = { 0 };
	struct cut c2 = w->c2;
	const uint32_t pct = w->hyst_pct;
	const bool both = w->lower == LOWER_BOTH;
	const enum heat_tier floor = floor_of[w->lower];
	uint64_t i = 0;

	for (unsigned ri = 0; ri < t->nr_regions; ri++) {
		const struct heat_region *r = t->regions[ri];
		const uint32_t *recs = r->recs;
		const uint64_t n = r->nr_pages;

		for (uint64_t p = 0; p < n; p++, i++) {
			uint32_t rec = recs[p], heat = heat_rec_heat(rec);
			enum heat_tier tier = heat_rec_tier(rec), to;

			if (sc[i] == S_SKIP)
				continue;
			if (sc[i] == S_DRAM) {
				to = HEAT_TIER_DRAM;
			} else if (both) {
				bool in_mem = tier == HEAT_TIER_DRAM || tier == HEAT_TIER_CXL;

				to = cut_take(&c2, bucket_of(key_of(heat, in_mem, pct)), in_mem)
					 ? HEAT_TIER_CXL
					 : HEAT_TIER_POOL;
			} else {
				to = floor;
			}
			target[to]++;
			int c = class_of(tier, to);

			sc[i] = (uint8_t)(c + 1);
			if (c >= 0) {
				ch[c][bucket_of(heat)]++;
				wanted[c]++;
			}
		}
	}
	for (int k = 0; k < HEAT_NR_TIERS; k++)
		res->nr_target[k] += target[k];
	for (int k = 0; k < PLAN_NR_CLASSES; k++)
		res->nr_wanted[k] = wanted[k];
}

/* 5: emit the moves the class cuts take, each class into its slot */
static void pass_emit(const struct heat_table *t, struct plan_work *w, const uint8_t *sc,
		      uint64_t *off, const uint64_t *end, struct plan_move *moves)
{
	uint64_t i = 0;

	for (unsigned ri = 0; ri < t->nr_regions; ri++) {
		const struct heat_region *r = t->regions[ri];

		for (uint64_t p = 0; p < r->nr_pages; p++, i++) {
			if (!sc[i])
				continue;
			int cl = sc[i] - 1;
			uint32_t rec = r->recs[p], heat = heat_rec_heat(rec);
			enum heat_tier from = heat_rec_tier(rec), to = class_to[cl];

			if (!cut_take(&w->cc[cl], bucket_of(heat), 1) || off[cl] >= end[cl])
				continue; /* (off >= end cannot happen: cuts hold exactly) */
			moves[off[cl]++] = (struct plan_move){
				.addr = r->start + (p << HEAT_PAGE_SHIFT),
				.pid = r->pid,
				.heat = heat,
				.from = (uint8_t)from,
				.to = (uint8_t)to,
				.reason = to == HEAT_TIER_DRAM	   ? PLAN_HOT
					  : from == HEAT_TIER_DRAM ? PLAN_DRAM_COLD
					  : to == HEAT_TIER_CXL	   ? PLAN_WARM
								   : PLAN_CXL_COLD,
			};
		}
	}
}

int plan_round(const struct heat_table *t, const struct plan_budget *b, struct plan_move *moves,
	       size_t cap, struct plan_result *res)
{
	uint64_t pinned[HEAT_NR_TIERS] = { 0 };
	struct plan_work *w;
	uint8_t *sc;

	memset(res, 0, sizeof(*res));
	if (cap < plan_moves_needed(t, b))
		return -ENOSPC;
	w = calloc(1, sizeof(*w));
	sc = malloc(t->nr_pages ? t->nr_pages : 1);
	if (!w || !sc) {
		free(w);
		free(sc);
		return -ENOMEM;
	}
	w->hyst_pct = b->hysteresis_pct;
	if (b->has_cxl)
		w->lower = b->pool ? LOWER_BOTH : LOWER_CXL;
	else
		w->lower = b->pool ? LOWER_POOL : LOWER_NONE;

	pass_dram_keys(t, w, res, pinned);
	for (int i = 0; i < HEAT_NR_TIERS; i++)
		res->nr_pinned += pinned[i];
	if (w->lower == LOWER_NONE)
		cut_all(&w->c1, false);
	else
		select_top(w->h1, sub_sat(b->dram_pages, pinned[HEAT_TIER_DRAM]), &w->c1);

	pass_cxl_keys(t, w, sc);
	if (w->lower == LOWER_BOTH)
		select_top(w->h2, sub_sat(b->cxl_pages, pinned[HEAT_TIER_CXL]), &w->c2);
	else
		cut_none(&w->c2, false);

	for (int i = 0; i < HEAT_NR_TIERS; i++)
		res->nr_target[i] = pinned[i];
	pass_targets(t, w, sc, res);
	res->nr_target[HEAT_TIER_UNKNOWN] = res->nr_pages[HEAT_TIER_UNKNOWN];
	res->dram = threshold_of(&w->c1, w->hyst_pct);
	res->cxl = threshold_of(&w->c2, w->hyst_pct);
	if (w->lower == LOWER_NONE)
		res->floor_overflow_pages = sub_sat(res->nr_target[HEAT_TIER_DRAM], b->dram_pages);
	else if (w->lower == LOWER_CXL)
		res->floor_overflow_pages = sub_sat(res->nr_target[HEAT_TIER_CXL], b->cxl_pages);
	/* 4: rate limits and room */
	uint64_t d = res->nr_pages[HEAT_TIER_DRAM], c = res->nr_pages[HEAT_TIER_CXL];
	uint64_t dram_budget = b->dram_pages;
	uint64_t cxl_budget = w->lower == LOWER_CXL ? PLAN_UNLIMITED : b->cxl_pages;
	uint64_t rd = b->max_demote_pages, rp = b->max_promote_pages, got[2];
	uint64_t *np = res->nr_planned;

	/* demotions to the pool, coldest first: they only free room */
	static const int to_pool[] = { PLAN_CXL_TO_POOL, PLAN_DRAM_TO_POOL };
	select_merged(
	    w->ch, to_pool, 2,
	    min_u64(rd, res->nr_wanted[PLAN_CXL_TO_POOL] + res->nr_wanted[PLAN_DRAM_TO_POOL]), true,
	    w->cc, got);
	np[PLAN_CXL_TO_POOL] = got[0];
	np[PLAN_DRAM_TO_POOL] = got[1];
	rd -= got[0] + got[1];
	d -= np[PLAN_DRAM_TO_POOL];
	c -= np[PLAN_CXL_TO_POOL];

	/*
	 * Into DRAM, hottest first: the largest k whose room exists once
	 * DRAM->CXL demotions are made, and those demotions in turn fit in
	 * CXL's room plus what CXL->DRAM promotions free. The condition is
	 * monotone in k, so binary search.
	 */
	static const int to_dram[] = { PLAN_CXL_TO_DRAM, PLAN_POOL_TO_DRAM };
	uint64_t room_d = sub_sat(dram_budget, d), room_c = sub_sat(cxl_budget, c);
	uint64_t x_max = min_u64(res->nr_wanted[PLAN_DRAM_TO_CXL], rd);
	uint64_t lo = 0, hi = min_u64(rp, res->nr_wanted[PLAN_CXL_TO_DRAM] +
					      res->nr_wanted[PLAN_POOL_TO_DRAM]);

	while (lo < hi) {
		uint64_t k = lo + (hi - lo + 1) / 2, need = sub_sat(k, room_d);

		select_merged(w->ch, to_dram, 2, k, false, w->cc, got);
		if (need <= x_max && need <= add_sat(room_c, got[0]))
			lo = k;
		else
			hi = k - 1;
	}
	select_merged(w->ch, to_dram, 2, lo, false, w->cc, got);
	np[PLAN_CXL_TO_DRAM] = got[0];
	np[PLAN_POOL_TO_DRAM] = got[1];
	rp -= lo;

	/* DRAM->CXL, coldest first, as many as wanted, allowed and fitting */
	static const int d2c[] = { PLAN_DRAM_TO_CXL };
	uint64_t x = min_u64(x_max, add_sat(room_c, np[PLAN_CXL_TO_DRAM]));

	select_merged(w->ch, d2c, 1, x, true, w->cc, got);
	np[PLAN_DRAM_TO_CXL] = x;

	/* pool->CXL, hottest first, into what room CXL has left */
	static const int p2c[] = { PLAN_POOL_TO_CXL };
	uint64_t c_after = c + x - np[PLAN_CXL_TO_DRAM];
	uint64_t wn =
	    min_u64(min_u64(res->nr_wanted[PLAN_POOL_TO_CXL], rp), sub_sat(cxl_budget, c_after));

	select_merged(w->ch, p2c, 1, wn, false, w->cc, got);
	np[PLAN_POOL_TO_CXL] = wn;

	res->nr_demote = np[PLAN_CXL_TO_POOL] + np[PLAN_DRAM_TO_POOL] + np[PLAN_DRAM_TO_CXL];
	res->nr_promote = np[PLAN_CXL_TO_DRAM] + np[PLAN_POOL_TO_DRAM] + np[PLAN_POOL_TO_CXL];
	res->nr_moves = res->nr_demote + res->nr_promote;
	memcpy(res->nr_after, res->nr_pages, sizeof(res->nr_after));
	res->nr_after[HEAT_TIER_DRAM] += np[PLAN_CXL_TO_DRAM] + np[PLAN_POOL_TO_DRAM];
	res->nr_after[HEAT_TIER_DRAM] -= np[PLAN_DRAM_TO_CXL] + np[PLAN_DRAM_TO_POOL];
	res->nr_after[HEAT_TIER_CXL] += np[PLAN_DRAM_TO_CXL] + np[PLAN_POOL_TO_CXL];
	res->nr_after[HEAT_TIER_CXL] -= np[PLAN_CXL_TO_DRAM] + np[PLAN_CXL_TO_POOL];
	res->nr_after[HEAT_TIER_POOL] += np[PLAN_CXL_TO_POOL] + np[PLAN_DRAM_TO_POOL];
	res->nr_after[HEAT_TIER_POOL] -= np[PLAN_POOL_TO_DRAM] + np[PLAN_POOL_TO_CXL];

	/* 5: emit */
	uint64_t off[PLAN_NR_CLASSES], end[PLAN_NR_CLASSES];

	class_offsets(res, off);
	for (int i = 0; i < PLAN_NR_CLASSES; i++)
		end[i] = off[i] + np[i];
	rewind_all(w);
	if (res->nr_moves)
		pass_emit(t, w, sc, off, end, moves);
	free(sc);
	free(w);
	return 0;
}
