// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c — the policy parser on good and bad files. Every error
 * case checks the whole message, line number and key included: the
 * message is the interface a person reads.
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
#include <json-c/json.h>

#include <unistd.h>
#include "../../controller/policy.h"
#include "../../tools/tierctl/tierctl.h"

/* tierctl's error printer lives in its main.c; the test's own copy */
void tierctl_err(const struct tierctl_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *src_dir(void)
{
	const char *s = getenv("TIERD_SRC");

	return s ? s : ".";
}

static int parse_str(const char *text, struct policy *p, struct policy_diag *d)
{
	return policy_parse("policy.json", text, strlen(text), p, d);
}

static void test_defaults(void **state)
{
	struct policy p;
	struct policy_diag d;

	assert_int_equal(parse_str("{}", &p, &d), 0);
	assert_int_equal(d.nr, 0);
	assert_false(p.tiers.dram_given);
	assert_false(p.tiers.cxl_given);
	assert_int_equal(p.tiers.nr_pool_uris, 0);
	assert_int_equal(p.heat.sampler, POLICY_SAMPLER_AUTO);
	assert_int_equal(p.heat.half_life_ms, 2000);
	assert_int_equal(p.heat.fault_sample_every, 1);
	assert_int_equal(p.moves.interval_ms, 1000);
	assert_int_equal(p.moves.max_promote_mb_s, 256);
	assert_int_equal(p.moves.max_demote_mb_s, 512);
	assert_int_equal(p.moves.hysteresis_pct, 25);
	assert_int_equal(p.nr_cgroups, 0);
	policy_free(&p);
}

static void test_full_file(void **state)
{
	struct policy p;
	struct policy_diag d;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/fixtures/policy/full.json", src_dir());
	assert_int_equal(policy_load_file(path, &p, &d), 0);
	assert_true(p.tiers.dram_given && p.tiers.cxl_given);
	assert_int_equal(p.tiers.nr_dram_nodes, 1);
	assert_int_equal(p.tiers.dram_nodes[0], 0);
	assert_int_equal(p.tiers.nr_cxl_nodes, 2);
	assert_int_equal(p.tiers.cxl_nodes[1], 2);
	assert_int_equal(p.tiers.nr_pool_uris, 3);
	assert_string_equal(p.tiers.pool_uris[0], "tcp://10.0.0.2:7471");
	assert_string_equal(p.tiers.pool_uris[2], "shm:/dev/shm/pool");
	assert_int_equal(p.heat.sampler, POLICY_SAMPLER_HINT);
	assert_int_equal(p.heat.half_life_ms, 4000);
	assert_int_equal(p.heat.hint_pages_per_s, 500);
	assert_int_equal(p.heat.fault_sample_every, 4);
	assert_int_equal(p.moves.interval_ms, 500);
	assert_int_equal(p.moves.max_promote_mb_s, 128);
	assert_int_equal(p.moves.max_demote_mb_s, 1024);
	assert_int_equal(p.moves.cooldown_ms, 100);
	assert_int_equal(p.moves.hysteresis_pct, 10);
	assert_int_equal(p.nr_cgroups, 3);
	assert_string_equal(p.cgroups[0].path, "/sys/fs/cgroup/fn-a");
	assert_int_equal(p.cgroups[0].dram.kind, POLICY_SIZE_BYTES);
	assert_int_equal(p.cgroups[0].dram.bytes, 512ull << 20);
	assert_int_equal(p.cgroups[0].cxl.bytes, 2ull << 30);
	assert_true(p.cgroups[0].pool);
	assert_int_equal(p.cgroups[1].dram.kind, POLICY_SIZE_PCT);
	assert_int_equal(p.cgroups[1].dram.pct_bp, 2500);
	assert_int_equal(p.cgroups[1].cxl.bytes, 1048576);
	assert_false(p.cgroups[1].pool);
	assert_int_equal(p.cgroups[2].dram.kind, POLICY_SIZE_MAX);
	assert_int_equal(p.cgroups[2].cxl.kind, POLICY_SIZE_MAX);
	assert_non_null(policy_find_cgroup(&p, "/sys/fs/cgroup/fn-b"));
	assert_null(policy_find_cgroup(&p, "/sys/fs/cgroup/fn"));
	policy_free(&p);
}

/* the commented example in doc/ stays a valid policy */
static void test_example_file(void **state)
{
	struct policy p;
	struct policy_diag d;
	char path[512], buf[600];

	snprintf(path, sizeof(path), "%s/doc/policy.example.json", src_dir());
	int ret = policy_load_file(path, &p, &d);

	if (ret)
		fail_msg("%s", d.nr ? policy_error_format(&d, 0, buf, sizeof(buf)) : "?");
	assert_int_equal(p.nr_cgroups, 2);
	assert_true(p.cgroups[0].pool);
	assert_int_equal(p.cgroups[1].dram.kind, POLICY_SIZE_PCT);
	policy_free(&p);
}

/* The brief's own example: the error names file, line, key, expectation. */
static void test_bad_size_file(void **state)
{
	struct policy p;
	struct policy_diag d;
	char path[512], want[600], buf[600];

	snprintf(path, sizeof(path), "%s/tests/fixtures/policy/bad-size.json", src_dir());
	assert_int_equal(policy_load_file(path, &p, &d), -EINVAL);
	assert_int_equal(d.nr, 1);
	snprintf(want, sizeof(want),
		 "%s:7: cgroups[0].dram: expected a size like 512M or 25%%, got \"lots\"", path);
	assert_string_equal(policy_error_format(&d, 0, buf, sizeof(buf)), want);
	/* the failed parse leaves the output empty, as after policy_init() */
	assert_int_equal(p.nr_cgroups, 0);
	assert_null(p.cgroups);
}

static void test_all_errors_reported(void **state)
{
	struct policy p;
	struct policy_diag d;
	char path[512], buf[600];

	snprintf(path, sizeof(path), "%s/tests/fixtures/policy/typos.json", src_dir());
	assert_int_equal(policy_load_file(path, &p, &d), -EINVAL);
	assert_int_equal(d.nr, 3);
	/* sorted by line */
	assert_int_equal(d.errs[0].line, 2);
	assert_string_equal(d.errs[0].key, "heat.half_life");
	assert_string_equal(d.errs[0].msg, "unknown key (known keys here: sampler, half_life_ms, "
					   "hint_pages_per_s, fault_sample_every)");
	assert_int_equal(d.errs[1].line, 3);
	assert_string_equal(d.errs[1].key, "moves.max_promote_mb_s");
	policy_error_format(&d, 1, buf, sizeof(buf));
	assert_non_null(
	    strstr(buf, ":3: moves.max_promote_mb_s: expected an integer from 0 to "
			"1000000 (MiB per second, 0 = no promotions), got \"fast\" (a string)"));
	assert_int_equal(d.errs[2].line, 4);
	assert_string_equal(d.errs[2].key, "cgroup");
	assert_string_equal(d.errs[2].msg,
			    "unknown key (known keys here: tiers, heat, moves, cgroups)");
}

/* policy_to_json() writes the file format: it parses back to the same policy */
static void test_json_round_trip(void **state)
{
	struct policy p, q;
	struct policy_diag d;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/fixtures/policy/full.json", src_dir());
	assert_int_equal(policy_load_file(path, &p, &d), 0);
	for (int round = 0; round < 2; round++) {
		json_object *j = policy_to_json(&p);
		const char *text = json_object_to_json_string(j);

		assert_int_equal(parse_str(text, &q, &d), 0);
		assert_int_equal(q.tiers.nr_cxl_nodes, p.tiers.nr_cxl_nodes);
		assert_int_equal(q.tiers.dram_given, p.tiers.dram_given);
		assert_int_equal(q.tiers.nr_pool_uris, p.tiers.nr_pool_uris);
		assert_int_equal(q.heat.sampler, p.heat.sampler);
		assert_int_equal(q.moves.hysteresis_pct, p.moves.hysteresis_pct);
		assert_int_equal(q.nr_cgroups, p.nr_cgroups);
		for (unsigned i = 0; i < p.nr_cgroups; i++) {
			assert_string_equal(q.cgroups[i].path, p.cgroups[i].path);
			assert_memory_equal(&q.cgroups[i].dram, &p.cgroups[i].dram,
					    sizeof(struct policy_size));
			assert_memory_equal(&q.cgroups[i].cxl, &p.cgroups[i].cxl,
					    sizeof(struct policy_size));
			assert_int_equal(q.cgroups[i].pool, p.cgroups[i].pool);
		}
		json_object_put(j);
		policy_free(&q);
		/* second round: the defaults */
		policy_free(&p);
	}
}

#define NONE UINT32_MAX
struct tier_case {
	const char *name;
	const char *policy;
	uint32_t rank[8];
	int ret;
	const char *dram, *cxl; /* node lists as "0,1" */
};

static const struct tier_case tier_cases[] = {
	{ "VM: node 1 in a lower tier",
	  "{}",
	  { 0, 1, NONE, NONE, NONE, NONE, NONE, NONE },
	  0,
	  "0",
	  "1" },
	{ "one node", "{}", { 0, NONE, NONE, NONE, NONE, NONE, NONE, NONE }, 0, "0", "" },
	{ "two sockets, two expanders",
	  "{}",
	  { 0, 0, 1, 2, NONE, NONE, NONE, NONE },
	  0,
	  "0,1",
	  "2,3" },
	{ "policy overrides both",
	  "{\"tiers\": {\"dram\": [1], \"cxl\": [0]}}",
	  { 0, 1, NONE, NONE, NONE, NONE, NONE, NONE },
	  0,
	  "1",
	  "0" },
	{ "policy gives DRAM, CXL discovered",
	  "{\"tiers\": {\"dram\": [0]}}",
	  { 0, 0, 1, NONE, NONE, NONE, NONE, NONE },
	  0,
	  "0",
	  "2" },
	{ "policy: no CXL",
	  "{\"tiers\": {\"cxl\": []}}",
	  { 0, 1, NONE, NONE, NONE, NONE, NONE, NONE },
	  0,
	  "0",
	  "" },
	{ "policy names a missing node",
	  "{\"tiers\": {\"cxl\": [5]}}",
	  { 0, 1, NONE, NONE, NONE, NONE, NONE, NONE },
	  -ENOENT,
	  "",
	  "" },
	{ "policy names a node beyond the table",
	  "{\"tiers\": {\"cxl\": [9]}}",
	  { 0, 1, NONE, NONE, NONE, NONE, NONE, NONE },
	  -ENOENT,
	  "",
	  "" },
	{ "no fast node", "{}", { 1, 1, NONE, NONE, NONE, NONE, NONE, NONE }, -ENODEV, "", "" },
};

static void list(char *buf, size_t len, const int *nodes, unsigned nr)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < nr; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", nodes[i]);
}

static void test_tier_nodes(void **state)
{
	for (size_t i = 0; i < sizeof(tier_cases) / sizeof(tier_cases[0]); i++) {
		const struct tier_case *c = &tier_cases[i];
		struct policy p;
		struct policy_diag d;
		struct policy_tier_nodes out;
		char dram[64], cxl[64];

		assert_int_equal(parse_str(c->policy, &p, &d), 0);
		int ret = policy_tier_nodes(&p.tiers, c->rank, 8, &out);

		if (ret != c->ret)
			fail_msg("%s: ret %d, want %d (%s)", c->name, ret, c->ret, out.how);
		assert_true(out.how[0]);
		if (!ret) {
			list(dram, sizeof(dram), out.dram, out.nr_dram);
			list(cxl, sizeof(cxl), out.cxl, out.nr_cxl);
			if (strcmp(dram, c->dram) || strcmp(cxl, c->cxl))
				fail_msg("%s: dram [%s] cxl [%s], want [%s] [%s]", c->name, dram,
					 cxl, c->dram, c->cxl);
		}
		policy_free(&p);
	}
}

struct bad_case {
	const char *text;
	const char *error; /* the first error, as policy_error_format() prints it */
};

static const struct bad_case bad_cases[] = {
	{ "", "policy.json:1: unexpected end of file: an object or array is not closed" },
	{ "{\n\"heat\": {\n",
	  "policy.json:3: unexpected end of file: an object or array is not closed" },
	{ "{\n \"heat\": { \"sampler\": tru }\n}",
	  "policy.json:2: syntax error: boolean expected" },
	{ "[1, 2]", "policy.json:1: expected a JSON object like {\"cgroups\": [...]}, got [1,2]" },
	{ "{} {}",
	  "policy.json:1: unexpected text after the policy object: a policy is one JSON object" },
	{ "{\n\"heat\": {},\n\"heat\": {}\n}",
	  "policy.json:3: heat: duplicate key: each key may appear once in its object" },
	{ "{ \"heat\": { \"sampler\": \"pebbles\" } }",
	  "policy.json:1: heat.sampler: expected one of \"auto\", \"pebs\", \"damon\", \"hint\", "
	  "\"faults\", got \"pebbles\"" },
	{ "{ \"heat\": {\n\n \"half_life_ms\": 0 } }",
	  "policy.json:3: heat.half_life_ms: expected an integer from 10 to 3600000 "
	  "(milliseconds), got 0" },
	{ "{ \"heat\": { \"half_life_ms\": 2.5 } }",
	  "policy.json:1: heat.half_life_ms: expected an integer from 10 to 3600000 "
	  "(milliseconds), got 2.5 (a number with a fraction)" },
	{ "{ \"heat\": 3 }",
	  "policy.json:1: heat: expected an object like {\"sampler\": \"auto\"}, got 3" },
	{ "{ \"moves\": { \"hysteresis_pct\": -1 } }",
	  "policy.json:1: moves.hysteresis_pct: expected an integer from 0 to 1000 (percent), got "
	  "-1" },
	{ "{ \"moves\": { \"cooldown\": 5 } }",
	  "policy.json:1: moves.cooldown: unknown key (known keys here: interval_ms, "
	  "max_promote_mb_s, max_demote_mb_s, cooldown_ms, hysteresis_pct)" },
	{ "{ \"tiers\": { \"dram\": 0 } }",
	  "policy.json:1: tiers.dram: expected an array of NUMA node numbers like [0], got 0" },
	{ "{ \"tiers\": {\n \"dram\": [0,\n \"1\"] } }",
	  "policy.json:3: tiers.dram[1]: expected a NUMA node number from 0 to 1023, got \"1\"" },
	{ "{ \"tiers\": { \"dram\": [0, 0] } }",
	  "policy.json:1: tiers.dram[1]: node 0 is listed twice" },
	{ "{ \"tiers\": { \"dram\": [] } }",
	  "policy.json:1: tiers.dram: expected at least one DRAM node, got []" },
	{ "{ \"tiers\": { \"dram\": [0], \"cxl\": [1, 0] } }",
	  "policy.json:1: tiers.cxl[1]: node 0 is already a DRAM node: a node belongs to one "
	  "tier" },
	{ "{ \"tiers\": { \"pool\": [\"tcp://host\"] } }",
	  "policy.json:1: tiers.pool[0]: expected a pool URI like tcp://HOST:PORT, "
	  "rdma://HOST:PORT or shm:/PATH, got \"tcp://host\"" },
	{ "{ \"tiers\": { \"pool\": [\"rdma://h:99999\"] } }",
	  "policy.json:1: tiers.pool[0]: expected a pool URI like tcp://HOST:PORT, "
	  "rdma://HOST:PORT or shm:/PATH, got \"rdma://h:99999\"" },
	{ "{ \"tiers\": { \"pool\": \"tcp://h:1\" } }",
	  "policy.json:1: tiers.pool: expected an array of pool URIs like "
	  "[\"tcp://10.0.0.2:7471\"], got \"tcp://h:1\"" },
	{ "{ \"cgroups\": {} }", "policy.json:1: cgroups: expected an array of cgroup entries like "
				 "[{\"path\": ...}], got {}" },
	{ "{ \"cgroups\": [\n\n  { \"dram\": \"1G\" } ] }",
	  "policy.json:3: cgroups[0]: missing key \"path\": the cgroup2 directory, like "
	  "\"/sys/fs/cgroup/fn-a\"" },
	{ "{ \"cgroups\": [ { \"path\": \"fn-a\" } ] }",
	  "policy.json:1: cgroups[0].path: expected an absolute cgroup2 directory like "
	  "\"/sys/fs/cgroup/fn-a\", got \"fn-a\"" },
	{ "{ \"cgroups\": [ { \"path\": \"/a\" },\n { \"path\": \"/a\" } ] }",
	  "policy.json:2: cgroups[1].path: cgroup /a is listed twice" },
	{ "{ \"cgroups\": [ { \"path\": \"/a\",\n \"pool\": \"yes\" } ] }",
	  "policy.json:2: cgroups[0].pool: expected true or false, got \"yes\"" },
	{ "{ \"cgroups\": [ { \"path\": \"/a\",\n \"cxl\": \"150%\" } ] }",
	  "policy.json:2: cgroups[0].cxl: expected a size like 512M or 25%, got \"150%\"" },
	{ "{ \"cgroups\": [ { \"path\": \"/a\",\n \"cxl\": -5 } ] }",
	  "policy.json:2: cgroups[0].cxl: expected a size like 512M or 25%, got -5" },
	{ "{ \"cgroups\": [ { \"path\": \"/a\", \"dram\": \"1G\",\n \"drams\": \"1G\" } ] }",
	  "policy.json:2: cgroups[0].drams: unknown key (known keys here: path, dram, cxl, pool)" },
	{ "{ \"cgroups\": [ 7 ] }", "policy.json:1: cgroups[0]: expected an object like {\"path\": "
				    "\"/sys/fs/cgroup/fn-a\", \"dram\": \"512M\"}, got 7" },
	/* comments and strings that look like keys do not confuse the line map */
	{ "{ /* \"heat\": {\n } */ \"moves\": {\n // \"x\": 1\n \"s\": \"\\\"q\\\" {[\", \"x\": 1 "
	  "} }",
	  "policy.json:4: moves.s: unknown key (known keys here: interval_ms, max_promote_mb_s, "
	  "max_demote_mb_s, cooldown_ms, hysteresis_pct)" },
};

static void test_bad_cases(void **state)
{
	int nr_failed = 0;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct policy p;
		struct policy_diag d;
		char buf[600];
		int ret = parse_str(bad_cases[i].text, &p, &d);

		if (ret != -EINVAL || d.nr < 1 ||
		    strcmp(policy_error_format(&d, 0, buf, sizeof(buf)), bad_cases[i].error)) {
			print_error(
			    "case %zu: %s\n  got ret %d, %u errors, first: %s\n  want: %s\n", i,
			    bad_cases[i].text, ret, d.nr, d.nr ? buf : "-", bad_cases[i].error);
			nr_failed++;
		}
		assert_int_equal(p.nr_cgroups, 0);
	}
	assert_int_equal(nr_failed, 0);
}

static void test_many_errors_counted(void **state)
{
	char text[4096] = "{ \"heat\": {";
	struct policy p;
	struct policy_diag d;

	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"k%d\": 1",
			 i ? ", " : "", i);
	strcat(text, "} }");
	assert_int_equal(parse_str(text, &p, &d), -EINVAL);
	assert_int_equal(d.nr, POLICY_MAX_ERRORS);
	assert_int_equal(d.nr_lost, 40 - POLICY_MAX_ERRORS);
}

static void test_too_deep(void **state)
{
	char text[512] = "{ \"heat\": ";
	struct policy p;
	struct policy_diag d;
	char buf[600];

	for (int i = 0; i < 100; i++)
		strcat(text, "[");
	for (int i = 0; i < 100; i++)
		strcat(text, "]");
	strcat(text, " }");
	assert_int_equal(parse_str(text, &p, &d), -EINVAL);
	assert_string_equal(policy_error_format(&d, 0, buf, sizeof(buf)),
			    "policy.json:1: syntax error: nesting too deep");
}

static void test_missing_file(void **state)
{
	struct policy p;
	struct policy_diag d;
	char buf[600];

	assert_int_equal(policy_load_file("/nonexistent/policy.json", &p, &d), -ENOENT);
	assert_string_equal(policy_error_format(&d, 0, buf, sizeof(buf)),
			    "/nonexistent/policy.json: cannot open: No such file or directory");
}

struct size_case {
	const char *text;
	int ret;
	enum policy_size_kind kind;
	uint64_t bytes;
	uint32_t pct_bp;
	const char *formatted;
};

static const struct size_case size_cases[] = {
	{ "4096", 0, POLICY_SIZE_BYTES, 4096, 0, "4K" },
	{ "0", 0, POLICY_SIZE_BYTES, 0, 0, "0" },
	{ "1000", 0, POLICY_SIZE_BYTES, 1000, 0, "1000" },
	{ "512M", 0, POLICY_SIZE_BYTES, 512ull << 20, 0, "512M" },
	{ "512m", 0, POLICY_SIZE_BYTES, 512ull << 20, 0, "512M" },
	{ "2G", 0, POLICY_SIZE_BYTES, 2ull << 30, 0, "2G" },
	{ "2GiB", 0, POLICY_SIZE_BYTES, 2ull << 30, 0, "2G" },
	{ "2GB", 0, POLICY_SIZE_BYTES, 2ull << 30, 0, "2G" },
	{ "1.5G", 0, POLICY_SIZE_BYTES, 3ull << 29, 0, "1536M" },
	{ "8K", 0, POLICY_SIZE_BYTES, 8192, 0, "8K" },
	{ "1T", 0, POLICY_SIZE_BYTES, 1ull << 40, 0, "1T" },
	{ "25%", 0, POLICY_SIZE_PCT, 0, 2500, "25%" },
	{ "12.5%", 0, POLICY_SIZE_PCT, 0, 1250, "12.50%" },
	{ "100%", 0, POLICY_SIZE_PCT, 0, 10000, "100%" },
	{ "max", 0, POLICY_SIZE_MAX, 0, 0, "max" },
	{ .text = "lots", .ret = -EINVAL },
	{ .text = "", .ret = -EINVAL },
	{ .text = "-1G", .ret = -EINVAL },
	{ .text = "1.G", .ret = -EINVAL },
	{ .text = "5X", .ret = -EINVAL },
	{ .text = "1 G", .ret = -EINVAL },
	{ .text = "101%", .ret = -EINVAL },
	{ .text = "1.234%", .ret = -EINVAL },
	{ .text = "99999999999999999999", .ret = -EINVAL },
	{ .text = "17179869184G", .ret = -EINVAL },
};

static void test_sizes(void **state)
{
	for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		const struct size_case *c = &size_cases[i];
		struct policy_size s;
		char buf[32];

		int ret = policy_size_parse(c->text, &s);

		if (ret != c->ret)
			fail_msg("size \"%s\": ret %d, want %d", c->text, ret, c->ret);
		if (ret)
			continue;
		if (s.kind != c->kind || (s.kind == POLICY_SIZE_BYTES && s.bytes != c->bytes) ||
		    (s.kind == POLICY_SIZE_PCT && s.pct_bp != c->pct_bp))
			fail_msg("size \"%s\": kind %d bytes %llu pct_bp %u", c->text, s.kind,
				 (unsigned long long)s.bytes, s.pct_bp);
		assert_string_equal(policy_size_format(&s, buf, sizeof(buf)), c->formatted);
	}
}

static void test_size_resolve(void **state)
{
	struct policy_size s;

	assert_int_equal(policy_size_parse("25%", &s), 0);
	assert_int_equal(policy_size_resolve(&s, 4ull << 30), 1ull << 30);
	assert_int_equal(policy_size_resolve(&s, 0), 0);
	/* no overflow for huge usage */
	assert_int_equal(policy_size_resolve(&s, UINT64_MAX), UINT64_MAX / 4);
	assert_int_equal(policy_size_parse("12.34%", &s), 0);
	assert_int_equal(policy_size_resolve(&s, 10000), 1234);
	assert_int_equal(policy_size_parse("1G", &s), 0);
	assert_int_equal(policy_size_resolve(&s, 5), 1ull << 30);
	assert_int_equal(policy_size_parse("max", &s), 0);
	assert_int_equal(policy_size_resolve(&s, 5), UINT64_MAX);
}

static void test_round_pages(void **state)
{
	assert_int_equal(policy_round_pages(256, 1000), 65536);
	assert_int_equal(policy_round_pages(256, 500), 32768);
	assert_int_equal(policy_round_pages(512, 10), 1310);
	assert_int_equal(policy_round_pages(1, 1), 1); /* never rounds a nonzero limit to 0 */
	assert_int_equal(policy_round_pages(0, 1000), 0);
}

/* Run `tierctl policy ARGS...`; its stdout and stderr into OUT. */
static int run_cmd(char *out, size_t len, int argc, char **argv)
{
	FILE *tmp = tmpfile();
	int saved_out = dup(1), saved_err = dup(2), ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	struct tierctl_opts o = { 0 };

	ret = cmd_policy(argc, argv, &o);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return ret;
}

/* the command's contract: exit status and what it prints */
static void test_tierctl_policy_check(void **state)
{
	char good[512], bad[512], out[8192];

	snprintf(good, sizeof(good), "%s/tests/fixtures/policy/full.json", src_dir());
	snprintf(bad, sizeof(bad), "%s/tests/fixtures/policy/bad-size.json", src_dir());
	char *ok_argv[] = { "policy", "check", good, NULL };
	char *bad_argv[] = { "policy", "check", bad, NULL };
	char *bad_json_argv[] = { "policy", "check", bad, "-j", NULL };
	char *noarg_argv[] = { "policy", "check", NULL };
	char *defaults_argv[] = { "policy", "defaults", NULL };

	assert_int_equal(run_cmd(out, sizeof(out), 3, ok_argv), 0);
	assert_non_null(strstr(out, "full.json: ok: 3 cgroups; dram [0], cxl [1,2], 3 pool URIs"));
	assert_non_null(strchr(out, '\n'));
	assert_int_equal(strchr(out, '\n') - out, strlen(out) - 1); /* one line */
	assert_int_equal(run_cmd(out, sizeof(out), 3, bad_argv), -EBADMSG);
	assert_non_null(strstr(
	    out,
	    "bad-size.json:7: cgroups[0].dram: expected a size like 512M or 25%, got \"lots\"\n"));
	assert_int_equal(run_cmd(out, sizeof(out), 4, bad_json_argv), -EBADMSG);
	json_object *j = json_tokener_parse(out);

	assert_non_null(j);
	json_object *errs = json_object_object_get(j, "errors");

	assert_int_equal(json_object_array_length(errs), 1);
	json_object *e = json_object_array_get_idx(errs, 0);

	assert_int_equal(json_object_get_int(json_object_object_get(e, "line")), 7);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "key")),
			    "cgroups[0].dram");
	json_object_put(j);
	assert_int_equal(run_cmd(out, sizeof(out), 2, noarg_argv), -EINVAL);
	assert_int_equal(run_cmd(out, sizeof(out), 2, defaults_argv), 0);
	j = json_tokener_parse(out);
	assert_non_null(j);
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_bad_size_file),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_tier_nodes),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_many_errors_counted),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_size_resolve),
		cmocka_unit_test(test_round_pages),
		cmocka_unit_test(test_tierctl_policy_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
