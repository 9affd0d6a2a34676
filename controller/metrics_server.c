// SPDX-License-Identifier: GPL-2.0
/*
 * metrics_server.c — tierd --metrics ADDR:PORT: GET /metrics over HTTP/1.x.
 *
 * Why it looks like this: tierd is one thread and one epoll loop that must
 * keep draining the ring buffer every 25 ms, so the endpoint can never
 * block it. The listener and its connections live in their own epoll set,
 * which is itself one fd in tierd's set (main.c calls metrics_dispatch()
 * when it is readable): tierd's loop needs one branch and knows nothing
 * about HTTP. Every socket is non-blocking; a connection reads its request
 * head (at most METRICS_MAX_REQUEST bytes), gets one answer rendered from a
 * fresh snapshot, is written as far as the socket takes it (the rest on
 * EPOLLOUT) and closed: HTTP/1.0 semantics, "Connection: close". At most
 * MAX_CONNS connections are open; a new one evicts the oldest, and
 * connections older than CONN_MAX_AGE_NS are dropped, so a slow or idle
 * client costs a slot, never the loop.
 *
 * The snapshot reads the same state as `tierctl status` (ctl.c): the
 * observer's per-cgroup counters and globals and the tiering loop's
 * per-cgroup figures.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "log.h"
#include "metrics.h"
#include "tierd.h"
#include "sampler.h"
#include "tiering.h"

#define MAX_CONNS 16
#define CONN_MAX_AGE_NS (10ull * 1000000000ull)

struct mconn {
	int fd;
	uint64_t start_ns;
	char in[METRICS_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool draining; /* answered; reading what the client still sends */
	size_t drained;
};

static struct {
	int epfd, listen_fd;
	char tag; /* its address is our data.ptr in tierd's epoll set */
	struct mconn *conns[MAX_CONNS];
	uint64_t requests, errors;
} M = { .epfd = -1, .listen_fd = -1 };

bool metrics_owns(const void *p)
{
	return p == &M.tag;
}

void metrics_snapshot_free(struct metrics_snapshot *s)
{
	free(s->cgroups);
	s->cgroups = NULL;
}

static uint64_t pages_bytes(uint64_t pages)
{
	return pages == PLAN_UNLIMITED ? METRICS_NONE : pages << HEAT_PAGE_SHIFT;
}

int metrics_snapshot_fill(struct tierd *t, struct metrics_snapshot *s)
{
	const struct observer_prog_state *ps;
	int i, nr;

	memset(s, 0, sizeof(*s));
	s->version = TIERD_VERSION;
	s->uptime_s = (now_ns() - t->start_ns) / 1e9;
	s->records_received = observer_records_received(t->ob);
	s->fault_records_received = observer_fault_records_received(t->ob);
	s->records_dropped = observer_records_dropped(t->ob);
	s->migrate_unattributed = observer_migrate_unattributed(t->ob);
	s->sample_every = t->sample_every;
	for (i = 0; i < TIERD_MAX_CLIENTS; i++)
		s->event_readers += t->clients[i] && t->clients[i]->subscriber;
	ps = observer_programs(t->ob, &nr);
	for (i = 0; i < nr; i++)
		s->nr_programs_attached += ps[i].attached;
	s->nr_programs = nr;
	if (t->tiering && t->tiering->perf) {
		const struct sampler_status *p = t->tiering->perf;

		s->sampler_running = p->running;
		s->sampler_samples = p->samples;
		s->sampler_records_received = p->records_received;
		s->sampler_records_dropped = p->records_dropped;
		s->sampler_unattached = p->unattached;
		s->sampler_no_addr = p->no_addr;
	}
	if (!t->nr_watched)
		return 0;
	s->cgroups = calloc(t->nr_watched, sizeof(*s->cgroups));
	if (!s->cgroups)
		return -ENOMEM;
	for (i = 0; i < t->nr_watched; i++) {
		const struct watched *w = &t->watched[i];
		struct metrics_cgroup *c = &s->cgroups[i];
		const struct tiering_cg *cg = t->tiering ? tiering_find(t->tiering, w->id) : NULL;

		c->path = w->path;
		c->id = w->id;
		observer_read_stats(t->ob, w->id, &c->st);
		if (!cg)
			continue;
		c->managed = true;
		c->tiering.dram_bytes = cg->nr_on_tier[HEAT_TIER_DRAM] << HEAT_PAGE_SHIFT;
		c->tiering.cxl_bytes = cg->nr_on_tier[HEAT_TIER_CXL] << HEAT_PAGE_SHIFT;
		c->tiering.pool_bytes = cg->nr_on_tier[HEAT_TIER_POOL] << HEAT_PAGE_SHIFT;
		c->tiering.other_bytes = cg->nr_on_tier[HEAT_TIER_UNKNOWN] << HEAT_PAGE_SHIFT;
		c->tiering.budget_dram_bytes = pages_bytes(cg->budget.dram_pages);
		c->tiering.budget_cxl_bytes = pages_bytes(cg->budget.cxl_pages);
		c->tiering.tracked_bytes = cg->heat.nr_pages << HEAT_PAGE_SHIFT;
		c->tiering.promoted_bytes = cg->promoted << HEAT_PAGE_SHIFT;
		c->tiering.demoted_bytes = cg->demoted << HEAT_PAGE_SHIFT;
		c->tiering.move_failed_bytes = cg->move_failed << HEAT_PAGE_SHIFT;
		c->tiering.rounds = cg->nr_rounds;
	}
	s->nr_cgroups = t->nr_watched;
	return 0;
}

/* "127.0.0.1:9477", "[::1]:9477", "localhost:9477", ":9477" (all addresses). */
static int parse_addr(const char *addr_port, char *host, size_t host_size, const char **port)
{
	const char *colon;

	if (addr_port[0] == '[') {
		const char *close = strchr(addr_port, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr_port - 1) >= host_size)
			return -EINVAL;
		snprintf(host, host_size, "%.*s", (int)(close - addr_port - 1), addr_port + 1);
		*port = close + 2;
	} else {
		colon = strrchr(addr_port, ':');
		if (!colon || (size_t)(colon - addr_port) >= host_size)
			return -EINVAL;
		snprintf(host, host_size, "%.*s", (int)(colon - addr_port), addr_port);
		*port = colon + 1;
	}
	return **port ? 0 : -EINVAL;
}

int metrics_listen(struct tierd *t, const char *addr_port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct epoll_event ev = { .events = EPOLLIN };
	struct addrinfo *ai = NULL, *a;
	char host[256];
	const char *port;
	int fd = -1, ret, one = 1;

	if (parse_addr(addr_port, host, sizeof(host), &port) < 0) {
		log_err("--metrics %s: expected ADDR:PORT, like 127.0.0.1:9477, [::1]:9477 or "
			":9477",
			addr_port);
		return -EINVAL;
	}
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (ret) {
		log_err("--metrics %s: %s", addr_port, gai_strerror(ret));
		return -EINVAL;
	}
	ret = -EADDRNOTAVAIL;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		log_err("--metrics %s: cannot listen: %s", addr_port, strerror(-ret));
		return ret;
	}
	M.epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = &M.listen_fd;
	if (M.epfd < 0 || epoll_ctl(M.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		goto out_close;
	}
	ev.data.ptr = &M.tag;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, M.epfd, &ev) < 0) {
		ret = -errno;
		goto out_close;
	}
	M.listen_fd = fd;
	log_info("metrics: serving Prometheus text on http://%s/metrics", addr_port);
	return 0;

out_close:
	log_err("--metrics: epoll: %s", strerror(-ret));
	if (M.epfd >= 0)
		close(M.epfd);
	M.epfd = -1;
	close(fd);
	return ret;
}

static void conn_free(struct mconn *c)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++)
		if (M.conns[i] == c)
			M.conns[i] = NULL;
	epoll_ctl(M.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

static void accept_all(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t now = now_ns();
	struct mconn *c;
	int fd, i, slot;

	while ((fd = accept4(M.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		slot = -1;
		for (i = 0; i < MAX_CONNS; i++) {
			if (M.conns[i] && now - M.conns[i]->start_ns > CONN_MAX_AGE_NS)
				conn_free(M.conns[i]);
			if (!M.conns[i] && slot < 0)
				slot = i;
		}
		if (slot < 0) { /* full: the oldest goes */
			slot = 0;
			for (i = 1; i < MAX_CONNS; i++)
				if (M.conns[i]->start_ns < M.conns[slot]->start_ns)
					slot = i;
			conn_free(M.conns[slot]);
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->start_ns = now;
		ev.data.ptr = c;
		if (epoll_ctl(M.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		M.conns[slot] = c;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 500:
		return "Internal Server Error";
	default:
		return "Bad Request";
	}
}

/* Build the whole answer into c->out. */
static void respond(struct tierd *t, struct mconn *c, int status, bool head)
{
	struct metrics_snapshot s;
	char *body = NULL, hdr[256];
	size_t body_len = 0;
	int n;

	M.requests++;
	if (status == 200) {
		if (metrics_snapshot_fill(t, &s) < 0 || metrics_render(&s, &body, &body_len) < 0)
			status = 500;
		metrics_snapshot_free(&s);
	}
	if (status != 200) {
		M.errors++;
		free(body);
		body = NULL;
		n = asprintf(&body, "%d %s: tierd serves GET /metrics\n", status, reason(status));
		if (n < 0) {
			body = NULL;
			n = 0;
		}
		body_len = n;
	}
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, reason(status),
		     status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
		     body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->out = malloc(n + (head ? 0 : body_len) + 1);
	if (c->out) {
		memcpy(c->out, hdr, n);
		if (!head && body_len)
			memcpy(c->out + n, body, body_len);
		c->out_len = n + (head ? 0 : body_len);
	}
	free(body);
}

/*
 * Write what the socket takes; true when it failed (close it). When all is
 * written, the write side is shut and the connection drains what the
 * client still sends until it closes: closing with unread input would
 * reset the connection and could destroy the answer in flight.
 */
static bool conn_write(struct mconn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				epoll_ctl(M.epfd, EPOLL_CTL_MOD, c->fd, &ev);
				return false;
			}
			return true;
		}
		c->out_off += n;
	}
	shutdown(c->fd, SHUT_WR);
	c->draining = true;
	ev.events = EPOLLIN;
	epoll_ctl(M.epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return false;
}

/* Read and drop; true when the client is gone (or sent too much). */
static bool conn_drain(struct mconn *c)
{
	char scratch[4096];
	ssize_t n;

	while ((n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0) {
		c->drained += n;
		if (c->drained > (1u << 20))
			return true;
	}
	return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void conn_event(struct tierd *t, struct mconn *c, uint32_t events)
{
	bool head, eof = false;
	ssize_t n;
	int status;

	if (c->draining) {
		if (conn_drain(c))
			conn_free(c);
		return;
	}
	if (c->out) { /* answering: only EPOLLOUT matters */
		if (conn_write(c))
			conn_free(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, METRICS_MAX_REQUEST - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		conn_free(c);
		return;
	}
	if (n == 0) {
		if (!c->in_len) { /* connected and left */
			conn_free(c);
			return;
		}
		eof = true;
	}
	c->in_len += n;
	status = metrics_classify_request(c->in, c->in_len, &head);
	if (!status && !eof && c->in_len < METRICS_MAX_REQUEST)
		return;
	if (!status)
		status = 400;
	respond(t, c, status, head);
	if (!c->out || conn_write(c))
		conn_free(c);
}

void metrics_dispatch(struct tierd *t)
{
	struct epoll_event evs[16];
	int i, n;

	if (M.epfd < 0)
		return;
	n = epoll_wait(M.epfd, evs, 16, 0);
	for (i = 0; i < n; i++)
		if (evs[i].data.ptr != &M.listen_fd)
			conn_event(t, evs[i].data.ptr, evs[i].events);
	/* Accepting may evict connections: only after their events are done. */
	for (i = 0; i < n; i++)
		if (evs[i].data.ptr == &M.listen_fd)
			accept_all();
}

void metrics_close(struct tierd *t)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++)
		if (M.conns[i])
			conn_free(M.conns[i]);
	if (M.listen_fd >= 0)
		close(M.listen_fd);
	if (M.epfd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, M.epfd, NULL);
		close(M.epfd);
	}
	M.listen_fd = M.epfd = -1;
}
