/*
 * tools/vm/move_pages_check.c — prove move_pages(2) moves pages between the
 * test guest's two NUMA nodes, both ways.
 *
 * usage: move_pages_check [NR_PAGES]   (default 1000)
 *
 * Maps NR_PAGES anonymous pages bound to node 1 (the memory-only node),
 * touches them, and checks where they are (move_pages with nodes == NULL
 * reports each page's node); moves them to node 0, checks, moves them back
 * to node 1, checks. Exit 0 if every page was where it should be each
 * time, 1 otherwise (with counts per node), 2 on a usage or setup error.
 * The VM smoke test runs it; it needs a kernel with two nodes.
 */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Count pages per node (node < 0: negative errno per page), compare. */
static int expect_node(void **pages, int *status, unsigned long nr_pages, int node,
		       const char *when)
{
	unsigned long i, on_node = 0, elsewhere = 0, failed = 0;
	int first_err = 0;

	if (move_pages(0, nr_pages, pages, NULL, status, 0) < 0) {
		fprintf(stderr, "move_pages (query) %s: %s\n", when, strerror(errno));
		return -errno;
	}
	for (i = 0; i < nr_pages; i++) {
		if (status[i] == node) {
			on_node++;
		} else if (status[i] < 0) {
			failed++;
			if (!first_err)
				first_err = status[i];
		} else {
			elsewhere++;
		}
	}
	printf("%s: %lu of %lu pages on node %d, %lu on other nodes, %lu unknown%s%s\n", when,
	       on_node, nr_pages, node, elsewhere, failed, first_err ? ": " : "",
	       first_err ? strerror(-first_err) : "");
	return on_node == nr_pages ? 0 : -EAGAIN;
}

static int move_all(void **pages, int *nodes, int *status, unsigned long nr_pages, int node)
{
	unsigned long i;
	long rc;

	for (i = 0; i < nr_pages; i++)
		nodes[i] = node;
	rc = move_pages(0, nr_pages, pages, nodes, status, MPOL_MF_MOVE);
	if (rc < 0) {
		fprintf(stderr, "move_pages to node %d: %s\n", node, strerror(errno));
		return -errno;
	}
	if (rc > 0)
		printf("move_pages to node %d: %ld pages not moved\n", node, rc);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long nr_pages = 1000, i, node1_mask = 1UL << 1;
	long page_bytes = sysconf(_SC_PAGESIZE);
	int *nodes, *status, bad = 0;
	void **pages;
	char *buf;

	if (argc > 1) {
		char *end;

		nr_pages = strtoul(argv[1], &end, 10);
		if (*end || nr_pages == 0) {
			fprintf(stderr, "usage: %s [NR_PAGES]\n", argv[0]);
			return 2;
		}
	}
	buf = mmap(NULL, nr_pages * page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	if (mbind(buf, nr_pages * page_bytes, MPOL_BIND, &node1_mask, 8 * sizeof(node1_mask), 0) <
	    0) {
		fprintf(stderr, "mbind to node 1: %s (does this machine have a node 1?)\n",
			strerror(errno));
		return 2;
	}
	pages = calloc(nr_pages, sizeof(*pages));
	nodes = calloc(nr_pages, sizeof(*nodes));
	status = calloc(nr_pages, sizeof(*status));
	if (!pages || !nodes || !status) {
		perror("calloc");
		return 2;
	}
	for (i = 0; i < nr_pages; i++) {
		buf[i * page_bytes] = 1;
		pages[i] = buf + i * page_bytes;
	}
	/* The binding would pull pages back to node 1 on the next fault only;
	 * move_pages itself ignores the VMA policy. */
	bad |= expect_node(pages, status, nr_pages, 1, "after first touch") != 0;
	bad |= move_all(pages, nodes, status, nr_pages, 0) != 0;
	bad |= expect_node(pages, status, nr_pages, 0, "after move to node 0") != 0;
	bad |= move_all(pages, nodes, status, nr_pages, 1) != 0;
	bad |= expect_node(pages, status, nr_pages, 1, "after move back to node 1") != 0;
	return bad ? 1 : 0;
}
