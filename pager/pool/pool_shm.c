// SPDX-License-Identifier: GPL-2.0
/*
 * pool_shm.c — "shm:/PATH": a pool in a shared file (tmpfs, or a DAX device
 * — how a host-shared CXL memory pool is reached).
 *
 * Why it is shaped this way: the data plane is plain memcpy through a
 * MAP_SHARED mapping, the fastest pool there is; but space is still leased
 * by tier-memsrv, over its unix socket PATH.sock, so that clients never
 * overlap. A client maps only its own lease's range of the file, so through
 * this transport it cannot reach another client's pages (file permissions,
 * not the protocol, guard the file itself). The control connection stays
 * open for the life of the lease: when the client dies the server sees the
 * socket close and reclaims the lease after its grace period.
 *
 * If the server dies the mapping stays valid (the pages are the file's, and
 * the mapping keeps them), so no page is lost; the lease simply cannot be
 * handed to someone else by a server that no longer exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pool_internal.h"

struct tier_pool_conn {
	int sock;
	unsigned char *map;
	uint64_t nr_slots;
};

static int shm_open_conn(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
			 uint64_t *granted_slots)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	uint64_t deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	struct tier_proto_hello_reply r;
	struct tier_pool_uri u;
	struct tier_pool_conn *c;
	char err[384];
	int rc, fd, server_err;

	rc = tier_pool_parse_uri(uri, &u, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = tier_stream_connect(&u, &c->sock, deadline);
	if (rc)
		goto out_free;
	rc = tier_stream_hello(c->sock, 1, zero, want_slots, &r, deadline, &server_err);
	if (rc)
		goto out_close_sock;
	if (!r.granted_slots ||
	    (r.lease_base_slot + r.granted_slots) * TIER_PAGE_SIZE > r.region_bytes) {
		tier_pool_set_error("the server granted a lease outside its region");
		rc = -EPROTO;
		goto out_close_sock;
	}
	fd = open(u.path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		tier_pool_set_error("open %s: %s", u.path, strerror(errno));
		goto out_close_sock;
	}
	c->map = mmap(NULL, r.granted_slots * TIER_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, (off_t)(r.lease_base_slot * TIER_PAGE_SIZE));
	close(fd);
	if (c->map == MAP_FAILED) {
		rc = -errno;
		tier_pool_set_error("mmap of %s: %s", u.path, strerror(errno));
		goto out_close_sock;
	}
	c->nr_slots = r.granted_slots;
	*connp = c;
	*granted_slots = r.granted_slots;
	return 0;

out_close_sock:
	close(c->sock);
out_free:
	free(c);
	return rc;
}

static int shm_read(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tier_pool_copy_pages(c->map, c->nr_slots, iov, nr, 0);
}

static int shm_write(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tier_pool_copy_pages(c->map, c->nr_slots, iov, nr, 1);
}

static void shm_close(struct tier_pool_conn *c)
{
	struct tier_proto_status st;
	int server_err;

	munmap(c->map, c->nr_slots * TIER_PAGE_SIZE);
	tier_stream_call(c->sock, TIER_PROTO_RELEASE, 2, NULL, 0, TIER_PROTO_RELEASE_REPLY, &st,
			 sizeof(st), NULL, 0, 0, tier_pool_now_ms() + 2000, &server_err);
	close(c->sock);
	free(c);
}

/* A fork()ed child: the parent's socket stays open, its lease held. */
static void shm_abandon(struct tier_pool_conn *c)
{
	munmap(c->map, c->nr_slots * TIER_PAGE_SIZE);
	close(c->sock);
	free(c);
}

static void *shm_direct(struct tier_pool_conn *c, uint64_t slot)
{
	return slot < c->nr_slots ? c->map + slot * TIER_PAGE_SIZE : NULL;
}

const struct tier_pool_ops tier_pool_shm_ops = {
	.scheme = "shm",
	.open = shm_open_conn,
	.read = shm_read,
	.write = shm_write,
	.reg_buf = NULL,
	.direct = shm_direct,
	.close = shm_close,
	.abandon = shm_abandon,
};
