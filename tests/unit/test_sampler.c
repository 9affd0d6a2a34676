// SPDX-License-Identifier: GPL-2.0
/*
 * test_sampler.c — the sampler's PMU probe on fake sysfs trees: which PMU
 * and event it picks (Intel PEBS on "cpu" or a hybrid's "cpu_core", AMD
 * IBS, none), how an events/ string is encoded by the format/ files, and
 * CPU lists. The BPF side is covered by tests/host/sampler_pebs.sh.
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

#include "../../controller/sampler.h"

int tierd_verbose;

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], dir[256], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(dir, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", text);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_sampler.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The Intel core PMU's format (as on Skylake and later). */
static void intel_formats(const char *pmu)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/format/event", pmu);
	put(p, "config:0-7");
	snprintf(p, sizeof(p), "%s/format/umask", pmu);
	put(p, "config:8-15");
	snprintf(p, sizeof(p), "%s/format/ldlat", pmu);
	put(p, "config1:0-15");
	snprintf(p, sizeof(p), "%s/format/edge", pmu);
	put(p, "config:18");
}

static void test_intel_pebs(void **state)
{
	struct sampler_pmu pmu;
	char why[256] = "";

	put("cpu/type", "4");
	intel_formats("cpu");
	put("cpu/events/mem-loads", "event=0xcd,umask=0x1,ldlat=3");
	put("cpu/events/mem-stores", "event=0xd0,umask=0x82");
	put("ibs_op/type", "11"); /* PEBS wins when both are there */
	assert_int_equal(sampler_find_pmu(root, &pmu, why, sizeof(why)), 0);
	assert_string_equal(pmu.pmu, "cpu");
	assert_string_equal(pmu.cpus, "");
	assert_int_equal(pmu.nr_events, 2);
	assert_string_equal(pmu.events[0].name, "cpu/mem-loads/");
	assert_int_equal(pmu.events[0].type, 4);
	assert_int_equal(pmu.events[0].config, 0x1cd);
	assert_int_equal(pmu.events[0].config1, 3);
	assert_true(pmu.events[0].precise_ip > 0);
	assert_int_equal(pmu.events[0].period, SAMPLER_HW_PERIOD);
	assert_string_equal(pmu.events[1].name, "cpu/mem-stores/");
	assert_int_equal(pmu.events[1].config, 0x82d0);
	assert_int_equal(pmu.events[1].config1, 0);
}

static void test_intel_loads_only(void **state)
{
	struct sampler_pmu pmu;
	char why[256] = "";

	put("cpu/type", "4");
	intel_formats("cpu");
	put("cpu/events/mem-loads", "event=0xcd,umask=0x1,ldlat=3");
	assert_int_equal(sampler_find_pmu(root, &pmu, why, sizeof(why)), 0);
	assert_int_equal(pmu.nr_events, 1);
	assert_string_equal(pmu.events[0].name, "cpu/mem-loads/");
}

static void test_hybrid(void **state)
{
	struct sampler_pmu pmu;
	char why[256] = "";

	/* Alder Lake: no "cpu"; the P-cores' PMU has the PEBS events */
	put("cpu_atom/type", "10");
	put("cpu_core/type", "4");
	put("cpu_core/cpus", "0-7");
	intel_formats("cpu_core");
	put("cpu_core/events/mem-loads", "event=0xcd,umask=0x1,ldlat=3");
	assert_int_equal(sampler_find_pmu(root, &pmu, why, sizeof(why)), 0);
	assert_string_equal(pmu.pmu, "cpu_core");
	assert_string_equal(pmu.cpus, "0-7");
	assert_string_equal(pmu.events[0].name, "cpu_core/mem-loads/");
}

static void test_amd_ibs(void **state)
{
	struct sampler_pmu pmu;
	char why[256] = "";

	put("cpu/type", "4"); /* an AMD core PMU: no mem-loads event */
	intel_formats("cpu");
	put("ibs_op/type", "11");
	assert_int_equal(sampler_find_pmu(root, &pmu, why, sizeof(why)), 0);
	assert_string_equal(pmu.pmu, "ibs_op");
	assert_int_equal(pmu.nr_events, 1);
	assert_string_equal(pmu.events[0].name, "ibs_op//");
	assert_int_equal(pmu.events[0].type, 11);
	assert_int_equal(pmu.events[0].period % 16, 0); /* IBS counts in 16s */
	assert_int_equal(pmu.events[0].period, SAMPLER_IBS_PERIOD);
}

static void test_no_pmu(void **state)
{
	struct sampler_pmu pmu;
	char why[512] = "", want[512];

	/* what this VM has: software, tracepoint, ... but no cpu, no ibs_op */
	put("software/type", "1");
	put("tracepoint/type", "2");
	assert_int_equal(sampler_find_pmu(root, &pmu, why, sizeof(why)), -ENODEV);
	snprintf(want, sizeof(want),
		 "no hardware memory sampling PMU: %s/cpu/events/mem-loads and %s/ibs_op are "
		 "absent (a VM or a CPU without PEBS/IBS)",
		 root, root);
	assert_string_equal(why, want);
	assert_int_equal(pmu.nr_events, 0);
}

static void test_encode(void **state)
{
	uint64_t c[3];

	put("p/format/event", "config:0-7,32-35");
	put("p/format/umask", "config:8-15");
	put("p/format/edge", "config:18");
	put("p/format/ldlat", "config1:0-15");
	put("p/format/x", "config2:4-7");
	put("p/format/bad", "period:0-7");
	/* no format/ directory at all */
	assert_int_equal(sampler_encode_event(root, "event=0xabc,umask=0x1", c), -EINVAL);
	{
		char dir[128];

		snprintf(dir, sizeof(dir), "%s/p", root);
		/* split ranges: the low 8 bits go to 0-7, the next 4 to 32-35 */
		assert_int_equal(sampler_encode_event(dir, "event=0xabc,umask=0x1", c), 0);
		assert_int_equal(c[0], 0xa000001bcull);
		assert_int_equal(c[1], 0);
		/* a term without a value is 1 */
		assert_int_equal(sampler_encode_event(dir, "event=0xcd,edge", c), 0);
		assert_int_equal(c[0], 0xcd | 1u << 18);
		assert_int_equal(sampler_encode_event(dir, "ldlat=3,x=0xf", c), 0);
		assert_int_equal(c[1], 3);
		assert_int_equal(c[2], 0xf0);
		/* too wide for the field, unknown term, unknown word, junk */
		assert_int_equal(sampler_encode_event(dir, "edge=2", c), -EINVAL);
		assert_int_equal(sampler_encode_event(dir, "event=0x1000", c), -EINVAL);
		assert_int_equal(sampler_encode_event(dir, "nosuch=1", c), -EINVAL);
		assert_int_equal(sampler_encode_event(dir, "bad=1", c), -EINVAL);
		assert_int_equal(sampler_encode_event(dir, "event=zz", c), -EINVAL);
		assert_int_equal(sampler_encode_event(dir, "../p/format/event=1", c), -EINVAL);
	}
}

static void test_cpulist(void **state)
{
	assert_true(sampler_cpulist_has("", 5));
	assert_true(sampler_cpulist_has(NULL, 5));
	assert_true(sampler_cpulist_has("0-3,8,10-11", 0));
	assert_true(sampler_cpulist_has("0-3,8,10-11", 3));
	assert_true(sampler_cpulist_has("0-3,8,10-11", 8));
	assert_true(sampler_cpulist_has("0-3,8,10-11", 11));
	assert_false(sampler_cpulist_has("0-3,8,10-11", 4));
	assert_false(sampler_cpulist_has("0-3,8,10-11", 9));
	assert_false(sampler_cpulist_has("0-3,8,10-11", 12));
	assert_true(sampler_cpulist_has("0-1\n", 1));
	assert_false(sampler_cpulist_has("x", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intel_pebs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intel_loads_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amd_ibs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pmu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode, setup, teardown),
		cmocka_unit_test(test_cpulist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
