// SPDX-License-Identifier: GPL-2.0
/*
 * test_observer_topology — how tierd ranks NUMA nodes into tiers (which
 * decides promotion vs demotion) and where it finds a page's node.
 * The sysfs trees are built in a temporary directory per test.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "../../controller/topology.h"

static char root[PATH_MAX];

static void put(const char *rel, const char *content)
{
	char path[PATH_MAX * 2], cmd[PATH_MAX * 3];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_topology.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_nodelist(void **state)
{
	uint8_t bm[TIERD_MAX_NODES / 8];

	assert_int_equal(parse_nodelist("0-2,5\n", bm), 0);
	assert_int_equal(bm[0], 0x27); /* nodes 0,1,2,5 */
	assert_int_equal(parse_nodelist("\n", bm), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(parse_nodelist("3-1", bm), -EINVAL);
	assert_int_equal(parse_nodelist("x", bm), -EINVAL);
	assert_int_equal(parse_nodelist("1024", bm), -EINVAL);
}

/* 6.12 in the test VM: node 0 (DRAM) in memory_tier4, node 1 (CXL-like) in
 * memory_tier54 -> node 0 ranks 0 (faster), node 1 ranks 1. */
static void test_two_tiers(void **state)
{
	struct node_ranks r;

	put("sys/devices/system/node/online", "0-1\n");
	put("sys/devices/system/node/has_cpu", "0\n");
	put("sys/devices/virtual/memory_tiering/memory_tier54/nodelist", "1\n");
	put("sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n");
	assert_int_equal(node_ranks_read(root, &r), 0);
	assert_int_equal(r.nr_nodes, 2);
	assert_int_equal(r.nr_ranks, 2);
	assert_int_equal(r.rank[0], 0);
	assert_int_equal(r.rank[1], 1);
	assert_int_equal(r.rank[2], TIERD_RANK_UNKNOWN);
}

/* Debian's 6.1 puts every node in one tier: CPU-less nodes rank below. */
static void test_one_tier_cpuless_below(void **state)
{
	struct node_ranks r;

	put("sys/devices/system/node/online", "0-2\n");
	put("sys/devices/system/node/has_cpu", "0,2\n");
	put("sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0-2\n");
	assert_int_equal(node_ranks_read(root, &r), 0);
	assert_int_equal(r.nr_nodes, 3);
	assert_int_equal(r.rank[0], 0);
	assert_int_equal(r.rank[1], 1);
	assert_int_equal(r.rank[2], 0);
}

/* No NUMA sysfs at all: one node 0. */
static void test_no_numa(void **state)
{
	struct node_ranks r;

	assert_int_equal(node_ranks_read(root, &r), 0);
	assert_int_equal(r.nr_nodes, 1);
	assert_int_equal(r.rank[0], 0);
	assert_int_equal(r.rank[1], TIERD_RANK_UNKNOWN);
}

/* Debian kernels: NODES_SHIFT 10 -> nid in the top 10 bits of page flags. */
static void test_nid_layout_from_running_kernel(void **state)
{
	uint32_t shift = 0, mask = 0;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		skip();
	assert_int_equal(nid_layout_from_btf("/sys/kernel/btf/vmlinux", &shift, &mask), 0);
	assert_true(mask + 1 >= 1 && ((mask + 1) & mask) == 0); /* a power of two */
	assert_int_equal(shift, 64 - __builtin_popcount(mask));
}

static void test_nid_layout_missing_btf(void **state)
{
	uint32_t shift, mask;

	assert_true(nid_layout_from_btf("/nonexistent/btf", &shift, &mask) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodelist),
		cmocka_unit_test_setup_teardown(test_two_tiers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_tier_cpuless_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_numa, setup, teardown),
		cmocka_unit_test(test_nid_layout_from_running_kernel),
		cmocka_unit_test(test_nid_layout_missing_btf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
