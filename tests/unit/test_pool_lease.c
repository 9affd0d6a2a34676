// SPDX-License-Identifier: GPL-2.0
/*
 * test_pool_lease.c — tier-memsrv's lease table (pager/memsrv/memsrv_lease.c)
 * with a fake clock: first-fit leases, partial grants, coalescing of freed
 * runs, the grace period (reconnect within it keeps the same slots; after it
 * the token is unknown), several connections on one lease, release, and a
 * lease never freed under an I/O in flight.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../pager/memsrv/memsrv.h"

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];

static int setup(void **state)
{
	lease_now_ms = fake_clock;
	fake_now = 1000000;
	lease_init(100, 30);
	return 0;
}

static struct tier_proto_stat_reply stat_now(void)
{
	struct tier_proto_stat_reply s;

	lease_stat(&s);
	return s;
}

/* A new lease of @want; returns the reply. */
static struct tier_proto_hello_reply get(struct lease_ref *ref, uint64_t want)
{
	struct tier_proto_hello_reply r;
	const char *why;

	ref->idx = -1;
	assert_int_equal(lease_hello(ref, zero, want, "test", &r, &why), 0);
	return r;
}

static void test_first_fit_and_coalesce(void **state)
{
	struct lease_ref a, b, c, d;
	struct tier_proto_hello_reply ra, rb, rc, rd;
	const char *why;

	ra = get(&a, 30);
	rb = get(&b, 30);
	rc = get(&c, 30);
	assert_int_equal(ra.lease_base_slot, 0);
	assert_int_equal(rb.lease_base_slot, 30);
	assert_int_equal(rc.lease_base_slot, 60);
	assert_int_equal(stat_now().free_slots, 10);
	/* only 10 left: a partial grant, at least one slot */
	rd = get(&d, 50);
	assert_int_equal(rd.granted_slots, 10);
	assert_int_equal(rd.lease_base_slot, 90);
	/* full */
	d.idx = -1;
	assert_int_equal(lease_hello(&d, zero, 1, "test", &rd, &why), -ENOSPC);
	assert_string_equal(why, "server full: no free slots");
	/* free the middle and the first: they coalesce into 0..59 */
	lease_release(&b);
	lease_release(&a);
	assert_int_equal(stat_now().free_slots, 60);
	rd = get(&d, 60);
	assert_int_equal(rd.lease_base_slot, 0);
	assert_int_equal(rd.granted_slots, 60);
	lease_release(&c);
	lease_release(&d);
	assert_int_equal(stat_now().free_slots, 90);
	assert_int_equal(stat_now().nr_leases, 1); /* the 10-slot one */
}

static void test_grace(void **state)
{
	struct lease_ref a, again;
	struct tier_proto_hello_reply ra, r2;
	const char *why;
	uint64_t base, nr;

	ra = get(&a, 20);
	assert_int_equal(ra.reattached, 0);
	lease_detach(&a);
	assert_int_equal(a.idx, -1);
	assert_int_equal(stat_now().nr_lingering, 1);
	assert_int_equal(stat_now().free_slots, 80);
	/* 29 s later: still there; the token brings the same slots back */
	fake_now += 29000;
	lease_reap(fake_now);
	again.idx = -1;
	assert_int_equal(lease_hello(&again, ra.lease_token, 20, "test", &r2, &why), 0);
	assert_int_equal(r2.reattached, 1);
	assert_int_equal(r2.lease_base_slot, ra.lease_base_slot);
	assert_int_equal(r2.granted_slots, 20);
	assert_int_equal(lease_begin_io(&again, &base, &nr), 0);
	assert_int_equal(nr, 20);
	lease_end_io(&again);
	/* leave again: the grace starts over, and after 30 s the lease is gone */
	lease_detach(&again);
	fake_now += 29999;
	lease_reap(fake_now);
	assert_int_equal(stat_now().nr_leases, 1);
	fake_now += 1;
	lease_reap(fake_now);
	assert_int_equal(stat_now().nr_leases, 0);
	assert_int_equal(stat_now().free_slots, 100);
	again.idx = -1;
	assert_int_equal(lease_hello(&again, ra.lease_token, 20, "test", &r2, &why), -ESTALE);
	assert_non_null(strstr(why, "unknown lease token"));
	/* the old ref is stale even though the entry may be reused */
	get(&again, 5);
	assert_int_equal(lease_begin_io(&a, &base, &nr), -ESTALE);
}

static void test_several_connections(void **state)
{
	struct lease_ref a, b;
	struct tier_proto_hello_reply ra, rb;
	const char *why;
	uint64_t base, nr;

	ra = get(&a, 10);
	b.idx = -1;
	assert_int_equal(lease_hello(&b, ra.lease_token, 10, "test", &rb, &why), 0);
	assert_int_equal(rb.reattached, 1);
	assert_int_equal(stat_now().nr_clients, 1);
	/* one connection leaves: the lease stays attached, no grace clock */
	lease_detach(&a);
	fake_now += 100000;
	lease_reap(fake_now);
	assert_int_equal(lease_begin_io(&b, &base, &nr), 0);
	lease_end_io(&b);
	/* a second HELLO on a connection that holds a lease */
	assert_int_equal(lease_hello(&b, zero, 1, "test", &rb, &why), -EALREADY);
	/* release: gone at once, whatever the grace */
	lease_release(&b);
	assert_int_equal(stat_now().nr_leases, 0);
	assert_int_equal(stat_now().free_slots, 100);
}

static void test_io_pins_lease(void **state)
{
	struct lease_ref a;
	uint64_t base, nr;

	get(&a, 10);
	assert_int_equal(lease_begin_io(&a, &base, &nr), 0);
	/* the client leaves and the grace runs out while a copy is in flight */
	{
		struct lease_ref copy = a;

		lease_detach(&a);
		fake_now += 60000;
		lease_reap(fake_now);
		assert_int_equal(stat_now().nr_leases, 1); /* not freed under the copy */
		lease_end_io(&copy);
	}
	lease_reap(fake_now);
	assert_int_equal(stat_now().nr_leases, 0);
	/* hello with 0 slots is refused */
	{
		struct tier_proto_hello_reply r;
		const char *why;

		a.idx = -1;
		assert_int_equal(lease_hello(&a, zero, 0, "test", &r, &why), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_fit_and_coalesce, setup),
		cmocka_unit_test_setup(test_grace, setup),
		cmocka_unit_test_setup(test_several_connections, setup),
		cmocka_unit_test_setup(test_io_pins_lease, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
