// SPDX-License-Identifier: GPL-2.0
/*
 * pool_rdma.c — "rdma://HOST:PORT": pages moved with one-sided RDMA READ
 * and WRITE (rdma-core: RDMA CM, reliable-connected QPs).
 *
 * Why it is shaped this way:
 * - One-sided verbs: the server's CPU never touches a page. The server puts
 *   the lease's address, rkey and size in the RDMA CM accept's private data
 *   (the HELLO exchange of pool_proto.h, in the CM handshake), so there is
 *   no message protocol on the QP at all.
 * - The server registers only the client's lease, in a protection domain of
 *   that connection alone: the rkey cannot reach another client's pages.
 * - Up to RDMA_MAX_CHANNELS connections ("channels") per server, each with
 *   its own CM id, QP, CQ and completion channel, all attached to the one
 *   lease: a thread takes a free channel, so a fault's read does not wait
 *   behind another thread's 64-page eviction. One PD holds the staging
 *   buffers' registrations (tier_pool_reg_buf), shared by all channels and
 *   found by address on each transfer; an unregistered buffer is an error,
 *   not a silent bounce copy.
 * - A batch is one chain of work requests, posted with one ibv_post_send.
 *   Completions are busy-polled for a few microseconds (a page over RDMA
 *   takes about that long, and a sleeping waiter costs a wake-up of ~50 us),
 *   then waited for on the completion channel with the request's deadline.
 * - A failed completion or CM error means the QP is in error: the channel
 *   reconnects (new CM id and QP; its CQ, the PD and the registrations
 *   survive), presents the lease token, and retries the batch until the
 *   deadline (TIERD_POOL_TIMEOUT_MS). A lease the server no longer knows
 *   fails everything afterwards with -ECONNRESET.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
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
#define RDMA_MAX_CHANNELS 4
#define RDMA_MAX_BUFS 64

struct rdma_buf {
	unsigned char *addr;
	size_t len;
	struct ibv_mr *mr;
};

struct rdma_chan {
	pthread_mutex_t lock;
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id; /* NULL: (re)connect before the next batch */
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	uint64_t remote_addr; /* this connection's view of the lease */
	uint32_t rkey;
	uint64_t next_wr_id;
};

struct tier_pool_conn {
	struct tier_pool_uri uri;
	struct tier_pool_addrs addrs; /* resolved by open: no getaddrinfo() on a reconnect */
	pthread_mutex_t setup_lock; /* PD creation, channel growth, registrations, lost */
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	uint8_t initiator_depth;
	unsigned int nr_chans; /* only grows; read with acquire */
	unsigned int next_chan;
	struct rdma_chan chans[RDMA_MAX_CHANNELS];
	uint64_t nr_slots;
	uint8_t token[TIER_PROTO_TOKEN_BYTES];
	struct rdma_buf bufs[RDMA_MAX_BUFS];
	unsigned int nr_bufs; /* only grows; read with acquire */
	bool lost;
	char lost_why[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait for the next CM event of @type for @ch's id; others are errors. */
static int wait_cm_event(struct tier_pool_conn *c, struct rdma_chan *ch,
			 enum rdma_cm_event_type type, uint64_t deadline_ms,
			 struct tier_proto_rdma_reply *reply)
{
	struct rdma_cm_event *ev;
	struct pollfd p = { .fd = ch->ec->fd, .events = POLLIN };
	uint64_t now;
	int rc;

	for (;;) {
		if (!rdma_get_cm_event(ch->ec, &ev)) {
			if (ev->id == ch->id)
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
		    tier_proto_from_le32(r->magic) == TIER_PROTO_MAGIC && !r->err) {
			rc = -ECANCELED; /* tier-memsrv answered a RELEASE */
		} else if (r && ev->param.conn.private_data_len >= sizeof(*r) &&
			   tier_proto_from_le32(r->magic) == TIER_PROTO_MAGIC) {
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

static void drain_cq(struct rdma_chan *ch)
{
	struct ibv_wc wc[16];

	while (ibv_poll_cq(ch->cq, 16, wc) > 0)
		;
}

/* Tear down the CM id and QP (not the CQ, the PD or the registrations). */
static void chan_disconnect(struct rdma_chan *ch)
{
	if (!ch->id)
		return;
	rdma_disconnect(ch->id);
	if (ch->id->qp)
		rdma_destroy_qp(ch->id);
	rdma_destroy_id(ch->id);
	ch->id = NULL;
	if (ch->cq)
		drain_cq(ch);
}

/* The PD on the first connect (under setup_lock); later ones must match. */
static int make_pd(struct tier_pool_conn *c, struct ibv_context *verbs)
{
	struct ibv_device_attr da;
	int rc = 0;

	pthread_mutex_lock(&c->setup_lock);
	if (c->pd) {
		if (verbs != c->verbs) {
			tier_pool_set_error("the route now goes through another RDMA device");
			rc = -ENODEV;
		}
		goto out;
	}
	c->pd = ibv_alloc_pd(verbs);
	if (!c->pd) {
		tier_pool_set_error("ibv_alloc_pd: %s", strerror(errno));
		rc = -ENOMEM;
		goto out;
	}
	c->verbs = verbs;
	c->initiator_depth = 16;
	if (!ibv_query_device(verbs, &da) && da.max_qp_init_rd_atom < c->initiator_depth)
		c->initiator_depth = (uint8_t)da.max_qp_init_rd_atom;
out:
	pthread_mutex_unlock(&c->setup_lock);
	return rc;
}

/* The channel's completion channel and CQ, once. */
static int make_cq(struct rdma_chan *ch, struct ibv_context *verbs)
{
	int flags;

	if (ch->cq)
		return 0;
	ch->cc = ibv_create_comp_channel(verbs);
	if (!ch->cc) {
		tier_pool_set_error("ibv_create_comp_channel: %s", strerror(errno));
		return -ENOMEM;
	}
	flags = fcntl(ch->cc->fd, F_GETFL);
	fcntl(ch->cc->fd, F_SETFL, flags | O_NONBLOCK);
	/* room for a batch and the late flushes of torn-down QPs' batches */
	ch->cq = ibv_create_cq(verbs, RDMA_MAX_WR * 4, NULL, ch->cc, 0);
	if (!ch->cq) {
		tier_pool_set_error("ibv_create_cq: %s", strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

/*
 * Connect @ch: a new lease (@first), or attach to the lease of c->token,
 * or (@flags TIER_PROTO_RDMA_RELEASE) give it back. *@refused: tier-memsrv
 * itself said no (retrying will not help).
 */
static int chan_connect(struct tier_pool_conn *c, struct rdma_chan *ch, bool first,
			uint64_t want_slots, uint16_t flags, uint64_t deadline_ms, bool *refused)
{
	struct ibv_qp_init_attr qa;
	struct rdma_conn_param cp;
	struct tier_proto_rdma_hello hello;
	struct tier_proto_rdma_reply reply;
	int rc;

	*refused = false;
	if (!ch->ec) {
		ch->ec = rdma_create_event_channel();
		if (!ch->ec) {
			rc = errno ? -errno : -ENODEV;
			tier_pool_set_error("rdma_create_event_channel: %s (is an RDMA device "
					    "up? rdma link show)",
					    strerror(-rc));
			return rc;
		}
		fcntl(ch->ec->fd, F_SETFL, fcntl(ch->ec->fd, F_GETFL) | O_NONBLOCK);
	}
	if (rdma_create_id(ch->ec, &ch->id, c, RDMA_PS_TCP)) {
		rc = -errno;
		tier_pool_set_error("rdma_create_id: %s", strerror(errno));
		ch->id = NULL;
		return rc;
	}
	if (rdma_resolve_addr(ch->id, NULL, (struct sockaddr *)&c->addrs.addr[0], 2000)) {
		rc = -errno;
		tier_pool_set_error("rdma_resolve_addr %s: %s (no RDMA device on the route?)",
				    c->uri.host, strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, ch, RDMA_CM_EVENT_ADDR_RESOLVED, deadline_ms, NULL);
	if (rc)
		goto out_disconnect;
	if (rdma_resolve_route(ch->id, 2000)) {
		rc = -errno;
		tier_pool_set_error("rdma_resolve_route: %s", strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, ch, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline_ms, NULL);
	if (rc)
		goto out_disconnect;
	rc = make_pd(c, ch->id->verbs);
	if (!rc)
		rc = make_cq(ch, ch->id->verbs);
	if (rc)
		goto out_disconnect;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = ch->cq;
	qa.recv_cq = ch->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = RDMA_MAX_WR;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(ch->id, c->pd, &qa)) {
		rc = -errno;
		tier_pool_set_error("rdma_create_qp: %s", strerror(errno));
		goto out_disconnect;
	}
	memset(&hello, 0, sizeof(hello));
	hello.magic = tier_proto_le32(TIER_PROTO_MAGIC);
	hello.version = tier_proto_le16(TIER_PROTO_VERSION);
	hello.flags = tier_proto_le16(flags);
	hello.want_slots = tier_proto_le64(want_slots);
	if (!first)
		memcpy(hello.lease_token, c->token, sizeof(hello.lease_token));
	memset(&cp, 0, sizeof(cp));
	cp.private_data = &hello;
	cp.private_data_len = sizeof(hello);
	cp.initiator_depth = c->initiator_depth;
	cp.responder_resources = 0;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(ch->id, &cp)) {
		rc = -errno;
		tier_pool_set_error("rdma_connect: %s", strerror(errno));
		goto out_disconnect;
	}
	rc = wait_cm_event(c, ch, RDMA_CM_EVENT_ESTABLISHED, deadline_ms, &reply);
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
	ch->remote_addr = tier_proto_from_le64(reply.hello.rdma_addr);
	ch->rkey = tier_proto_from_le32(reply.hello.rdma_rkey);
	return 0;

out_disconnect:
	chan_disconnect(ch);
	return rc;
}

/* Undo a channel entirely (close, or a failed open). */
static void chan_destroy(struct rdma_chan *ch)
{
	chan_disconnect(ch);
	if (ch->cq)
		ibv_destroy_cq(ch->cq);
	if (ch->cc)
		ibv_destroy_comp_channel(ch->cc);
	if (ch->ec)
		rdma_destroy_event_channel(ch->ec);
	pthread_mutex_destroy(&ch->lock);
}

static void rdma_close(struct tier_pool_conn *c)
{
	unsigned int i;
	bool refused;
	int rc;

	for (i = 0; i < RDMA_MAX_CHANNELS; i++)
		chan_disconnect(&c->chans[i]);
	/* give the lease back now rather than after the server's grace */
	for (i = 0; c->nr_slots && !c->lost && i < 3; i++) {
		rc = chan_connect(c, &c->chans[0], false, 0, TIER_PROTO_RDMA_RELEASE,
				  tier_pool_now_ms() + 5000, &refused);
		if (!rc || rc == -ECANCELED || refused)
			break; /* answered; or the server no longer knows the lease */
		usleep(100000); /* Soft-RoCE's occasional spurious reject */
	}
	for (i = 0; i < RDMA_MAX_CHANNELS; i++)
		chan_destroy(&c->chans[i]);
	for (i = 0; i < c->nr_bufs; i++)
		ibv_dereg_mr(c->bufs[i].mr);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	pthread_mutex_destroy(&c->setup_lock);
	free(c);
}

static pid_t rdma_owner_pid; /* the process whose verbs contexts librdmacm holds */

static int rdma_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		     uint64_t *granted_slots)
{
	struct tier_pool_conn *c;
	char err[384];
	uint64_t deadline;
	bool refused;
	int rc, attempt, i;
	pid_t owner;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->setup_lock, NULL);
	for (i = 0; i < RDMA_MAX_CHANNELS; i++)
		pthread_mutex_init(&c->chans[i].lock, NULL);
	rc = tier_pool_parse_uri(uri, &c->uri, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		goto out_close;
	}
	rc = tier_pool_resolve(&c->uri, &c->addrs);
	if (rc)
		goto out_close;
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
	/*
	 * Soft-RoCE was seen to reject an occasional first connect request
	 * (IB CM status 8) to a listening server: retry a few times unless
	 * tier-memsrv itself refused.
	 */
	c->nr_chans = 1;
	deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	for (attempt = 0;; attempt++) {
		rc = chan_connect(c, &c->chans[0], true, want_slots, 0, deadline, &refused);
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
	c->nr_slots = 0; /* no lease to give back */
	rdma_close(c);
	return rc;
}

static int rdma_reg_buf(struct tier_pool_conn *c, void *buf, size_t len)
{
	struct ibv_mr *mr;
	int rc = 0;

	pthread_mutex_lock(&c->setup_lock);
	if (c->nr_bufs == RDMA_MAX_BUFS) {
		tier_pool_set_error("more than %d registered buffers: register larger ones",
				    RDMA_MAX_BUFS);
		rc = -ENOSPC;
		goto out;
	}
	mr = ibv_reg_mr(c->pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
	if (!mr) {
		rc = -errno;
		tier_pool_set_error("ibv_reg_mr of %zu bytes: %s (RLIMIT_MEMLOCK too low?)", len,
				    strerror(errno));
		goto out;
	}
	c->bufs[c->nr_bufs].addr = buf;
	c->bufs[c->nr_bufs].len = len;
	c->bufs[c->nr_bufs].mr = mr;
	__atomic_store_n(&c->nr_bufs, c->nr_bufs + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&c->setup_lock);
	return rc;
}

static struct ibv_mr *find_mr(struct tier_pool_conn *c, const void *buf)
{
	unsigned int i, n = __atomic_load_n(&c->nr_bufs, __ATOMIC_ACQUIRE);
	const unsigned char *p = buf;

	for (i = 0; i < n; i++)
		if (p >= c->bufs[i].addr && p + TIER_PAGE_SIZE <= c->bufs[i].addr + c->bufs[i].len)
			return c->bufs[i].mr;
	return NULL;
}

/*
 * Read @ch's pending CM events: -ECONNRESET if one says its connection is
 * over. The server's disconnect (DREQ) arrives as a CM event and nothing
 * else: the QP stays ready to send, and what is posted to the vanished
 * remote QP is retried by the transport for a long time before it fails.
 */
static int chan_check_cm(struct rdma_chan *ch)
{
	struct rdma_cm_event *ev;
	int rc = 0;

	while (!rdma_get_cm_event(ch->ec, &ev)) { /* non-blocking: EAGAIN ends it */
		if (ev->id == ch->id) {
			switch (ev->event) {
			case RDMA_CM_EVENT_DISCONNECTED:
			case RDMA_CM_EVENT_DEVICE_REMOVAL:
			case RDMA_CM_EVENT_ADDR_CHANGE:
			case RDMA_CM_EVENT_CONNECT_ERROR:
			case RDMA_CM_EVENT_UNREACHABLE:
				tier_pool_set_error("the connection ended: %s",
						    rdma_event_str(ev->event));
				rc = -ECONNRESET;
				break;
			default:
				break;
			}
		}
		rdma_ack_cm_event(ev); /* or left over from an earlier connection */
	}
	return rc;
}

/*
 * Wait for @nr completions of work requests numbered from @first_wr_id on
 * @ch. 0, -EIO (a completion failed) or -ETIMEDOUT. A completion of an
 * earlier batch (one given up on, whose QP was torn down: its flushes can
 * still arrive on this CQ) is not counted: counting it would call a READ
 * done before its data is in.
 */
static int wait_completions(struct rdma_chan *ch, uint64_t first_wr_id, unsigned int nr,
			    uint64_t deadline_ms)
{
	struct ibv_wc wc[32];
	struct pollfd p[2] = { { .fd = ch->cc->fd, .events = POLLIN },
			       { .fd = ch->ec->fd, .events = POLLIN } };
	uint64_t spin_until = now_ns() + RDMA_SPIN_NS, now;
	unsigned int got = 0;
	int k, i, rc = 0;
	bool armed = false;

	while (got < nr) {
		k = ibv_poll_cq(ch->cq, 32, wc);
		if (k < 0) {
			tier_pool_set_error("ibv_poll_cq failed");
			return -EIO;
		}
		for (i = 0; i < k; i++) {
			if (wc[i].wr_id < first_wr_id) {
				k--; /* stale: drop it from the count */
				wc[i] = wc[k];
				i--;
				continue;
			}
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
			ibv_req_notify_cq(ch->cq, 0);
			armed = true;
			continue;
		}
		now = tier_pool_now_ms();
		if (now >= deadline_ms) {
			tier_pool_set_error("no RDMA completion before the request timeout");
			return -ETIMEDOUT;
		}
		if (poll(p, 2, (int)(deadline_ms - now)) > 0) {
			struct ibv_cq *ev_cq;
			void *ctx;

			if (p[1].revents && chan_check_cm(ch))
				return -ECONNRESET; /* the caller reconnects and resends */
			if (p[0].revents && !ibv_get_cq_event(ch->cc, &ev_cq, &ctx)) {
				ibv_ack_cq_events(ev_cq, 1);
				armed = false;
			}
		}
	}
	return rc;
}

/* One chain of at most RDMA_MAX_WR transfers on a locked, connected channel. */
static int rdma_batch(struct tier_pool_conn *c, struct rdma_chan *ch, bool is_write,
		      const struct tier_pool_iov *iov, unsigned int nr, uint64_t deadline_ms)
{
	struct ibv_send_wr wr[RDMA_MAX_WR], *bad = NULL;
	struct ibv_sge sge[RDMA_MAX_WR];
	uint64_t first_wr_id = ch->next_wr_id;
	unsigned int i, posted;
	int wrc;

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
		wr[i].wr_id = ch->next_wr_id++;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].opcode = is_write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
		wr[i].send_flags = IBV_SEND_SIGNALED;
		wr[i].wr.rdma.remote_addr = ch->remote_addr + iov[i].slot * TIER_PAGE_SIZE;
		wr[i].wr.rdma.rkey = ch->rkey;
		wr[i].next = i + 1 < nr ? &wr[i + 1] : NULL;
	}
	wrc = ibv_post_send(ch->id->qp, wr, &bad); /* a positive errno */
	if (wrc) {
		posted = bad ? (unsigned int)(bad - wr) : 0;
		tier_pool_set_error("ibv_post_send: %s", strerror(wrc));
		if (posted)
			wait_completions(ch, first_wr_id, posted, deadline_ms);
		return -wrc;
	}
	return wait_completions(ch, first_wr_id, nr, deadline_ms);
}

/* A free channel, a new one if all are busy and there is room, else wait. */
static struct rdma_chan *take_chan(struct tier_pool_conn *c)
{
	_Static_assert(offsetof(struct rdma_chan, lock) == 0,
		       "tier_pool_chan_take needs the lock first");
	return tier_pool_chan_take(c->chans, sizeof(c->chans[0]), RDMA_MAX_CHANNELS, &c->nr_chans,
				   &c->next_chan, &c->setup_lock);
}

static int rdma_io(struct tier_pool_conn *c, bool is_write, const struct tier_pool_iov *iov,
		   unsigned int nr)
{
	uint64_t deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	unsigned int done = 0, n, backoff_ms = 20, i;
	struct rdma_chan *ch;
	bool refused;
	int rc = 0;

	for (i = 0; i < nr; i++) {
		if (iov[i].slot >= c->nr_slots) {
			tier_pool_set_error("slot %llu outside the lease of %llu slots",
					    (unsigned long long)iov[i].slot,
					    (unsigned long long)c->nr_slots);
			return -ERANGE;
		}
	}
	rc = tier_pool_check_lost(&c->lost, c->lost_why);
	if (rc)
		return rc;
	ch = take_chan(c);
	while (done < nr) {
		n = nr - done > RDMA_MAX_WR ? RDMA_MAX_WR : nr - done;
		rc = 0;
		if (!ch->id) {
			rc = chan_connect(c, ch, false, c->nr_slots, 0, deadline, &refused);
			if (rc && refused) {
				rc = tier_pool_mark_lost(&c->lost, c->lost_why, sizeof(c->lost_why),
							 &c->setup_lock);
				break;
			}
		}
		if (!rc) {
			/*
			 * One attempt waits a sixth of the request's time (at
			 * least 5 s), so a QP that stalls without an error
			 * completion (seen on Soft-RoCE in a starved guest) is
			 * reconnected and the batch resent (page reads and
			 * writes are idempotent) well before the deadline.
			 */
			uint64_t attempt_ms = (uint64_t)tier_pool_timeout_ms() / 6;
			uint64_t attempt =
			    tier_pool_now_ms() + (attempt_ms < 5000 ? 5000 : attempt_ms);

			rc = rdma_batch(c, ch, is_write, iov + done, n,
					attempt < deadline ? attempt : deadline);
		}
		if (!rc) {
			done += n;
			continue;
		}
		if (rc == -EFAULT)
			break; /* the caller's mistake: retrying will not help */
		/* the QP is in error (or never came up): reconnect and resend */
		chan_disconnect(ch);
		rc = tier_pool_retry_wait(deadline, &backoff_ms, rc);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&ch->lock);
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
 * destroying them from the child would tear down the parent's QPs. Free the
 * bookkeeping only.
 */
static void rdma_abandon(struct tier_pool_conn *c)
{
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
