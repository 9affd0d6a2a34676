// SPDX-License-Identifier: GPL-2.0
/*
 * test_metrics.c — the Prometheus text tierd serves: names, HELP/TYPE
 * lines, label escaping, managed-only families, "max" budgets left out,
 * and the HTTP request check (200/404/405/400, incomplete heads).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../controller/metrics.h"

static char *render(const struct metrics_snapshot *s)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(s, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return true;
		p++;
	}
	return false;
}

static void test_empty(void **state)
{
	struct metrics_snapshot s = { .version = "1.2",
				      .uptime_s = 1.5,
				      .sample_every = 1,
				      .records_received = 7,
				      .nr_programs = 4,
				      .nr_programs_attached = 3 };
	char *t = render(&s);

	assert_true(has_line(t, "# HELP tierd_build_info tierd's version; always 1."));
	assert_true(has_line(t, "# TYPE tierd_build_info gauge"));
	assert_true(has_line(t, "tierd_build_info{version=\"1.2\"} 1"));
	assert_true(has_line(t, "tierd_uptime_seconds 1.500"));
	assert_true(has_line(t, "# TYPE tierd_records_received_total counter"));
	assert_true(has_line(t, "tierd_records_received_total 7"));
	assert_true(has_line(t, "tierd_bpf_programs{state=\"attached\"} 3"));
	assert_true(has_line(t, "tierd_bpf_programs{state=\"not_attached\"} 1"));
	assert_true(has_line(t, "tierd_attached_cgroups 0"));
	/* no cgroups: no per-cgroup families at all */
	assert_null(strstr(t, "tierd_cgroup_"));
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
}

static void test_cgroups(void **state)
{
	struct metrics_cgroup cg[2] = {
		{ .path = "/sys/fs/cgroup/a",
		  .id = 10,
		  .st = { .faults = 4000,
			  .records_dropped = 3,
			  .promotions = 5,
			  .demotions = 6,
			  .migrate_failed = 2 } },
		{ .path = "/sys/fs/cgroup/b\"q\\x\ny",
		  .id = 11,
		  .managed = true,
		  .st = { .faults = 1 },
		  .tiering = { .dram_bytes = 4096,
			       .cxl_bytes = 8192,
			       .pool_bytes = 0,
			       .other_bytes = 0,
			       .budget_dram_bytes = 1 << 20,
			       .budget_cxl_bytes = METRICS_NONE,
			       .tracked_bytes = 12288,
			       .promoted_bytes = 40960,
			       .demoted_bytes = 81920,
			       .rounds = 9 } },
	};
	struct metrics_snapshot s = { .nr_cgroups = 2, .cgroups = cg, .sample_every = 4 };
	const char *b = "cgroup=\"/sys/fs/cgroup/b\\\"q\\\\x\\ny\"";
	char line[512], *t = render(&s);

	assert_true(has_line(t, "tierd_build_info{version=\"" TIERD_VERSION "\"} 1"));
	assert_true(has_line(t, "tierd_fault_record_sample_every 4"));
	assert_true(has_line(t, "tierd_managed_cgroups 1"));
	assert_true(has_line(t, "# TYPE tierd_cgroup_faults_total counter"));
	assert_true(has_line(t, "tierd_cgroup_faults_total{cgroup=\"/sys/fs/cgroup/a\"} 4000"));
	assert_true(
	    has_line(t, "tierd_cgroup_records_dropped_total{cgroup=\"/sys/fs/cgroup/a\"} 3"));
	assert_true(has_line(t, "tierd_cgroup_promotions_total{cgroup=\"/sys/fs/cgroup/a\"} 5"));
	assert_true(has_line(t, "tierd_cgroup_demotions_total{cgroup=\"/sys/fs/cgroup/a\"} 6"));
	assert_true(
	    has_line(t, "tierd_cgroup_migrate_failed_total{cgroup=\"/sys/fs/cgroup/a\"} 2"));
	snprintf(line, sizeof(line), "tierd_cgroup_faults_total{%s} 1", b);
	assert_true(has_line(t, line));
	/* tiering families: the managed cgroup only */
	snprintf(line, sizeof(line), "tierd_cgroup_memory_bytes{%s,tier=\"dram\"} 4096", b);
	assert_true(has_line(t, line));
	snprintf(line, sizeof(line), "tierd_cgroup_memory_bytes{%s,tier=\"cxl\"} 8192", b);
	assert_true(has_line(t, line));
	snprintf(line, sizeof(line), "tierd_cgroup_memory_bytes{%s,tier=\"pool\"} 0", b);
	assert_true(has_line(t, line));
	snprintf(line, sizeof(line), "tierd_cgroup_budget_bytes{%s,tier=\"dram\"} 1048576", b);
	assert_true(has_line(t, line));
	snprintf(line, sizeof(line),
		 "tierd_cgroup_moved_bytes_total{%s,direction=\"demote\"} 81920", b);
	assert_true(has_line(t, line));
	snprintf(line, sizeof(line), "tierd_cgroup_tiering_rounds_total{%s} 9", b);
	assert_true(has_line(t, line));
	assert_null(strstr(t, "tier=\"cxl\"} 18446744073709551615")); /* "max": no sample */
	assert_null(strstr(t, "tierd_cgroup_memory_bytes{cgroup=\"/sys/fs/cgroup/a\""));
	free(t);
}

/* Every sample's family has exactly one HELP and one TYPE line, before it,
 * and a family's samples are contiguous. */
static void test_families_well_formed(void **state)
{
	struct metrics_cgroup cg[3] = { { .path = "/a", .managed = true },
					{ .path = "/b" },
					{ .path = "/c", .managed = true } };
	struct metrics_snapshot s = { .nr_cgroups = 3, .cgroups = cg };
	char *t = render(&s), *save = NULL, *line, seen[64][96], cur[96] = "";
	int nr_seen = 0, i;

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%95s", name);
			for (i = 0; i < nr_seen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(nr_seen < 64);
			snprintf(seen[nr_seen++], sizeof(seen[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%95s", name);
			assert_string_equal(name, cur);
			assert_true(strstr(line, " counter") || strstr(line, " gauge"));
			if (strstr(line, " counter"))
				assert_non_null(strstr(name, "_total"));
			continue;
		}
		sscanf(line, "%95[^{ ]", name);
		assert_string_equal(name, cur);
	}
	free(t);
}

static void test_escape(void **state)
{
	char buf[8];

	assert_string_equal(metrics_escape_label("a\"b", buf, sizeof(buf)), "a\\\"b");
	/* truncation never splits an escape or overflows */
	assert_string_equal(metrics_escape_label("\\\\\\\\\\", buf, sizeof(buf)), "\\\\\\\\\\\\");
}

static int classify(const char *req)
{
	bool head;

	return metrics_classify_request(req, strlen(req), &head);
}

static void test_requests(void **state)
{
	char big[METRICS_MAX_REQUEST + 10];
	bool head = true;

	assert_int_equal(
	    metrics_classify_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 35, &head), 200);
	assert_false(head);
	assert_int_equal(metrics_classify_request("HEAD /metrics HTTP/1.0\r\n\r\n", 26, &head),
			 200);
	assert_true(head);
	assert_int_equal(classify("GET /metrics?x=1 HTTP/1.0\n\n"), 200);
	assert_int_equal(classify("GET / HTTP/1.1\r\n\r\n"), 404);
	assert_int_equal(classify("GET /metricsx HTTP/1.1\r\n\r\n"), 404);
	assert_int_equal(classify("POST /metrics HTTP/1.1\r\n\r\n"), 405);
	assert_int_equal(classify("hello\r\n\r\n"), 400);
	assert_int_equal(classify("hello\n"), 400); /* a bad line is bad at once */
	assert_int_equal(classify("GET /metrics\r\n\r\n"), 400); /* HTTP/0.9 */
	assert_int_equal(classify("GET metrics HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(classify("GET /metrics HTTP/2.0\r\n\r\n"), 400);
	assert_int_equal(classify("G@T /metrics HTTP/1.1\r\n\r\n"), 400);
	/* incomplete: wait */
	assert_int_equal(classify(""), 0);
	assert_int_equal(classify("GET /met"), 0);
	assert_int_equal(classify("GET /metrics HTTP/1.1\r\nHost: x\r\n"), 0);
	/* a head that never ends */
	memset(big, 'a', sizeof(big));
	assert_int_equal(metrics_classify_request(big, METRICS_MAX_REQUEST, &head), 400);
	memcpy(big, "GET /metrics HTTP/1.1\r\n", 23);
	assert_int_equal(metrics_classify_request(big, METRICS_MAX_REQUEST, &head), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_cgroups),
		cmocka_unit_test(test_families_well_formed),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
