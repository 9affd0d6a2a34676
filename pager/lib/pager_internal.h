/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pager_internal.h — the pure parts of libtierpager (no syscalls), shared
 * with the unit tests: the per-page state word, CLOCK victim choice, the
 * stream detector, option parsing.
 */
#ifndef TIERD_PAGER_INTERNAL_H
#define TIERD_PAGER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One 16-bit word per page, changed only with compare-and-swap: a thread
 * that moves a page out of a stable state (UNTOUCHED, RESIDENT, POOL) into
 * a transient one (FETCHING, EVICTING) owns the page until it sets a
 * stable state again. Others only set flags on an owned page.
 *
 *   UNTOUCHED  never touched, or discarded: reads as zeros, no pool slot
 *   RESIDENT   present in local memory (the slot, if any, may be stale: DIRTY)
 *   POOL       not present; the only copy is in the pool slot
 *   FETCHING   a handler is installing it
 *   EVICTING   the evictor is taking it out (write-protected, being copied)
 *   GONE       not managed (unmapped, or moved away by mremap)
 */
enum tp_state {
	TP_UNTOUCHED = 0,
	TP_RESIDENT = 1,
	TP_POOL = 2,
	TP_FETCHING = 3,
	TP_EVICTING = 4,
	TP_GONE = 5,
};

#define TP_STATE_MASK 0x000fu
#define TP_F_DIRTY 0x0010u /* resident content differs from the slot (or no slot) */
#define TP_F_REF 0x0020u /* CLOCK reference bit */
#define TP_F_CANCEL 0x0040u /* written during eviction: the evictor must give up */
#define TP_F_WP 0x0080u /* the PTE is userfaultfd write-protected */
#define TP_F_DISCARD 0x0100u /* unmapped while owned: the owner makes it GONE */
#define TP_F_MOVED 0x0200u /* mremap moved it while owned: the owner lets go */
#define TP_F_WRITTEN 0x0400u /* written since a fetch once: fetch it writable */

#define TP_SLOT_NONE UINT32_MAX

typedef _Atomic uint16_t tp_word_t;

static inline unsigned int tp_state_of(uint16_t w)
{
	return w & TP_STATE_MASK;
}

static inline uint16_t tp_make(unsigned int state, uint16_t flags)
{
	return (uint16_t)((flags & ~TP_STATE_MASK) | state);
}

/* Move @w from state @from to @to (flags := @flags) if it is in @from. */
static inline bool tp_claim(tp_word_t *w, unsigned int from, unsigned int to, uint16_t *old)
{
	uint16_t cur = atomic_load_explicit(w, memory_order_acquire);

	for (;;) {
		if (tp_state_of(cur) != from)
			return false;
		if (atomic_compare_exchange_weak_explicit(
			w, &cur, tp_make(to, cur), memory_order_acq_rel, memory_order_acquire)) {
			if (old)
				*old = cur;
			return true;
		}
	}
}

/* Set flags on a word whatever its state is. */
static inline uint16_t tp_set_flags(tp_word_t *w, uint16_t flags)
{
	return atomic_fetch_or_explicit(w, flags, memory_order_acq_rel);
}

static inline uint16_t tp_clear_flags(tp_word_t *w, uint16_t flags)
{
	return atomic_fetch_and_explicit(w, (uint16_t)~flags, memory_order_acq_rel);
}

/* ---- CLOCK ------------------------------------------------------------------
 * The hand sweeps a region's words. A RESIDENT page whose reference bit is
 * set gets a second chance (the bit is cleared); one without it is a
 * victim. Reference bits are set by faults (install, first write after a
 * fetch), i.e. by the accesses the pager can see. Victims are returned,
 * not claimed: the caller claims each with tp_claim().
 */
struct tp_clock {
	uint64_t hand; /* next page index to look at */
};

/*
 * Look at up to @max_scan words from the hand (wrapping at @nr), put up to
 * @want victim indexes in @out. Returns the number of victims found.
 */
unsigned int tp_clock_pick(struct tp_clock *c, tp_word_t *words, uint64_t nr, uint64_t max_scan,
			   uint64_t *out, unsigned int want);

/* ---- stream detector ----------------------------------------------------------
 * Leap's idea: over the last TP_STREAM_HIST faulting page numbers, the
 * majority delta (Boyer-Moore vote) is the stream's stride if more than
 * half of the deltas agree. While the trend holds the window doubles (up to
 * TP_STREAM_MAX_WINDOW); when it breaks, it halves. Prefetched pages are
 * pushed into the history as if they had been accessed, so the next fault
 * of a stream continues the same stride; a fault anywhere else takes them
 * out again (stream_drop_guesses).
 */
#define TP_STREAM_HIST 8
#define TP_STREAM_MAX_WINDOW 128
#define TP_STREAM_MAX_STRIDE 64

struct tp_stream {
	uint64_t hist[TP_STREAM_HIST];
	unsigned int nr; /* entries in hist (<= TP_STREAM_HIST) */
	unsigned int pos;
	int64_t stride;
	unsigned int window;
	unsigned int pushed; /* entries at the end of hist that were prefetched, not faulted */
};

/* Record a fault on @page; returns the prefetch window (pages) and stride. */
unsigned int tp_stream_fault(struct tp_stream *s, uint64_t page, int64_t *stride);
/* Record that @page was prefetched. */
void tp_stream_push(struct tp_stream *s, uint64_t page);

#endif /* TIERD_PAGER_INTERNAL_H */
