// SPDX-License-Identifier: GPL-2.0
/*
 * test_tiering.c — tierd's tiering loop against a simulated machine.
 *
 * The machine (struct sim): one workload process with one anonymous range
 * of NR_PAGES pages, each on node 0 (DRAM) or node 1 (CXL), plus tierd's
 * own pid listed in the cgroup (it must never be queried or moved).
 * Heat arrives as fault records, as the observer would deliver them. The
 * tests run whole rounds and check where pages end up:
 *
 *   before:  [ HHHH.......... ] all on node 1, H = hot (many faults)
 *   after:   hot pages on node 0, node-0 pages <= the DRAM budget
 *
 * plus the pure parts: /proc/PID/maps lines, region sync keeping heat,
 * the policy reload rule, and DAMON's sysfs dance on a fixture directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../../controller/tiering.h"

#define PID 100
#define BASE 0x7f0000000000ull
#define NR_PAGES 1024
#define PG HEAT_PAGE_SIZE

struct sim {
	int node[NR_PAGES];
	uint32_t self_pid;
	unsigned nr_queries, nr_moves_calls, nr_moved, nr_self_touched;
};

static struct sim S;

static int sim_read_pids(void *ctx, const char *path, uint32_t **pids, unsigned *nr)
{
	*pids = malloc(2 * sizeof(**pids));
	(*pids)[0] = PID;
	(*pids)[1] = S.self_pid;
	*nr = 2;
	return 0;
}

static int sim_read_ranges(void *ctx, uint32_t pid, struct tiering_range **r, unsigned *nr)
{
	if (pid != PID)
		S.nr_self_touched++;
	*r = malloc(sizeof(**r));
	(*r)[0].start = BASE;
	(*r)[0].end = BASE + NR_PAGES * PG;
	*nr = 1;
	return 0;
}

static int page_of(uint32_t pid, uint64_t addr)
{
	if (pid != PID) {
		S.nr_self_touched++;
		return -1;
	}
	if (addr < BASE || addr >= BASE + NR_PAGES * PG)
		return -1;
	return (addr - BASE) / PG;
}

static int sim_query(void *ctx, uint32_t pid, const uint64_t *addrs, size_t n, int *status)
{
	S.nr_queries++;
	for (size_t i = 0; i < n; i++) {
		int p = page_of(pid, addrs[i]);

		status[i] = p < 0 ? -EFAULT : S.node[p];
	}
	return 0;
}

static long sim_move(void *ctx, uint32_t pid, const uint64_t *addrs, const int *nodes, size_t n,
		     int *status)
{
	long ok = 0;

	S.nr_moves_calls++;
	for (size_t i = 0; i < n; i++) {
		int p = page_of(pid, addrs[i]);

		if (p < 0) {
			status[i] = -EFAULT;
			continue;
		}
		S.node[p] = nodes[i];
		status[i] = nodes[i];
		ok++;
		S.nr_moved++;
	}
	return ok;
}

static int sim_read_usage(void *ctx, const char *path, uint64_t *bytes)
{
	*bytes = NR_PAGES * PG;
	return 0;
}

static const struct tiering_ops sim_ops = {
	.read_pids = sim_read_pids,
	.read_ranges = sim_read_ranges,
	.query = sim_query,
	.move = sim_move,
	.read_usage = sim_read_usage,
};

static uint32_t rank2[TIERD_MAX_NODES];

static void sim_setup(struct tiering *tg, bool dry_run, int start_node)
{
	memset(&S, 0, sizeof(S));
	for (int i = 0; i < NR_PAGES; i++)
		S.node[i] = start_node;
	for (int i = 0; i < TIERD_MAX_NODES; i++)
		rank2[i] = TIERD_RANK_UNKNOWN;
	rank2[0] = 0;
	rank2[1] = 1;
	assert_int_equal(tiering_init(tg, &sim_ops, rank2, NULL, false, dry_run, 0), 0);
	S.self_pid = tg->self_pid;
	assert_int_equal(tg->nodes.nr_dram, 1);
	assert_int_equal(tg->nodes.nr_cxl, 1);
}

static void fault(struct tiering *tg, uint64_t cg_id, int page, unsigned times)
{
	struct tierd_fault_rec r = { .hdr.type = TIERD_REC_FAULT };

	r.cgroup_id = cg_id;
	r.pid = PID;
	r.address = BASE + page * PG + 123;
	for (unsigned i = 0; i < times; i++)
		tiering_on_record(tg, &r.hdr, sizeof(r));
}

static unsigned on_node(int node, int first, int n)
{
	unsigned k = 0;

	for (int i = first; i < first + n; i++)
		k += S.node[i] == node;
	return k;
}

/* Heat HOT_N pages from HOT_FIRST for ROUNDS rounds of 1 s each. */
static void run_rounds(struct tiering *tg, struct tiering_cg *cg, int hot_first, int hot_n,
		       int rounds, uint64_t *now_ms)
{
	for (int r = 0; r < rounds; r++) {
		for (int p = hot_first; p < hot_first + hot_n; p++)
			fault(tg, cg->id, p, 20);
		for (int p = r % 7; p < NR_PAGES; p += 7) /* background: 1 access each */
			fault(tg, cg->id, p, 1);
		*now_ms += 1000;
		assert_int_equal(tiering_round(tg, cg, *now_ms), 0);
	}
}

static void test_converges_within_budget(void **state)
{
	struct policy_size dram = { .kind = POLICY_SIZE_BYTES, .bytes = 256 * PG };
	struct policy_size cxl = { .kind = POLICY_SIZE_MAX };
	struct tiering tg;
	struct tiering_cg *cg;
	uint64_t now = 0;

	sim_setup(&tg, false, 1);
	assert_int_equal(tiering_manage(&tg, 7, "/sim/cg", &dram, &cxl, false, false, 0), 0);
	cg = tiering_find(&tg, 7);
	assert_non_null(cg);

	/* hot: pages 100..227 (128 pages), all start on node 1 */
	run_rounds(&tg, cg, 100, 128, 4, &now);
	assert_int_equal(on_node(0, 100, 128), 128);
	assert_true(on_node(0, 0, NR_PAGES) <= 256);
	assert_int_equal(cg->heat.nr_pages, NR_PAGES);
	assert_true(cg->promoted >= 128);
	/* rates are over the last 10 s of rounds (1 s apart here) */
	assert_true(cg->promote_per_s >= 128 / 4.0);
	/* tierd's own pid is in the cgroup, and never looked at */
	assert_int_equal(S.nr_self_touched, 0);

	/* the hot set moves: pages 600..727 */
	run_rounds(&tg, cg, 600, 128, 6, &now);
	assert_int_equal(on_node(0, 600, 128), 128);
	assert_true(on_node(0, 0, NR_PAGES) <= 256);
	assert_true(cg->demoted > 0);

	/* steady state: no more moves */
	{
		unsigned moved = S.nr_moved;

		run_rounds(&tg, cg, 600, 128, 2, &now);
		assert_int_equal(S.nr_moved, moved);
	}
	tiering_free(&tg);
}

static void test_dry_run_moves_nothing(void **state)
{
	struct policy_size dram = { .kind = POLICY_SIZE_BYTES, .bytes = 64 * PG };
	struct policy_size cxl = { .kind = POLICY_SIZE_MAX };
	struct tiering tg;
	struct tiering_cg *cg;
	uint64_t now = 0;

	sim_setup(&tg, true, 1);
	assert_int_equal(tiering_manage(&tg, 7, "/sim/cg", &dram, &cxl, false, false, 0), 0);
	cg = tiering_find(&tg, 7);
	run_rounds(&tg, cg, 0, 64, 3, &now);
	assert_int_equal(S.nr_moves_calls, 0);
	assert_int_equal(on_node(1, 0, NR_PAGES), NR_PAGES);
	assert_true(cg->plan.nr_moves > 0); /* it did plan */
	tiering_free(&tg);
}

static void test_over_budget_dram_is_demoted(void **state)
{
	struct policy_size dram = { .kind = POLICY_SIZE_PCT, .pct_bp = 2500 }; /* 256 pages */
	struct policy_size cxl = { .kind = POLICY_SIZE_MAX };
	struct tiering tg;
	struct tiering_cg *cg;
	uint64_t now = 0;

	sim_setup(&tg, false, 0); /* everything starts in DRAM */
	assert_int_equal(tiering_manage(&tg, 7, "/sim/cg", &dram, &cxl, false, false, 0), 0);
	cg = tiering_find(&tg, 7);
	run_rounds(&tg, cg, 0, 128, 3, &now);
	assert_true(on_node(0, 0, NR_PAGES) <= 256);
	assert_int_equal(on_node(0, 0, 128), 128);
	tiering_free(&tg);
}

static void test_maps_lines(void **state)
{
	struct tiering_range r;

	assert_true(
	    tiering_maps_parse_line("7f0000000000-7f0020000000 rw-p 00000000 00:00 0 \n", &r));
	assert_int_equal(r.start, 0x7f0000000000ull);
	assert_int_equal(r.end, 0x7f0020000000ull);
	assert_true(tiering_maps_parse_line(
	    "55d000000000-55d000100000 rw-p 00000000 00:00 0                          [heap]\n",
	    &r));
	assert_true(tiering_maps_parse_line(
	    "7ffc00000000-7ffc00100000 rw-p 00000000 00:00 0                          [stack]\n",
	    &r));
	/* read-only, shared, file-backed, too small, special */
	assert_false(
	    tiering_maps_parse_line("7f0000000000-7f0020000000 r--p 00000000 00:00 0 \n", &r));
	assert_false(tiering_maps_parse_line(
	    "7f0000000000-7f0020000000 rw-s 00000000 00:01 1234 /dev/zero (deleted)\n", &r));
	assert_false(tiering_maps_parse_line(
	    "7f0000000000-7f0020000000 rw-p 00001000 08:01 5678 /usr/lib/libc.so.6\n", &r));
	assert_false(
	    tiering_maps_parse_line("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n", &r));
	assert_false(tiering_maps_parse_line(
	    "7ffc00000000-7ffc00100000 rw-p 00000000 00:00 0                          [vvar]\n",
	    &r));
	assert_false(tiering_maps_parse_line("garbage\n", &r));
	/* a named anonymous VMA is the workload's; the pager's own is not */
	assert_true(tiering_maps_parse_line(
	    "7f0000000000-7f0020000000 rw-p 00000000 00:00 0                  [anon:jemalloc]\n",
	    &r));
	assert_false(tiering_maps_parse_line(
	    "7f0000000000-7f0020000000 rw-p 00000000 00:00 0              [anon:tierd-pager]\n",
	    &r));
}

static void test_sync_keeps_heat(void **state)
{
	struct tiering_range a[2] = { { 0x100000, 0x200000 }, { 0x400000, 0x500000 } };
	struct tiering_range b[2] = { { 0x100000, 0x200000 }, { 0x400000, 0x480000 } };
	struct heat_table t;

	heat_table_init(&t, 1000, 0);
	assert_int_equal(tiering_sync_regions(&t, 5, a, 2), 0);
	assert_int_equal(t.nr_regions, 2);
	assert_int_equal(heat_record(&t, 5, 0x100000, 3), 0);
	assert_int_equal(heat_record(&t, 5, 0x400000, 3), 0);
	/* another pid is untouched by a sync of pid 5 */
	assert_int_equal(heat_region_add(&t, 6, 0x100000, 0x10000), 0);
	assert_int_equal(tiering_sync_regions(&t, 5, b, 2), 0);
	assert_int_equal(t.nr_regions, 3);
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 5, 0x100000)), 3 * HEAT_ONE);
	/* the range that changed shape starts cold */
	assert_int_equal(heat_rec_heat(*heat_lookup(&t, 5, 0x400000)), 0);
	assert_null(heat_lookup(&t, 5, 0x480000));
	assert_non_null(heat_lookup(&t, 6, 0x100000));
	assert_int_equal(tiering_sync_regions(&t, 5, NULL, 0), 0);
	assert_int_equal(t.nr_regions, 1);
	heat_table_free(&t);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_policy_reload_rule(void **state)
{
	char dir[] = "/tmp/test_tiering.XXXXXX", good[64], bad[64];
	struct tiering tg;

	assert_non_null(mkdtemp(dir));
	snprintf(good, sizeof(good), "%s/good.json", dir);
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	write_text(good, "{ \"moves\": { \"interval_ms\": 500 }, \"tiers\": { \"dram\": [0] } }\n");
	write_text(bad, "{ \"moves\": { \"interval_ms\": \"soon\" } }\n");
	sim_setup(&tg, false, 1);
	assert_int_equal(tg.policy.moves.interval_ms, 1000);
	assert_int_equal(tiering_load_policy(&tg, good, 0), 0);
	assert_int_equal(tg.policy.moves.interval_ms, 500);
	assert_string_equal(tg.policy_file, good);
	assert_true(tiering_load_policy(&tg, bad, 0) < 0);
	assert_int_equal(tg.policy.moves.interval_ms, 500); /* the old one stays */
	assert_string_equal(tg.policy_file, good);
	tiering_free(&tg);
	unlink(good);
	unlink(bad);
	rmdir(dir);
}

static void mk(const char *root, const char *rel, const char *content)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	if (content)
		write_text(p, content);
}

static void slurp(const char *root, const char *rel, char *buf, size_t size)
{
	char p[512];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = 0;
	fclose(f);
}

static void test_damon_fixture(void **state)
{
	char root[] = "/tmp/test_damon.XXXXXX", buf[64], cmd[600];
	static const char *const files[] = {
		"kdamonds/0/state",
		"kdamonds/0/contexts/nr_contexts",
		"kdamonds/0/contexts/0/operations",
		"kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us",
		"kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us",
		"kdamonds/0/contexts/0/monitoring_attrs/intervals/update_us",
		"kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min",
		"kdamonds/0/contexts/0/monitoring_attrs/nr_regions/max",
		"kdamonds/0/contexts/0/targets/nr_targets",
		"kdamonds/0/contexts/0/targets/0/pid_target",
		"kdamonds/0/contexts/0/targets/1/pid_target",
	};
	uint32_t pids[3] = { 30, 10, 30 }, pid;
	struct damon_ctl d;

	assert_non_null(mkdtemp(root));
	/* someone else's kdamond: hands off */
	mk(root, "kdamonds/nr_kdamonds", "1\n");
	damon_probe(&d, root, NULL, NULL);
	assert_false(d.available);
	assert_non_null(strstr(d.why, "belong to the platform"));
	assert_true(damon_set_targets(&d, pids, 3, 0) < 0);

	/* none: ours to drive */
	mk(root, "kdamonds/nr_kdamonds", "0\n");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		mk(root, files[i], "");
	damon_probe(&d, root, NULL, NULL);
	assert_true(d.available);
	assert_int_equal(damon_set_targets(&d, pids, 3, 1000), 0);
	assert_true(d.running && d.owned);
	assert_int_equal(d.nr_targets, 2);
	slurp(root, "kdamonds/0/contexts/0/operations", buf, sizeof(buf));
	assert_string_equal(buf, "vaddr");
	slurp(root, "kdamonds/0/contexts/0/targets/1/pid_target", buf, sizeof(buf));
	assert_string_equal(buf, "30");
	slurp(root, "kdamonds/0/state", buf, sizeof(buf));
	assert_string_equal(buf, "on");
	assert_int_equal(damon_target_pid(&d, 0, 2000, &pid), 0);
	assert_int_equal(pid, 10);
	assert_int_equal(damon_target_pid(&d, 1, 2000, &pid), 0);
	assert_int_equal(pid, 30);
	assert_int_equal(damon_target_pid(&d, 2, 2000, &pid), -ENOENT);
	assert_int_equal(damon_target_pid(&d, 0, 999, &pid), -ENOENT); /* stale */
	/* the same set again: no restart */
	assert_int_equal(damon_set_targets(&d, pids, 3, 3000), 0);
	assert_int_equal(d.nr_restarts, 1);
	damon_release(&d);
	slurp(root, "kdamonds/nr_kdamonds", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	slurp(root, "kdamonds/0/state", buf, sizeof(buf));
	assert_string_equal(buf, "off");

	/* a kdamond left by a tierd that died: taken back */
	{
		char owner[128];

		snprintf(owner, sizeof(owner), "%s/owner", root);
		write_text(owner, "2147483000\n"); /* no such pid */
		mk(root, "kdamonds/nr_kdamonds", "1\n");
		mk(root, "kdamonds/0/state", "on\n");
		damon_probe(&d, root, NULL, owner);
		assert_true(d.available);
		slurp(root, "kdamonds/nr_kdamonds", buf, sizeof(buf));
		assert_string_equal(buf, "0");
		assert_int_equal(access(owner, F_OK), -1);
		/* ours while we drive it, removed when given back */
		assert_int_equal(damon_set_targets(&d, pids, 3, 1000), 0);
		assert_int_equal(access(owner, F_OK), 0);
		damon_release(&d);
		assert_int_equal(access(owner, F_OK), -1);
		/* a live owner (us, another tierd): hands off */
		mk(root, "kdamonds/nr_kdamonds", "1\n");
		snprintf(buf, sizeof(buf), "%d\n", (int)getppid());
		write_text(owner, buf);
		damon_probe(&d, root, NULL, owner);
		assert_false(d.available);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_pid_set_normalize(void **state)
{
	uint32_t p[] = { 5, 0, 3, 5, 9, 3 };

	assert_int_equal(damon_pid_set_normalize(p, 6), 3);
	assert_int_equal(p[0], 3);
	assert_int_equal(p[1], 5);
	assert_int_equal(p[2], 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_lines),
		cmocka_unit_test(test_sync_keeps_heat),
		cmocka_unit_test(test_converges_within_budget),
		cmocka_unit_test(test_dry_run_moves_nothing),
		cmocka_unit_test(test_over_budget_dram_is_demoted),
		cmocka_unit_test(test_policy_reload_rule),
		cmocka_unit_test(test_pid_set_normalize),
		cmocka_unit_test(test_damon_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
