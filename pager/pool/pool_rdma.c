// SPDX-License-Identifier: GPL-2.0
/*
 * pool_rdma.c — "rdma://HOST:PORT": pages moved with one-sided RDMA READ
 * and WRITE (rdma-core: RDMA CM, a reliable-connected QP).
 *
 * Why it is shaped this way:
 * - One-sided verbs: the server's CPU never touches a page. The server puts
 *   the lease's address, rkey and size in the RDMA CM accept's private data
 *   (the HELLO exchange of pool_proto.h, in the CM handshake), so there is
 *   no message protocol on the QP at all.
 * - The server registers only the client's lease, in a protection domain of
 *   that connection alone: the rkey cannot reach another client's pages.
 * - Staging buffers are registered once (tier_pool_reg_buf) and found by
 *   address on each transfer; an unregistered buffer is an error, not a
 *   silent bounce copy.
 * - A batch is one chain of work requests, posted with one ibv_post_send.
 *   Completions are busy-polled for a few microseconds (a page over RDMA
 *   takes about that long, and a sleeping waiter costs a wake-up of ~50 us),
 *   then waited for on the completion channel with the request's deadline.
 * - A failed completion or CM disconnect means the QP is in error: the
 *   transport reconnects (new CM id and QP; PD, CQ and buffer registrations
 *   survive), presents its lease token, and retries the batch until the
 *   deadline (TIERD_POOL_TIMEOUT_MS). A lease the server no longer knows
 *   fails everything afterwards with -ECONNRESET.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "pool_internal.h"

#define RDMA_MAX_WR 256 /* work requests in flight per batch */
#define RDMA_SPIN_NS 20000

struct rdma_buf {
	unsigned char *addr;
	size_t len;
	struct ibv_mr *mr;
};

struct tier_pool_conn {
	pthread_mutex_t lock;
	struct tier_pool_uri uri;
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id; /* NULL: reconnect before the next batch */
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	uint8_t initiator_depth;
	uint64_t remote_addr;
	uint32_t rkey;
	uint64_t nr_slots;
	uint8_t token[TIER_PROTO_TOKEN_BYTES];
	uint64_t next_wr_id;
	struct rdma_buf *bufs;
	unsigned int nr_bufs;
	bool lost;
	char lost_why[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait for the next CM event of @type on the channel; others are errors. */
static int wait_cm_event(struct tier_pool_conn *c, enum rdma_cm_event_type type,
			 uint64_t deadline_ms, struct tier_proto_rdma_reply *reply)
{
	struct rdma_cm_event *ev;
	struct pollfd p = { .fd = c->ec->fd, .events = POLLIN };
	uint64_t now;
	int rc;

	for (;;) {
		if (!rdma_get_cm_event(c->ec, &ev)) {
			if (ev->id == c->id)
				break;
			rdma_ack_cm_event(ev); /* left over from an earlier connection */
			continue;
		}
		if (errno != EAGAIN) {
			rc = -errno;
			tier_pool_set_error("rdma_get_cm_event: %s", strerror(errno));
			return rc;
		}
		now = tier_pool_now_ms();
		if (now >= deadline_ms) {
			tier_pool_set_error("no %s from the RDMA CM before the request timeout",
					    rdma_event_str(type));
			return -ETIMEDOUT;
		}
		poll(&p, 1, (int)(deadline_ms - now));
	}
	rc = 0;
	if (ev->event == RDMA_CM_EVENT_REJECTED) {
		const struct tier_proto_rdma_reply *r = ev->param.conn.private_data;

		if (r && ev->param.conn.private_data_len >= sizeof(*r) &&
		    tier_proto_from_le32(r->magic) == TIER_PROTO_MAGIC && r->err) {
			char msg[sizeof(r->msg) + 1];

			memcpy(msg, r->msg, sizeof(r->msg));
			msg[sizeof(r->msg)] = '\0';
			tier_pool_set_error("server refused the connection: %s", msg);
			rc = -(int)tier_proto_from_le32((uint32_t)r->err);
		} else {
			tier_pool_set_error("connection rejected (status %d): is tier-memsrv "
					    "listening on rdma://%s:%s?",
					    ev->status, c->uri.host, c->uri.port);
			rc = -ECONNREFUSED;
		}
	} else if (ev->event != type) {
		tier_pool_set_error("RDMA CM: %s (status %d) while waiting for %s",
				    rdma_event_str(ev->event), ev->status, rdma_event_str(type));
		rc = -ECONNREFUSED;
	} else if (reply) {
		if (!ev->param.conn.private_data ||
		    ev->param.conn.private_data_len < sizeof(*reply)) {
			tier_pool_set_error(
			    "the server's accept carried no lease (old tier-memsrv?)");
			rc = -EPROTO;
		} else {
			memcpy(reply, ev->param.conn.private_data, sizeof(*reply));
		}
	}
	rdma_ack_cm_event(ev);
	return rc;
}

static void drain_cq(struct tier_pool_conn *c)
{
	struct ibv_wc wc[16];

	while (ibv_poll_cq(c->cq, 16, wc) > 0)
		;
}

/* Tear down the CM id and QP (not the PD, CQ and MRs). */
static void rdma_disconnect_conn(struct tier_pool_conn *c)
{
	if (!c->id)
		return;
	rdma_disconnect(c->id);
	if (c->id->qp)
		rdma_destroy_qp(c->id);
	rdma_destroy_id(c->id);
	c->id = NULL;
	if (c->cq)
		drain_cq(c);
}

/* Make the PD, completion channel and CQ on the first connect. */
static int rdma_make_pd_cq(struct tier_pool_conn *c, struct ibv_context *verbs)
{
	struct ibv_device_attr da;
	int flags;

	c->verbs = verbs;
	c->pd = ibv_alloc_pd(verbs);
	if (!c->pd) {
		tier_pool_set_error("ibv_alloc_pd: %s", strerror(errno));
		return -ENOMEM;
	}
	c->cc = ibv_create_comp_channel(verbs);
	if (!c->cc) {
		tier_pool_set_error("ibv_create_comp_channel: %s", strerror(errno));
		return -ENOMEM;
	}
	flags = fcntl(c->cc->fd, F_GETFL);
	fcntl(c->cc->fd, F_SETFL, flags | O_NONBLOCK);
	c->cq = ibv_create_cq(verbs, RDMA_MAX_WR * 2, NULL, c->cc, 0);
	if (!c->cq) {
		tier_pool_set_error("ibv_create_cq: %s", strerror(errno));
		return -ENOMEM;
	}
	c->initiator_depth = 16;
	if (!ibv_query_device(verbs, &da) && da.max_qp_init_rd_atom < c->initiator_depth)
		c->initiator_depth = (uint8_t)da.max_qp_init_rd_atom;
	return 0;
}

/* Connect, and get (first time) or reattach (with the token) the lease. */
static int rdma_connect_conn(struct tier_pool_conn *c, uint64_t want_slots, uint16_t flags,
			     uint64_t deadline_ms, bool *refused)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	struct ibv_qp_init_attr qa;
	struct rdma_conn_param cp;
	struct tier_proto_rdma_hello hello;
	struct tier_proto_rdma_reply reply;
	bool first = !memcmp(c->token, zero, sizeof(zero));
	int rc;

	*refused = false;
	rc = getaddrinfo(c->uri.host, c->uri.port, &hints, &res);
	if (rc) {
		tier_pool_set_error("cannot resolve %s: %s", c->uri.host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	if (rdma_create_id(c->ec, &c->id, c, RDMA_PS_TCP)) {
		rc = -errno;
		tier_pool_set_error("rdma_create_id: %s", strerror(errno));
		c->id = NULL;
		goto out_free_addr;
	}
	if (rdma_resolve_addr(c->id, NULL, res->ai_addr, 2000)) {
		rc = -errno;
		tier_pool_set_error("rdma_resolve_addr %s: %s (no RDMA device on the route?)",
				    c->uri.host, strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, RDMA_CM_EVENT_ADDR_RESOLVED, deadline_ms, NULL);
	if (rc)
		goto out_disconnect;
	if (rdma_resolve_route(c->id, 2000)) {
		rc = -errno;
		tier_pool_set_error("rdma_resolve_route: %s", strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline_ms, NULL);
	if (rc)
		goto out_disconnect;
	if (!c->pd) {
		rc = rdma_make_pd_cq(c, c->id->verbs);
		if (rc)
			goto out_disconnect;
	} else if (c->id->verbs != c->verbs) {
		tier_pool_set_error("the route now goes through another RDMA device");
		rc = -ENODEV;
		goto out_disconnect;
	}
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = RDMA_MAX_WR;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(c->id, c->pd, &qa)) {
		rc = -errno;
		tier_pool_set_error("rdma_create_qp: %s", strerror(errno));
		goto out_disconnect;
	}
	memset(&hello, 0, sizeof(hello));
	hello.magic = tier_proto_le32(TIER_PROTO_MAGIC);
	hello.version = tier_proto_le16(TIER_PROTO_VERSION);
	hello.flags = tier_proto_le16(flags);
	hello.want_slots = tier_proto_le64(want_slots);
	memcpy(hello.lease_token, c->token, sizeof(hello.lease_token));
	memset(&cp, 0, sizeof(cp));
	cp.private_data = &hello;
	cp.private_data_len = sizeof(hello);
	cp.initiator_depth = c->initiator_depth;
	cp.responder_resources = 0;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(c->id, &cp)) {
		rc = -errno;
		tier_pool_set_error("rdma_connect: %s", strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, RDMA_CM_EVENT_ESTABLISHED, deadline_ms, &reply);
	if (rc) {
		*refused = rc == -ESTALE || rc == -ENOSPC || rc == -EINVAL || rc == -EPROTO;
		goto out_disconnect;
	}
	if (first) {
		memcpy(c->token, reply.hello.lease_token, sizeof(c->token));
		c->nr_slots = tier_proto_from_le64(reply.hello.granted_slots);
	} else if (!tier_proto_from_le32(reply.hello.reattached) ||
		   tier_proto_from_le64(reply.hello.granted_slots) != c->nr_slots) {
		tier_pool_set_error("the server returned a different lease on reconnect");
		*refused = true;
		rc = -ESTALE;
		goto out_disconnect;
	}
	c->remote_addr = tier_proto_from_le64(reply.hello.rdma_addr);
	c->rkey = tier_proto_from_le32(reply.hello.rdma_rkey);
	freeaddrinfo(res);
	return 0;

out_disconnect:
	rdma_disconnect_conn(c);
out_free_addr:
	freeaddrinfo(res);
	return rc;
}

static void rdma_close(struct tier_pool_conn *c)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	unsigned int i;
	bool refused;

	rdma_disconnect_conn(c);
	if (c->ec && !c->lost && memcmp(c->token, zero, sizeof(zero))) {
		/* give the lease back now rather than after the server's grace */
		rdma_connect_conn(c, 0, TIER_PROTO_RDMA_RELEASE, tier_pool_now_ms() + 5000,
				  &refused);
		rdma_disconnect_conn(c);
	}
	for (i = 0; i < c->nr_bufs; i++)
		ibv_dereg_mr(c->bufs[i].mr);
	free(c->bufs);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->ec)
		rdma_destroy_event_channel(c->ec);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static pid_t rdma_owner_pid; /* the process whose verbs contexts librdmacm holds */

static int rdma_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		     uint64_t *granted_slots)
{
	pid_t owner;
	struct tier_pool_conn *c;
	char err[384];
	uint64_t deadline;
	bool refused;
	int rc, flags, attempt;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	rc = tier_pool_parse_uri(uri, &c->uri, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		goto out_close;
	}
	/*
	 * libibverbs and librdmacm keep device contexts per process and cannot
	 * start over in a fork()ed child (the kernel refuses the parent's
	 * contexts there: EACCES on the first post).
	 */
	owner = __atomic_load_n(&rdma_owner_pid, __ATOMIC_ACQUIRE);
	if (owner && owner != getpid()) {
		tier_pool_set_error("RDMA cannot be used in a fork()ed child of a process that "
				    "already used it (a libibverbs limitation): exec first, or use "
				    "a tcp:// or shm: pool in the child");
		rc = -EOPNOTSUPP;
		goto out_close;
	}
	__atomic_store_n(&rdma_owner_pid, getpid(), __ATOMIC_RELEASE);
	c->ec = rdma_create_event_channel();
	if (!c->ec) {
		rc = errno ? -errno : -ENODEV;
		tier_pool_set_error("rdma_create_event_channel: %s (is an RDMA device up? "
				    "rdma link show)",
				    strerror(-rc));
		goto out_close;
	}
	flags = fcntl(c->ec->fd, F_GETFL);
	fcntl(c->ec->fd, F_SETFL, flags | O_NONBLOCK);
	/*
	 * Soft-RoCE was seen to reject an occasional first connect request
	 * (IB CM status 8) to a listening server: retry a few times unless
	 * tier-memsrv itself refused.
	 */
	deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	for (attempt = 0;; attempt++) {
		rc = rdma_connect_conn(c, want_slots, 0, deadline, &refused);
		if (!rc || refused || attempt == 4 || tier_pool_now_ms() + 500 >= deadline)
			break;
		usleep(200000 << (attempt < 2 ? attempt : 2));
	}
	if (rc)
		goto out_close;
	*connp = c;
	*granted_slots = c->nr_slots;
	return 0;

out_close:
	rdma_close(c);
	return rc;
}

static int rdma_reg_buf(struct tier_pool_conn *c, void *buf, size_t len)
{
	struct rdma_buf *nb;
	struct ibv_mr *mr;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	mr = ibv_reg_mr(c->pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
	if (!mr) {
		rc = -errno;
		tier_pool_set_error("ibv_reg_mr of %zu bytes: %s (RLIMIT_MEMLOCK too low?)", len,
				    strerror(errno));
		goto out;
	}
	nb = realloc(c->bufs, (c->nr_bufs + 1) * sizeof(*nb));
	if (!nb) {
		ibv_dereg_mr(mr);
		rc = -ENOMEM;
		goto out;
	}
	c->bufs = nb;
	c->bufs[c->nr_bufs].addr = buf;
	c->bufs[c->nr_bufs].len = len;
	c->bufs[c->nr_bufs].mr = mr;
	c->nr_bufs++;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static struct ibv_mr *find_mr(struct tier_pool_conn *c, const void *buf)
{
	const unsigned char *p = buf;
	unsigned int i;

	for (i = 0; i < c->nr_bufs; i++)
		if (p >= c->bufs[i].addr && p + TIER_PAGE_SIZE <= c->bufs[i].addr + c->bufs[i].len)
			return c->bufs[i].mr;
	return NULL;
}

/* Wait for @nr completions. 0, -EIO (a completion failed) or -ETIMEDOUT. */
static int wait_completions(struct tier_pool_conn *c, unsigned int nr, uint64_t deadline_ms)
{
	struct ibv_wc wc[32];
	struct pollfd p = { .fd = c->cc->fd, .events = POLLIN };
	uint64_t spin_until = now_ns() + RDMA_SPIN_NS, now;
	unsigned int got = 0;
	int k, i, rc = 0;
	bool armed = false;

	while (got < nr) {
		k = ibv_poll_cq(c->cq, 32, wc);
		if (k < 0) {
			tier_pool_set_error("ibv_poll_cq failed");
			return -EIO;
		}
		for (i = 0; i < k; i++) {
			if (wc[i].status != IBV_WC_SUCCESS && !rc) {
				tier_pool_set_error("RDMA %s failed: %s",
						    wc[i].opcode == IBV_WC_RDMA_READ ? "READ"
										     : "WRITE",
						    ibv_wc_status_str(wc[i].status));
				rc = -EIO;
			}
		}
		got += (unsigned int)k;
		if (k || got >= nr)
			continue;
		if (now_ns() < spin_until)
			continue;
		if (!armed) {
			/* arm, then poll again: a completion may have come in between */
			ibv_req_notify_cq(c->cq, 0);
			armed = true;
			continue;
		}
		now = tier_pool_now_ms();
		if (now >= deadline_ms) {
			tier_pool_set_error("no RDMA completion before the request timeout");
			return -ETIMEDOUT;
		}
		if (poll(&p, 1, (int)(deadline_ms - now)) > 0) {
			struct ibv_cq *ev_cq;
			void *ctx;

			if (!ibv_get_cq_event(c->cc, &ev_cq, &ctx))
				ibv_ack_cq_events(ev_cq, 1);
			armed = false;
		}
	}
	return rc;
}

/* One chain of at most RDMA_MAX_WR transfers. Caller holds the lock. */
static int rdma_batch(struct tier_pool_conn *c, bool is_write, const struct tier_pool_iov *iov,
		      unsigned int nr, uint64_t deadline_ms)
{
	struct ibv_send_wr wr[RDMA_MAX_WR], *bad = NULL;
	struct ibv_sge sge[RDMA_MAX_WR];
	unsigned int i, posted;
	int rc, wrc;

	for (i = 0; i < nr; i++) {
		struct ibv_mr *mr = find_mr(c, iov[i].buf);

		if (!mr) {
			tier_pool_set_error("buffer %p is not registered (tier_pool_reg_buf)",
					    iov[i].buf);
			return -EFAULT;
		}
		sge[i].addr = (uintptr_t)iov[i].buf;
		sge[i].length = TIER_PAGE_SIZE;
		sge[i].lkey = mr->lkey;
		memset(&wr[i], 0, sizeof(wr[i]));
		wr[i].wr_id = c->next_wr_id++;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].opcode = is_write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
		wr[i].send_flags = IBV_SEND_SIGNALED;
		wr[i].wr.rdma.remote_addr = c->remote_addr + iov[i].slot * TIER_PAGE_SIZE;
		wr[i].wr.rdma.rkey = c->rkey;
		wr[i].next = i + 1 < nr ? &wr[i + 1] : NULL;
	}
	wrc = ibv_post_send(c->id->qp, wr, &bad); /* a positive errno */
	if (wrc) {
		posted = bad ? (unsigned int)(bad - wr) : 0;
		tier_pool_set_error("ibv_post_send: %s", strerror(wrc));
		if (posted)
			wait_completions(c, posted, deadline_ms);
		return -wrc;
	}
	rc = wait_completions(c, nr, deadline_ms);
	return rc;
}

static int rdma_io(struct tier_pool_conn *c, bool is_write, const struct tier_pool_iov *iov,
		   unsigned int nr)
{
	uint64_t deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	unsigned int done = 0, n, backoff_ms = 20, i;
	bool refused;
	char why[384];
	int rc = 0;

	for (i = 0; i < nr; i++) {
		if (iov[i].slot >= c->nr_slots) {
			tier_pool_set_error("slot %llu outside the lease of %llu slots",
					    (unsigned long long)iov[i].slot,
					    (unsigned long long)c->nr_slots);
			return -ERANGE;
		}
	}
	pthread_mutex_lock(&c->lock);
	if (c->lost) {
		tier_pool_set_error("%s", c->lost_why);
		pthread_mutex_unlock(&c->lock);
		return -ECONNRESET;
	}
	while (done < nr) {
		n = nr - done > RDMA_MAX_WR ? RDMA_MAX_WR : nr - done;
		rc = 0;
		if (!c->id) {
			rc = rdma_connect_conn(c, c->nr_slots, 0, deadline, &refused);
			if (rc && refused) {
				snprintf(c->lost_why, sizeof(c->lost_why),
					 "lease lost on reconnect (%s): the pool's pages on this "
					 "server are gone",
					 tier_pool_thread_error());
				c->lost = true;
				tier_pool_set_error("%s", c->lost_why);
				rc = -ECONNRESET;
				break;
			}
		}
		if (!rc)
			rc = rdma_batch(c, is_write, iov + done, n, deadline);
		if (!rc) {
			done += n;
			continue;
		}
		if (rc == -EFAULT)
			break; /* the caller's mistake: retrying will not help */
		/* the QP is in error (or never came up): reconnect and resend */
		rdma_disconnect_conn(c);
		if (tier_pool_now_ms() + backoff_ms >= deadline) {
			snprintf(why, sizeof(why), "%s", tier_pool_thread_error());
			tier_pool_set_error("%s; gave up after %d ms (TIERD_POOL_TIMEOUT_MS)", why,
					    tier_pool_timeout_ms());
			rc = rc == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET;
			break;
		}
		usleep(backoff_ms * 1000);
		if (backoff_ms < 500)
			backoff_ms *= 2;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int rdma_read(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return rdma_io(c, false, iov, nr);
}

static int rdma_write(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return rdma_io(c, true, iov, nr);
}

/*
 * A fork()ed child: verbs objects live in the parent's device context, and
 * destroying them from the child would tear down the parent's QP. Free the
 * bookkeeping only.
 */
static void rdma_abandon(struct tier_pool_conn *c)
{
	free(c->bufs);
	free(c);
}

const struct tier_pool_ops tier_pool_rdma_ops = {
	.scheme = "rdma",
	.open = rdma_open,
	.read = rdma_read,
	.write = rdma_write,
	.reg_buf = rdma_reg_buf,
	.close = rdma_close,
	.abandon = rdma_abandon,
};
