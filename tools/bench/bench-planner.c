// SPDX-License-Identifier: GPL-2.0
/*
 * bench-planner — what the controller's pure core costs: records ingested
 * per second per core, bytes of metadata per tracked page, and the time of
 * one plan round (decay + histogram + plan) for 16 Mi tracked pages
 * (64 GiB). Single-threaded; thread CPU time is reported beside wall time
 * because this machine is shared and wall time includes waiting for a CPU.
 *
 * usage: bench-planner [--pages N] [--runs R] [--regions K]
 * Prints key=value lines (medians over R runs).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../controller/heat.h"
#include "../../controller/planner.h"

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct timing {
	double wall, cpu;
};

static struct timing start(void)
{
	return (struct timing){ now_s(CLOCK_MONOTONIC), now_s(CLOCK_THREAD_CPUTIME_ID) };
}

static struct timing since(struct timing t0)
{
	return (struct timing){ now_s(CLOCK_MONOTONIC) - t0.wall,
				now_s(CLOCK_THREAD_CPUTIME_ID) - t0.cpu };
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "regions", required_argument, NULL, 'k' },
		{},
	};
	uint64_t nr_pages = 16ull << 20, seed = 88172645463325252ull;
	unsigned nr_regions = 16;
	int runs = 5, c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nr_pages = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'k':
			nr_regions = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: bench-planner [--pages N] [--runs R] [--regions K]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 100 || !nr_regions || nr_pages < nr_regions) {
		fprintf(stderr, "bench-planner: bad arguments\n");
		return 2;
	}

	struct heat_table t;
	uint64_t per_region = nr_pages / nr_regions;
	uint64_t *region_start = calloc(nr_regions, sizeof(*region_start));

	heat_table_init(&t, 2000, 0);
	for (unsigned r = 0; r < nr_regions; r++) {
		/* regions 1 GiB apart plus a gap, like a process's mappings */
		region_start[r] =
		    0x7f0000000000ull + (uint64_t)r * (per_region * HEAT_PAGE_SIZE + (1ull << 30));
		int ret = heat_region_add(&t, 1000, region_start[r], per_region * HEAT_PAGE_SIZE);

		if (ret) {
			fprintf(stderr, "bench-planner: heat_region_add: %s\n", strerror(-ret));
			return 1;
		}
	}
	nr_pages = t.nr_pages;

	/* ingestion: batches of samples, uniform over all pages (cache-missing
	 * worst case) and skewed (90% of samples on 10% of pages) */
	const size_t batch = 1u << 20;
	struct heat_sample *s = malloc(batch * sizeof(*s));
	double uni[100], skew[100];

	for (int pattern = 0; pattern < 2; pattern++) {
		for (size_t i = 0; i < batch; i++) {
			uint64_t x = rnd(&seed), page;

			if (pattern == 1 && x % 10 != 0)
				page = (x >> 8) % (nr_pages / 10);
			else
				page = (x >> 8) % nr_pages;
			s[i] = (struct heat_sample){
				.pid = 1000,
				.weight = 1,
				.addr = region_start[page / per_region] +
					(page % per_region) * HEAT_PAGE_SIZE + (x & 0xfff),
			};
		}
		for (int r = 0; r < runs; r++) {
			struct timing t0 = start();
			size_t hit = heat_record_batch(&t, s, batch);
			struct timing d = since(t0);

			if (hit != batch) {
				fprintf(stderr, "bench-planner: %zu of %zu samples missed\n",
					batch - hit, batch);
				return 1;
			}
			(pattern ? skew : uni)[r] = (double)batch / d.cpu;
		}
	}

	/* a heat landscape: 10% hot, 30% warm, the rest cold; placement random */
	for (unsigned r = 0; r < t.nr_regions; r++) {
		struct heat_region *reg = t.regions[r];

		for (uint64_t p = 0; p < reg->nr_pages; p++) {
			uint64_t x = rnd(&seed);
			uint32_t heat = x % 10 == 0  ? 1000 + x % 4000
					: x % 10 < 4 ? 50 + x % 200
						     : x % 20;

			reg->recs[p] = heat_rec_make(heat * HEAT_ONE / 8,
						     (enum heat_tier)(1 + (x >> 32) % 3), 0);
		}
	}

	struct plan_budget b = {
		.dram_pages = nr_pages / 10,
		.cxl_pages = nr_pages * 3 / 10,
		.has_cxl = true,
		.pool = true,
		.max_promote_pages = 65536, /* 256 MiB/s for a 1 s round */
		.max_demote_pages = 131072, /* 512 MiB/s */
		.hysteresis_pct = 25,
	};
	size_t cap = plan_moves_needed(&t, &b);
	struct plan_move *moves = malloc(cap * sizeof(*moves));
	struct plan_result res;
	struct heat_hist hist;
	double decay_cpu[100], hist_cpu[100], plan_cpu[100], plan_wall[100], round_wall[100];
	uint64_t clock_ms = 0;

	for (int r = 0; r < runs; r++) {
		struct timing t0 = start(), d;

		clock_ms += 1000;
		heat_decay(&t, clock_ms);
		d = since(t0);
		decay_cpu[r] = d.cpu;
		struct timing t1 = start();

		heat_histogram(&t, &hist);
		d = since(t1);
		hist_cpu[r] = d.cpu;
		struct timing t2 = start();
		int ret = plan_round(&t, &b, moves, cap, &res);

		d = since(t2);
		if (ret) {
			fprintf(stderr, "bench-planner: plan_round: %s\n", strerror(-ret));
			return 1;
		}
		plan_cpu[r] = d.cpu;
		plan_wall[r] = d.wall;
		round_wall[r] = since(t0).wall;
		/* undo the decay's effect on the landscape so every run plans the same input */
		for (unsigned i = 0; i < t.nr_regions; i++)
			for (uint64_t p = 0; p < t.regions[i]->nr_pages; p++) {
				uint32_t rec = t.regions[i]->recs[p];

				t.regions[i]->recs[p] =
				    heat_rec_make(heat_rec_heat(rec) * 2, heat_rec_tier(rec), 0);
			}
	}

	/* steady state: pages where the last plan put them, same heat; what a
	 * round costs when there is little to do (the common case) */
	uint64_t first_moves = res.nr_moves, first_promote = res.nr_promote,
		 first_demote = res.nr_demote;
	struct plan_budget all = b;
	double steady_cpu[100];

	all.max_promote_pages = all.max_demote_pages = PLAN_UNLIMITED;
	size_t cap_all = plan_moves_needed(&t, &all);
	struct plan_move *every = malloc(cap_all * sizeof(*every));

	if (!every || plan_round(&t, &all, every, cap_all, &res)) {
		fprintf(stderr, "bench-planner: unlimited plan failed\n");
		return 1;
	}
	for (uint64_t i = 0; i < res.nr_moves; i++)
		heat_set_tier(&t, every[i].pid, every[i].addr, every[i].to);
	free(every);
	for (int r = 0; r < runs; r++) {
		struct timing t0 = start();

		if (plan_round(&t, &b, moves, cap, &res))
			return 1;
		steady_cpu[r] = since(t0).cpu;
	}

	printf("pages=%llu\n", (unsigned long long)nr_pages);
	printf("tracked_gib=%.1f\n", (double)nr_pages * HEAT_PAGE_SIZE / (1ull << 30));
	printf("regions=%u\n", t.nr_regions);
	printf("runs=%d\n", runs);
	printf("metadata_bytes_per_page=%.4f\n", (double)heat_table_bytes(&t) / (double)nr_pages);
	printf("ingest_uniform_per_s=%.0f\n", median(uni, runs));
	printf("ingest_skewed_per_s=%.0f\n", median(skew, runs));
	printf("decay_ms=%.1f\n", median(decay_cpu, runs) * 1e3);
	printf("histogram_ms=%.1f\n", median(hist_cpu, runs) * 1e3);
	printf("plan_cpu_ms=%.1f\n", median(plan_cpu, runs) * 1e3);
	printf("plan_wall_ms=%.1f\n", median(plan_wall, runs) * 1e3);
	printf("round_wall_ms=%.1f\n", median(round_wall, runs) * 1e3);
	printf("plan_moves=%llu\n", (unsigned long long)first_moves);
	printf("plan_promote=%llu\n", (unsigned long long)first_promote);
	printf("plan_demote=%llu\n", (unsigned long long)first_demote);
	printf("steady_plan_cpu_ms=%.1f\n", median(steady_cpu, runs) * 1e3);
	printf("steady_plan_moves=%llu\n", (unsigned long long)res.nr_moves);
	printf("dram_enter_heat=%u\n", res.dram.enter_heat);
	free(moves);
	free(s);
	free(region_start);
	heat_table_free(&t);
	return 0;
}
