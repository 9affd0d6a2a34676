// SPDX-License-Identifier: GPL-2.0
/*
 * tier-uffd-floor — the least a userfaultfd fault costs on this machine:
 * the floor under any pager built on it, measured in the same run as the
 * pager (`make bench-pager`, arm (f)).
 *
 *   tier-uffd-floor [--pages N] [--idle-poll]
 *
 * N distinct pages of a registered (MISSING) region are touched once each
 * in random order, timed one by one like tier-pagebench's random touches.
 * One handler thread busy-polls the userfaultfd with non-blocking reads
 * (never sleeps) and answers every fault with UFFDIO_COPY of a 4 KiB page
 * it keeps in memory: no pool read, no eviction, no tables, no locks. A
 * pager does all of that on top, so its random-touch latency cannot go
 * below this. --idle-poll holds a CPU-latency request of 0 while it runs,
 * as the pager's --idle-poll does (idle CPUs poll instead of halting, so
 * the woken thread needs no interrupt). Prints one line:
 *   random n=N mean_ns=... p50_ns=... (latency.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "latency.h"

#define PAGE 4096ul
#define MAX_PAGES (1u << 20)

static uint32_t samples[MAX_PAGES];
static unsigned char source[PAGE] __attribute__((aligned(4096)));
static _Atomic bool stop;
static atomic_ulong nr_copy_errors;

/* Open and register [region, region + len) for missing faults; 0 or -errno. */
static int uffd_open(void *region, size_t len, int *out)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)region, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static void *handler_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct uffd_msg msgs[16];

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		ssize_t got = read(fd, msgs, sizeof(msgs));
		ssize_t i;

		for (i = 0; got > 0 && i < got / (ssize_t)sizeof(msgs[0]); i++) {
			struct uffdio_copy c = {
				.dst = msgs[i].arg.pagefault.address & ~(PAGE - 1),
				.src = (uintptr_t)source,
				.len = PAGE,
			};

			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			if (ioctl(fd, UFFDIO_COPY, &c) && errno != EEXIST)
				atomic_fetch_add(&nr_copy_errors, 1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "idle-poll", no_argument, NULL, 'i' },
		{ 0 },
	};
	uint64_t nr = 50000, span, i, stride, seed = 88172645463325252ull;
	bool idle_poll = false;
	unsigned char *region;
	pthread_t handler;
	int c, fd = -1, qos = -1, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			nr = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			idle_poll = true;
			break;
		default:
			fprintf(stderr, "usage: tier-uffd-floor [--pages N] [--idle-poll]\n");
			return 2;
		}
	}
	if (nr < 1 || nr > MAX_PAGES) {
		fprintf(stderr, "uffd-floor: --pages must be 1..%u\n", MAX_PAGES);
		return 2;
	}
	/* a power of two at least twice nr: an odd stride visits distinct pages */
	for (span = 2; span < 2 * nr; span <<= 1)
		;
	region = mmap(NULL, span * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		perror("uffd-floor: mmap");
		return 2;
	}
	madvise(region, span * PAGE, MADV_NOHUGEPAGE);
	rc = uffd_open(region, span * PAGE, &fd);
	if (rc) {
		fprintf(stderr,
			"uffd-floor: userfaultfd: %s (needs root or "
			"vm.unprivileged_userfaultfd=1)\n",
			strerror(-rc));
		return 2;
	}
	memset(source, 0x5a, sizeof(source));
	if (idle_poll) {
		int32_t zero = 0;

		qos = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		if (qos < 0 || write(qos, &zero, sizeof(zero)) != sizeof(zero)) {
			fprintf(stderr, "uffd-floor: /dev/cpu_dma_latency: %s (needs root)\n",
				strerror(errno));
			return 2;
		}
	}
	rc = -pthread_create(&handler, NULL, handler_main, (void *)(intptr_t)fd);
	if (rc) {
		fprintf(stderr, "uffd-floor: pthread_create: %s\n", strerror(-rc));
		return 2;
	}
	stride = (seed | 1) & (span - 1);
	if (stride < 2)
		stride = span / 2 + 1;
	for (i = 0; i < nr; i++) {
		volatile uint64_t *w =
		    (volatile uint64_t *)(region + ((i * stride + 7) & (span - 1)) * PAGE);
		uint64_t t0 = now_ns();

		w[1]++;
		samples[i] = clamp_ns(now_ns() - t0);
	}
	atomic_store(&stop, true);
	pthread_join(handler, NULL);
	/* every touched page came from the handler (the fault path really ran) */
	for (i = 0; i < nr; i++) {
		volatile uint64_t *w =
		    (volatile uint64_t *)(region + ((i * stride + 7) & (span - 1)) * PAGE);

		if (w[0] != 0x5a5a5a5a5a5a5a5aull)
			atomic_fetch_add(&nr_copy_errors, 1);
	}
	if (qos >= 0)
		close(qos);
	close(fd);
	if (atomic_load(&nr_copy_errors)) {
		fprintf(stderr, "uffd-floor: %lu pages were not filled by the handler\n",
			atomic_load(&nr_copy_errors));
		return 1;
	}
	report("random", samples, (size_t)nr);
	return 0;
}
