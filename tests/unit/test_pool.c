// SPDX-License-Identifier: GPL-2.0
/*
 * test_pool.c — pool.c (URI parsing, slot allocator, dispatch over several
 * servers), the mem: backend, and the wire protocol's server-side checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../pager/pool/pool_internal.h"

static void test_parse_good(void **state)
{
	struct tier_pool_uri u;
	char err[512];

	assert_int_equal(tier_pool_parse_uri("tcp://10.0.0.2:7471", &u, err, sizeof(err)), 0);
	assert_int_equal(u.scheme, TIER_POOL_TCP);
	assert_string_equal(u.host, "10.0.0.2");
	assert_string_equal(u.port, "7471");

	assert_int_equal(tier_pool_parse_uri("rdma://memnode:1", &u, err, sizeof(err)), 0);
	assert_int_equal(u.scheme, TIER_POOL_RDMA);
	assert_string_equal(u.host, "memnode");
	assert_string_equal(u.port, "1");

	assert_int_equal(tier_pool_parse_uri("tcp://[::1]:65535", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "65535");

	assert_int_equal(tier_pool_parse_uri("shm:/dev/shm/pool0", &u, err, sizeof(err)), 0);
	assert_int_equal(u.scheme, TIER_POOL_SHM);
	assert_string_equal(u.path, "/dev/shm/pool0");
	assert_int_equal(tier_pool_parse_uri("shm:///dev/shm/p", &u, err, sizeof(err)), 0);
	assert_string_equal(u.path, "/dev/shm/p");

	assert_int_equal(tier_pool_parse_uri("mem:64K", &u, err, sizeof(err)), 0);
	assert_int_equal(u.scheme, TIER_POOL_MEM);
	assert_int_equal(u.size_bytes, 65536);
	assert_int_equal(tier_pool_parse_uri("mem:8192", &u, err, sizeof(err)), 0);
	assert_int_equal(u.size_bytes, 8192);
}

static void expect_bad(const char *uri, const char *msg)
{
	struct tier_pool_uri u;
	char err[512] = "";

	assert_int_equal(tier_pool_parse_uri(uri, &u, err, sizeof(err)), -EINVAL);
	if (strcmp(err, msg))
		fail_msg("URI \"%s\": got message \"%s\", expected \"%s\"", uri, err, msg);
}

static void test_parse_bad(void **state)
{
	expect_bad(
	    "",
	    "empty pool URI: expected tcp://HOST:PORT, rdma://HOST:PORT, shm:/PATH or mem:SIZE");
	expect_bad("tcp://host", "tcp://host: missing :PORT (expected SCHEME://HOST:PORT)");
	expect_bad("tcp://:7471", "tcp://:7471: missing HOST (expected SCHEME://HOST:PORT)");
	expect_bad("tcp://h:0", "tcp://h:0: bad port \"0\" (expected 1-65535)");
	expect_bad("tcp://h:65536", "tcp://h:65536: bad port \"65536\" (expected 1-65535)");
	expect_bad("tcp://h:12x", "tcp://h:12x: bad port \"12x\" (expected 1-65535)");
	expect_bad("tcp://h:", "tcp://h:: bad port \"\" (expected 1-65535)");
	expect_bad("tcp://h:80/x", "tcp://h:80/x: unexpected text after the port");
	expect_bad("tcp://::1:80", "tcp://::1:80: an IPv6 address needs brackets: [ADDR]:PORT");
	expect_bad("tcp://[::1]80",
		   "tcp://[::1]80: bad [IPv6]:PORT (expected e.g. tcp://[::1]:7471)");
	expect_bad("rdma://x", "rdma://x: missing :PORT (expected SCHEME://HOST:PORT)");
	expect_bad("shm:", "shm:: missing PATH (expected shm:/dev/shm/NAME)");
	expect_bad("shm:pool", "shm:pool: PATH must be absolute (expected shm:/dev/shm/NAME)");
	expect_bad("mem:", "mem:: bad SIZE \"\" (expected bytes, or a number with K, M, G or T)");
	expect_bad("mem:12Q",
		   "mem:12Q: bad SIZE \"12Q\" (expected bytes, or a number with K, M, G or T)");
	expect_bad("mem:0", "mem:0: SIZE must be at least one page (4096 bytes)");
	expect_bad("mem:5000", "mem:5000: SIZE must be a multiple of the page size (4096)");
	expect_bad("udp://h:1", "udp://h:1: unknown scheme \"udp\" (expected tcp://HOST:PORT, "
				"rdma://HOST:PORT, shm:/PATH or mem:SIZE)");
	expect_bad("/dev/shm/x", "/dev/shm/x: not a pool URI (expected tcp://HOST:PORT, "
				 "rdma://HOST:PORT, shm:/PATH or mem:SIZE)");
}

static void test_parse_size(void **state)
{
	uint64_t b;

	assert_int_equal(tier_parse_size("0", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(tier_parse_size("8G", &b), 0);
	assert_int_equal(b, 8ull << 30);
	assert_int_equal(tier_parse_size("3m", &b), 0);
	assert_int_equal(b, 3ull << 20);
	assert_int_equal(tier_parse_size("1T", &b), 0);
	assert_int_equal(b, 1ull << 40);
	assert_int_equal(tier_parse_size("", &b), -EINVAL);
	assert_int_equal(tier_parse_size("G", &b), -EINVAL);
	assert_int_equal(tier_parse_size("1GB", &b), -EINVAL);
	assert_int_equal(tier_parse_size("-1", &b), -EINVAL);
	assert_int_equal(tier_parse_size("99999999999999999999", &b), -ERANGE);
	assert_int_equal(tier_parse_size("99999999999T", &b), -ERANGE);
}

static void fill(unsigned char *page, uint64_t slot, unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < TIER_PAGE_SIZE; i++)
		page[i] = (unsigned char)(slot * 131 + i * 7 + seed);
}

static void test_mem_round_trip(void **state)
{
	enum { NR = 256 };
	struct tier_pool *pool;
	struct tier_pool_iov iov[NR];
	unsigned char *bufs = malloc((size_t)NR * TIER_PAGE_SIZE);
	unsigned char *expect = malloc(TIER_PAGE_SIZE);
	unsigned int i;

	assert_non_null(bufs);
	assert_int_equal(tier_pool_open("mem:1M", 1 << 20, &pool), 0);
	assert_int_equal(tier_pool_nr_slots(pool), NR);
	assert_int_equal(tier_pool_reg_buf(pool, bufs, (size_t)NR * TIER_PAGE_SIZE), 0);
	for (i = 0; i < NR; i++) {
		iov[i].slot = NR - 1 - i; /* out of order on purpose */
		iov[i].buf = bufs + (size_t)i * TIER_PAGE_SIZE;
		fill(iov[i].buf, iov[i].slot, 1);
	}
	assert_int_equal(tier_pool_write(pool, iov, NR), 0);
	memset(bufs, 0, (size_t)NR * TIER_PAGE_SIZE);
	for (i = 0; i < NR; i++)
		iov[i].slot = i;
	assert_int_equal(tier_pool_read(pool, iov, NR), 0);
	for (i = 0; i < NR; i++) {
		fill(expect, i, 1);
		assert_memory_equal(bufs + (size_t)i * TIER_PAGE_SIZE, expect, TIER_PAGE_SIZE);
	}
	/* out of range: refused, names the slot */
	iov[0].slot = NR;
	assert_int_equal(tier_pool_read(pool, iov, 1), -EINVAL);
	assert_non_null(strstr(tier_pool_strerror(pool), "slot 256"));
	tier_pool_close(pool);
	free(bufs);
	free(expect);
}

static void test_allocator(void **state)
{
	struct tier_pool *pool;
	uint64_t slot, seen = 0;
	unsigned int i;

	assert_int_equal(tier_pool_open("mem:64K", 1 << 20, &pool), 0);
	assert_int_equal(tier_pool_nr_slots(pool), 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(tier_pool_alloc_slot(pool, &slot), 0);
		assert_true(slot < 16);
		assert_false(seen & (1ull << slot));
		seen |= 1ull << slot;
	}
	assert_int_equal(tier_pool_nr_free_slots(pool), 0);
	assert_int_equal(tier_pool_alloc_slot(pool, &slot), -ENOSPC);
	assert_non_null(strstr(tier_pool_strerror(pool), "pool full"));
	tier_pool_free_slot(pool, 5);
	assert_int_equal(tier_pool_nr_free_slots(pool), 1);
	assert_int_equal(tier_pool_alloc_slot(pool, &slot), 0);
	assert_int_equal(slot, 5);
	/* a double free is reported, and does not create a slot */
	tier_pool_free_slot(pool, 7);
	tier_pool_free_slot(pool, 7);
	assert_non_null(strstr(tier_pool_strerror(pool), "double free"));
	assert_int_equal(tier_pool_nr_free_slots(pool), 1);
	tier_pool_close(pool);
}

/* Two servers: slots spread round-robin, one batch spanning both. */
static void test_multi_server(void **state)
{
	struct tier_pool *pool;
	struct tier_pool_iov iov[20];
	unsigned char *bufs = malloc(20 * TIER_PAGE_SIZE), expect[TIER_PAGE_SIZE];
	uint64_t a, b, slots[20];
	unsigned int i, on_first = 0;

	/* 96K asked over two: 12 slots each asked; the second only has 8 */
	assert_int_equal(tier_pool_open("mem:64K,mem:32K", 96 << 10, &pool), 0);
	assert_int_equal(tier_pool_nr_slots(pool), 20);
	assert_int_equal(tier_pool_alloc_slot(pool, &a), 0);
	assert_int_equal(tier_pool_alloc_slot(pool, &b), 0);
	assert_true((a < 12) != (b < 12)); /* one on each server */
	tier_pool_free_slot(pool, a);
	tier_pool_free_slot(pool, b);
	for (i = 0; i < 20; i++) {
		assert_int_equal(tier_pool_alloc_slot(pool, &slots[i]), 0);
		on_first += slots[i] < 12;
		iov[i].slot = slots[i];
		iov[i].buf = bufs + (size_t)i * TIER_PAGE_SIZE;
		fill(iov[i].buf, slots[i], 9);
	}
	assert_int_equal(on_first, 12);
	assert_int_equal(tier_pool_alloc_slot(pool, &a), -ENOSPC);
	assert_int_equal(tier_pool_write(pool, iov, 20), 0);
	memset(bufs, 0, 20 * TIER_PAGE_SIZE);
	assert_int_equal(tier_pool_read(pool, iov, 20), 0);
	for (i = 0; i < 20; i++) {
		fill(expect, slots[i], 9);
		assert_memory_equal(iov[i].buf, expect, TIER_PAGE_SIZE);
	}
	tier_pool_close(pool);
	free(bufs);
}

/* abandon (the fork()ed child's way out) frees without error; NULL is a no-op */
static void test_abandon(void **state)
{
	struct tier_pool *pool;
	uint64_t slot;

	assert_int_equal(tier_pool_open("mem:64K,mem:64K", 1 << 20, &pool), 0);
	assert_int_equal(tier_pool_alloc_slot(pool, &slot), 0);
	tier_pool_abandon(pool);
	tier_pool_abandon(NULL);
}

static void test_open_errors(void **state)
{
	struct tier_pool *pool = (void *)1;

	assert_int_equal(tier_pool_open("mem:64K,bogus", 1 << 20, &pool), -EINVAL);
	assert_null(pool);
	assert_string_equal(tier_pool_strerror(NULL),
			    "bogus: not a pool URI (expected tcp://HOST:PORT, rdma://HOST:PORT, "
			    "shm:/PATH or mem:SIZE)");
	assert_int_equal(tier_pool_open("mem:64K,,", 1 << 20, &pool), 0); /* empty items skipped */
	tier_pool_close(pool);
	assert_int_equal(tier_pool_open(",", 1 << 20, &pool), -EINVAL);
	assert_non_null(strstr(tier_pool_strerror(NULL), "no pool URI in the list"));
}

/* ---- protocol -------------------------------------------------------------- */

static void test_proto_hdr(void **state)
{
	struct tier_proto_hdr wire, host;
	const char *why;

	tier_proto_encode_hdr(&wire, TIER_PROTO_HELLO, 7, sizeof(struct tier_proto_hello));
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), 0);
	assert_int_equal(host.type, TIER_PROTO_HELLO);
	assert_int_equal(host.seq, 7);
	/* little-endian on the wire: the first byte of the magic is 'T' */
	assert_int_equal(((unsigned char *)&wire)[0], 'T');

	wire.magic ^= 1;
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EPROTO);
	assert_string_equal(why, "bad magic: not a tierd pool client");

	tier_proto_encode_hdr(&wire, TIER_PROTO_HELLO, 7, sizeof(struct tier_proto_hello));
	wire.version = tier_proto_le16(2);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EPROTONOSUPPORT);
	assert_non_null(strstr(why, "version mismatch"));

	tier_proto_encode_hdr(&wire, 99, 0, 0);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EPROTO);
	tier_proto_encode_hdr(&wire, TIER_PROTO_READ_REPLY, 0, 0); /* a reply is no request */
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EPROTO);

	tier_proto_encode_hdr(&wire, TIER_PROTO_WRITE, 0, (uint32_t)TIER_PROTO_MAX_BODY + 1);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EMSGSIZE);
	tier_proto_encode_hdr(&wire, TIER_PROTO_WRITE, 0, (uint32_t)TIER_PROTO_MAX_BODY);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), 0);
	tier_proto_encode_hdr(&wire, TIER_PROTO_STAT, 0, 1);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EMSGSIZE);
	tier_proto_encode_hdr(&wire, TIER_PROTO_HELLO, 0, 8);
	assert_int_equal(tier_proto_check_hdr(&wire, &host, &why), -EMSGSIZE);
}

/* Build a READ/WRITE body with @nr slots. */
static size_t make_io(unsigned char *body, uint16_t type, uint32_t nr, const uint64_t *slots)
{
	struct tier_proto_io io = { .nr_pages = tier_proto_le32(nr) };
	uint32_t i;

	memcpy(body, &io, sizeof(io));
	for (i = 0; i < nr; i++) {
		uint64_t le = tier_proto_le64(slots[i]);

		memcpy(body + sizeof(io) + i * 8, &le, 8);
	}
	return tier_proto_io_body_bytes(type, nr);
}

static void test_proto_io(void **state)
{
	static unsigned char body[TIER_PROTO_MAX_BODY + 64];
	uint64_t slots[TIER_PROTO_MAX_BATCH + 1];
	const char *why;
	uint32_t nr = 0, i;
	size_t len;

	for (i = 0; i <= TIER_PROTO_MAX_BATCH; i++)
		slots[i] = i;

	len = make_io(body, TIER_PROTO_READ, 3, slots);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 3, &nr, &why), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(tier_proto_io_slot(body, 2), 2);
	/* slot 2 is outside a lease of 2 */
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 2, &nr, &why), -ERANGE);
	assert_string_equal(why, "slot outside the client's lease");
	/* no lease yet */
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 0, &nr, &why), -EINVAL);
	assert_string_equal(why, "no lease: send HELLO first");
	/* truncated: one slot short, and no count at all */
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len - 8, 3, &nr, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "does not match"));
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, 4, 3, &nr, &why), -EINVAL);
	assert_string_equal(why, "truncated request: no page count");
	/* padded */
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len + 8, 3, &nr, &why),
			 -EINVAL);

	/* WRITE carries the pages: a READ-sized body is truncated */
	len = make_io(body, TIER_PROTO_WRITE, 2, slots);
	assert_int_equal(len, 8 + 2 * 8 + 2 * 4096);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_WRITE, body, len, 10, &nr, &why), 0);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_WRITE, body, len - 1, 10, &nr, &why),
			 -EINVAL);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_WRITE, body, 8 + 16, 10, &nr, &why),
			 -EINVAL);

	/* counts: 0 and MAX+1 refused, MAX accepted */
	len = make_io(body, TIER_PROTO_READ, 0, slots);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 10, &nr, &why), -EINVAL);
	len = make_io(body, TIER_PROTO_READ, TIER_PROTO_MAX_BATCH + 1, slots);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 1000, &nr, &why), -EINVAL);
	len = make_io(body, TIER_PROTO_WRITE, TIER_PROTO_MAX_BATCH, slots);
	assert_int_equal(len, TIER_PROTO_MAX_BODY);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_WRITE, body, len, 1000, &nr, &why), 0);
	/* a huge slot (would overflow slot * 4096) is out of range, not wrapped */
	slots[0] = UINT64_MAX / 4096 + 2;
	len = make_io(body, TIER_PROTO_READ, 1, slots);
	assert_int_equal(tier_proto_check_io(TIER_PROTO_READ, body, len, 1000, &nr, &why), -ERANGE);
	/* not an I/O type */
	assert_int_equal(tier_proto_check_io(TIER_PROTO_STAT, body, len, 1000, &nr, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),  cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_size),  cmocka_unit_test(test_mem_round_trip),
		cmocka_unit_test(test_allocator),   cmocka_unit_test(test_multi_server),
		cmocka_unit_test(test_open_errors), cmocka_unit_test(test_proto_hdr),
		cmocka_unit_test(test_proto_io),    cmocka_unit_test(test_abandon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
