/* SPDX-License-Identifier: GPL-2.0 */
/*
 * latency.h — timing one touch at a time and the report line the pager's
 * benchmark parses (tier-pagebench, tier-uffd-floor):
 *   NAME n=N mean_ns=... p50_ns=... p90_ns=... p99_ns=... p999_ns=...
 *        max_ns=... over_10us=...
 */
#ifndef TIERD_BENCH_LATENCY_H
#define TIERD_BENCH_LATENCY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint32_t clamp_ns(uint64_t ns)
{
	return ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static inline int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* How many of the sorted @s are below @v. */
static inline size_t count_below(const uint32_t *s, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sorts @s and prints its line. */
static inline void report(const char *name, uint32_t *s, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += s[i];
	qsort(s, n, sizeof(*s), cmp_u32);
	printf("%s n=%zu mean_ns=%.0f p50_ns=%u p90_ns=%u p99_ns=%u p999_ns=%u max_ns=%u "
	       "over_10us=%zu\n",
	       name, n, n ? sum / (double)n : 0.0, n ? s[n / 2] : 0, n ? s[n * 90 / 100] : 0,
	       n ? s[n * 99 / 100] : 0, n ? s[n * 999 / 1000] : 0, n ? s[n - 1] : 0,
	       n - count_below(s, n, 10000));
	fflush(stdout);
}

#endif
