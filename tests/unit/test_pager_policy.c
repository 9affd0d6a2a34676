// SPDX-License-Identifier: GPL-2.0
/*
 * test_pager_policy.c — libtierpager's pure parts: the per-page state word
 * (claims and flags), CLOCK victim choice, the stream detector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../pager/lib/pager_internal.h"

/* ---- state word ---- */

static void test_claim_moves_only_from_the_expected_state(void **state)
{
	tp_word_t w;
	uint16_t old = 0;

	atomic_init(&w, tp_make(TP_RESIDENT, TP_F_DIRTY | TP_F_REF));
	/* a fetch cannot claim a resident page */
	assert_false(tp_claim(&w, TP_POOL, TP_FETCHING, &old));
	/* the evictor can; flags stay, the old word is reported */
	assert_true(tp_claim(&w, TP_RESIDENT, TP_EVICTING, &old));
	assert_int_equal(tp_state_of(old), TP_RESIDENT);
	assert_int_equal(atomic_load(&w), tp_make(TP_EVICTING, TP_F_DIRTY | TP_F_REF));
	/* owned: nobody else claims it */
	assert_false(tp_claim(&w, TP_RESIDENT, TP_FETCHING, NULL));
	/* a writer flags it; the state stays */
	tp_set_flags(&w, TP_F_CANCEL);
	assert_int_equal(tp_state_of(atomic_load(&w)), TP_EVICTING);
	assert_true(atomic_load(&w) & TP_F_CANCEL);
	tp_clear_flags(&w, TP_F_CANCEL | TP_F_REF);
	assert_int_equal(atomic_load(&w), tp_make(TP_EVICTING, TP_F_DIRTY));
}

static void test_state_word_is_compact(void **state)
{
	/* every flag fits above the state bits of one 16-bit word */
	uint16_t all = TP_F_DIRTY | TP_F_REF | TP_F_CANCEL | TP_F_WP | TP_F_DISCARD | TP_F_MOVED;

	assert_int_equal(all & TP_STATE_MASK, 0);
	assert_true(TP_GONE <= TP_STATE_MASK);
	assert_int_equal(sizeof(tp_word_t), 2);
}

/* ---- CLOCK ---- */

/*
 * Pages:  0 R+ref  1 R  2 POOL  3 R+ref  4 R  5 UNTOUCHED
 * From hand 0, wanting 2: page 0 gets a second chance (ref cleared),
 * 1 is a victim, 2 is skipped, 3 gets a second chance, 4 is a victim.
 */
static void test_clock_second_chance(void **state)
{
	tp_word_t w[6];
	struct tp_clock c = { 0 };
	uint64_t out[4];
	unsigned int n;

	atomic_init(&w[0], tp_make(TP_RESIDENT, TP_F_REF));
	atomic_init(&w[1], tp_make(TP_RESIDENT, 0));
	atomic_init(&w[2], tp_make(TP_POOL, 0));
	atomic_init(&w[3], tp_make(TP_RESIDENT, TP_F_REF | TP_F_DIRTY));
	atomic_init(&w[4], tp_make(TP_RESIDENT, TP_F_DIRTY));
	atomic_init(&w[5], tp_make(TP_UNTOUCHED, 0));
	n = tp_clock_pick(&c, w, 6, 12, out, 2);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 4);
	assert_int_equal(c.hand, 5);
	assert_false(atomic_load(&w[0]) & TP_F_REF);
	assert_false(atomic_load(&w[3]) & TP_F_REF);
	assert_true(atomic_load(&w[3]) & TP_F_DIRTY);
	/* next sweep: the hand wraps; 0 and 3 are victims now (not re-referenced) */
	n = tp_clock_pick(&c, w, 6, 12, out, 4);
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 3);
	assert_int_equal(out[3], 4);
}

static void test_clock_nothing_resident(void **state)
{
	tp_word_t w[3];
	struct tp_clock c = { 0 };
	uint64_t out[3];

	atomic_init(&w[0], tp_make(TP_POOL, 0));
	atomic_init(&w[1], tp_make(TP_EVICTING, 0));
	atomic_init(&w[2], tp_make(TP_GONE, 0));
	assert_int_equal(tp_clock_pick(&c, w, 3, 6, out, 3), 0);
	assert_int_equal(tp_clock_pick(&c, w, 0, 6, out, 3), 0);
}

/* A hot (re-referenced) page is never chosen while a cold one exists. */
static void test_clock_prefers_cold(void **state)
{
	tp_word_t w[8];
	struct tp_clock c = { 0 };
	uint64_t out[1];
	int round;

	for (int i = 0; i < 8; i++)
		atomic_init(&w[i], tp_make(TP_RESIDENT, TP_F_REF));
	atomic_store(&w[5], tp_make(TP_RESIDENT, 0));
	for (round = 0; round < 3; round++) {
		assert_int_equal(tp_clock_pick(&c, w, 8, 16, out, 1), 1);
		assert_int_equal(out[0], 5);
		/* the others are touched again */
		for (int i = 0; i < 8; i++)
			if (i != 5)
				tp_set_flags(&w[i], TP_F_REF);
		c.hand = 0;
	}
}

/* ---- stream detector ---- */

static unsigned int feed(struct tp_stream *s, uint64_t page, int64_t *stride)
{
	return tp_stream_fault(s, page, stride);
}

static void test_stream_sequential(void **state)
{
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w = 0, i;

	memset(&s, 0, sizeof(s));
	/* two faults are no trend */
	assert_int_equal(feed(&s, 100, &stride), 0);
	assert_int_equal(feed(&s, 101, &stride), 0);
	/* the third makes one: stride 1, window 4 */
	assert_int_equal(feed(&s, 102, &stride), 4);
	assert_int_equal(stride, 1);
	/* while it holds, the window doubles up to the maximum */
	assert_int_equal(feed(&s, 103, &stride), 8);
	assert_int_equal(feed(&s, 104, &stride), 16);
	assert_int_equal(feed(&s, 105, &stride), 32);
	for (i = 106; i < 120; i++)
		w = feed(&s, i, &stride);
	assert_int_equal(w, TP_STREAM_MAX_WINDOW);
}

/* Prefetched pages count as accesses: the next fault continues the trend. */
static void test_stream_continues_after_prefetch(void **state)
{
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w, i;

	memset(&s, 0, sizeof(s));
	feed(&s, 0, &stride);
	feed(&s, 1, &stride);
	w = feed(&s, 2, &stride);
	assert_int_equal(w, 4);
	for (i = 1; i <= w; i++)
		tp_stream_push(&s, 2 + i);
	/* the first page after the window faults */
	assert_int_equal(feed(&s, 7, &stride), 8);
	assert_int_equal(stride, 1);
}

static void test_stream_strided_and_backwards(void **state)
{
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w = 0, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 6; i++)
		w = feed(&s, 1000 + 3 * i, &stride);
	assert_int_equal(stride, 3);
	assert_true(w >= 4);

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 6; i++)
		w = feed(&s, 5000 - 2 * i, &stride);
	assert_int_equal(stride, -2);
	assert_true(w >= 4);
}

/* One stray fault inside a stream does not break the majority. */
static void test_stream_tolerates_noise(void **state)
{
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 6; i++)
		feed(&s, 10 + i, &stride);
	w = feed(&s, 9999, &stride); /* noise */
	(void)w;
	w = feed(&s, 9999 + 1, &stride);
	assert_int_equal(stride, 1);
	assert_true(w > 0);
}

static void test_stream_random_gives_no_window(void **state)
{
	static const uint64_t pages[] = { 812,	77,  4031, 5,  2200, 913, 61,	3500,
					  1444, 290, 3999, 12, 2718, 314, 1618, 2000 };
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w = 0, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		w = feed(&s, pages[i], &stride);
	assert_int_equal(w, 0);

	/* a stream that turns random decays to no prefetch */
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 8; i++)
		feed(&s, i, &stride);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		w = feed(&s, pages[i], &stride);
	assert_int_equal(w, 0);
}

/*
 * As the pager does it: each fault's window is prefetched and pushed. When
 * the faults turn random, the pushed guesses must not outvote them (they
 * did: each random fault "continued" the stride of its own prefetch, and
 * every fault brought a full window in, to be evicted unused).
 */
static unsigned int feed_and_prefetch(struct tp_stream *s, uint64_t page, int64_t *stride)
{
	unsigned int w = tp_stream_fault(s, page, stride), i;

	for (i = 1; i <= w; i++)
		tp_stream_push(s, (uint64_t)((int64_t)page + *stride * (int64_t)i));
	return w;
}

static void test_stream_prefetch_does_not_outvote_random(void **state)
{
	static const uint64_t pages[] = { 812, 77, 4031, 5, 2200, 913, 61, 3500 };
	struct tp_stream s;
	int64_t stride = 0;
	uint64_t next = 0;
	unsigned int w = 0, i;

	memset(&s, 0, sizeof(s));
	/* a stream, prefetched: its faults come after each window */
	for (i = 0; i < 8; i++) {
		w = feed_and_prefetch(&s, next, &stride);
		next += w + 1;
	}
	assert_int_equal(stride, 1);
	assert_int_equal(w, 128);
	/* then random: within a few faults no more prefetch */
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		w = feed_and_prefetch(&s, pages[i], &stride);
	assert_int_equal(w, 0);
}

/* Huge jumps are not strides (they would prefetch far away). */
static void test_stream_ignores_huge_strides(void **state)
{
	struct tp_stream s;
	int64_t stride = 0;
	unsigned int w = 0, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 8; i++)
		w = feed(&s, (uint64_t)i * 1000, &stride);
	assert_int_equal(w, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_moves_only_from_the_expected_state),
		cmocka_unit_test(test_state_word_is_compact),
		cmocka_unit_test(test_clock_second_chance),
		cmocka_unit_test(test_clock_nothing_resident),
		cmocka_unit_test(test_clock_prefers_cold),
		cmocka_unit_test(test_stream_sequential),
		cmocka_unit_test(test_stream_continues_after_prefetch),
		cmocka_unit_test(test_stream_strided_and_backwards),
		cmocka_unit_test(test_stream_tolerates_noise),
		cmocka_unit_test(test_stream_random_gives_no_window),
		cmocka_unit_test(test_stream_ignores_huge_strides),
		cmocka_unit_test(test_stream_prefetch_does_not_outvote_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
