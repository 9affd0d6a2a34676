// SPDX-License-Identifier: GPL-2.0
/*
 * tier-pagebench — 4 KiB page touches over a region larger than local
 * memory, timed one by one: the workload of `make bench-pager`.
 *
 *   tier-pagebench --size SIZE [--random N] [--warmup N] [--seq-passes N]
 *
 * Writes every page once (populate), then N random touches (after a
 * warm-up), then sequential passes over the whole region. A touch is a
 * read-modify-write of one word of the page. It prints one line per phase:
 *   random n=N mean_ns=... p50_ns=... p90_ns=... p99_ns=... p999_ns=... max_ns=...
 *          over_10us=... (touches that waited, for a fault or otherwise)
 *   seq ...
 * and checks at the end that every page holds what was written to it.
 * The latency samples live in .bss, which exists before the pager starts
 * and so is never paged by it (timings don't page themselves).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "latency.h"

#define PAGE 4096ul
#define MAX_SAMPLES (1u << 20)

static uint32_t samples[MAX_SAMPLES];

static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v < PAGE)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "random", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "seq-passes", required_argument, NULL, 'q' },
		{ 0 },
	};
	uint64_t size = 256ull << 20, nr_random = 50000, warmup = 20000, passes = 1,
		 seed = 88172645463325252ull;
	uint64_t nr_pages, i, p, bad = 0, *counts;
	volatile uint64_t *w;
	unsigned char *region;
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size))
				return fprintf(stderr, "pagebench: bad size %s\n", optarg), 2;
			break;
		case 'r':
			nr_random = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			passes = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: tier-pagebench --size SIZE [--random N] [--warmup N] "
				"[--seq-passes N]\n");
			return 2;
		}
	}
	if (nr_random > MAX_SAMPLES)
		nr_random = MAX_SAMPLES;
	nr_pages = size / PAGE;
	region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	counts = mmap(NULL, nr_pages * sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || counts == MAP_FAILED)
		return perror("pagebench: mmap"), 2;
	/* populate: each page's first word is its number, the second its touch count */
	for (p = 0; p < nr_pages; p++) {
		w = (volatile uint64_t *)(region + p * PAGE);
		w[0] = p;
		w[1] = 0;
	}
	for (i = 0; i < warmup; i++) {
		p = rnd(&seed) % nr_pages;
		w = (volatile uint64_t *)(region + p * PAGE);
		w[1]++;
		counts[p]++;
	}
	for (i = 0; i < nr_random; i++) {
		uint64_t t0, t1;

		p = rnd(&seed) % nr_pages;
		w = (volatile uint64_t *)(region + p * PAGE);
		t0 = now_ns();
		w[1]++;
		t1 = now_ns();
		samples[i] = clamp_ns(t1 - t0);
		counts[p]++;
	}
	report("random", samples, (size_t)nr_random);
	n = 0;
	for (i = 0; i < passes; i++) {
		for (p = 0; p < nr_pages; p++) {
			uint64_t t0, t1;

			w = (volatile uint64_t *)(region + p * PAGE);
			t0 = now_ns();
			w[1]++;
			t1 = now_ns();
			if (n < MAX_SAMPLES)
				samples[n++] = clamp_ns(t1 - t0);
			counts[p]++;
		}
	}
	report("seq", samples, n);
	for (p = 0; p < nr_pages; p++) {
		w = (volatile uint64_t *)(region + p * PAGE);
		bad += w[0] != p || w[1] != counts[p];
	}
	printf("verify pages=%llu bad=%llu\n", (unsigned long long)nr_pages,
	       (unsigned long long)bad);
	return bad ? 1 : 0;
}
