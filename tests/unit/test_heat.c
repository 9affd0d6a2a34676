// SPDX-License-Identifier: GPL-2.0
/*
 * test_heat.c — the per-page heat table: record layout, region index and
 * lookup, recording from faults/samples/DAMON ranges, decay, histogram.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../controller/heat.h"

#define PG HEAT_PAGE_SIZE

static void test_record_layout(void **state)
{
	uint32_t r = heat_rec_make(5 * HEAT_ONE, HEAT_TIER_CXL, HEAT_F_PINNED);

	assert_int_equal(sizeof(r), 4); /* the whole per-page metadata */
	assert_int_equal(heat_rec_heat(r), 5 * HEAT_ONE);
	assert_int_equal(heat_rec_tier(r), HEAT_TIER_CXL);
	assert_true(r & HEAT_F_PINNED);
	assert_int_equal(heat_rec_heat(heat_rec_make(HEAT_MAX + 10, HEAT_TIER_POOL, 0)), HEAT_MAX);
	assert_int_equal(heat_rec_tier(heat_rec_make(HEAT_MAX, HEAT_TIER_POOL, 0)), HEAT_TIER_POOL);
	assert_string_equal(heat_tier_name(HEAT_TIER_DRAM), "dram");
	assert_string_equal(heat_tier_name(HEAT_TIER_UNKNOWN), "unknown");
}

static void test_regions(void **state)
{
	struct heat_table t;

	assert_int_equal(heat_table_init(&t, 1000, 0), 0);
	assert_int_equal(heat_region_add(&t, 10, 0x100000, 16 * PG), 0);
	assert_int_equal(heat_region_add(&t, 10, 0x10000, 4 * PG), 0);
	assert_int_equal(heat_region_add(&t, 9, 0x100000, 16 * PG), 0); /* other pid: fine */
	assert_int_equal(heat_region_add(&t, 10, 0x100000 + 15 * PG, PG), -EEXIST);
	assert_int_equal(heat_region_add(&t, 10, 0x100000 - PG, 2 * PG), -EEXIST);
	assert_int_equal(heat_region_add(&t, 10, 0x10000 - PG, 8 * PG), -EEXIST);
	assert_int_equal(heat_region_add(&t, 10, 0x100000 + 16 * PG, PG), 0); /* adjacent */
	assert_int_equal(heat_region_add(&t, 10, 0x1001, PG), -EINVAL);
	assert_int_equal(heat_region_add(&t, 10, 0x2000, 100), -EINVAL);
	assert_int_equal(heat_region_add(&t, 10, 0x2000, 0), -EINVAL);
	assert_int_equal(heat_region_add(&t, 10, UINT64_MAX & ~(PG - 1), 2 * PG), -EINVAL);
	assert_int_equal(t.nr_regions, 4);
	assert_int_equal(t.nr_pages, 16 + 4 + 16 + 1);
	/* sorted by (pid, start) */
	assert_int_equal(t.regions[0]->pid, 9);
	assert_int_equal(t.regions[1]->start, 0x10000);
	assert_int_equal(t.regions[2]->start, 0x100000);
	assert_int_equal(t.regions[3]->start, 0x100000 + 16 * PG);
	assert_true(heat_table_bytes(&t) >= t.nr_pages * 4);

	assert_int_equal(heat_region_remove(&t, 10, 0x10000 + PG), -ENOENT);
	assert_int_equal(heat_region_remove(&t, 10, 0x10000), 0);
	assert_int_equal(t.nr_pages, 16 + 16 + 1);
	assert_int_equal(heat_forget_pid(&t, 10), 2);
	assert_int_equal(t.nr_regions, 1);
	assert_int_equal(t.nr_pages, 16);
	heat_table_free(&t);
}

struct lookup_case {
	uint32_t pid;
	uint64_t addr;
	int region; /* index into the regions added below, -1: untracked */
	uint64_t page;
};

static void test_lookup(void **state)
{
	static const struct {
		uint32_t pid;
		uint64_t start, pages;
	} regs[] = {
		{ 1, 0x400000, 10 },
		{ 1, 0x800000, 1 },
		{ 2, 0x400000, 3 },
		{ 1, 0x7f0000000000, 100 },
	};
	static const struct lookup_case cases[] = {
		{ 1, 0x400000, 0, 0 },
		{ 1, 0x400fff, 0, 0 },
		{ 1, 0x401000, 0, 1 },
		{ 1, 0x400000 + 10 * PG - 1, 0, 9 },
		{ 1, 0x400000 + 10 * PG, -1, 0 }, /* one past the end */
		{ 1, 0x3fffff, -1, 0 },
		{ 1, 0x800000, 1, 0 },
		{ 1, 0x801000, -1, 0 },
		{ 2, 0x402abc, 2, 2 },
		{ 2, 0x800000, -1, 0 },
		{ 3, 0x400000, -1, 0 },
		{ 1, 0x7f0000000000 + 99 * PG, 3, 99 },
		{ 0, 0, -1, 0 },
	};
	struct heat_table t;
	struct heat_region *added[4];

	heat_table_init(&t, 1000, 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(
		    heat_region_add(&t, regs[i].pid, regs[i].start, regs[i].pages * PG), 0);
		for (unsigned j = 0; j < t.nr_regions; j++)
			if (t.regions[j]->pid == regs[i].pid &&
			    t.regions[j]->start == regs[i].start)
				added[i] = t.regions[j];
	}
	/* twice: cold (binary search) and with the last-hit cache in any state */
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct lookup_case *c = &cases[i];
			uint32_t *rec = heat_lookup(&t, c->pid, c->addr);

			if (c->region < 0) {
				if (rec)
					fail_msg("case %u: pid %u addr %#llx should be untracked",
						 i, c->pid, (unsigned long long)c->addr);
			} else if (rec != &added[c->region]->recs[c->page]) {
				fail_msg("case %u: pid %u addr %#llx: wrong record", i, c->pid,
					 (unsigned long long)c->addr);
			}
		}
	}
	heat_table_free(&t);
}

static void test_record(void **state)
{
	struct heat_table t;
	struct heat_sample batch[] = {
		{ .pid = 1, .weight = 1, .addr = 0x10000 },
		{ .pid = 1, .weight = 3, .addr = 0x10fff },
		{ .pid = 1, .weight = 2, .addr = 0x11000 },
		{ .pid = 1, .weight = 1, .addr = 0x99000 }, /* untracked */
		{ .pid = 2, .weight = 1, .addr = 0x10000 }, /* untracked */
	};

	heat_table_init(&t, 1000, 0);
	assert_int_equal(heat_region_add(&t, 1, 0x10000, 4 * PG), 0);
	assert_int_equal(heat_record(&t, 1, 0x12345, 7), 0);
	assert_int_equal(heat_record(&t, 1, 0x20000, 1), -ENOENT);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x12000)), 7 * HEAT_ONE);
	assert_int_equal(heat_record_batch(&t, batch, 5), 3);
	assert_int_equal(t.nr_untracked, 3);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x10000)), 4 * HEAT_ONE);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x11000)), 2 * HEAT_ONE);
	/* recording keeps the tier and flags */
	assert_int_equal(heat_set_tier(&t, 1, 0x13000, HEAT_TIER_POOL), 0);
	assert_int_equal(heat_set_pinned(&t, 1, 0x13000, true), 0);
	assert_int_equal(heat_record(&t, 1, 0x13000, 1), 0);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 1, 0x13000)), HEAT_TIER_POOL);
	assert_true(*heat_lookup(&t, 1, 0x13000) & HEAT_F_PINNED);
	/* saturates, never wraps into the tier bits */
	for (int i = 0; i < 10; i++)
		heat_record(&t, 1, 0x13000, UINT32_MAX);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x13000)), HEAT_MAX);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 1, 0x13000)), HEAT_TIER_POOL);
	heat_table_free(&t);
}

/* A DAMON region report covers a range that may span regions and gaps. */
static void test_record_range(void **state)
{
	struct heat_table t;

	heat_table_init(&t, 1000, 0);
	heat_region_add(&t, 1, 0x10000, 4 * PG); /* pages 0x10..0x13 */
	heat_region_add(&t, 1, 0x20000, 4 * PG); /* pages 0x20..0x23 */
	heat_region_add(&t, 2, 0x10000, 4 * PG); /* another process */
	/* from the middle of the first region to the middle of the second */
	assert_int_equal(heat_record_range(&t, 1, 0x12000, 0x22000, 5), 2 + 2);
	static const struct {
		uint64_t addr;
		uint32_t accesses;
	} want[] = {
		{ 0x10000, 0 }, { 0x11000, 0 }, { 0x12000, 5 }, { 0x13000, 5 },
		{ 0x20000, 5 }, { 0x21000, 5 }, { 0x22000, 0 }, { 0x23000, 0 },
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, want[i].addr)),
				 want[i].accesses * HEAT_ONE);
	for (uint64_t a = 0x10000; a < 0x14000; a += PG)
		assert_int_equal(heat_rec_heat(*heat_lookup(&t, 2, a)), 0);
	/* a partial page at either end counts the whole page */
	assert_int_equal(heat_record_range(&t, 1, 0x10800, 0x11001, 1), 2);
	assert_int_equal(heat_record_range(&t, 1, 0x30000, 0x40000, 1), 0);
	assert_int_equal(heat_record_range(&t, 1, 0x0, 0x100000, 1), 8);
	assert_int_equal(heat_record_range(&t, 1, 0x20000, 0x20000, 1), 0);
	assert_int_equal(heat_set_tier_range(&t, 1, 0x0, 0x21000, HEAT_TIER_CXL), 5);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 1, 0x20000)), HEAT_TIER_CXL);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 1, 0x21000)), HEAT_TIER_UNKNOWN);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 2, 0x10000)), HEAT_TIER_UNKNOWN);
	heat_table_free(&t);
}

static void test_decay_factor(void **state)
{
	static const struct {
		uint64_t dt_ms;
		uint32_t hl_ms;
		double want;
	} cases[] = {
		{ 0, 2000, 1.0 },	    { 2000, 2000, 0.5 },       { 4000, 2000, 0.25 },
		{ 1000, 2000, 0.70710678 }, { 500, 2000, 0.84089642 }, { 3000, 2000, 0.35355339 },
		{ 1, 2000, 0.99965348 },    { 64000, 2000, 0.0 },      { 1000000, 10, 0.0 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double f =
		    (double)heat_decay_factor_q32(cases[i].dt_ms, cases[i].hl_ms) / 4294967296.0;

		if (f < cases[i].want - 1e-6 || f > cases[i].want + 1e-6)
			fail_msg("dt %llu hl %u: factor %.9f, want %.9f",
				 (unsigned long long)cases[i].dt_ms, cases[i].hl_ms, f,
				 cases[i].want);
	}
}

static void test_decay(void **state)
{
	struct heat_table t;

	heat_table_init(&t, 2000, 1000);
	heat_region_add(&t, 1, 0x10000, 3 * PG);
	heat_record(&t, 1, 0x10000, 64);
	heat_record(&t, 1, 0x11000, 1);
	heat_set_tier(&t, 1, 0x10000, HEAT_TIER_DRAM);
	heat_decay(&t, 3000); /* one half-life */
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x10000)), 32 * HEAT_ONE);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x11000)), HEAT_ONE / 2);
	assert_int_equal(heat_rec_tier(*heat_lookup(&t, 1, 0x10000)), HEAT_TIER_DRAM);
	heat_decay(&t, 3000); /* no time passed: no change */
	heat_decay(&t, 2000); /* the clock went back: no change */
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x10000)), 32 * HEAT_ONE);
	/* two quarter half-lives in small steps ~ one half half-life */
	for (uint64_t now = 3100; now <= 4000; now += 100)
		heat_decay(&t, now);
	uint32_t h = heat_rec_heat(*heat_lookup(&t, 1, 0x10000));

	assert_in_range(h, 32 * HEAT_ONE * 7071 / 10000 - 10, 32 * HEAT_ONE * 7071 / 10000 + 1);
	/* a page never touched again goes to exactly zero */
	for (uint64_t now = 4000; now <= 200000; now += 1000)
		heat_decay(&t, now);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x10000)), 0);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 1, 0x11000)), 0);
	heat_table_free(&t);
}

static void test_histogram(void **state)
{
	struct heat_table t;
	struct heat_hist h;

	heat_table_init(&t, 2000, 0);
	heat_region_add(&t, 1, 0x10000, 8 * PG);
	heat_region_add(&t, 2, 0x10000, 2 * PG);
	/* heats in raw units: 0, 1, 64 (one access), 64, 100, 127, 128, 2^23 */
	static const uint32_t raw[8] = { 0, 1, 64, 64, 100, 127, 128, 1u << 23 };
	for (unsigned i = 0; i < 8; i++) {
		uint32_t *rec = heat_lookup(&t, 1, 0x10000 + i * PG);

		*rec = heat_rec_make(raw[i], i < 4 ? HEAT_TIER_DRAM : HEAT_TIER_CXL, 0);
	}
	*heat_lookup(&t, 2, 0x10000) = heat_rec_make(HEAT_MAX, HEAT_TIER_POOL, 0);
	heat_histogram(&t, &h);
	assert_int_equal(h.nr_pages_total, 10);
	assert_int_equal(h.nr_pages_tier[HEAT_TIER_DRAM], 4);
	assert_int_equal(h.nr_pages_tier[HEAT_TIER_CXL], 4);
	assert_int_equal(h.nr_pages_tier[HEAT_TIER_POOL], 1);
	assert_int_equal(h.nr_pages_tier[HEAT_TIER_UNKNOWN], 1);
	assert_int_equal(h.nr_pages[HEAT_TIER_DRAM][0], 1);
	assert_int_equal(h.nr_pages[HEAT_TIER_DRAM][1], 1);
	assert_int_equal(h.nr_pages[HEAT_TIER_DRAM][7], 2); /* 64 in [64, 128) */
	assert_int_equal(h.nr_pages[HEAT_TIER_CXL][7], 2); /* 100, 127 */
	assert_int_equal(h.nr_pages[HEAT_TIER_CXL][8], 1); /* 128 */
	assert_int_equal(h.nr_pages[HEAT_TIER_CXL][24], 1); /* 2^23 */
	assert_int_equal(h.nr_pages[HEAT_TIER_POOL][24], 1); /* HEAT_MAX = 2^24 - 1 */
	assert_int_equal(h.nr_pages[HEAT_TIER_UNKNOWN][0], 1);
	assert_int_equal(heat_hist_bucket_min(7), 64);
	assert_int_equal(heat_hist_bucket(HEAT_ONE), 7);
	heat_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_layout), cmocka_unit_test(test_regions),
		cmocka_unit_test(test_lookup),	      cmocka_unit_test(test_record),
		cmocka_unit_test(test_record_range),  cmocka_unit_test(test_decay_factor),
		cmocka_unit_test(test_decay),	      cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
