// SPDX-License-Identifier: GPL-2.0
/*
 * test_pool_resolve.c — a pool server's address is resolved once, at open
 * (tier_pool_resolve), and channels connect from the stored addresses
 * (tier_stream_connect_addrs): numeric IPv4 and IPv6, the shm control
 * socket, the errors; and a connect to a listening loopback socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "../../pager/pool/pool_internal.h"

static void parse(const char *uri, struct tier_pool_uri *u)
{
	char err[512];

	assert_int_equal(tier_pool_parse_uri(uri, u, err, sizeof(err)), 0);
}

static void test_ipv4(void **state)
{
	struct tier_pool_uri u;
	struct tier_pool_addrs a;
	const struct sockaddr_in *sin;

	parse("tcp://127.0.0.1:7471", &u);
	assert_int_equal(tier_pool_resolve(&u, &a), 0);
	assert_true(a.nr >= 1 && a.nr <= TIER_POOL_MAX_ADDRS);
	sin = (const struct sockaddr_in *)&a.addr[0];
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(a.len[0], sizeof(*sin));
	assert_int_equal(ntohs(sin->sin_port), 7471);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
}

static void test_ipv6_rdma(void **state)
{
	struct tier_pool_uri u;
	struct tier_pool_addrs a;
	const struct sockaddr_in6 *sin6;

	parse("rdma://[::1]:9", &u);
	assert_int_equal(tier_pool_resolve(&u, &a), 0);
	sin6 = (const struct sockaddr_in6 *)&a.addr[0];
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9);
	assert_memory_equal(&sin6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));
}

static void test_shm_socket(void **state)
{
	struct tier_pool_uri u;
	struct tier_pool_addrs a;
	const struct sockaddr_un *sun;
	char uri[160];

	parse("shm:/dev/shm/pool0", &u);
	assert_int_equal(tier_pool_resolve(&u, &a), 0);
	assert_int_equal(a.nr, 1);
	sun = (const struct sockaddr_un *)&a.addr[0];
	assert_int_equal(sun->sun_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/dev/shm/pool0.sock");

	/* PATH.sock must fit sun_path (108 bytes with the NUL) */
	memset(uri, 0, sizeof(uri));
	memcpy(uri, "shm:/", 5);
	memset(uri + 5, 'p', 110);
	parse(uri, &u);
	assert_int_equal(tier_pool_resolve(&u, &a), -ENAMETOOLONG);
	assert_non_null(strstr(tier_pool_thread_error(), "too long"));
}

static void test_no_address(void **state)
{
	struct tier_pool_uri u;
	struct tier_pool_addrs a;

	parse("mem:64K", &u);
	assert_int_equal(tier_pool_resolve(&u, &a), -EINVAL);
}

/* The stored address reaches a listening socket; a closed port is refused. */
static void test_connect_addrs(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct tier_pool_uri u;
	struct tier_pool_addrs a;
	char uri[64];
	int lfd, fd = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
	parse(uri, &u);
	assert_int_equal(tier_pool_resolve(&u, &a), 0);
	assert_int_equal(tier_stream_connect_addrs(&u, &a, &fd, tier_pool_now_ms() + 5000), 0);
	assert_true(fd >= 0);
	close(fd);

	/* the port closed: refused, and the error names the server */
	close(lfd);
	fd = -1;
	assert_int_equal(tier_stream_connect_addrs(&u, &a, &fd, tier_pool_now_ms() + 5000),
			 -ECONNREFUSED);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(tier_pool_thread_error(), "is tier-memsrv listening on 127.0.0.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),	      cmocka_unit_test(test_ipv6_rdma),
		cmocka_unit_test(test_shm_socket),    cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_connect_addrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
