// SPDX-License-Identifier: GPL-2.0
/*
 * pool_tcp.c — "tcp://HOST:PORT": the pool's page protocol over TCP, for
 * machines without an RDMA NIC.
 *
 * Why it is shaped this way: each connection carries one request/reply
 * exchange at a time under its mutex, which keeps the stream framed without
 * a reply dispatcher; up to four connections per server share the lease, so
 * threads faulting at once do not queue behind each other. Batching (up to
 * TIER_PROTO_MAX_BATCH pages per request, larger batches split) amortises the round trip, and TCP_NODELAY keeps a single
 * 4 KiB fault from waiting for Nagle. Sockets are non-blocking and every wait
 * is a poll() against the request's deadline, so a dead or hung server ends
 * in -ETIMEDOUT, never a hang. When the connection breaks the transport
 * reconnects and presents its lease token: the server keeps a lease through
 * a grace period, so the pages are still there. Only if the server no longer
 * knows the lease (it restarted, or the grace ran out) is the data gone: the
 * connection then fails every request with -ECONNRESET, saying so. The
 * server's name is resolved once, by open: getaddrinfo() allocates, and a
 * channel is (re)connected from a pager thread, when the program's heap may
 * be pool memory only a pager thread brings back.
 *
 * The stream helpers here also serve the shm transport's control socket.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pool_internal.h"

uint64_t tier_pool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int rc;

	for (;;) {
		now = tier_pool_now_ms();
		if (now >= deadline_ms)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)(deadline_ms - now));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

static void advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0 && n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Send all of @iov (modified). */
static int send_all(int fd, struct iovec *iov, int cnt, uint64_t deadline_ms)
{
	struct msghdr m = { 0 };
	ssize_t n;
	int rc;

	while (cnt > 0) {
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)(cnt > IOV_MAX ? IOV_MAX : cnt);
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				rc = -errno;
				tier_pool_set_error("send: %s", strerror(errno));
				return rc;
			}
			rc = wait_fd(fd, POLLOUT, deadline_ms);
			if (rc) {
				tier_pool_set_error("send: no progress before the request timeout");
				return rc;
			}
			continue;
		}
		advance(&iov, &cnt, (size_t)n);
	}
	return 0;
}

/* Receive exactly all of @iov (modified). */
static int recv_all(int fd, struct iovec *iov, int cnt, uint64_t deadline_ms)
{
	ssize_t n;
	int rc;

	while (cnt > 0) {
		n = readv(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				rc = -errno;
				tier_pool_set_error("receive: %s", strerror(errno));
				return rc;
			}
			rc = wait_fd(fd, POLLIN, deadline_ms);
			if (rc) {
				tier_pool_set_error("no reply from the server within the request "
						    "timeout (TIERD_POOL_TIMEOUT_MS=%d)",
						    tier_pool_timeout_ms());
				return rc;
			}
			continue;
		}
		if (n == 0) {
			tier_pool_set_error("the server closed the connection");
			return -ECONNRESET;
		}
		advance(&iov, &cnt, (size_t)n);
	}
	return 0;
}

int tier_stream_connect_addrs(const struct tier_pool_uri *u, const struct tier_pool_addrs *a,
			      int *fdp, uint64_t deadline_ms)
{
	int fd = -1, rc = -ECONNREFUSED, err = 0, one = 1;
	socklen_t sl = sizeof(err);
	unsigned int i;

	for (i = 0; i < a->nr; i++) {
		fd = socket(a->addr[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&a->addr[i], a->len[i]) == 0)
			break;
		if (errno == EINPROGRESS) {
			rc = wait_fd(fd, POLLOUT, deadline_ms);
			if (!rc && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) && !err)
				break;
			if (!rc)
				rc = -err;
		} else {
			rc = -errno;
		}
		close(fd);
		fd = -1;
		if (rc == -ETIMEDOUT)
			break;
	}
	if (fd < 0) {
		if (u->scheme == TIER_POOL_SHM)
			tier_pool_set_error("connect to %s.sock: %s (is tier-memsrv --listen "
					    "shm:%s running?)",
					    u->path, strerror(-rc), u->path);
		else
			tier_pool_set_error("connect: %s (is tier-memsrv listening on %s:%s?)",
					    strerror(-rc), u->host, u->port);
		return rc;
	}
	if (u->scheme != TIER_POOL_SHM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
}

int tier_stream_connect(const struct tier_pool_uri *u, int *fdp, uint64_t deadline_ms)
{
	struct tier_pool_addrs a;
	int rc;

	rc = tier_pool_resolve(u, &a);
	if (rc)
		return rc;
	return tier_stream_connect_addrs(u, &a, fdp, deadline_ms);
}

int tier_stream_call(int fd, uint16_t type, uint32_t seq, struct iovec *req, int nr_req,
		     uint16_t reply_type, void *reply, size_t reply_bytes, struct iovec *data,
		     int nr_data, size_t data_bytes, uint64_t deadline_ms, int *server_err)
{
	struct tier_proto_hdr hdr, rh;
	struct iovec iov[4 + TIER_PROTO_MAX_BATCH];
	size_t req_bytes = 0;
	int i, rc;

	*server_err = 0;
	if (nr_req > 3 + (int)TIER_PROTO_MAX_BATCH)
		return -E2BIG;
	for (i = 0; i < nr_req; i++) {
		iov[1 + i] = req[i];
		req_bytes += req[i].iov_len;
	}
	tier_proto_encode_hdr(&hdr, type, seq, (uint32_t)req_bytes);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	rc = send_all(fd, iov, nr_req + 1, deadline_ms);
	if (rc)
		return rc;

	iov[0].iov_base = &rh;
	iov[0].iov_len = sizeof(rh);
	rc = recv_all(fd, iov, 1, deadline_ms);
	if (rc)
		return rc;
	if (tier_proto_from_le32(rh.magic) != TIER_PROTO_MAGIC ||
	    tier_proto_from_le32(rh.seq) != seq) {
		tier_pool_set_error("garbled reply from the server (bad magic or sequence)");
		return -EPROTO;
	}
	if (tier_proto_from_le16(rh.type) == TIER_PROTO_ERROR) {
		struct tier_proto_error e;
		char msg[TIER_PROTO_MAX_MSG + 1];
		uint32_t len = tier_proto_from_le32(rh.body_bytes);
		int err;

		if (len < sizeof(e) || len > sizeof(e) + TIER_PROTO_MAX_MSG) {
			tier_pool_set_error("garbled ERROR reply from the server");
			return -EPROTO;
		}
		iov[0].iov_base = &e;
		iov[0].iov_len = sizeof(e);
		iov[1].iov_base = msg;
		iov[1].iov_len = len - sizeof(e);
		rc = recv_all(fd, iov, 2, deadline_ms);
		if (rc)
			return rc;
		msg[len - sizeof(e)] = '\0';
		err = (int)tier_proto_from_le32((uint32_t)e.err);
		if (err <= 0 || err > 4095)
			err = EPROTO;
		tier_pool_set_error("server: %s", msg);
		*server_err = 1;
		return -err;
	}
	if (tier_proto_from_le16(rh.version) != TIER_PROTO_VERSION ||
	    tier_proto_from_le16(rh.type) != reply_type ||
	    tier_proto_from_le32(rh.body_bytes) != reply_bytes + data_bytes) {
		tier_pool_set_error("unexpected reply from the server (type %u, %u bytes)",
				    tier_proto_from_le16(rh.type),
				    tier_proto_from_le32(rh.body_bytes));
		return -EPROTO;
	}
	iov[0].iov_base = reply;
	iov[0].iov_len = reply_bytes;
	for (i = 0; i < nr_data; i++)
		iov[1 + i] = data[i];
	return recv_all(fd, iov, nr_data + 1, deadline_ms);
}

int tier_stream_hello(int fd, uint32_t seq, const uint8_t *token, uint64_t want_slots,
		      struct tier_proto_hello_reply *r, uint64_t deadline_ms, int *server_err)
{
	struct tier_proto_hello h = { 0 };
	struct iovec req = { &h, sizeof(h) };
	int rc;

	h.want_slots = tier_proto_le64(want_slots);
	memcpy(h.lease_token, token, sizeof(h.lease_token));
	rc = tier_stream_call(fd, TIER_PROTO_HELLO, seq, &req, 1, TIER_PROTO_HELLO_REPLY, r,
			      sizeof(*r), NULL, 0, 0, deadline_ms, server_err);
	if (rc)
		return rc;
	r->granted_slots = tier_proto_from_le64(r->granted_slots);
	r->lease_base_slot = tier_proto_from_le64(r->lease_base_slot);
	r->region_bytes = tier_proto_from_le64(r->region_bytes);
	r->reattached = tier_proto_from_le32(r->reattached);
	r->rdma_addr = tier_proto_from_le64(r->rdma_addr);
	r->rdma_rkey = tier_proto_from_le32(r->rdma_rkey);
	return 0;
}

int tier_pool_server_stat(const char *uri, struct tier_proto_stat_reply *out)
{
	struct tier_pool_uri u;
	char err[384];
	uint64_t deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	int fd, rc, server_err;

	rc = tier_pool_parse_uri(uri, &u, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		return rc;
	}
	if (u.scheme != TIER_POOL_TCP && u.scheme != TIER_POOL_SHM) {
		tier_pool_set_error("%s: statistics are asked over tcp:// or shm:", uri);
		return -EINVAL;
	}
	rc = tier_stream_connect(&u, &fd, deadline);
	if (rc)
		return rc;
	rc = tier_stream_call(fd, TIER_PROTO_STAT, 1, NULL, 0, TIER_PROTO_STAT_REPLY, out,
			      sizeof(*out), NULL, 0, 0, deadline, &server_err);
	close(fd);
	if (rc)
		return rc;
	out->total_slots = tier_proto_from_le64(out->total_slots);
	out->free_slots = tier_proto_from_le64(out->free_slots);
	out->nr_leases = tier_proto_from_le64(out->nr_leases);
	out->nr_clients = tier_proto_from_le64(out->nr_clients);
	out->nr_lingering = tier_proto_from_le64(out->nr_lingering);
	return 0;
}

/* ---- the transport ---------------------------------------------------------- */

/*
 * Connections ("channels") to one server, all attached to the one lease. A
 * request takes a free channel; when all are busy and fewer than
 * TCP_MAX_CHANNELS exist, another is opened, so one fault-handling thread
 * uses one connection and several threads do not queue behind each other.
 */
#define TCP_MAX_CHANNELS 4

struct tcp_chan {
	pthread_mutex_t lock;
	int fd; /* -1: (re)connect before the next request */
	uint32_t seq;
};

struct tier_pool_conn {
	struct tier_pool_uri uri;
	struct tier_pool_addrs addrs; /* resolved by open: no getaddrinfo() later */
	pthread_mutex_t grow_lock;
	unsigned int nr_chans; /* read without grow_lock: only grows */
	unsigned int next_chan;
	struct tcp_chan chans[TCP_MAX_CHANNELS];
	uint8_t token[TIER_PROTO_TOKEN_BYTES]; /* set once by open */
	uint64_t nr_slots;
	bool lost; /* the server forgot the lease: every request fails */
	char lost_why[256];
};

/* Connect @ch and attach it to the lease (or get the first lease). */
static int tcp_attach(struct tier_pool_conn *c, struct tcp_chan *ch, uint64_t want_slots,
		      uint64_t deadline_ms, int *server_err)
{
	struct tier_proto_hello_reply r;
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	bool first = !memcmp(c->token, zero, sizeof(zero));
	int rc;

	*server_err = 0;
	rc = tier_stream_connect_addrs(&c->uri, &c->addrs, &ch->fd, deadline_ms);
	if (rc) {
		ch->fd = -1;
		return rc;
	}
	rc =
	    tier_stream_hello(ch->fd, ++ch->seq, c->token, want_slots, &r, deadline_ms, server_err);
	if (rc) {
		close(ch->fd);
		ch->fd = -1;
		return rc;
	}
	if (first) {
		memcpy(c->token, r.lease_token, sizeof(c->token));
		c->nr_slots = r.granted_slots;
	} else if (!r.reattached || r.granted_slots != c->nr_slots) {
		tier_pool_set_error("the server returned a different lease on reconnect");
		close(ch->fd);
		ch->fd = -1;
		*server_err = 1;
		return -ESTALE;
	}
	return 0;
}

static void tcp_close(struct tier_pool_conn *c);

static int tcp_open(const char *uri, uint64_t want_slots, struct tier_pool_conn **connp,
		    uint64_t *granted_slots)
{
	struct tier_pool_conn *c;
	char err[384];
	int rc, server_err, i;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->grow_lock, NULL);
	for (i = 0; i < TCP_MAX_CHANNELS; i++) {
		pthread_mutex_init(&c->chans[i].lock, NULL);
		c->chans[i].fd = -1;
	}
	rc = tier_pool_parse_uri(uri, &c->uri, err, sizeof(err));
	if (rc) {
		tier_pool_set_error("%s", err);
		goto out_close;
	}
	rc = tier_pool_resolve(&c->uri, &c->addrs);
	if (rc)
		goto out_close;
	c->nr_chans = 1;
	rc = tcp_attach(c, &c->chans[0], want_slots,
			tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms(), &server_err);
	if (rc)
		goto out_close;
	*connp = c;
	*granted_slots = c->nr_slots;
	return 0;

out_close:
	tcp_close(c);
	return rc;
}

/* One request of at most TIER_PROTO_MAX_BATCH pages on a locked channel. */
static int tcp_request(struct tcp_chan *ch, bool is_write, const struct tier_pool_iov *iov,
		       unsigned int nr, uint64_t deadline_ms, int *server_err)
{
	uint64_t slots[TIER_PROTO_MAX_BATCH];
	struct iovec req[2 + TIER_PROTO_MAX_BATCH], data[TIER_PROTO_MAX_BATCH];
	struct tier_proto_io io = { .nr_pages = tier_proto_le32(nr) };
	struct tier_proto_status st;
	unsigned int i;
	int rc;

	for (i = 0; i < nr; i++) {
		slots[i] = tier_proto_le64(iov[i].slot);
		data[i].iov_base = iov[i].buf;
		data[i].iov_len = TIER_PAGE_SIZE;
	}
	req[0].iov_base = &io;
	req[0].iov_len = sizeof(io);
	req[1].iov_base = slots;
	req[1].iov_len = nr * sizeof(uint64_t);
	if (is_write) {
		memcpy(&req[2], data, nr * sizeof(data[0]));
		rc = tier_stream_call(ch->fd, TIER_PROTO_WRITE, ++ch->seq, req, 2 + (int)nr,
				      TIER_PROTO_WRITE_REPLY, &st, sizeof(st), NULL, 0, 0,
				      deadline_ms, server_err);
	} else {
		rc = tier_stream_call(ch->fd, TIER_PROTO_READ, ++ch->seq, req, 2,
				      TIER_PROTO_READ_REPLY, &st, sizeof(st), data, (int)nr,
				      (size_t)nr * TIER_PAGE_SIZE, deadline_ms, server_err);
	}
	if (!rc && tier_proto_from_le32(st.nr_pages) != nr) {
		tier_pool_set_error("the server answered for %u pages, not %u",
				    tier_proto_from_le32(st.nr_pages), nr);
		rc = -EPROTO;
	}
	return rc;
}

/* A free channel, a new one if all are busy and there is room, else wait. */
static struct tcp_chan *take_chan(struct tier_pool_conn *c)
{
	_Static_assert(offsetof(struct tcp_chan, lock) == 0,
		       "tier_pool_chan_take needs the lock first");
	return tier_pool_chan_take(c->chans, sizeof(c->chans[0]), TCP_MAX_CHANNELS, &c->nr_chans,
				   &c->next_chan, &c->grow_lock);
}

static int tcp_io(struct tier_pool_conn *c, bool is_write, const struct tier_pool_iov *iov,
		  unsigned int nr)
{
	uint64_t deadline = tier_pool_now_ms() + (uint64_t)tier_pool_timeout_ms();
	unsigned int done = 0, n, backoff_ms = 20;
	int rc = 0, server_err;
	struct tcp_chan *ch;

	rc = tier_pool_check_lost(&c->lost, c->lost_why);
	if (rc)
		return rc;
	ch = take_chan(c);
	while (done < nr) {
		n = nr - done > TIER_PROTO_MAX_BATCH ? TIER_PROTO_MAX_BATCH : nr - done;
		server_err = 0;
		rc = 0;
		if (ch->fd < 0) {
			rc = tcp_attach(c, ch, c->nr_slots, deadline, &server_err);
			if (rc == -ESTALE && server_err) {
				rc = tier_pool_mark_lost(&c->lost, c->lost_why, sizeof(c->lost_why),
							 &c->grow_lock);
				break;
			}
		}
		if (!rc)
			rc = tcp_request(ch, is_write, iov + done, n, deadline, &server_err);
		if (!rc) {
			done += n;
			continue;
		}
		if (server_err)
			break; /* the server refused: retrying will not help */
		/* the connection failed: reconnect, reclaim the lease, resend */
		if (ch->fd >= 0) {
			close(ch->fd);
			ch->fd = -1;
		}
		rc = tier_pool_retry_wait(deadline, &backoff_ms, rc);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&ch->lock);
	return rc;
}

static int tcp_read(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tcp_io(c, false, iov, nr);
}

static int tcp_write(struct tier_pool_conn *c, const struct tier_pool_iov *iov, unsigned int nr)
{
	return tcp_io(c, true, iov, nr);
}

static void tcp_close(struct tier_pool_conn *c)
{
	struct tier_proto_status st;
	int server_err, i;

	/* the other channels first: the lease is given back on the last one */
	for (i = TCP_MAX_CHANNELS - 1; i >= 0; i--) {
		struct tcp_chan *ch = &c->chans[i];

		if (ch->fd >= 0 && i == 0 && !c->lost)
			/* give the lease back now rather than after the server's grace */
			tier_stream_call(ch->fd, TIER_PROTO_RELEASE, ++ch->seq, NULL, 0,
					 TIER_PROTO_RELEASE_REPLY, &st, sizeof(st), NULL, 0, 0,
					 tier_pool_now_ms() + 2000, &server_err);
		if (ch->fd >= 0)
			close(ch->fd);
		pthread_mutex_destroy(&ch->lock);
	}
	pthread_mutex_destroy(&c->grow_lock);
	free(c);
}

/*
 * A fork()ed child: closing its copies of the sockets sends nothing (the
 * parent still holds them); no RELEASE, no shutdown(). The mutexes are not
 * taken: another thread of the parent may have held one at the fork.
 */
static void tcp_abandon(struct tier_pool_conn *c)
{
	int i;

	for (i = 0; i < TCP_MAX_CHANNELS; i++)
		if (c->chans[i].fd >= 0)
			close(c->chans[i].fd);
	free(c);
}

int tier_pool_tcp_debug_drop(struct tier_pool_conn *c)
{
	unsigned int i, n = __atomic_load_n(&c->nr_chans, __ATOMIC_ACQUIRE);
	int dropped = 0;

	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&c->chans[i].lock);
		if (c->chans[i].fd >= 0) {
			shutdown(c->chans[i].fd, SHUT_RDWR);
			dropped++;
		}
		pthread_mutex_unlock(&c->chans[i].lock);
	}
	return dropped;
}

const struct tier_pool_ops tier_pool_tcp_ops = {
	.scheme = "tcp",
	.open = tcp_open,
	.read = tcp_read,
	.write = tcp_write,
	.reg_buf = NULL,
	.close = tcp_close,
	.abandon = tcp_abandon,
};
