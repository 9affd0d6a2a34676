/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool_internal.h — what pool.c, the transports, tier-memsrv and the unit
 * tests share, but libtierpager's users need not see: URI and size parsing,
 * the per-thread error message a transport leaves for pool.c to prefix with
 * its URI, the transports' ops tables, and the request timeout.
 */
#ifndef TIERD_POOL_INTERNAL_H
#define TIERD_POOL_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "tierd/pool.h"
#include "tierd/pool_proto.h"

enum tier_pool_scheme {
	TIER_POOL_TCP,
	TIER_POOL_RDMA,
	TIER_POOL_SHM,
	TIER_POOL_MEM,
};

/* One parsed pool URI. host/port for tcp and rdma, path for shm, size for mem. */
struct tier_pool_uri {
	enum tier_pool_scheme scheme;
	char host[256];
	char port[8];
	char path[PATH_MAX];
	uint64_t size_bytes;
};

/*
 * Parse one URI (no commas). On error returns -EINVAL and writes a message
 * that names the URI and says what was expected into @err.
 */
int tier_pool_parse_uri(const char *uri, struct tier_pool_uri *out, char *err, size_t err_len);

/*
 * A server's addresses, resolved once, when the pool is opened: getaddrinfo()
 * allocates, and channels are connected (and reconnected) later from pager
 * threads, when the program's malloc heap may be pool memory that only a
 * pager thread can bring back (a deadlock seen with redis + jemalloc). For
 * shm: the control socket PATH.sock.
 */
#define TIER_POOL_MAX_ADDRS 4
struct tier_pool_addrs {
	unsigned int nr;
	socklen_t len[TIER_POOL_MAX_ADDRS];
	struct sockaddr_storage addr[TIER_POOL_MAX_ADDRS];
};

/* Resolve @u (tcp, rdma, shm) into @out; -errno with the thread's error set. */
int tier_pool_resolve(const struct tier_pool_uri *u, struct tier_pool_addrs *out);

/* "4096", "64K", "8M", "2G", "1T" (binary units) -> bytes; -EINVAL/-ERANGE. */
int tier_parse_size(const char *s, uint64_t *bytes);

/*
 * A transport that fails says why here (per thread); pool.c prefixes the
 * URI and the operation. Not for the fault path's success case: only set
 * on failure.
 */
void tier_pool_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tier_pool_clear_error(void);
const char *tier_pool_thread_error(void); /* "" if none */

/*
 * How long a transport keeps retrying one request (reconnecting and
 * reclaiming its lease) before it fails: TIERD_POOL_TIMEOUT_MS, default
 * 30000. Generous on purpose: a slow client that gives up early and comes
 * back after the server's lease grace has expired loses its pages.
 */
int tier_pool_timeout_ms(void);

extern const struct tier_pool_ops tier_pool_mem_ops;
extern const struct tier_pool_ops tier_pool_shm_ops;
extern const struct tier_pool_ops tier_pool_tcp_ops;
extern const struct tier_pool_ops tier_pool_rdma_ops;

/*
 * Server statistics, asked of a tcp:// or shm: server (shm asks PATH.sock).
 * For tests and tools; not on any data path.
 */
int tier_pool_server_stat(const char *uri, struct tier_proto_stat_reply *out);

/*
 * Test hook: make every connection of @pool fail its next request as if the
 * network had dropped it (tcp: shutdown() of the socket), so that the
 * transport's reconnect-and-reclaim path runs. Returns how many were dropped.
 */
int tier_pool_debug_drop(struct tier_pool *pool);

/* Per-transport part of the hook above; 0 if the transport has nothing to drop. */
int tier_pool_tcp_debug_drop(struct tier_pool_conn *conn);

/*
 * Stream helpers shared by the tcp and shm transports and the tools: one
 * request/reply exchange of the wire protocol on a connected socket, all
 * against an absolute deadline (monotonic ms). On failure *@server_err says
 * whether the server answered with an ERROR (don't retry; the message is in
 * the thread's error) or the connection failed (reconnect and retry).
 */
struct iovec;
uint64_t tier_pool_now_ms(void);
/* Connect to the first of @a's addresses that answers; @u names it in errors. */
int tier_stream_connect_addrs(const struct tier_pool_uri *u, const struct tier_pool_addrs *a,
			      int *fdp, uint64_t deadline_ms);
/* Resolve @u and connect: for one-shot tools, not from a pager thread. */
int tier_stream_connect(const struct tier_pool_uri *u, int *fdp, uint64_t deadline_ms);
int tier_stream_call(int fd, uint16_t type, uint32_t seq, struct iovec *req, int nr_req,
		     uint16_t reply_type, void *reply, size_t reply_bytes, struct iovec *data,
		     int nr_data, size_t data_bytes, uint64_t deadline_ms, int *server_err);
int tier_stream_hello(int fd, uint32_t seq, const uint8_t *token, uint64_t want_slots,
		      struct tier_proto_hello_reply *reply, uint64_t deadline_ms, int *server_err);

/*
 * Channels: the tcp and rdma transports keep up to @max_chans connections
 * to one server on one lease, so that parallel faults don't queue behind
 * each other. @chans is an array of @chan_size-byte channel structs whose
 * FIRST member is the channel's pthread_mutex_t. Returns a channel, locked:
 * a free one; else a new one (its lock taken, the transport connects it
 * lazily) while there is room, growing *@nr_chans under @grow_lock; else
 * waits for a busy one. *@nr_chans only grows and is read with acquire.
 */
void *tier_pool_chan_take(void *chans, size_t chan_size, unsigned int max_chans,
			  unsigned int *nr_chans, unsigned int *next_chan,
			  pthread_mutex_t *grow_lock);

/*
 * The data plane of the transports whose lease is mapped memory (mem, shm):
 * copy whole pages between @region (@nr_slots slots) and the iov buffers,
 * after checking every slot (-ERANGE, with the thread's error set, before
 * anything is copied).
 */
int tier_pool_copy_pages(uint8_t *region, uint64_t nr_slots, const struct tier_pool_iov *iov,
			 unsigned int nr, int to_pool);

/*
 * After a failed attempt of a request that will be retried (the transport
 * has already dropped the broken connection): 0 after sleeping the backoff
 * (*@backoff_ms doubles up to 0.5 s), or, when the next try would pass
 * @deadline_ms, the request's final error, with the thread's error saying
 * why and that the deadline passed.
 */
int tier_pool_retry_wait(uint64_t deadline_ms, unsigned int *backoff_ms, int rc);

/*
 * A lost lease (the tcp and rdma transports): when a reconnect finds that
 * the server no longer knows the connection's lease (it restarted, or its
 * grace ran out), the pages are gone and every request fails from then on.
 * tier_pool_mark_lost() records that once, with the thread's error as the
 * reason, under @lock (which serialises the writers of *@lost), and returns
 * -ECONNRESET with the thread's error set to *@why. tier_pool_check_lost()
 * is the lock-free test at the start of a request: 0, or -ECONNRESET with
 * the thread's error set.
 */
int tier_pool_mark_lost(bool *lost, char *why, size_t why_len, pthread_mutex_t *lock);
int tier_pool_check_lost(const bool *lost, const char *why);

#endif /* TIERD_POOL_INTERNAL_H */
