/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool_proto.h — the wire protocol between a pool client (pager/pool/) and
 * tier-memsrv, version 1.
 *
 * Framing. Every message is a 16-byte header followed by header.body_bytes
 * bytes of body. All integers are little-endian on the wire (use the
 * tier_proto_le*() helpers; every field has a fixed width, structs have no
 * implicit padding, sizes are checked below). One request, one reply, in
 * order, per connection; the reply echoes the request's seq.
 *
 *   client                                server
 *   HELLO {want_slots, lease_token}  -->
 *                                    <--  HELLO_REPLY {granted_slots, lease_base_slot,
 *                                          lease_token, region_bytes, rdma addr/rkey}
 *                                    or   ERROR {errno, message}  (e.g. version mismatch)
 *   READ  {nr, slots[nr]}            -->
 *                                    <--  READ_REPLY {status, nr} + nr * 4096 bytes
 *   WRITE {nr, slots[nr]} + nr*4096  -->
 *                                    <--  WRITE_REPLY {status, nr}
 *   STAT  {}                         -->  (allowed before HELLO: needs no lease)
 *                                    <--  STAT_REPLY {total, free, leases, clients}
 *   RELEASE {}                       -->  (give the lease back now, no grace)
 *                                    <--  RELEASE_REPLY {status, 0}
 *
 * Slots in READ/WRITE are relative to the client's lease: slot s is the
 * server's page lease_base_slot + s. The server checks every request: a
 * header it cannot frame (bad magic, version, type or a body larger than
 * TIER_PROTO_MAX_BODY) closes the connection; a framed request that is
 * malformed (nr == 0 or > TIER_PROTO_MAX_BATCH, body length not matching nr,
 * a slot outside the lease, I/O before HELLO) gets an ERROR reply and touches
 * nothing. tier_proto_check_hdr() and tier_proto_check_io() are those checks,
 * as pure functions.
 *
 * Leases. HELLO with an all-zero token asks for a new lease; the reply
 * carries its token. HELLO with a token attaches this connection to that
 * lease (reattached = 1): a client may hold its lease over several
 * connections at once (parallel requests), and a client that reconnects
 * after a timeout finds its pages. A lease outlives its last connection by
 * the server's grace period (--lease-grace, default 30 s). A token the
 * server does not know gets ERROR ESTALE: the lease and its pages are gone.
 *
 * RDMA (rdma://). The same HELLO travels in the RDMA CM connect request's
 * private data (struct tier_proto_rdma_hello, 56 bytes at most by the CM)
 * and the HELLO_REPLY in the accept's private data; after that the client
 * moves pages with one-sided RDMA READ/WRITE at remote_addr + slot * 4096
 * with rkey, a memory region that covers only its own lease, in a
 * protection domain of its own connection.
 *
 * shm:PATH. The client sends HELLO over the unix socket PATH.sock and then
 * maps only its lease's range of PATH (offset lease_base_slot * 4096); the
 * connection stays open to hold the lease.
 */
#ifndef TIERD_POOL_PROTO_H
#define TIERD_POOL_PROTO_H

#ifdef __BPF__
#error "pool_proto.h is for user space only"
#endif

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#define TIER_PROTO_MAGIC 0x31505254u /* "TRP1" as little-endian bytes */
#define TIER_PROTO_VERSION 1
#define TIER_PROTO_PAGE_SIZE 4096u
#define TIER_PROTO_MAX_BATCH 256u /* pages per READ/WRITE (1 MiB) */
#define TIER_PROTO_TOKEN_BYTES 16
#define TIER_PROTO_MAX_MSG 256u /* ERROR message bytes */

enum tier_proto_type {
	TIER_PROTO_HELLO = 1,
	TIER_PROTO_HELLO_REPLY = 2,
	TIER_PROTO_READ = 3,
	TIER_PROTO_READ_REPLY = 4,
	TIER_PROTO_WRITE = 5,
	TIER_PROTO_WRITE_REPLY = 6,
	TIER_PROTO_STAT = 7,
	TIER_PROTO_STAT_REPLY = 8,
	TIER_PROTO_RELEASE = 9,
	TIER_PROTO_RELEASE_REPLY = 10,
	TIER_PROTO_ERROR = 11,
};

struct tier_proto_hdr {
	uint32_t magic; /* TIER_PROTO_MAGIC */
	uint16_t version; /* TIER_PROTO_VERSION */
	uint16_t type; /* enum tier_proto_type */
	uint32_t seq; /* echoed by the reply */
	uint32_t body_bytes; /* bytes following this header */
};

struct tier_proto_hello {
	uint64_t want_slots;
	uint8_t lease_token[TIER_PROTO_TOKEN_BYTES]; /* all zero: a new lease */
	uint32_t flags; /* none defined: 0 */
	uint32_t reserved;
};

struct tier_proto_hello_reply {
	uint64_t granted_slots;
	uint64_t lease_base_slot; /* first server page of the lease */
	uint64_t region_bytes; /* the whole region (shm: the file's size) */
	uint8_t lease_token[TIER_PROTO_TOKEN_BYTES];
	uint64_t rdma_addr; /* rdma: remote address of slot 0 of the lease; else 0 */
	uint32_t rdma_rkey; /* rdma: its rkey; else 0 */
	uint32_t reattached; /* 1: an existing lease (with its data) came back */
};

/* READ and WRITE bodies start with this, then nr_pages slots (uint64_t). */
struct tier_proto_io {
	uint32_t nr_pages;
	uint32_t reserved;
};

/* READ_REPLY (then nr_pages pages), WRITE_REPLY, RELEASE_REPLY. */
struct tier_proto_status {
	int32_t status; /* 0; errors come as TIER_PROTO_ERROR */
	uint32_t nr_pages;
};

struct tier_proto_stat_reply {
	uint64_t total_slots;
	uint64_t free_slots;
	uint64_t nr_leases; /* held, attached or within their grace */
	uint64_t nr_clients; /* leases with a live connection */
	uint64_t nr_lingering; /* leases whose client left, within the grace */
};

struct tier_proto_error {
	int32_t err; /* positive errno */
	uint32_t msg_bytes; /* message text follows, not NUL-terminated */
};

/* RDMA CM private data: at most 56 bytes in a connect request. */
struct tier_proto_rdma_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t flags; /* TIER_PROTO_RDMA_RELEASE or 0 */
	uint64_t want_slots;
	uint8_t lease_token[TIER_PROTO_TOKEN_BYTES];
};

/*
 * flags: give the lease named by lease_token back now (RDMA has no message
 * channel for RELEASE; a closing client connects once more with this flag).
 * The server answers with a reject whose err is 0.
 */
#define TIER_PROTO_RDMA_RELEASE 1

/* ... and at most 196 bytes in the accept (or reject) reply. */
struct tier_proto_rdma_reply {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	int32_t err; /* positive errno; 0: the fields below are valid */
	uint32_t reserved2;
	struct tier_proto_hello_reply hello;
	char msg[64]; /* why, when err != 0 (NUL-terminated) */
};

_Static_assert(sizeof(struct tier_proto_hdr) == 16, "wire size");
_Static_assert(sizeof(struct tier_proto_hello) == 32, "wire size");
_Static_assert(sizeof(struct tier_proto_hello_reply) == 56, "wire size");
_Static_assert(sizeof(struct tier_proto_io) == 8, "wire size");
_Static_assert(sizeof(struct tier_proto_status) == 8, "wire size");
_Static_assert(sizeof(struct tier_proto_stat_reply) == 40, "wire size");
_Static_assert(sizeof(struct tier_proto_error) == 8, "wire size");
_Static_assert(sizeof(struct tier_proto_rdma_hello) == 32, "wire size");
_Static_assert(sizeof(struct tier_proto_rdma_hello) <= 56, "RDMA CM connect private data");
_Static_assert(sizeof(struct tier_proto_rdma_reply) == 136, "wire size");
_Static_assert(sizeof(struct tier_proto_rdma_reply) <= 196, "RDMA CM accept private data");

/* The largest body: a full WRITE. */
#define TIER_PROTO_MAX_BODY             \
	(sizeof(struct tier_proto_io) + \
	 (size_t)TIER_PROTO_MAX_BATCH * (sizeof(uint64_t) + TIER_PROTO_PAGE_SIZE))

static inline size_t tier_proto_io_body_bytes(uint16_t type, uint32_t nr_pages)
{
	size_t n = sizeof(struct tier_proto_io) + (size_t)nr_pages * sizeof(uint64_t);

	if (type == TIER_PROTO_WRITE)
		n += (size_t)nr_pages * TIER_PROTO_PAGE_SIZE;
	return n;
}

/*
 * Byte order. Encode every field with these on the way out and decode on
 * the way in; on a little-endian host they compile to nothing.
 */
#define tier_proto_le16(x) htole16(x)
#define tier_proto_le32(x) htole32(x)
#define tier_proto_le64(x) htole64(x)
#define tier_proto_from_le16(x) le16toh(x)
#define tier_proto_from_le32(x) le32toh(x)
#define tier_proto_from_le64(x) le64toh(x)

/* Encode a header for @type with @body_bytes of body. */
void tier_proto_encode_hdr(struct tier_proto_hdr *wire, uint16_t type, uint32_t seq,
			   uint32_t body_bytes);

/*
 * Server side: decode and check a header. 0: *@host holds the decoded
 * header. -EPROTO (bad magic or type) / -EPROTONOSUPPORT (version) /
 * -EMSGSIZE (body too large): the stream cannot be trusted, close it.
 * *@why says what was wrong.
 */
int tier_proto_check_hdr(const struct tier_proto_hdr *wire, struct tier_proto_hdr *host,
			 const char **why);

/*
 * Server side: check a READ or WRITE body of @body_bytes against a lease of
 * @lease_slots slots (0: no lease yet). 0: *@nr_pages is set and every slot
 * (decode with tier_proto_io_slot()) is inside the lease. Else -EINVAL or
 * -ERANGE (reply ERROR, touch nothing) with *@why.
 */
int tier_proto_check_io(uint16_t type, const void *body, size_t body_bytes, uint64_t lease_slots,
			uint32_t *nr_pages, const char **why);

static inline uint64_t tier_proto_io_slot(const void *body, uint32_t i)
{
	const unsigned char *p = (const unsigned char *)body + sizeof(struct tier_proto_io);
	uint64_t v;

	__builtin_memcpy(&v, p + (size_t)i * sizeof(v), sizeof(v));
	return tier_proto_from_le64(v);
}

/* The page data of a checked WRITE body. */
static inline const void *tier_proto_io_data(const void *body, uint32_t nr_pages)
{
	return (const unsigned char *)body + sizeof(struct tier_proto_io) +
	       (size_t)nr_pages * sizeof(uint64_t);
}

#endif /* TIERD_POOL_PROTO_H */
