// SPDX-License-Identifier: GPL-2.0
/*
 * hint.c — hint faults: let tierd see accesses to resident pages on a
 * machine without a PMU or DAMON vaddr.
 *
 * Why it is shaped this way: a resident page raises no fault, so page
 * faults alone show tierd only first touches and pool fetches. About
 * rate pages per second (policy heat.hint_pages_per_s, sent by tierd as
 * "hint N"), chosen at random among resident managed pages, are taken out
 * through the pager's own eviction (the pool is the stash: a clean page
 * costs no pool write); the next access faults, tierd's fault program
 * sees it, and the pager installs the page as for any fetch. A sampled
 * page not touched within HINT_TTL_NS is put back by the channel thread
 * (tier_pager_fetch: an ioctl, not a fault of the workload, so tierd sees
 * nothing), so sampling does not move memory by itself. Runs only on the
 * channel thread, never on the fault path; no allocation (a static ring).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "tierd/pager.h"
#include "pager_sys.h"

#define HINT_RING 4096
#define HINT_TTL_NS 1000000000ull
#define HINT_PAGE 4096u

static struct {
	_Atomic unsigned int rate; /* pages per second */
	uint64_t last_ns;
	uint64_t credit_milli; /* pages * 1000 */
	uint64_t rng;
	uintptr_t ring[HINT_RING];
	uint64_t ring_ns[HINT_RING];
	unsigned int head, tail; /* tail..head: armed, not yet put back */
	_Atomic uint64_t count;
} H = { .rng = 0x9e3779b97f4a7c15ull };

void tp_hint_set_rate(unsigned int pages_per_s)
{
	H.rate = pages_per_s;
}

uint64_t tp_hint_count(void)
{
	return H.count;
}

static uint64_t xorshift(void)
{
	H.rng ^= H.rng << 13;
	H.rng ^= H.rng >> 7;
	H.rng ^= H.rng << 17;
	return H.rng;
}

void tp_hint_tick(uint64_t now_ns)
{
	unsigned int rate = H.rate;
	uint64_t dt_ms;

	/* put back the sampled pages nobody touched (still in the pool) */
	while (H.tail != H.head &&
	       (now_ns - H.ring_ns[H.tail % HINT_RING] > HINT_TTL_NS || !rate)) {
		tier_pager_fetch((void *)H.ring[H.tail % HINT_RING], HINT_PAGE);
		H.tail++;
	}
	if (!H.last_ns || !rate) {
		H.last_ns = now_ns;
		H.credit_milli = 0;
		return;
	}
	dt_ms = (now_ns - H.last_ns) / 1000000ull;
	H.last_ns = now_ns;
	H.credit_milli += dt_ms * rate;
	if (H.credit_milli > (uint64_t)rate * 1000) /* at most a second's worth at once */
		H.credit_milli = (uint64_t)rate * 1000;
	while (H.credit_milli >= 1000 && H.head - H.tail < HINT_RING) {
		uintptr_t a = tp_pick_resident(xorshift() >> 11);

		H.credit_milli -= 1000;
		if (!a)
			continue;
		tier_pager_evict((void *)a, HINT_PAGE);
		H.ring[H.head % HINT_RING] = a;
		H.ring_ns[H.head % HINT_RING] = now_ns;
		H.head++;
		H.count++;
	}
}
