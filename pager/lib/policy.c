// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c — the pager's pure decisions: CLOCK victim choice and the stream
 * detector (see pager_internal.h). No syscalls, no allocation: they run on
 * the fault path and in the unit tests alike.
 */
#include "pager_internal.h"

unsigned int tp_clock_pick(struct tp_clock *c, tp_word_t *words, uint64_t nr, uint64_t max_scan,
			   uint64_t *out, unsigned int want)
{
	unsigned int found = 0;
	uint64_t i;

	if (nr == 0)
		return 0;
	for (i = 0; i < max_scan && found < want; i++) {
		uint64_t idx = c->hand;
		uint16_t w = atomic_load_explicit(&words[idx], memory_order_relaxed);

		if (++c->hand >= nr)
			c->hand = 0;
		if (tp_state_of(w) != TP_RESIDENT)
			continue;
		if (w & TP_F_REF) {
			tp_clear_flags(&words[idx], TP_F_REF);
			continue;
		}
		out[found++] = idx;
	}
	return found;
}

static void stream_record(struct tp_stream *s, uint64_t page)
{
	s->hist[s->pos] = page;
	s->pos = (s->pos + 1) % TP_STREAM_HIST;
	if (s->nr < TP_STREAM_HIST)
		s->nr++;
}

void tp_stream_push(struct tp_stream *s, uint64_t page)
{
	stream_record(s, page);
	s->pushed++;
}

/*
 * Pushed pages are guesses: they stand in for the accesses that a stream's
 * prefetch spares it, and only the fault that continues right after them
 * proves them right. Any other fault takes them out of the history before
 * the vote, or they would outvote the faults themselves and a random
 * pattern would "continue" the stride of its own last prefetch for ever.
 */
static void stream_drop_guesses(struct tp_stream *s, uint64_t page)
{
	uint64_t last;
	unsigned int k;

	if (!s->pushed)
		return;
	last = s->hist[(s->pos + TP_STREAM_HIST - 1) % TP_STREAM_HIST];
	if (s->stride && (int64_t)(page - last) == s->stride) {
		s->pushed = 0;
		return;
	}
	k = s->pushed < s->nr ? s->pushed : s->nr;
	s->pos = (s->pos + TP_STREAM_HIST - k) % TP_STREAM_HIST;
	s->nr -= k;
	s->pushed = 0;
}

/* The majority delta of the history, or 0 when no delta has a majority. */
static int64_t stream_majority(const struct tp_stream *s)
{
	int64_t deltas[TP_STREAM_HIST], cand = 0;
	unsigned int n = 0, i, votes = 0, first;

	if (s->nr < 3)
		return 0;
	first = (s->pos + TP_STREAM_HIST - s->nr) % TP_STREAM_HIST;
	for (i = 1; i < s->nr; i++) {
		uint64_t a = s->hist[(first + i - 1) % TP_STREAM_HIST];
		uint64_t b = s->hist[(first + i) % TP_STREAM_HIST];

		deltas[n++] = (int64_t)(b - a);
	}
	for (i = 0; i < n; i++) {
		if (votes == 0) {
			cand = deltas[i];
			votes = 1;
		} else if (deltas[i] == cand) {
			votes++;
		} else {
			votes--;
		}
	}
	votes = 0;
	for (i = 0; i < n; i++)
		votes += deltas[i] == cand;
	if (votes * 2 <= n || cand == 0 || cand > TP_STREAM_MAX_STRIDE ||
	    cand < -TP_STREAM_MAX_STRIDE)
		return 0;
	return cand;
}

unsigned int tp_stream_fault(struct tp_stream *s, uint64_t page, int64_t *stride)
{
	int64_t d;

	stream_drop_guesses(s, page);
	stream_record(s, page);
	d = stream_majority(s);
	if (d == 0) {
		s->window /= 2;
	} else if (d == s->stride && s->window) {
		s->window *= 2;
		if (s->window > TP_STREAM_MAX_WINDOW)
			s->window = TP_STREAM_MAX_WINDOW;
	} else {
		s->stride = d;
		s->window = 4;
	}
	*stride = s->stride;
	return s->stride ? s->window : 0;
}
