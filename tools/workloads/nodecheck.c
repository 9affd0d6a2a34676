// SPDX-License-Identifier: GPL-2.0
/*
 * tier-nodecheck — where did the pager put the pages? For tests/vm/pager_node.sh.
 *
 *   tier-nodecheck --size SIZE
 *
 * Writes a region (under `tierctl run --local-limit` most of it goes to the
 * pool), then reads it all back (pages come back from the pool, installed
 * by the pager's handler threads, whose mempolicy picks the node), then asks
 * move_pages(2) (status query, no move) where each present page is.
 * Prints "pages=N present=P node0=X node1=Y ... fetched=F bad=B"
 * (fetched: the pager's count, when it is loaded). Exit 1 on bad data.
 */
#include <dlfcn.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tierd/pager.h"

#define PAGE 4096ul

int main(int argc, char **argv)
{
	unsigned long long size = 64ull << 20, nodes[8] = { 0 }, present = 0, bad = 0;
	void (*get_stats)(struct tier_pager_stats *);
	struct tier_pager_stats st = { 0 };
	uint64_t n, i;
	unsigned char *r;
	void **pages;
	int *status;
	char *end;

	if (argc == 3 && !strcmp(argv[1], "--size")) {
		size = strtoull(argv[2], &end, 10);
		if (*end == 'M')
			size <<= 20;
	}
	n = size / PAGE;
	r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = mmap(NULL, n * sizeof(*pages), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	status = mmap(NULL, n * sizeof(*status), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED || pages == MAP_FAILED || status == MAP_FAILED)
		return perror("nodecheck: mmap"), 2;
	for (i = 0; i < n; i++)
		*(uint64_t *)(r + i * PAGE) = i * 2654435761u;
	for (i = 0; i < n; i++)
		bad += *(volatile uint64_t *)(r + i * PAGE) != i * 2654435761u;
	/* the status query itself must not fault pages in: the tables are tiny */
	for (i = 0; i < n; i++)
		pages[i] = r + i * PAGE;
	if (move_pages(0, n, pages, NULL, status, 0))
		return perror("nodecheck: move_pages"), 2;
	for (i = 0; i < n; i++) {
		if (status[i] >= 0 && status[i] < 8) {
			nodes[status[i]]++;
			present++;
		}
	}
	get_stats =
	    (void (*)(struct tier_pager_stats *))dlsym(RTLD_DEFAULT, "tier_pager_get_stats");
	if (get_stats)
		get_stats(&st);
	printf("pages=%llu present=%llu node0=%llu node1=%llu fetched=%llu bad=%llu\n",
	       (unsigned long long)n, present, nodes[0], nodes[1],
	       (unsigned long long)(st.nr_fetches + st.nr_prefetches), bad);
	return bad ? 1 : 0;
}
