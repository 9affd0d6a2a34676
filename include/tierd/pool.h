/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool.h — the memory pool as libtierpager sees it.
 *
 * A pool is one or more memory servers (tier-memsrv) reached through one
 * transport each: RDMA verbs ("rdma://HOST:PORT"), TCP ("tcp://HOST:PORT"),
 * shared memory ("shm:PATH"), or an in-process region for tests ("mem:SIZE").
 * On connecting, a client leases a number of page-sized slots from each
 * server; the client decides which page lives in which slot (the slot
 * allocator below), so a page read or write names a slot, never a server
 * address. Several servers form one slot space: slots are spread over them.
 *
 * Every function returns 0 or a negative errno. All functions are safe to
 * call from several threads at once (tcp and rdma keep up to four
 * connections per server, so concurrent transfers do not queue behind each
 * other). A transfer that cannot reach its server retries, reconnecting and
 * reclaiming the lease, for TIERD_POOL_TIMEOUT_MS (default 30000) and then
 * fails; it never reports success with a page it did not move. Buffers passed to read/write must lie
 * in memory registered with tier_pool_reg_buf() (RDMA needs it; the other
 * transports accept any buffer, but callers must not depend on that).
 */
#ifndef TIERD_POOL_H
#define TIERD_POOL_H

#ifdef __BPF__
#error "pool.h is for user space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIER_PAGE_SIZE 4096u

/* One page of a batched transfer: pool slot <-> local buffer. */
struct tier_pool_iov {
	uint64_t slot;
	void *buf;
};

struct tier_pool_conn; /* one server, one transport; defined by the transport */

/*
 * A transport. Implementations: pool_rdma.c, pool_tcp.c, pool_shm.c,
 * pool_mem.c. open() leases @want_slots slots (the server may grant fewer,
 * but at least one) and reports the grant in *@granted_slots. read() and
 * write() move whole pages; slots are relative to this connection's lease.
 * A transport retries transient failures itself (reconnecting and
 * reclaiming its lease) until its deadline, then fails with -ETIMEDOUT or
 * -ECONNRESET: never with a partial or zero-filled page reported as success.
 */
struct tier_pool_ops {
	const char *scheme; /* "rdma", "tcp", "shm", "mem" */
	int (*open)(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots);
	int (*read)(struct tier_pool_conn *conn, const struct tier_pool_iov *iov, unsigned int nr);
	int (*write)(struct tier_pool_conn *conn, const struct tier_pool_iov *iov, unsigned int nr);
	int (*reg_buf)(struct tier_pool_conn *conn, void *buf, size_t len); /* may be NULL */
	void (*close)(struct tier_pool_conn *conn);
	/*
	 * Free this process's memory of @conn without touching the connection
	 * (a fork()ed child's copy: the socket, QP and lease are the parent's).
	 * May be NULL: the child's copy is then leaked, not closed.
	 */
	void (*abandon)(struct tier_pool_conn *conn);
	/*
	 * The address of @slot's page in this process, for a transport whose
	 * pool is memory mapped here (shm, mem): the pager copies pages in
	 * and out of it directly, sparing a copy through a staging buffer.
	 * NULL for a slot outside the lease. The op itself may be NULL.
	 */
	void *(*direct)(struct tier_pool_conn *conn, uint64_t slot);
};

struct tier_pool;

/*
 * Open a pool over @uris: one URI or a comma-separated list, leasing about
 * @want_bytes in total, spread over the servers. Errors name the URI.
 */
int tier_pool_open(const char *uris, uint64_t want_bytes, struct tier_pool **poolp);
void tier_pool_close(struct tier_pool *pool);

/*
 * In a fork()ed child: let go of the pool inherited from the parent without
 * disturbing it. tier_pool_close() there would give the parent's lease back
 * and shut the parent's connections; this only closes the child's copies
 * of file descriptors and frees memory. The child then opens a pool of its
 * own (pages it needs from the parent's pool must be read before the fork
 * or through the parent).
 */
void tier_pool_abandon(struct tier_pool *pool);

uint64_t tier_pool_nr_slots(const struct tier_pool *pool);
uint64_t tier_pool_nr_free_slots(const struct tier_pool *pool);

/* Slot allocation: -ENOSPC when the pool is full. */
int tier_pool_alloc_slot(struct tier_pool *pool, uint64_t *slot);
void tier_pool_free_slot(struct tier_pool *pool, uint64_t slot);

int tier_pool_reg_buf(struct tier_pool *pool, void *buf, size_t len);

/* Batched page transfers; @iov may name slots on different servers. */
int tier_pool_read(struct tier_pool *pool, const struct tier_pool_iov *iov, unsigned int nr);
int tier_pool_write(struct tier_pool *pool, const struct tier_pool_iov *iov, unsigned int nr);

/*
 * Whether every server of @pool is mapped into this process (shm:, mem:);
 * then tier_pool_direct() gives each slot's address (NULL: out of range).
 */
bool tier_pool_is_direct(const struct tier_pool *pool);
void *tier_pool_direct(struct tier_pool *pool, uint64_t slot);

/*
 * The last error's explanation, for logs ("tcp://10.0.0.2:7471: connect: ...").
 * After tier_pool_open() failed (no pool yet), pass NULL: the calling
 * thread's last open error. The string stays valid until the calling
 * thread's next call.
 */
const char *tier_pool_strerror(const struct tier_pool *pool);

#endif /* TIERD_POOL_H */
