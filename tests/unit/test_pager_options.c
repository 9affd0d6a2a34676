// SPDX-License-Identifier: GPL-2.0
/*
 * test_pager_options.c — libtierpager's options: sizes and the TIERD_*
 * environment, good values and the messages for bad ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tierd/pager.h"

static void test_sizes(void **state)
{
	char err[256];
	uint64_t b;

	assert_int_equal(tier_pager_parse_size("4096", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(tier_pager_parse_size("64K", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 64 << 10);
	assert_int_equal(tier_pager_parse_size("512M", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 512ull << 20);
	assert_int_equal(tier_pager_parse_size("2G", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 2ull << 30);
	assert_int_equal(tier_pager_parse_size("1T", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1ull << 40);
	assert_int_equal(tier_pager_parse_size("3g", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 3ull << 30);
	assert_int_equal(tier_pager_parse_size("8MiB", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 8ull << 20);
	assert_int_equal(tier_pager_parse_size("8MB", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 8ull << 20);
}

static void test_bad_sizes(void **state)
{
	char err[256];
	uint64_t b = 7;

	assert_int_equal(tier_pager_parse_size("", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty size"));
	assert_int_equal(tier_pager_parse_size("12Q", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'12Q'"));
	assert_int_equal(tier_pager_parse_size("-1G", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must start with a digit"));
	assert_int_equal(tier_pager_parse_size("M", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(tier_pager_parse_size("1.5G", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(tier_pager_parse_size("99999999999999999999", &b, err, sizeof(err)),
			 -ERANGE);
	assert_int_equal(tier_pager_parse_size("99999999999T", &b, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(b, 7); /* untouched on error */
}

static void clear_env(void)
{
	unsetenv("TIERD_POOL");
	unsetenv("TIERD_POOL_SIZE");
	unsetenv("TIERD_LOCAL_LIMIT");
	unsetenv("TIERD_NODE");
	unsetenv("TIERD_HANDLERS");
	unsetenv("TIERD_SPIN_US");
	unsetenv("TIERD_VERBOSE");
	unsetenv("TIERD_PREFETCH");
	unsetenv("TIERD_IDLE_POLL");
}

static void test_env_good(void **state)
{
	struct tier_pager_opts o;
	char err[256];

	clear_env();
	setenv("TIERD_POOL", "tcp://127.0.0.1:7471,shm:/dev/shm/p", 1);
	setenv("TIERD_LOCAL_LIMIT", "256M", 1);
	setenv("TIERD_POOL_SIZE", "4G", 1);
	setenv("TIERD_NODE", "1", 1);
	setenv("TIERD_HANDLERS", "3", 1);
	setenv("TIERD_PREFETCH", "0", 1);
	setenv("TIERD_IDLE_POLL", "1", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), 0);
	assert_string_equal(o.pool_uris, "tcp://127.0.0.1:7471,shm:/dev/shm/p");
	assert_int_equal(o.local_limit_bytes, 256ull << 20);
	assert_int_equal(o.pool_bytes, 4ull << 30);
	assert_int_equal(o.node, 1);
	assert_int_equal(o.nr_handlers, 3);
	assert_true(o.no_prefetch);
	assert_true(o.idle_poll);
	assert_true(o.scan_maps);
	unsetenv("TIERD_IDLE_POLL");
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), 0);
	assert_false(o.idle_poll); /* system-wide: only when asked */

	setenv("TIERD_NODE", "local", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), 0);
	assert_int_equal(o.node, TIER_PAGER_NODE_LOCAL);
	unsetenv("TIERD_NODE");
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), 0);
	assert_int_equal(o.node, TIER_PAGER_NODE_DEFAULT);
	clear_env();
}

static void test_env_bad(void **state)
{
	struct tier_pager_opts o;
	char err[256];

	clear_env();
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "TIERD_POOL is not set"));

	setenv("TIERD_POOL", "mem:64M", 1);
	setenv("TIERD_LOCAL_LIMIT", "lots", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'lots'"));
	setenv("TIERD_LOCAL_LIMIT", "100K", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at least 1M"));
	unsetenv("TIERD_LOCAL_LIMIT");

	setenv("TIERD_NODE", "-3", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TIERD_NODE='-3'"));
	setenv("TIERD_NODE", "x1", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	unsetenv("TIERD_NODE");

	setenv("TIERD_HANDLERS", "99", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "up to 16"));
	unsetenv("TIERD_HANDLERS");

	setenv("TIERD_IDLE_POLL", "yes", 1);
	assert_int_equal(tier_pager_opts_from_env(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TIERD_IDLE_POLL"));
	unsetenv("TIERD_IDLE_POLL");
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_env_good),
		cmocka_unit_test(test_env_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
