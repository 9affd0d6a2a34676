// SPDX-License-Identifier: GPL-2.0
/*
 * wl-hotset — a workload with a hot set, for tiering tests.
 *
 * It maps SIZE MiB of anonymous memory (no THP, so placement is per 4 KiB
 * page), fills every word with a value derived from its index (optionally
 * with all pages bound to one NUMA node: --node N), and then reads and
 * rewrites random words: HOT_PCT % of the accesses go to a contiguous hot
 * window of HOT MiB, the rest anywhere. Every read checks the word, and
 * the whole buffer is checked at the end: pages moved under the workload
 * must keep their data.
 *
 * Control (signals, so a test needs no channel):
 *   SIGUSR1  move the hot window by half the buffer ("shifted ..." line)
 *   SIGUSR2  print where the pages are ("report ..." line, move_pages(2))
 *   SIGTERM/SIGINT  stop, verify everything, exit 0 if intact, else 1
 * Lines on stdout (flushed): "ready ...", "shifted ...", "report ...",
 * "verify ok ..." / "verify FAILED ...".
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/mempolicy.h>

#define PAGE_SIZE 4096ul
#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))

static volatile sig_atomic_t want_shift, want_report, want_stop;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_shift = 1;
	else if (sig == SIGUSR2)
		want_report = 1;
	else
		want_stop = 1;
}

static inline uint64_t pattern(uint64_t word_index)
{
	uint64_t x = word_index * 0x9E3779B97F4A7C15ull;

	return x ^ (x >> 29) ^ 0x5bd1e995ull;
}

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static int set_policy(int mode, int node)
{
	unsigned long mask = node >= 0 ? 1ul << node : 0;

	return syscall(SYS_set_mempolicy, mode, node >= 0 ? &mask : NULL,
		       node >= 0 ? sizeof(mask) * 8 : 0) < 0
		   ? -errno
		   : 0;
}

/* Pages of [first, first + n) on node 0, and on any node. */
static void count_nodes(char *buf, size_t first, size_t n, size_t *on0, size_t *present)
{
	enum { CHUNK = 4096 };
	void *addrs[CHUNK];
	int status[CHUNK];
	size_t i, k, j;

	*on0 = *present = 0;
	for (i = 0; i < n; i += k) {
		k = n - i < CHUNK ? n - i : CHUNK;
		for (j = 0; j < k; j++)
			addrs[j] = buf + (first + i + j) * PAGE_SIZE;
		if (syscall(SYS_move_pages, 0, k, addrs, NULL, status, 0) < 0)
			return;
		for (j = 0; j < k; j++) {
			*on0 += status[j] == 0;
			*present += status[j] >= 0;
		}
	}
}

static const char usage[] = "usage: wl-hotset [--size-mb N] [--hot-mb N] [--hot-pct P] [--node N]\n"
			    "                 [--shift-after SEC] [--duration SEC]\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size-mb", required_argument, NULL, 's' },
		{ "hot-mb", required_argument, NULL, 'h' },
		{ "hot-pct", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "shift-after", required_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{},
	};
	size_t size_mb = 512, hot_mb = 64, nr_pages, hot_pages, hot_first = 0, i;
	unsigned hot_pct = 90, shift_after = 0, duration = 0;
	uint64_t seed = 0x2545F4914F6CDD1Dull, accesses = 0, errors = 0, *w;
	struct sigaction sa = { .sa_handler = on_signal };
	time_t t_start, t_shift;
	int node = -1, c;
	char *buf;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			size_mb = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			hot_mb = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			hot_pct = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			node = atoi(optarg);
			break;
		case 'a':
			shift_after = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			duration = strtoul(optarg, NULL, 0);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!size_mb || !hot_mb || hot_mb > size_mb || hot_pct > 100) {
		fprintf(stderr,
			"wl-hotset: need 0 < --hot-mb <= --size-mb and --hot-pct <= 100\n%s",
			usage);
		return 2;
	}
	nr_pages = size_mb << 20 >> 12;
	hot_pages = hot_mb << 20 >> 12;
	buf = mmap(NULL, nr_pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (buf == MAP_FAILED) {
		perror("wl-hotset: mmap");
		return 1;
	}
	madvise(buf, nr_pages * PAGE_SIZE, MADV_NOHUGEPAGE);
	if (node >= 0 && set_policy(MPOL_BIND, node) < 0) {
		fprintf(stderr, "wl-hotset: set_mempolicy(MPOL_BIND, node %d): %s\n", node,
			strerror(errno));
		return 1;
	}
	w = (uint64_t *)buf;
	for (i = 0; i < nr_pages * WORDS_PER_PAGE; i++)
		w[i] = pattern(i);
	if (node >= 0)
		set_policy(MPOL_DEFAULT, -1); /* later placement is tierd's business */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready pid=%d base=%p pages=%zu hot_first=%zu hot_pages=%zu hot_pct=%u\n", getpid(),
	       (void *)buf, nr_pages, hot_first, hot_pages, hot_pct);
	fflush(stdout);
	t_start = t_shift = time(NULL);

	while (!want_stop) {
		for (unsigned k = 0; k < 4096; k++) {
			uint64_t r = xorshift(&seed), page, word;

			if (r % 100 < hot_pct)
				page = hot_first + (r >> 8) % hot_pages;
			else
				page = (r >> 8) % nr_pages;
			word = page * WORDS_PER_PAGE + (r >> 40) % WORDS_PER_PAGE;
			if (w[word] != pattern(word))
				errors++;
			w[word] = pattern(word);
		}
		accesses += 4096;
		if (shift_after && time(NULL) - t_shift >= (time_t)shift_after) {
			want_shift = 1;
			shift_after = 0;
		}
		if (duration && time(NULL) - t_start >= (time_t)duration)
			want_stop = 1;
		if (want_shift) {
			want_shift = 0;
			hot_first = (hot_first + nr_pages / 2) % (nr_pages - hot_pages + 1);
			printf("shifted hot_first=%zu hot_pages=%zu\n", hot_first, hot_pages);
			fflush(stdout);
		}
		if (want_report) {
			size_t hot0, hotp, all0, allp;

			want_report = 0;
			count_nodes(buf, hot_first, hot_pages, &hot0, &hotp);
			count_nodes(buf, 0, nr_pages, &all0, &allp);
			printf("report hot_on_node0=%zu hot_pages=%zu all_on_node0=%zu present=%zu "
			       "pages=%zu accesses=%llu errors=%llu\n",
			       hot0, hot_pages, all0, allp, nr_pages, (unsigned long long)accesses,
			       (unsigned long long)errors);
			fflush(stdout);
		}
	}
	for (i = 0; i < nr_pages * WORDS_PER_PAGE; i++)
		if (w[i] != pattern(i))
			errors++;
	if (errors) {
		printf("verify FAILED mismatches=%llu accesses=%llu\n", (unsigned long long)errors,
		       (unsigned long long)accesses);
		return 1;
	}
	printf("verify ok pages=%zu accesses=%llu\n", nr_pages, (unsigned long long)accesses);
	return 0;
}
