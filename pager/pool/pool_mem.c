// SPDX-License-Identifier: GPL-2.0
/*
 * pool_mem.c — "mem:SIZE": an in-process pool, for tests.
 *
 * A private anonymous mapping of SIZE bytes stands in for a memory server,
 * so the pager's tests run without a server process. It has the same
 * contract as the real transports (bounds-checked slots, whole pages, any
 * thread), which is the point: code tested against it works against them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool_internal.h"

struct tier_pool_conn {
	unsigned char *region;
	uint64_t nr_slots;
};

static int mem_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots)
{
	struct tier_pool_uri u;
	struct tier_pool_conn *c;
	char err[384];
	uint64_t nr;
	int rc;

	rc = tier_pool_parse_uri(uri, &u, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		return rc;
	}
	nr = u.size_bytes / TIER_PAGE_SIZE;
	if (want_slots < nr)
		nr = want_slots;
	if (nr == 0) {
		tier_pool_set_error("asked for no slots");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->region = mmap(NULL, nr * TIER_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->region == MAP_FAILED) {
		rc = -errno;
		tier_pool_set_error("mmap of %llu bytes: %s",
				    (unsigned long long)(nr * TIER_PAGE_SIZE), strerror(errno));
		free(c);
		return rc;
	}
	c->nr_slots = nr;
	*connp = c;
	*granted_slots = nr;
	return 0;
}

static int mem_read(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tier_pool_copy_pages(c->region, c->nr_slots, iov, nr, 0);
}

static int mem_write(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tier_pool_copy_pages(c->region, c->nr_slots, iov, nr, 1);
}

static void mem_close(struct tier_pool_conn *c)
{
	munmap(c->region, c->nr_slots * TIER_PAGE_SIZE);
	free(c);
}

static void *mem_direct(struct tier_pool_conn *c, uint64_t slot)
{
	return slot < c->nr_slots ? c->region + slot * TIER_PAGE_SIZE : NULL;
}

const struct tier_pool_ops tier_pool_mem_ops = {
	.scheme = "mem",
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
	.reg_buf = NULL,
	.direct = mem_direct,
	.close = mem_close,
	.abandon = mem_close, /* the child's private copy of the region */
};
