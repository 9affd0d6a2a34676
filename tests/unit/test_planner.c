// SPDX-License-Identifier: GPL-2.0
/*
 * test_planner.c — the three-tier planner, table by table.
 *
 * A case is a row of pages drawn as a string, one letter per page, in
 * address order: D, C, P = in DRAM, CXL, pool; lower case = pinned;
 * ? = tier unknown. Heats are in accesses. The test plans one round,
 * applies the move list in order (checking the budgets after every move),
 * and compares the resulting row with the expected one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../controller/planner.h"
#include "../../controller/policy.h"

#define BASE 0x100000ull
#define PG HEAT_PAGE_SIZE
#define U PLAN_UNLIMITED
#define MAXP 64

static enum heat_tier tier_of(char c)
{
	switch (c) {
	case 'D':
	case 'd':
		return HEAT_TIER_DRAM;
	case 'C':
	case 'c':
		return HEAT_TIER_CXL;
	case 'P':
	case 'p':
		return HEAT_TIER_POOL;
	}
	return HEAT_TIER_UNKNOWN;
}

static char letter(uint32_t rec)
{
	static const char up[] = "?DCP", low[] = "?dcp";

	return (rec & HEAT_F_PINNED ? low : up)[heat_rec_tier(rec)];
}

/* a table with one region of PID 1 at BASE, pages as drawn */
static void build(struct heat_table *t, const char *row, const uint32_t *heats_acc)
{
	size_t n = strlen(row);

	heat_table_init(t, 1000, 0);
	assert_int_equal(heat_region_add(t, 1, BASE, n * PG), 0);
	for (size_t i = 0; i < n; i++)
		t->regions[0]->recs[i] =
		    heat_rec_make(heats_acc[i] * HEAT_ONE, tier_of(row[i]),
				  row[i] >= 'a' && row[i] <= 'z' ? HEAT_F_PINNED : 0);
}

static void draw(const struct heat_table *t, char *out)
{
	uint64_t i;

	for (i = 0; i < t->regions[0]->nr_pages; i++)
		out[i] = letter(t->regions[0]->recs[i]);
	out[i] = '\0';
}

static uint64_t count(const struct heat_table *t, enum heat_tier tier)
{
	uint64_t n = 0;

	for (unsigned r = 0; r < t->nr_regions; r++)
		for (uint64_t i = 0; i < t->regions[r]->nr_pages; i++)
			n += heat_rec_tier(t->regions[r]->recs[i]) == tier;
	return n;
}

static int is_promotion(const struct plan_move *m)
{
	return m->to < m->from;
}

/*
 * Apply MOVES in order; after every move DRAM must stay within
 * max(budget, before). Also checks: each move starts where the page is,
 * no page moves twice, directions within their limits.
 */
static void apply(struct heat_table *t, const struct plan_budget *b, const struct plan_move *moves,
		  const struct plan_result *res)
{
	uint64_t dram_cap = count(t, HEAT_TIER_DRAM);
	uint64_t nr_up = 0, nr_down = 0;

	if (b->dram_pages > dram_cap)
		dram_cap = b->dram_pages;
	for (uint64_t i = 0; i < res->nr_moves; i++) {
		uint32_t *rec = heat_lookup(t, moves[i].pid, moves[i].addr);

		assert_non_null(rec);
		assert_int_equal(heat_rec_tier(*rec), moves[i].from);
		assert_int_not_equal(moves[i].from, moves[i].to);
		assert_false(*rec & HEAT_F_PINNED);
		assert_false(*rec & (1u << 31)); /* moved twice */
		*rec = (*rec & ~HEAT_TIER_MASK) | ((uint32_t)moves[i].to << HEAT_TIER_SHIFT) |
		       (1u << 31);
		if (is_promotion(&moves[i]))
			nr_up++;
		else
			nr_down++;
		if (count(t, HEAT_TIER_DRAM) > dram_cap)
			fail_msg("move %llu puts DRAM at %llu pages, over %llu",
				 (unsigned long long)i,
				 (unsigned long long)count(t, HEAT_TIER_DRAM),
				 (unsigned long long)dram_cap);
	}
	for (unsigned r = 0; r < t->nr_regions; r++)
		for (uint64_t i = 0; i < t->regions[r]->nr_pages; i++)
			t->regions[r]->recs[i] &= ~(1u << 31);
	assert_true(nr_up <= b->max_promote_pages);
	assert_true(nr_down <= b->max_demote_pages);
	assert_int_equal(nr_up, res->nr_promote);
	assert_int_equal(nr_down, res->nr_demote);
	for (int tier = HEAT_TIER_DRAM; tier <= HEAT_TIER_POOL; tier++)
		assert_int_equal(count(t, tier), res->nr_after[tier]);
}

static int plan_and_apply(struct heat_table *t, const struct plan_budget *b,
			  struct plan_result *res)
{
	struct plan_move moves[MAXP];
	int ret = plan_round(t, b, moves, MAXP, res);

	if (ret)
		return ret;
	apply(t, b, moves, res);
	return 0;
}

/* budgets: D=dram, C=cxl; 3 tiers with pool, no rate limit, 25% hysteresis */
#define THREE(D, C)                                                                 \
	{                                                                           \
		.dram_pages = D, .cxl_pages = C, .has_cxl = true, .pool = true,     \
		.max_promote_pages = U, .max_demote_pages = U, .hysteresis_pct = 25 \
	}

struct row_case {
	const char *name;
	const char *row;
	uint32_t heat[MAXP];
	struct plan_budget b;
	const char *want;
};

static const struct row_case row_cases[] = {
	/* budget fill: hottest 3 to DRAM, next 4 to CXL, rest to the pool */
	{ "fill from the pool",
	  "PPPPPPPPPP",
	  { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 },
	  THREE(3, 4),
	  "DDDCCCCPPP" },
	{ "fill, address order irrelevant",
	  "PPPPPPPPPP",
	  { 1, 7, 3, 9, 5, 10, 2, 8, 4, 6 },
	  THREE(3, 4),
	  "PCPDCDPDCC" },
	{ "all in DRAM, demote the cold",
	  "DDDDDDDDDD",
	  { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 },
	  THREE(3, 4),
	  "DDDCCCCPPP" },
	{ "already placed: no moves",
	  "DDDCCCCPPP",
	  { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 },
	  THREE(3, 4),
	  "DDDCCCCPPP" },
	{ "unlimited DRAM takes everything", "CPCP", { 1, 2, 3, 4 }, THREE(U, 0), "DDDD" },
	{ "DRAM budget 0", "DDCC", { 9, 9, 1, 1 }, THREE(0, 4), "CCCC" },
	{ "budgets 0: all to the pool", "DDCC", { 9, 9, 1, 1 }, THREE(0, 0), "PPPP" },
	/* hysteresis: 25% margin */
	{ "newcomer 10% hotter does not displace", "DP", { 10, 11 }, THREE(1, 0), "DP" },
	{ "newcomer 30% hotter displaces", "DP", { 10, 13 }, THREE(1, 0), "PD" },
	{ "no hysteresis: 10% hotter displaces",
	  "DP",
	  { 10, 11 },
	  { .dram_pages = 1,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = U,
	    .max_demote_pages = U,
	    .hysteresis_pct = 0 },
	  "PD" },
	{ "CXL incumbent kept against pool page", "DCP", { 20, 10, 11 }, THREE(1, 1), "DCP" },
	{ "equal heats keep their place", "PDPD", { 5, 5, 5, 5 }, THREE(2, 0), "PDPD" },
	/* the floor */
	{ "pool off: CXL is the floor",
	  "DDDDDDDDDD",
	  { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 },
	  { .dram_pages = 3,
	    .cxl_pages = 2,
	    .has_cxl = true,
	    .pool = false,
	    .max_promote_pages = U,
	    .max_demote_pages = U,
	    .hysteresis_pct = 25 },
	  "DDDCCCCCCC" },
	{ "pool off: pool pages come back",
	  "PPPP",
	  { 4, 3, 2, 1 },
	  { .dram_pages = 1,
	    .cxl_pages = 1,
	    .has_cxl = true,
	    .pool = false,
	    .max_promote_pages = U,
	    .max_demote_pages = U },
	  "DCCC" },
	{ "no CXL node: DRAM and pool",
	  "DDDDDD",
	  { 6, 5, 4, 3, 2, 1 },
	  { .dram_pages = 2,
	    .cxl_pages = 100,
	    .has_cxl = false,
	    .pool = true,
	    .max_promote_pages = U,
	    .max_demote_pages = U },
	  "DDPPPP" },
	{ "no CXL, no pool: one tier, nothing moves",
	  "DDDDDD",
	  { 6, 5, 4, 3, 2, 1 },
	  { .dram_pages = 2,
	    .has_cxl = false,
	    .pool = false,
	    .max_promote_pages = U,
	    .max_demote_pages = U },
	  "DDDDDD" },
	/* pinned and unknown pages */
	{ "pinned cold page keeps DRAM and its budget",
	  "dPPP",
	  { 0, 9, 8, 7 },
	  THREE(2, 1),
	  "dDCP" },
	{ "pinned pool page stays", "pPPP", { 99, 9, 8, 7 }, THREE(1, 1), "pDCP" },
	{ "unknown pages are left alone", "?P?P", { 99, 9, 99, 8 }, THREE(1, 1), "?D?C" },
	/* rate limits */
	{ "promote cap 2: the 2 hottest",
	  "PPPPPP",
	  { 1, 6, 2, 5, 3, 4 },
	  { .dram_pages = 6,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = 2,
	    .max_demote_pages = U },
	  "PDPDPP" },
	{ "demote cap 2: the 2 coldest",
	  "DDDDDD",
	  { 1, 6, 2, 5, 3, 4 },
	  { .dram_pages = 0,
	    .cxl_pages = 6,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = U,
	    .max_demote_pages = 2 },
	  "CDCDDD" },
	{ "promotions wait for the demotions that make room",
	  "DDDPPP",
	  { 1, 1, 1, 9, 8, 7 },
	  { .dram_pages = 3,
	    .cxl_pages = 3,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = U,
	    .max_demote_pages = 2 },
	  "CCDDDP" },
	{ "demotions to a full CXL wait for room",
	  "DDCC",
	  { 2, 2, 1, 1 },
	  { .dram_pages = 0,
	    .cxl_pages = 2,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = U,
	    .max_demote_pages = 2 },
	  "DDPP" },
	{ "no promotions allowed",
	  "PPDD",
	  { 9, 9, 1, 1 },
	  { .dram_pages = 2,
	    .cxl_pages = 2,
	    .has_cxl = true,
	    .pool = true,
	    .max_promote_pages = 0,
	    .max_demote_pages = U },
	  "PPCC" },
	/* a swap between two full tiers: DRAM never over budget on the way */
	{ "swap DRAM<->CXL with no free room",
	  "DDCCPP",
	  { 1, 1, 9, 9, 0, 0 },
	  THREE(2, 2),
	  "CCDDPP" },
};

static void test_rows(void **state)
{
	int nr_failed = 0;

	for (size_t i = 0; i < sizeof(row_cases) / sizeof(row_cases[0]); i++) {
		const struct row_case *c = &row_cases[i];
		struct heat_table t;
		struct plan_result res;
		char got[MAXP + 1];

		build(&t, c->row, c->heat);
		assert_int_equal(plan_and_apply(&t, &c->b, &res), 0);
		draw(&t, got);
		if (strcmp(got, c->want)) {
			print_error("case \"%s\": %s -> %s, want %s\n", c->name, c->row, got,
				    c->want);
			nr_failed++;
		}
		heat_table_free(&t);
	}
	assert_int_equal(nr_failed, 0);
}

/* Execution order: pool-bound demotions, DRAM->CXL, into DRAM, pool->CXL. */
static void test_move_order_and_reasons(void **state)
{
	static const uint32_t heat[] = { 50, 1, 40, 30, 20, 0, 60 };
	struct plan_budget b = THREE(2, 2);
	struct heat_table t;
	struct plan_move m[MAXP];
	struct plan_result res;

	/* DRAM keys (incumbents +25%): 62.5, 1.25, 40, 30, 20, 0, 60 -> pages 0, 6.
	 * CXL keys of the rest (DRAM/CXL incumbents +25%): 1.25, 50, 30, 25, 0
	 * -> pages 2, 3. The pool takes 1, 4, 5. */
	build(&t, "DDCPCDP", heat);
	assert_int_equal(plan_round(&t, &b, m, MAXP, &res), 0);
	assert_int_equal(res.nr_target[HEAT_TIER_DRAM], 2);
	assert_int_equal(res.nr_target[HEAT_TIER_CXL], 2);
	assert_int_equal(res.nr_target[HEAT_TIER_POOL], 3);
	static const struct {
		uint64_t page;
		uint8_t from, to, reason;
	} want[] = {
		{ 4, HEAT_TIER_CXL, HEAT_TIER_POOL, PLAN_CXL_COLD },
		{ 1, HEAT_TIER_DRAM, HEAT_TIER_POOL, PLAN_DRAM_COLD },
		{ 5, HEAT_TIER_DRAM, HEAT_TIER_POOL, PLAN_DRAM_COLD },
		{ 6, HEAT_TIER_POOL, HEAT_TIER_DRAM, PLAN_HOT },
		{ 3, HEAT_TIER_POOL, HEAT_TIER_CXL, PLAN_WARM },
	};
	assert_int_equal(res.nr_moves, 5);
	assert_int_equal(res.nr_demote, 3);
	assert_int_equal(res.nr_promote, 2);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(m[i].addr, BASE + want[i].page * PG);
		assert_int_equal(m[i].pid, 1);
		assert_int_equal(m[i].heat, heat[want[i].page] * HEAT_ONE);
		assert_int_equal(m[i].from, want[i].from);
		assert_int_equal(m[i].to, want[i].to);
		assert_int_equal(m[i].reason, want[i].reason);
	}
	heat_table_free(&t);
}

/* Thresholds: known histogram -> exact cut. */
static void test_thresholds(void **state)
{
	struct heat_table t;
	struct plan_result res;
	struct plan_move *m;
	struct plan_budget b = THREE(250, 300);

	/* 100 pages at 100 accesses, 300 at 50, 600 at 1; all in the pool */
	heat_table_init(&t, 1000, 0);
	assert_int_equal(heat_region_add(&t, 1, BASE, 1000 * PG), 0);
	for (int i = 0; i < 1000; i++)
		t.regions[0]->recs[i] = heat_rec_make((i < 100	 ? 100
						       : i < 400 ? 50
								 : 1) *
							  HEAT_ONE,
						      HEAT_TIER_POOL, 0);
	m = calloc(1000, sizeof(*m));
	assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
	/* DRAM: all 100 of the hottest + 150 at 50: the cut is in 50's bucket */
	assert_int_equal(res.nr_target[HEAT_TIER_DRAM], 250);
	assert_int_equal(res.dram.enter_heat, plan_bucket_min(plan_bucket(50 * HEAT_ONE)));
	assert_int_equal(res.dram.enter_heat, 3072); /* 48 accesses: 50 is in [48, 52) */
	assert_int_equal(res.dram.stay_heat, 3072 * 100 / 125);
	/* CXL: the other 150 at 50 and 150 at 1 */
	assert_int_equal(res.nr_target[HEAT_TIER_CXL], 300);
	assert_int_equal(res.cxl.enter_heat, HEAT_ONE);
	assert_int_equal(res.nr_target[HEAT_TIER_POOL], 450);
	/* the cut takes the first pages of the bucket in address order */
	for (uint64_t i = 0; i < res.nr_moves; i++)
		if (m[i].to == HEAT_TIER_DRAM)
			assert_true(m[i].addr < BASE + 250 * PG);

	/* a budget that ends exactly at a bucket edge */
	b.dram_pages = 100;
	assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
	assert_int_equal(res.dram.enter_heat, 6144); /* 100 accesses: [96, 104) */
	assert_int_equal(res.nr_target[HEAT_TIER_DRAM], 100);
	/* nothing fits / everything fits */
	b.dram_pages = 0;
	assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
	assert_int_equal(res.dram.enter_heat, PLAN_NONE);
	b.dram_pages = 5000;
	assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
	assert_int_equal(res.dram.enter_heat, 0);
	assert_int_equal(res.nr_target[HEAT_TIER_DRAM], 1000);
	free(m);
	heat_table_free(&t);
}

static void test_buckets(void **state)
{
	/* monotone, exact below 16, 1/8 octave above; min maps back */
	unsigned prev = 0;

	for (uint32_t v = 0; v < 1u << 20; v++) {
		unsigned bk = plan_bucket(v);

		assert_true(bk >= prev && bk <= prev + 1);
		assert_true(plan_bucket_min(bk) <= v);
		assert_int_equal(plan_bucket(plan_bucket_min(bk)), bk);
		prev = bk;
	}
	assert_int_equal(plan_bucket(15), 15);
	assert_int_equal(plan_bucket(16), 16);
	assert_int_equal(plan_bucket(18), 17);
	assert_true(plan_bucket(UINT32_MAX) < PLAN_HIST_BUCKETS);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/*
 * Steady input: the second round plans nothing. Uniform decay or +-5% noise
 * may still settle a few pages that tied in a cut bucket although one was
 * more than the margin hotter (a tie keeps the incumbent); that is a
 * correction, not ping-pong: the round after it is empty again.
 */
static void test_steady_state(void **state)
{
	struct plan_budget b = THREE(300, 400);
	struct heat_table t;
	struct plan_result res;
	struct plan_move *m = calloc(2000, sizeof(*m));
	uint64_t seed = 42;

	heat_table_init(&t, 1000, 0);
	assert_int_equal(heat_region_add(&t, 7, BASE, 1000 * PG), 0);
	for (int i = 0; i < 1000; i++)
		t.regions[0]->recs[i] =
		    heat_rec_make(rnd(&seed) % (200 * HEAT_ONE), (enum heat_tier)(1 + i % 3), 0);
	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_true(res.nr_moves > 0);
	apply(&t, &b, m, &res);
	assert_int_equal(count(&t, HEAT_TIER_DRAM), 300);
	assert_int_equal(count(&t, HEAT_TIER_CXL), 400);

	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_int_equal(res.nr_moves, 0);

	heat_decay(&t, 1000); /* one half-life */
	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_true(res.nr_moves <= 10);
	apply(&t, &b, m, &res);
	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_int_equal(res.nr_moves, 0);

	for (int i = 0; i < 1000; i++) {
		uint32_t rec = t.regions[0]->recs[i];
		uint64_t h = heat_rec_heat(rec);

		h = h * (95 + rnd(&seed) % 11) / 100;
		t.regions[0]->recs[i] = heat_rec_make((uint32_t)h, heat_rec_tier(rec), 0);
	}
	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_true(res.nr_moves <= 20);
	apply(&t, &b, m, &res);
	assert_int_equal(plan_round(&t, &b, m, 2000, &res), 0);
	assert_int_equal(res.nr_moves, 0);
	free(m);
	heat_table_free(&t);
}

/* A hot set that moves: the plan follows it, within the rate limits, and
 * converges in the number of rounds the limits imply. */
static void test_converges(void **state)
{
	struct plan_budget b = THREE(100, 200);
	struct heat_table t;
	struct plan_result res;
	struct plan_move *m = calloc(1000, sizeof(*m));
	int rounds;

	b.max_promote_pages = 25;
	b.max_demote_pages = 50;
	heat_table_init(&t, 1000, 0);
	assert_int_equal(heat_region_add(&t, 7, BASE, 1000 * PG), 0);
	for (int i = 0; i < 1000; i++) /* hot: pages 0..99 */
		t.regions[0]->recs[i] =
		    heat_rec_make((i < 100 ? 90 : 1) * HEAT_ONE, HEAT_TIER_POOL, 0);
	for (rounds = 0; rounds < 20; rounds++) {
		assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
		if (!res.nr_moves)
			break;
		assert_true(res.nr_promote <= 25 && res.nr_demote <= 50);
		apply(&t, &b, m, &res);
	}
	/* 300 pages to bring in at 25 per round */
	assert_int_equal(rounds, 12);
	for (int i = 0; i < 100; i++)
		assert_int_equal(heat_rec_tier(t.regions[0]->recs[i]), HEAT_TIER_DRAM);
	/* the hot set moves to pages 500..599 */
	for (int i = 0; i < 1000; i++)
		t.regions[0]->recs[i] = heat_rec_make((i >= 500 && i < 600 ? 90 : 1) * HEAT_ONE,
						      heat_rec_tier(t.regions[0]->recs[i]), 0);
	for (rounds = 0; rounds < 20; rounds++) {
		assert_int_equal(plan_round(&t, &b, m, 1000, &res), 0);
		if (!res.nr_moves)
			break;
		apply(&t, &b, m, &res);
	}
	assert_true(rounds <= 8);
	for (int i = 500; i < 600; i++)
		assert_int_equal(heat_rec_tier(t.regions[0]->recs[i]), HEAT_TIER_DRAM);
	assert_int_equal(count(&t, HEAT_TIER_DRAM), 100);
	assert_int_equal(count(&t, HEAT_TIER_CXL), 200);
	free(m);
	heat_table_free(&t);
}

/* execution groups: pool-bound demotions, DRAM->CXL, into DRAM, pool->CXL */
static int group_of(const struct plan_move *m)
{
	if (m->to == HEAT_TIER_POOL)
		return 0;
	if (m->to == HEAT_TIER_CXL)
		return m->from == HEAT_TIER_DRAM ? 1 : 3;
	return 2;
}

/*
 * The limited plan L is a subset of the unlimited plan W, in group order,
 * and within a group it took the coldest (demotions) or hottest
 * (promotions) of W, at bucket resolution.
 */
static void check_priority(const struct plan_move *w, uint64_t nw, const struct plan_move *l,
			   uint64_t nl)
{
	for (uint64_t i = 0; i < nl; i++) {
		uint64_t j;

		if (i)
			assert_true(group_of(&l[i - 1]) <= group_of(&l[i]));
		for (j = 0; j < nw; j++)
			if (w[j].pid == l[i].pid && w[j].addr == l[i].addr)
				break;
		assert_true(j < nw);
		assert_int_equal(w[j].to, l[i].to);
	}
	for (uint64_t j = 0; j < nw; j++) {
		uint64_t i;

		for (i = 0; i < nl; i++)
			if (w[j].pid == l[i].pid && w[j].addr == l[i].addr)
				break;
		if (i < nl)
			continue; /* planned */
		/* W[j] was left out: nothing planned in its group is on the wrong side of it */
		for (i = 0; i < nl; i++) {
			if (group_of(&l[i]) != group_of(&w[j]))
				continue;
			if (group_of(&l[i]) < 2)
				assert_true(plan_bucket(l[i].heat) <= plan_bucket(w[j].heat));
			else
				assert_true(plan_bucket(l[i].heat) >= plan_bucket(w[j].heat));
		}
	}
}

/* Random tables, budgets and limits: the invariants apply() checks hold,
 * and promotions are the hottest of their class, demotions the coldest. */
static void test_random_invariants(void **state)
{
	uint64_t seed = 7;

	for (int iter = 0; iter < 300; iter++) {
		struct heat_table t;
		struct plan_result res;
		struct plan_budget b = {
			.dram_pages = rnd(&seed) % 60,
			.cxl_pages = rnd(&seed) % 60,
			.has_cxl = rnd(&seed) % 4 != 0,
			.pool = rnd(&seed) % 4 != 0,
			.max_promote_pages = rnd(&seed) % 3 ? rnd(&seed) % 30 : U,
			.max_demote_pages = rnd(&seed) % 3 ? rnd(&seed) % 30 : U,
			.hysteresis_pct = rnd(&seed) % 50,
		};
		unsigned n = 1 + rnd(&seed) % 120, nr_regions = 1 + rnd(&seed) % 3;
		struct plan_move m[400];

		heat_table_init(&t, 1000, 0);
		for (unsigned r = 0; r < nr_regions; r++)
			assert_int_equal(heat_region_add(&t, 1 + r % 2, BASE * (r + 1), n * PG), 0);
		for (unsigned r = 0; r < nr_regions; r++)
			for (unsigned i = 0; i < n; i++)
				t.regions[r]->recs[i] =
				    heat_rec_make(rnd(&seed) % 8 ? rnd(&seed) % 5000 : 0,
						  (enum heat_tier)(rnd(&seed) % 4),
						  rnd(&seed) % 20 ? 0 : HEAT_F_PINNED);
		uint64_t d0 = count(&t, HEAT_TIER_DRAM), c0 = count(&t, HEAT_TIER_CXL);

		/* the unlimited plan: every move wanted */
		struct plan_budget unlimited = b;
		struct plan_result all;
		struct plan_move wanted[400];

		unlimited.max_promote_pages = unlimited.max_demote_pages = U;
		assert_int_equal(plan_round(&t, &unlimited, wanted, 400, &all), 0);
		assert_int_equal(plan_round(&t, &b, m, 400, &res), 0);
		check_priority(wanted, all.nr_moves, m, res.nr_moves);
		apply(&t, &b, m, &res);
		if (b.has_cxl && b.pool)
			assert_true(count(&t, HEAT_TIER_CXL) <=
				    (b.cxl_pages > c0 ? b.cxl_pages : c0));
		if (b.has_cxl || b.pool)
			assert_true(count(&t, HEAT_TIER_DRAM) <=
				    (b.dram_pages > d0 ? b.dram_pages : d0));
		/* a second round with no limits reaches the targets, a third is empty */
		b.max_promote_pages = b.max_demote_pages = U;
		assert_int_equal(plan_round(&t, &b, m, 400, &res), 0);
		apply(&t, &b, m, &res);
		assert_int_equal(plan_round(&t, &b, m, 400, &res), 0);
		if (res.nr_moves)
			fail_msg("iteration %d: third round still moves %llu pages", iter,
				 (unsigned long long)res.nr_moves);
		heat_table_free(&t);
	}
}

static void test_errors(void **state)
{
	struct plan_budget b = THREE(1, 1);
	struct heat_table t;
	struct plan_result res;
	struct plan_move m[4];
	static const uint32_t heat[8];

	build(&t, "PPPPPPPP", heat);
	assert_int_equal(plan_moves_needed(&t, &b), 8);
	assert_int_equal(plan_round(&t, &b, m, 4, &res), -ENOSPC);
	b.max_promote_pages = 1;
	b.max_demote_pages = 2;
	assert_int_equal(plan_moves_needed(&t, &b), 3);
	assert_int_equal(plan_round(&t, &b, m, 4, &res), 0);
	assert_string_equal(plan_reason_name(PLAN_CXL_COLD), "cxl-cold");
	heat_table_free(&t);
}

static void test_budget_from_policy(void **state)
{
	static const char text[] =
	    "{ \"moves\": { \"interval_ms\": 500, \"max_promote_mb_s\": 256,"
	    "  \"max_demote_mb_s\": 0, \"hysteresis_pct\": 10 },"
	    "  \"cgroups\": [ { \"path\": \"/a\", \"dram\": \"25%\", \"cxl\": \"1G\","
	    "  \"pool\": true }, { \"path\": \"/b\" } ] }";
	struct policy p;
	struct policy_diag d;
	struct plan_budget b;

	assert_int_equal(policy_parse("t.json", text, sizeof(text) - 1, &p, &d), 0);
	plan_budget_from_policy(&p, &p.cgroups[0], 4ull << 30, true, true, &b);
	assert_int_equal(b.dram_pages, (1ull << 30) / PG); /* 25% of 4 GiB */
	assert_int_equal(b.cxl_pages, (1ull << 30) / PG);
	assert_true(b.has_cxl && b.pool);
	assert_int_equal(b.max_promote_pages, 32768); /* 256 MiB/s for 0.5 s */
	assert_int_equal(b.max_demote_pages, 0);
	assert_int_equal(b.hysteresis_pct, 10);
	plan_budget_from_policy(&p, &p.cgroups[0], 4ull << 30, false, false, &b);
	assert_false(b.pool); /* no pager: no pool, whatever the policy says */
	plan_budget_from_policy(&p, &p.cgroups[1], 4ull << 30, true, true, &b);
	assert_int_equal(b.dram_pages, PLAN_UNLIMITED);
	assert_int_equal(b.cxl_pages, PLAN_UNLIMITED);
	assert_false(b.pool);
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_move_order_and_reasons),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_steady_state),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_random_invariants),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_budget_from_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
