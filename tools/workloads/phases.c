// SPDX-License-Identifier: GPL-2.0
/*
 * wl-phases — an access pattern with a known picture, for tierctl heatmap:
 * two ranges A and B, far apart in one reservation (a PROT_NONE gap of
 * --gap-mb between them, never touched), and two phases. Phase 1 touches
 * every page of A again and again for --phase-ms; phase 2 does the same
 * to B. Each pass ends with MADV_DONTNEED, so every touch of the next pass
 * is a user page fault the observer sees: the heat map must show A hot
 * early, B hot late, and nothing in the gap.
 *
 * usage: wl-phases [--pages N] [--gap-mb M] [--phase-ms MS] [--sleep-us US]
 * --sleep-us pauses between passes, to keep the fault rate within what a
 * reader of tierd's event stream keeps up with on a busy machine.
 * Prints "range A 0xSTART 0xEND" and "range B 0xSTART 0xEND" first, then
 * "phase 1 passes P" and "phase 2 passes P".
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Fault in every page of [p, p + bytes) until phase_ms passed; passes made. */
static long phase(volatile char *p, size_t bytes, long page, double phase_ms, long sleep_us)
{
	double t0 = mono_ms();
	long passes = 0;
	size_t off;

	do {
		for (off = 0; off < bytes; off += page)
			p[off] = 1;
		madvise((void *)p, bytes, MADV_DONTNEED);
		passes++;
		if (sleep_us)
			usleep(sleep_us);
	} while (mono_ms() - t0 < phase_ms);
	return passes;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "gap-mb", required_argument, NULL, 'g' },
		{ "phase-ms", required_argument, NULL, 'p' },
		{ "sleep-us", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long nr_pages = 256, gap_mb = 1024, phase_ms = 1500, sleep_us = 0,
	     page = sysconf(_SC_PAGESIZE), p1, p2;
	size_t range_bytes, total;
	char *base, *a, *b;
	int c;

	while ((c = getopt_long(argc, argv, "n:g:p:s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nr_pages = atol(optarg);
			break;
		case 'g':
			gap_mb = atol(optarg);
			break;
		case 'p':
			phase_ms = atol(optarg);
			break;
		case 's':
			sleep_us = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: wl-phases [--pages N] [--gap-mb M] [--phase-ms MS] "
					"[--sleep-us US]\n");
			return 2;
		}
	}
	if (nr_pages < 1 || gap_mb < 0 || phase_ms < 1 || sleep_us < 0) {
		fprintf(stderr, "wl-phases: --pages, --phase-ms must be positive, --gap-mb >= 0\n");
		return 2;
	}
	range_bytes = nr_pages * page;
	total = 2 * range_bytes + ((size_t)gap_mb << 20);
	/* One reservation, so A and B keep their distance; only they are usable. */
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		perror("wl-phases: mmap");
		return 1;
	}
	a = base;
	b = base + total - range_bytes;
	if (mprotect(a, range_bytes, PROT_READ | PROT_WRITE) < 0 ||
	    mprotect(b, range_bytes, PROT_READ | PROT_WRITE) < 0) {
		perror("wl-phases: mprotect");
		return 1;
	}
	printf("range A %#lx %#lx\n", (unsigned long)(uintptr_t)a,
	       (unsigned long)(uintptr_t)(a + range_bytes));
	printf("range B %#lx %#lx\n", (unsigned long)(uintptr_t)b,
	       (unsigned long)(uintptr_t)(b + range_bytes));
	fflush(stdout);
	p1 = phase(a, range_bytes, page, phase_ms, sleep_us);
	p2 = phase(b, range_bytes, page, phase_ms, sleep_us);
	printf("phase 1 passes %ld\nphase 2 passes %ld\n", p1, p2);
	munmap(base, total);
	return 0;
}
