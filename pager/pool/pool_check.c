// SPDX-License-Identifier: GPL-2.0
/*
 * tier-pool-check — exercise a pool through the real transports: the client
 * of the pool's integration tests and benchmark, and a quick way to check
 * that a tier-memsrv works.
 *
 *   tier-pool-check --pool URIS [--bytes SIZE] [--threads N] ACTION...
 *     write SEED     fill every slot of the lease with a pattern of (SEED, slot),
 *                    in batches of 1 to 64 pages, N threads on N stripes
 *     verify SEED    read every slot back; fail on any mismatch
 *     drop           break the connections (tcp) so the next request reconnects
 *     fork SEED      a child abandons the inherited pool, opens its own and
 *                    writes/verifies SEED there
 *     sleep SECS | touch FILE | waitfile FILE (waits up to 120 s)
 *     fail           the next action must fail (prints the error it got)
 *     bench          4 KiB and 64-page latency/throughput
 *   tier-pool-check --stat URI        print the server's lease statistics
 *   tier-pool-check --malformed URI   send malformed requests (tcp); fail if the
 *                                     server answers any of them wrongly
 *
 * Why a separate program: the tests must reach the server through the same
 * code the pager uses (pool.c and the transports), from a process that can
 * be killed, stopped and restarted independently of the server.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool_internal.h"

#define BATCH 64

static struct tier_pool *pool;
static uint64_t *slots, nr_slots;
static unsigned char *bufs;

static void pattern(uint64_t *w, uint64_t slot, uint64_t seed)
{
	unsigned int i;

	for (i = 0; i < TIER_PAGE_SIZE / 8; i++)
		w[i] = (seed << 48) ^ (slot << 12) ^ i ^ 0x5a5a000000000000ull;
}

static int alloc_all(void)
{
	uint64_t i;
	int rc;

	if (slots)
		return 0;
	nr_slots = tier_pool_nr_slots(pool);
	slots = calloc(nr_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < nr_slots; i++) {
		rc = tier_pool_alloc_slot(pool, &slots[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static unsigned int nr_threads = 1;

struct stripe {
	uint64_t seed, first, end, bad;
	bool verify;
	unsigned char *buf;
	int rc;
	pthread_t thread;
};

/* Write or verify slots [first, end) in batches of 1..BATCH pages. */
static void *run_stripe(void *arg)
{
	struct stripe *st = arg;
	struct tier_pool_iov iov[BATCH];
	uint64_t i, expect[TIER_PAGE_SIZE / 8];
	unsigned int n, j, want = BATCH;

	for (i = st->first; i < st->end; i += n) {
		/* vary the batch size: single pages and full batches both happen */
		want = want == BATCH ? 1 : want * 2 > BATCH ? BATCH : want * 2;
		for (n = 0; n < want && i + n < st->end; n++) {
			iov[n].slot = slots[i + n];
			iov[n].buf = st->buf + (size_t)n * TIER_PAGE_SIZE;
			if (st->verify)
				memset(iov[n].buf, 0xee, TIER_PAGE_SIZE);
			else
				pattern(iov[n].buf, slots[i + n], st->seed);
		}
		st->rc = st->verify ? tier_pool_read(pool, iov, n) : tier_pool_write(pool, iov, n);
		if (st->rc)
			return NULL;
		for (j = 0; st->verify && j < n; j++) {
			pattern(expect, iov[j].slot, st->seed);
			if (memcmp(expect, iov[j].buf, TIER_PAGE_SIZE)) {
				if (!st->bad)
					fprintf(stderr,
						"slot %llu: content differs (first word %#llx, "
						"expected %#llx)\n",
						(unsigned long long)iov[j].slot,
						(unsigned long long)*(uint64_t *)iov[j].buf,
						(unsigned long long)expect[0]);
				st->bad++;
			}
		}
	}
	return NULL;
}

static int do_stripes(uint64_t seed, bool verify)
{
	struct stripe st[16];
	uint64_t bad = 0;
	unsigned int t;
	int rc = alloc_all();

	if (rc)
		return rc;
	for (t = 0; t < nr_threads; t++) {
		st[t] = (struct stripe){ .seed = seed,
					 .verify = verify,
					 .first = nr_slots * t / nr_threads,
					 .end = nr_slots * (t + 1) / nr_threads,
					 .buf = bufs + (size_t)t * BATCH * TIER_PAGE_SIZE };
		if (nr_threads == 1)
			run_stripe(&st[t]);
		else if (pthread_create(&st[t].thread, NULL, run_stripe, &st[t]))
			return -EAGAIN;
	}
	for (t = 0; t < nr_threads; t++) {
		if (nr_threads > 1)
			pthread_join(st[t].thread, NULL);
		if (st[t].rc && !rc)
			rc = st[t].rc;
		bad += st[t].bad;
	}
	if (rc)
		return rc;
	printf("%s %llu pages (seed %llu, %u threads)", verify ? "verified" : "wrote",
	       (unsigned long long)nr_slots, (unsigned long long)seed, nr_threads);
	if (verify)
		printf(": %llu mismatches", (unsigned long long)bad);
	printf("\n");
	return bad ? -EIO : 0;
}

static int do_write(uint64_t seed)
{
	return do_stripes(seed, false);
}

static int do_verify(uint64_t seed)
{
	return do_stripes(seed, true);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int do_bench(void)
{
	enum { NR_SINGLE = 20000, NR_BATCH = 1000 };
	static double lat[NR_SINGLE];
	struct tier_pool_iov iov[BATCH];
	double t0, sum = 0;
	unsigned int i, j;
	int rc = do_write(1);

	if (rc)
		return rc;
	srand(1);
	for (i = 0; i < NR_SINGLE; i++) {
		iov[0].slot = slots[(uint64_t)rand() % nr_slots];
		iov[0].buf = bufs;
		t0 = now_us();
		rc = tier_pool_read(pool, iov, 1);
		lat[i] = now_us() - t0;
		if (rc)
			return rc;
		sum += lat[i];
	}
	qsort(lat, NR_SINGLE, sizeof(lat[0]), cmp_double);
	printf("read-4k mean_us=%.2f p50_us=%.2f p99_us=%.2f\n", sum / NR_SINGLE,
	       lat[NR_SINGLE / 2], lat[NR_SINGLE * 99 / 100]);
	for (j = 0; j < 2; j++) {
		t0 = now_us();
		for (i = 0; i < NR_BATCH; i++) {
			unsigned int k;
			uint64_t first =
			    (uint64_t)rand() % (nr_slots > BATCH ? nr_slots - BATCH : 1);

			for (k = 0; k < BATCH; k++) {
				iov[k].slot = slots[(first + k) % nr_slots];
				iov[k].buf = bufs + (size_t)k * TIER_PAGE_SIZE;
			}
			rc = j ? tier_pool_write(pool, iov, BATCH)
			       : tier_pool_read(pool, iov, BATCH);
			if (rc)
				return rc;
		}
		sum = now_us() - t0;
		printf("%s-64 us_per_batch=%.1f MiB_per_s=%.0f\n", j ? "write" : "read",
		       sum / NR_BATCH,
		       (double)NR_BATCH * BATCH * TIER_PAGE_SIZE / (1 << 20) / (sum / 1e6));
	}
	return 0;
}

/*
 * fork(): the child lets go of the parent's pool (tier_pool_abandon), opens
 * its own, writes and verifies @seed there; the parent's pool must be
 * untouched (the caller verifies it afterwards).
 */
static int do_fork(const char *uris, uint64_t bytes, uint64_t seed)
{
	pid_t pid = fork();
	int status, rc;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		tier_pool_abandon(pool);
		free(slots);
		slots = NULL;
		rc = tier_pool_open(uris, bytes, &pool);
		if (rc) {
			fprintf(stderr, "child: %s\n", tier_pool_strerror(NULL));
			_exit(1);
		}
		rc = tier_pool_reg_buf(pool, bufs, (size_t)nr_threads * BATCH * TIER_PAGE_SIZE);
		if (!rc)
			rc = do_write(seed);
		if (!rc)
			rc = do_verify(seed);
		if (rc)
			fprintf(stderr, "child: %s (%s)\n", tier_pool_strerror(pool),
				strerror(-rc));
		tier_pool_close(pool);
		_exit(rc ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		tier_pool_set_error("the forked child failed");
		return -EIO;
	}
	printf("forked child used a pool of its own\n");
	return 0;
}

/* ---- malformed requests ------------------------------------------------------ */

static int failures;

static void expect(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "NOT OK", what);
	if (!ok)
		failures++;
}

/* Send raw bytes, then: 1 if an ERROR reply or a close came back, 0 otherwise. */
static int raw_send_expect_refusal(const struct tier_pool_uri *u, const void *bytes, size_t len)
{
	struct tier_proto_hdr rh;
	char buf[512];
	ssize_t n;
	int fd, ok = 0;
	uint64_t deadline = tier_pool_now_ms() + 20000;

	if (tier_stream_connect(u, &fd, deadline))
		return 0;
	if (write(fd, bytes, len) != (ssize_t)len)
		goto out;
	shutdown(fd, SHUT_WR); /* truncated requests: the server sees EOF */
	for (;;) {
		struct timespec ts = { 0, 10000000 };

		n = read(fd, &rh, sizeof(rh));
		if (n == 0) {
			ok = 1; /* closed */
			break;
		}
		if (n == (ssize_t)sizeof(rh)) {
			ok = tier_proto_from_le16(rh.type) == TIER_PROTO_ERROR;
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			break;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			ok = errno == ECONNRESET;
			break;
		}
		if (tier_pool_now_ms() > deadline)
			break;
		nanosleep(&ts, NULL);
	}
out:
	close(fd);
	return ok;
}

static int do_malformed(const char *uri)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	static unsigned char page[TIER_PAGE_SIZE * 2];
	uint64_t deadline = tier_pool_now_ms() + 20000;
	struct tier_proto_hello_reply r;
	struct tier_proto_status st;
	struct tier_proto_stat_reply sr;
	struct tier_proto_io io;
	struct tier_proto_hdr h;
	struct tier_pool_uri u;
	struct iovec req[3];
	uint64_t s[2];
	char err[384];
	int fd, rc, se;

	if (tier_pool_parse_uri(uri, &u, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -EINVAL;
	}
	if (tier_stream_connect(&u, &fd, deadline)) {
		fprintf(stderr, "%s\n", tier_pool_thread_error());
		return -ECONNREFUSED;
	}
	/* I/O before HELLO */
	io.nr_pages = tier_proto_le32(1);
	io.reserved = 0;
	s[0] = 0;
	req[0] = (struct iovec){ &io, sizeof(io) };
	req[1] = (struct iovec){ s, 8 };
	rc = tier_stream_call(fd, TIER_PROTO_READ, 1, req, 2, TIER_PROTO_READ_REPLY, &st,
			      sizeof(st), NULL, 0, 0, deadline, &se);
	expect(rc == -EINVAL && se, "READ before HELLO is refused");
	rc = tier_stream_hello(fd, 2, zero, 4, &r, deadline, &se);
	expect(!rc && r.granted_slots == 4, "HELLO grants a lease of 4 slots");
	/* slot 4 is outside a lease of 4 */
	s[0] = tier_proto_le64(4);
	rc = tier_stream_call(fd, TIER_PROTO_READ, 3, req, 2, TIER_PROTO_READ_REPLY, &st,
			      sizeof(st), NULL, 0, 0, deadline, &se);
	expect(rc == -ERANGE && se, "READ of a slot outside the lease: ERANGE");
	s[0] = tier_proto_le64(UINT64_MAX / 8);
	req[2] = (struct iovec){ page, TIER_PAGE_SIZE };
	rc = tier_stream_call(fd, TIER_PROTO_WRITE, 4, req, 3, TIER_PROTO_WRITE_REPLY, &st,
			      sizeof(st), NULL, 0, 0, deadline, &se);
	expect(rc == -ERANGE && se, "WRITE of a huge slot: ERANGE");
	/* WRITE announcing 2 pages, carrying 1 */
	io.nr_pages = tier_proto_le32(2);
	s[0] = 0;
	s[1] = 0;
	req[1] = (struct iovec){ s, 16 };
	rc = tier_stream_call(fd, TIER_PROTO_WRITE, 5, req, 3, TIER_PROTO_WRITE_REPLY, &st,
			      sizeof(st), NULL, 0, 0, deadline, &se);
	expect(rc == -EINVAL && se, "WRITE shorter than its page count: EINVAL");
	io.nr_pages = 0;
	rc = tier_stream_call(fd, TIER_PROTO_READ, 6, req, 1, TIER_PROTO_READ_REPLY, &st,
			      sizeof(st), NULL, 0, 0, deadline, &se);
	expect(rc == -EINVAL && se, "READ of 0 pages: EINVAL");
	rc = tier_stream_hello(fd, 7, zero, 4, &r, deadline, &se);
	expect(rc == -EALREADY && se, "a second HELLO: EALREADY");
	rc = tier_stream_call(fd, TIER_PROTO_STAT, 8, NULL, 0, TIER_PROTO_STAT_REPLY, &sr,
			      sizeof(sr), NULL, 0, 0, deadline, &se);
	expect(!rc, "the connection still serves after the refusals");
	close(fd);

	/* unknown lease token */
	if (!tier_stream_connect(&u, &fd, deadline)) {
		uint8_t tok[TIER_PROTO_TOKEN_BYTES];

		memset(tok, 0x42, sizeof(tok));
		rc = tier_stream_hello(fd, 1, tok, 4, &r, deadline, &se);
		expect(rc == -ESTALE && se, "HELLO with an unknown lease token: ESTALE");
		close(fd);
	}

	/* unframeable: bad magic, bad version, unknown type, oversized, truncated */
	memset(&h, 0xab, sizeof(h));
	expect(raw_send_expect_refusal(&u, &h, sizeof(h)), "garbage header: refused/closed");
	tier_proto_encode_hdr(&h, TIER_PROTO_HELLO, 1, sizeof(struct tier_proto_hello));
	h.version = tier_proto_le16(TIER_PROTO_VERSION + 1);
	expect(raw_send_expect_refusal(&u, &h, sizeof(h)), "version mismatch: refused");
	tier_proto_encode_hdr(&h, 77, 1, 0);
	expect(raw_send_expect_refusal(&u, &h, sizeof(h)), "unknown type: refused");
	tier_proto_encode_hdr(&h, TIER_PROTO_WRITE, 1, 0x7fffffff);
	expect(raw_send_expect_refusal(&u, &h, sizeof(h)), "oversized body: refused");
	tier_proto_encode_hdr(&h, TIER_PROTO_WRITE, 1, 8 + 8 + 4096);
	expect(raw_send_expect_refusal(&u, &h, sizeof(h)), "truncated body: closed");
	expect(raw_send_expect_refusal(&u, &h, 7), "truncated header: closed");

	rc = tier_pool_server_stat(uri, &sr);
	expect(!rc, "the server still answers");
	return failures ? -EPROTO : 0;
}

/* The pool's last error, or this thread's when the pool has none. */
static const char *why_failed(void)
{
	const char *s = tier_pool_strerror(pool);

	return *s ? s : tier_pool_thread_error();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "stat", required_argument, NULL, 's' },
		{ "malformed", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uris = NULL;
	uint64_t bytes = 4 << 20;
	bool must_fail = false;
	int o, rc, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((o = getopt_long(argc, argv, "p:b:s:m:t:", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			uris = optarg;
			break;
		case 'b':
			if (tier_parse_size(optarg, &bytes)) {
				fprintf(stderr, "tier-pool-check: bad --bytes %s\n", optarg);
				return 2;
			}
			break;
		case 's': {
			struct tier_proto_stat_reply s;

			rc = tier_pool_server_stat(optarg, &s);
			if (rc) {
				fprintf(stderr, "tier-pool-check: %s: %s\n", optarg,
					tier_pool_thread_error());
				return 1;
			}
			printf("total_slots=%llu free_slots=%llu leases=%llu clients=%llu "
			       "lingering=%llu\n",
			       (unsigned long long)s.total_slots, (unsigned long long)s.free_slots,
			       (unsigned long long)s.nr_leases, (unsigned long long)s.nr_clients,
			       (unsigned long long)s.nr_lingering);
			return 0;
		}
		case 'm':
			return do_malformed(optarg) ? 1 : 0;
		case 't':
			nr_threads = (unsigned int)atoi(optarg);
			if (nr_threads < 1 || nr_threads > 16) {
				fprintf(stderr, "tier-pool-check: --threads 1..16\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr,
				"usage: tier-pool-check --pool URIS [--bytes SIZE] ACTION...\n"
				"       tier-pool-check --stat URI | --malformed URI\n");
			return 2;
		}
	}
	if (!uris) {
		fprintf(stderr, "tier-pool-check: --pool URIS is required\n");
		return 2;
	}
	rc = tier_pool_open(uris, bytes, &pool);
	if (rc) {
		fprintf(stderr, "tier-pool-check: %s\n", tier_pool_strerror(NULL));
		return 1;
	}
	bufs = aligned_alloc(TIER_PAGE_SIZE, (size_t)nr_threads * BATCH * TIER_PAGE_SIZE);
	if (!bufs || tier_pool_reg_buf(pool, bufs, (size_t)nr_threads * BATCH * TIER_PAGE_SIZE)) {
		fprintf(stderr, "tier-pool-check: buffers: %s\n", tier_pool_strerror(pool));
		return 1;
	}
	printf("pool of %llu slots over %s\n", (unsigned long long)tier_pool_nr_slots(pool), uris);
	for (i = optind; i < argc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "fail")) {
			must_fail = true;
			continue;
		}
		if (!strcmp(a, "write") && arg) {
			rc = do_write(strtoull(arg, NULL, 0));
			i++;
		} else if (!strcmp(a, "verify") && arg) {
			rc = do_verify(strtoull(arg, NULL, 0));
			i++;
		} else if (!strcmp(a, "drop")) {
			printf("dropped %d connections\n", tier_pool_debug_drop(pool));
			rc = 0;
		} else if (!strcmp(a, "sleep") && arg) {
			sleep((unsigned int)atoi(arg));
			rc = 0;
			i++;
		} else if (!strcmp(a, "touch") && arg) {
			FILE *f = fopen(arg, "w");

			rc = f ? 0 : -errno;
			if (f)
				fclose(f);
			i++;
		} else if (!strcmp(a, "waitfile") && arg) {
			struct stat st;
			int t;

			for (t = 0; t < 1200 && stat(arg, &st); t++)
				usleep(100000);
			rc = t < 1200 ? 0 : -ETIMEDOUT;
			i++;
		} else if (!strcmp(a, "fork") && arg) {
			rc = do_fork(uris, bytes, strtoull(arg, NULL, 0));
			i++;
		} else if (!strcmp(a, "bench")) {
			rc = do_bench();
		} else {
			fprintf(stderr, "tier-pool-check: unknown action \"%s\"\n", a);
			return 2;
		}
		if (must_fail) {
			if (!rc) {
				fprintf(stderr,
					"tier-pool-check: %s succeeded but should have failed\n",
					a);
				return 1;
			}
			printf("failed as expected: %s (%s)\n", why_failed(), strerror(-rc));
			must_fail = false;
			continue;
		}
		if (rc) {
			fprintf(stderr, "tier-pool-check: %s: %s (%s)\n", a, why_failed(),
				strerror(-rc));
			return 1;
		}
	}
	tier_pool_close(pool);
	free(slots);
	free(bufs);
	return 0;
}
