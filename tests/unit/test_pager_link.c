// SPDX-License-Identifier: GPL-2.0
/*
 * test_pager_link.c — tierd's side of the pager channel: the hello is
 * checked against SO_PEERCRED, report lines become stats and pool runs
 * (repeated reports reuse and grow the run buffers), commands come out as
 * the lines of include/tierd/pager_ctl.h, a closed pager is forgotten.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "../../controller/pager_link.h"
#include "../../controller/tierd.h"

/* what tierd's other objects provide */
const struct tiering_pool_hooks *tiering_pool_hooks;
static uint64_t fake_ns;
uint64_t now_ns(void)
{
	return fake_ns;
}

struct pair {
	struct client c;
	int peer;
};

static void pair_open(struct pair *p)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&p->c, 0, sizeof(p->c));
	p->c.fd = sv[0];
	p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
	pager_link_gone(&p->c);
	close(p->c.fd);
	close(p->peer);
}

static bool hello(struct pair *p, int pid, char *err, size_t n)
{
	char line[128];
	struct json_object *req;
	bool ok;

	snprintf(line, sizeof(line), "{\"cmd\":\"pager_hello\",\"pid\":%d}", pid);
	/* as ctl.c leaves it: the line NUL-terminated in place of its newline */
	p->c.in_len = (size_t)snprintf(p->c.in, sizeof(p->c.in), "%s", line) + 1;
	req = json_tokener_parse(line);
	ok = pager_link_hello(&p->c, req, err, n);
	json_object_put(req);
	return ok;
}

static void feed(struct pair *p, const char *text)
{
	size_t n = strlen(text);

	memcpy(p->c.in + p->c.in_len, text, n);
	p->c.in_len += n;
	pager_link_input(&p->c);
}

static void test_hello_checks_the_peer(void **state)
{
	struct pair p;
	char err[256];

	assert_non_null(tiering_pool_hooks); /* pager_link.c registered itself */
	pair_open(&p);
	assert_false(hello(&p, getpid() + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "speaks only for its own process"));
	assert_false(pager_link_owns(&p.c));
	assert_true(hello(&p, getpid(), err, sizeof(err)));
	assert_true(pager_link_owns(&p.c));
	assert_int_equal(p.c.in_len, 0); /* the hello line was consumed */
	assert_true(tiering_pool_hooks->connected((uint32_t)getpid()));
	pair_close(&p);
	assert_false(tiering_pool_hooks->connected((uint32_t)getpid()));
}

static void test_reports(void **state)
{
	const struct tiering_pool_hooks *h = tiering_pool_hooks;
	uint32_t pid = (uint32_t)getpid();
	struct json_object *o, *v;
	struct pair p;
	char err[256], buf[64 * 1024];
	size_t len;
	int round, i;

	pair_open(&p);
	assert_true(hello(&p, getpid(), err, sizeof(err)));
	fake_ns = 1000000000ull;
	/* a line split across two reads */
	feed(&p, "stats managed=100 resident=40 pool=60 fetches=7 fetch_p50_ns=3000 fet");
	feed(&p, "ch_p99_ns=90000 hints=5\npool_begin\npool 0x10000 2 0x20000 1\npool_end\n");
	assert_true(h->in_pool(pid, 0x10000));
	assert_true(h->in_pool(pid, 0x11000));
	assert_false(h->in_pool(pid, 0x12000));
	assert_true(h->in_pool(pid, 0x20000));
	assert_false(h->in_pool(pid, 0xf000));
	assert_false(h->in_pool(pid + 1, 0x10000));
	o = h->cg_json(&pid, 1);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "pool_bytes", &v));
	assert_int_equal(json_object_get_uint64(v), 60 * 4096);
	assert_true(json_object_object_get_ex(o, "fetch_p99_ns", &v));
	assert_int_equal(json_object_get_uint64(v), 90000);
	json_object_put(o);

	/* reports of growing and shrinking size: the two run buffers swap */
	for (round = 0; round < 6; round++) {
		int nr = round % 2 ? 5 : 300 * (round + 1);

		feed(&p, "pool_begin\n");
		for (i = 0; i < nr;) {
			len = (size_t)snprintf(buf, sizeof(buf), "pool");
			for (; i < nr && len < 3000; i++)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %#x 1",
							0x100000 + i * 0x2000);
			buf[len++] = '\n';
			buf[len] = 0;
			feed(&p, buf);
		}
		feed(&p, "pool_end\n");
		assert_true(h->in_pool(pid, 0x100000 + (uint64_t)(nr - 1) * 0x2000));
		assert_false(h->in_pool(pid, 0x100000 + (uint64_t)nr * 0x2000));
		assert_false(h->in_pool(pid, 0x101000));
	}

	/* commands */
	assert_int_equal(h->evict(pid, 0x7f0000, 3 * 4096), 0);
	assert_int_equal(h->fetch(pid, 0x7f4000, 4096, -1), 0);
	assert_int_equal(h->fetch(pid, 0x7f8000, 8192, 0), 0);
	h->hint(pid, 250);
	h->hint(pid, 250); /* unchanged: not sent again */
	len = (size_t)read(p.peer, buf, sizeof(buf) - 1);
	buf[len] = 0;
	assert_string_equal(
	    buf, "evict 0x7f0000 12288\nfetch 0x7f4000 4096\nfetch 0x7f8000 8192 0\nhint 250\n");
	/* 6 pages of pool moves sent: busy until a whole report counts them done */
	assert_true(h->busy(pid));
	feed(&p, "stats cmd_evicted=3 cmd_fetched=3\npool_begin\n");
	assert_true(h->busy(pid)); /* its runs are not in yet */
	feed(&p, "pool_end\n");
	assert_false(h->busy(pid));
	assert_false(h->busy(pid + 1));
	assert_int_equal(h->evict(pid + 1, 0x7f0000, 4096), -ENOTCONN);
	pair_close(&p);
	assert_null(h->cg_json(&pid, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_checks_the_peer),
		cmocka_unit_test(test_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
