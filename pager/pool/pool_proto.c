// SPDX-License-Identifier: GPL-2.0
/*
 * pool_proto.c — encoding and the server's checks of the pool wire protocol
 * (include/tierd/pool_proto.h). The checks are pure functions (no I/O, no
 * state) so that the unit tests can feed them every malformed request and
 * tier-memsrv can trust what passes them.
 */
#include <errno.h>
#include <string.h>

#include "tierd/pool_proto.h"

void tier_proto_encode_hdr(struct tier_proto_hdr *wire, uint16_t type, uint32_t seq,
			   uint32_t body_bytes)
{
	wire->magic = tier_proto_le32(TIER_PROTO_MAGIC);
	wire->version = tier_proto_le16(TIER_PROTO_VERSION);
	wire->type = tier_proto_le16(type);
	wire->seq = tier_proto_le32(seq);
	wire->body_bytes = tier_proto_le32(body_bytes);
}

static size_t max_body_of(uint16_t type)
{
	switch (type) {
	case TIER_PROTO_HELLO:
		return sizeof(struct tier_proto_hello);
	case TIER_PROTO_READ:
	case TIER_PROTO_WRITE:
		return TIER_PROTO_MAX_BODY;
	case TIER_PROTO_STAT:
	case TIER_PROTO_RELEASE:
		return 0;
	default:
		return 0;
	}
}

int tier_proto_check_hdr(const struct tier_proto_hdr *wire, struct tier_proto_hdr *host,
			 const char **why)
{
	host->magic = tier_proto_from_le32(wire->magic);
	host->version = tier_proto_from_le16(wire->version);
	host->type = tier_proto_from_le16(wire->type);
	host->seq = tier_proto_from_le32(wire->seq);
	host->body_bytes = tier_proto_from_le32(wire->body_bytes);

	if (host->magic != TIER_PROTO_MAGIC) {
		*why = "bad magic: not a tierd pool client";
		return -EPROTO;
	}
	if (host->version != TIER_PROTO_VERSION) {
		*why = "protocol version mismatch: client and tier-memsrv must be the same tierd "
		       "version";
		return -EPROTONOSUPPORT;
	}
	switch (host->type) {
	case TIER_PROTO_HELLO:
	case TIER_PROTO_READ:
	case TIER_PROTO_WRITE:
	case TIER_PROTO_STAT:
	case TIER_PROTO_RELEASE:
		break;
	default:
		*why = "unknown request type";
		return -EPROTO;
	}
	if (host->body_bytes > max_body_of(host->type)) {
		*why = "request body larger than its type allows";
		return -EMSGSIZE;
	}
	if (host->type == TIER_PROTO_HELLO && host->body_bytes != sizeof(struct tier_proto_hello)) {
		*why = "HELLO body has the wrong size";
		return -EMSGSIZE;
	}
	*why = NULL;
	return 0;
}

int tier_proto_check_io(uint16_t type, const void *body, size_t body_bytes, uint64_t lease_slots,
			uint32_t *nr_pages, const char **why)
{
	struct tier_proto_io io;
	uint32_t nr, i;

	if (type != TIER_PROTO_READ && type != TIER_PROTO_WRITE) {
		*why = "not a READ or WRITE";
		return -EINVAL;
	}
	if (body_bytes < sizeof(io)) {
		*why = "truncated request: no page count";
		return -EINVAL;
	}
	memcpy(&io, body, sizeof(io));
	nr = tier_proto_from_le32(io.nr_pages);
	if (nr == 0 || nr > TIER_PROTO_MAX_BATCH) {
		*why = "page count must be 1..TIER_PROTO_MAX_BATCH (256)";
		return -EINVAL;
	}
	if (body_bytes != tier_proto_io_body_bytes(type, nr)) {
		*why = "body length does not match the page count (truncated or padded request)";
		return -EINVAL;
	}
	if (lease_slots == 0) {
		*why = "no lease: send HELLO first";
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		if (tier_proto_io_slot(body, i) >= lease_slots) {
			*why = "slot outside the client's lease";
			return -ERANGE;
		}
	}
	*nr_pages = nr;
	*why = NULL;
	return 0;
}
