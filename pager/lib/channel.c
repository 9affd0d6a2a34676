// SPDX-License-Identifier: GPL-2.0
/*
 * channel.c — libtierpager's line to tierd (protocol: include/tierd/pager_ctl.h).
 *
 * Why it is shaped this way:
 * - One thread of its own, started at the end of tier_pager_init() when
 *   TIERD_SOCKET is set or the default control socket exists. It is never
 *   on the fault path: handlers only add a fetch's latency to a histogram
 *   of atomic counters (tp_channel_fetch_ns), no lock, no allocation.
 * - The pager must not depend on tierd: dialling is non-blocking and
 *   retried every TIERD_PAGER_REDIAL_MS; a closed or stuck connection
 *   (sends time out after 500 ms) is dropped and redialled, and in between
 *   the pager runs on its own (its local limit, if any).
 * - The thread touches no managed memory: its buffers are static (the
 *   library's .bss existed before the pager started, so it is not managed)
 *   and its stack is a pager-owned mapping; it takes no signals.
 * - Commands are executed with the same entry points a program would use
 *   (tier_pager_evict/tier_pager_fetch), so their races with faults are
 *   the pager's usual ones.
 * - A fetch command may name a NUMA node: tier_pager_fetch() installs the
 *   pages from this thread (UFFDIO_COPY allocates by the caller's
 *   mempolicy), so this thread prefers that node for the command — tierd
 *   puts a page it fetches back into the tier its plan chose (DRAM for a
 *   hot one), not where the pager's fault handlers put pages (CXL).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <linux/mempolicy.h>

#include "tierd/ctl.h"
#include "tierd/pager.h"
#include "tierd/pager_ctl.h"
#include "pager_sys.h"

#define CH_PAGE 4096u
#define CH_STACK_BYTES (256u << 10)
#define CH_TICK_MS 100
/* latency buckets: 4 per power of two of nanoseconds */
#define LAT_SUB 4
#define LAT_BUCKETS (64 * LAT_SUB)
#define RUNS_PER_SCAN 256

static struct channel {
	char path[108];
	int fd;
	bool registered;
	uint64_t next_dial_ns, next_report_ns;
	char in[TIERD_PAGER_MAX_LINE];
	size_t in_len;
	char out[TIERD_PAGER_MAX_LINE + 64];
	struct tp_range runs[RUNS_PER_SCAN];
	_Atomic uint64_t lat[LAT_BUCKETS];
	uint64_t lat_prev[LAT_BUCKETS];
	uint64_t cmd_evicted, cmd_fetched; /* pages asked for by tierd */
	bool lost_logged;
	int fetch_node; /* this thread's preferred node; -1: as it started */
	bool node_warned;
} C = { .fd = -1, .fetch_node = -1 };

static uint64_t ch_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int lat_bucket(uint64_t ns)
{
	unsigned int lg, sub;

	if (ns < LAT_SUB)
		return (unsigned int)ns;
	lg = 63u - (unsigned int)__builtin_clzll(ns);
	sub = (unsigned int)((ns >> (lg - 2)) & (LAT_SUB - 1));
	return lg * LAT_SUB + sub < LAT_BUCKETS ? lg * LAT_SUB + sub : LAT_BUCKETS - 1;
}

static uint64_t lat_bucket_ns(unsigned int b)
{
	unsigned int lg = b / LAT_SUB, sub = b % LAT_SUB;

	if (b < LAT_SUB)
		return b;
	/* the middle of the bucket */
	return ((uint64_t)(LAT_SUB + sub) << (lg - 2)) + ((1ull << (lg - 2)) >> 1);
}

void tp_channel_fetch_ns(uint64_t ns)
{
	atomic_fetch_add_explicit(&C.lat[lat_bucket(ns)], 1, memory_order_relaxed);
}

/* p50/p99 of the fetches since the last call (0: none). */
static void lat_percentiles(uint64_t *p50, uint64_t *p99)
{
	uint64_t d[LAT_BUCKETS], total = 0, seen = 0;
	unsigned int b;

	*p50 = *p99 = 0;
	for (b = 0; b < LAT_BUCKETS; b++) {
		uint64_t v = atomic_load_explicit(&C.lat[b], memory_order_relaxed);

		d[b] = v - C.lat_prev[b];
		C.lat_prev[b] = v;
		total += d[b];
	}
	if (!total)
		return;
	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += d[b];
		if (!*p50 && seen * 2 >= total)
			*p50 = lat_bucket_ns(b);
		if (seen * 100 >= total * 99) {
			*p99 = lat_bucket_ns(b);
			break;
		}
	}
}

static void ch_close(const char *why)
{
	if (C.fd < 0)
		return;
	close(C.fd);
	C.fd = -1;
	if (C.registered && !C.lost_logged) {
		tp_log("tierd channel closed (%s): running on our own, redialling every %d ms", why,
		       TIERD_PAGER_REDIAL_MS);
		C.lost_logged = true;
	}
	C.registered = false;
	C.in_len = 0;
}

static int ch_send(const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(C.fd, s, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			ch_close(k < 0 ? strerror(errno) : "closed");
			return -EIO;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

static void ch_dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };
	int fd, n;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	memcpy(sa.sun_path, C.path, sizeof(sa.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	/* from here blocking, with a send timeout: a stuck tierd costs 500 ms */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	C.fd = fd;
	C.in_len = 0;
	n = snprintf(C.out, sizeof(C.out), "{\"cmd\":\"pager_hello\",\"pid\":%d,\"version\":%d}\n",
		     (int)getpid(), TIERD_PAGER_PROTO_VERSION);
	ch_send(C.out, (size_t)n);
}

static void ch_report(void)
{
	struct tier_pager_stats s;
	uint64_t p50, p99;
	uintptr_t cursor = 0;
	unsigned int nr_runs = 0, k, i;
	size_t len;

	tier_pager_get_stats(&s);
	lat_percentiles(&p50, &p99);
	len = (size_t)snprintf(
	    C.out, sizeof(C.out),
	    "stats managed=%" PRIu64 " resident=%" PRIu64 " pool=%" PRIu64 " faults=%" PRIu64
	    " fetches=%" PRIu64 " prefetches=%" PRIu64 " evictions=%" PRIu64 " pool_writes=%" PRIu64
	    " fetch_p50_ns=%" PRIu64 " fetch_p99_ns=%" PRIu64 " hints=%" PRIu64
	    " cmd_evicted=%" PRIu64 " cmd_fetched=%" PRIu64 "\npool_begin\n",
	    s.nr_managed_pages, s.nr_resident_pages, s.nr_pool_pages, s.nr_faults, s.nr_fetches,
	    s.nr_prefetches, s.nr_evictions, s.nr_pool_writes, p50, p99, tp_hint_count(),
	    C.cmd_evicted, C.cmd_fetched);
	if (ch_send(C.out, len))
		return;
	while (nr_runs < TIERD_PAGER_MAX_POOL_RUNS &&
	       (k = tp_pool_runs(&cursor, C.runs, RUNS_PER_SCAN)) > 0) {
		len = (size_t)snprintf(C.out, sizeof(C.out), "pool");
		for (i = 0; i < k; i++) {
			if (len > TIERD_PAGER_MAX_LINE - 48) {
				C.out[len++] = '\n';
				if (ch_send(C.out, len))
					return;
				len = (size_t)snprintf(C.out, sizeof(C.out), "pool");
			}
			len += (size_t)snprintf(
			    C.out + len, sizeof(C.out) - len, " %#lx %lu",
			    (unsigned long)C.runs[i].start,
			    (unsigned long)((C.runs[i].end - C.runs[i].start) / CH_PAGE));
		}
		C.out[len++] = '\n';
		if (ch_send(C.out, len))
			return;
		nr_runs += k;
	}
	ch_send("pool_end\n", 9);
}

/*
 * Where this thread's next UFFDIO_COPY allocates: NODE preferred (another
 * node when it is full: a fetch must not fail for want of DRAM), or the
 * mempolicy the thread started with (-1). Changed only when it differs.
 */
static void ch_fetch_node(int node)
{
	unsigned long mask[4] = { 0 };
	long rc;

	if (node == C.fetch_node || node >= (int)(sizeof(mask) * 8))
		return;
	if (node >= 0) {
		mask[node / 64] = 1ul << (node % 64);
		rc = syscall(SYS_set_mempolicy, MPOL_PREFERRED, mask, sizeof(mask) * 8);
	} else {
		rc = syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	}
	if (rc < 0) {
		if (!C.node_warned)
			tp_log("set_mempolicy(node %d) for tierd's fetches: %s; they land where "
			       "the kernel puts them",
			       node, strerror(errno));
		C.node_warned = true;
		return;
	}
	C.fetch_node = node;
}

static void ch_line(char *line)
{
	unsigned long long a, l;
	unsigned int rate;
	int node;

	if (!C.registered) {
		/* the answer to the hello */
		if (strstr(line, "\"ok\"")) {
			C.registered = true;
			if (C.lost_logged || tp_opts()->verbose)
				tp_log("registered with tierd at %s", C.path);
			C.lost_logged = false;
			C.next_report_ns = 0;
		} else {
			tp_log("tierd refused the pager: %.200s", line);
			ch_close("refused");
		}
		return;
	}
	if (sscanf(line, "evict %llx %llu", &a, &l) == 2) {
		C.cmd_evicted += l / CH_PAGE;
		tier_pager_evict((void *)(uintptr_t)a, (size_t)l);
	} else if (sscanf(line, "fetch %llx %llu", &a, &l) == 2) {
		if (sscanf(line, "fetch %llx %llu %d", &a, &l, &node) != 3 || node < 0)
			node = -1;
		C.cmd_fetched += l / CH_PAGE;
		ch_fetch_node(node);
		tier_pager_fetch((void *)(uintptr_t)a, (size_t)l);
	} else if (sscanf(line, "hint %u", &rate) == 1) {
		tp_hint_set_rate(rate);
	}
	/* anything else: a newer tierd; ignore it */
}

static void ch_read(void)
{
	ssize_t n;
	char *nl, *p;

	n = recv(C.fd, C.in + C.in_len, sizeof(C.in) - 1 - C.in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		ch_close(n == 0 ? "tierd closed it" : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	C.in_len += (size_t)n;
	C.in[C.in_len] = 0;
	p = C.in;
	while (C.fd >= 0 && (nl = strchr(p, '\n'))) {
		*nl = 0;
		ch_line(p);
		p = nl + 1;
	}
	if (C.fd < 0)
		return;
	C.in_len -= (size_t)(p - C.in);
	memmove(C.in, p, C.in_len);
	if (C.in_len >= sizeof(C.in) - 1)
		ch_close("line too long");
}

static void *channel_main(void *arg)
{
	while (tp_is_active()) {
		uint64_t now = ch_now_ns();
		struct pollfd pfd = { .fd = C.fd, .events = POLLIN };

		if (C.fd < 0 && now >= C.next_dial_ns) {
			C.next_dial_ns = now + TIERD_PAGER_REDIAL_MS * 1000000ull;
			ch_dial();
		}
		if (C.fd >= 0) {
			if (poll(&pfd, 1, CH_TICK_MS) > 0)
				ch_read();
		} else {
			poll(NULL, 0, CH_TICK_MS);
		}
		now = ch_now_ns();
		if (!tp_is_active())
			break;
		if (C.registered && now >= C.next_report_ns) {
			C.next_report_ns = now + TIERD_PAGER_REPORT_MS * 1000000ull;
			ch_report();
		}
		if (!C.registered)
			tp_hint_set_rate(0); /* hints are for tierd's eyes only */
		tp_hint_tick(now); /* (at rate 0 it puts the last samples back) */
	}
	if (C.fd >= 0)
		close(C.fd);
	C.fd = -1;
	return NULL;
}

void tp_channel_start(void)
{
	const char *path = getenv("TIERD_SOCKET");
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all;
	void *stack;

	if (!path || !*path) {
		path = TIERD_CTL_SOCKET;
		if (access(path, F_OK))
			return; /* no tierd on this machine: nothing to talk to */
	}
	if (strlen(path) >= sizeof(C.path)) {
		tp_log("TIERD_SOCKET %s: path too long; no channel to tierd", path);
		return;
	}
	strcpy(C.path, path);
	stack = tp_own_map(CH_STACK_BYTES, true);
	if (!stack) {
		tp_log("no memory for the tierd channel thread; running on our own");
		return;
	}
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, stack, CH_STACK_BYTES);
	pthread_attr_setsigmask_np(&attr, &all);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, channel_main, NULL))
		tp_log("cannot start the tierd channel thread; running on our own");
	pthread_attr_destroy(&attr);
}
