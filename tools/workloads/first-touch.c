// SPDX-License-Identifier: GPL-2.0
/*
 * wl-first-touch — a fault storm: map anonymous memory and write one byte
 * to each page, so every page costs exactly one first-touch user fault.
 * Used by the observer's tests (which check the fault addresses against
 * the range printed here) and by bench-observer (which times the faults).
 *
 * usage: wl-first-touch [--pages N] [--rounds R] [--hold SECONDS]
 * Prints "range 0xSTART 0xEND" for each round's buffer, then
 * "round I ns_per_fault X cpu_ns_per_fault Y" and finally
 * "mean_ns_per_fault X" and "mean_cpu_ns_per_fault Y". The CPU-time figure
 * (this thread's user + system time, which includes the kernel's fault
 * handling and any BPF program it runs) is the one to compare on a shared
 * machine: time spent descheduled does not count.
 * --hold keeps the last buffer mapped for SECONDS before exiting.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long nr_pages = 1000, rounds = 1, hold_s = 0, i, r;
	long page = sysconf(_SC_PAGESIZE);
	double total = 0, total_cpu = 0;
	int c;

	while ((c = getopt_long(argc, argv, "n:r:H:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nr_pages = atol(optarg);
			break;
		case 'r':
			rounds = atol(optarg);
			break;
		case 'H':
			hold_s = atol(optarg);
			break;
		default:
			fprintf(
			    stderr,
			    "usage: wl-first-touch [--pages N] [--rounds R] [--hold SECONDS]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (nr_pages < 1 || rounds < 1) {
		fprintf(stderr, "wl-first-touch: --pages and --rounds must be positive\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (r = 0; r < rounds; r++) {
		volatile char *buf;
		double t0, c0, dt, dc;

		buf = mmap(NULL, nr_pages * page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED) {
			fprintf(stderr, "wl-first-touch: mmap: %s\n", strerror(errno));
			return 1;
		}
		/* No THP: one fault per 4 KiB page, whatever the THP setting. */
		madvise((void *)buf, nr_pages * page, MADV_NOHUGEPAGE);
		printf("range %#lx %#lx\n", (unsigned long)buf,
		       (unsigned long)buf + nr_pages * page);
		t0 = clock_s(CLOCK_MONOTONIC);
		c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < nr_pages; i++)
			buf[i * page] = 1;
		dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		dt = clock_s(CLOCK_MONOTONIC) - t0;
		total += dt;
		total_cpu += dc;
		printf("round %ld ns_per_fault %.1f cpu_ns_per_fault %.1f\n", r,
		       dt * 1e9 / nr_pages, dc * 1e9 / nr_pages);
		if (r == rounds - 1 && hold_s)
			sleep(hold_s);
		munmap((void *)buf, nr_pages * page);
	}
	printf("mean_ns_per_fault %.1f\n", total * 1e9 / (nr_pages * rounds));
	printf("mean_cpu_ns_per_fault %.1f\n", total_cpu * 1e9 / (nr_pages * rounds));
	return 0;
}
