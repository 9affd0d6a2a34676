// SPDX-License-Identifier: GPL-2.0
/*
 * wl-move-pages — a process whose pages a test moves between NUMA nodes.
 * It maps N pages, places them on node FROM (mbind before the first
 * touch), then obeys commands on stdin, one per line:
 *   "to NODE"  move all pages to NODE with move_pages(2) on itself;
 *              prints "moved N failed F on_node M" (M: pages then on NODE)
 *   "where"    prints "on_node NODE COUNT" for each node with pages
 *   "quit"
 * It prints "ready N on_node FROM COUNT" after placing the pages.
 *
 * usage: wl-move-pages [--pages N] [--node FROM]
 */
#include <errno.h>
#include <getopt.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static long count_on(void **pages, int *status, long n, int node)
{
	long i, c = 0;

	if (move_pages(0, n, pages, NULL, status, 0) < 0)
		return -errno;
	for (i = 0; i < n; i++)
		c += status[i] == node;
	return c;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "node", required_argument, NULL, 'N' },
		{},
	};
	long n = 1000, page = sysconf(_SC_PAGESIZE), i;
	int from = 1, c, *nodes, *status;
	unsigned long mask;
	char line[128];
	void **pages;
	char *buf;

	while ((c = getopt_long(argc, argv, "n:N:", lopts, NULL)) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else if (c == 'N')
			from = atoi(optarg);
		else
			return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = calloc(n, sizeof(*pages));
	nodes = calloc(n, sizeof(*nodes));
	status = calloc(n, sizeof(*status));
	if (buf == MAP_FAILED || !pages || !nodes || !status) {
		fprintf(stderr, "wl-move-pages: out of memory\n");
		return 1;
	}
	madvise(buf, n * page, MADV_NOHUGEPAGE);
	mask = 1UL << from;
	if (mbind(buf, n * page, MPOL_BIND, &mask, sizeof(mask) * 8, 0) < 0) {
		fprintf(stderr, "wl-move-pages: mbind to node %d: %s\n", from, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		buf[i * page] = (char)i;
		pages[i] = buf + i * page;
	}
	/* Back to the default policy, so move_pages may move them anywhere. */
	mbind(buf, n * page, MPOL_DEFAULT, NULL, 0, 0);
	printf("ready %ld on_node %d %ld\n", n, from, count_on(pages, status, n, from));

	while (fgets(line, sizeof(line), stdin)) {
		int to;

		if (sscanf(line, "to %d", &to) == 1) {
			long r, failed = 0;

			for (i = 0; i < n; i++)
				nodes[i] = to;
			r = move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE);
			if (r < 0) {
				printf("error move_pages: %s\n", strerror(errno));
				continue;
			}
			for (i = 0; i < n; i++)
				failed += status[i] < 0;
			printf("moved %ld failed %ld on_node %ld\n", n - failed, failed,
			       count_on(pages, status, n, to));
		} else if (strncmp(line, "where", 5) == 0) {
			int nd;

			for (nd = 0; nd < 8; nd++) {
				long k = count_on(pages, status, n, nd);

				if (k > 0)
					printf("on_node %d %ld\n", nd, k);
			}
			printf("end\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
	}
	return 0;
}
