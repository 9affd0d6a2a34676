/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memsrv.h — what tier-memsrv's parts share: the region it lends, the lease
 * table (memsrv.c) and the RDMA listener (memsrv_rdma.c).
 */
#ifndef TIERD_MEMSRV_H
#define TIERD_MEMSRV_H

#include <stdbool.h>
#include <stdint.h>

#include "tierd/pool_proto.h"

extern unsigned char *memsrv_region;
extern uint64_t memsrv_region_slots;
extern bool memsrv_verbose;

void memsrv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void memsrv_vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A connection's hold on a lease (several connections of one client may
 * hold the same lease). Valid while the lease entry's generation is still
 * @gen and it has not been released.
 */
struct lease_ref {
	int idx; /* -1: none */
	uint64_t gen;
};

/*
 * HELLO: a new lease (all-zero token) or the lease with this token. Fills
 * @reply (host byte order). Returns 0, -ENOSPC (server full), -ESTALE
 * (unknown token), -EALREADY (@ref already holds a lease); *@why says so.
 */
int lease_hello(struct lease_ref *ref, const uint8_t *token, uint64_t want_slots, const char *peer,
		struct tier_proto_hello_reply *reply, const char **why);

/* Pin the lease for one I/O: *@base_slot and *@nr_slots, or -ESTALE. */
int lease_begin_io(const struct lease_ref *ref, uint64_t *base_slot, uint64_t *nr_slots);
void lease_end_io(const struct lease_ref *ref);

/* The client gave the lease back (RELEASE): freed now, no grace. */
void lease_release(struct lease_ref *ref);

/* RELEASE by token (RDMA's closing connect); -ESTALE if unknown. */
int lease_release_token(const uint8_t *token);

/* The connection went away: the lease lingers for the grace period. */
void lease_detach(struct lease_ref *ref);

void lease_stat(struct tier_proto_stat_reply *out);

/* Start with all @nr_slots free; a left lease is kept @grace_s seconds. */
void lease_init(uint64_t nr_slots, unsigned int grace_s);

/* Free the leases whose grace has run out by @now (lease_now_ms()). */
void lease_reap(uint64_t now_ms);

/* The clock of the lease table (monotonic ms); tests replace it. */
extern uint64_t (*lease_now_ms)(void);

/* RDMA listener (memsrv_rdma.c). */
int memsrv_rdma_listen(const char *host, const char *port, int *fd);
void memsrv_rdma_handle(void);
void memsrv_rdma_shutdown(void);
/* Disconnect every RDMA client (--drop-every); returns how many. */
int memsrv_rdma_drop_all(void);

#endif /* TIERD_MEMSRV_H */
