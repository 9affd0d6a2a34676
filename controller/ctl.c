// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c — tierd's control socket (protocol: include/tierd/ctl.h).
 *
 * One request per connection keeps the server trivial: read one line,
 * answer, close. The exception is "events": the connection stays open and
 * receives every drained record. Records are formatted into a per-client
 * buffer and written without blocking; a client that falls more than
 * CLIENT_OUT_MAX behind loses records, and is told how many ("lost"),
 * because tierd must never stall on a slow reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "tierd/ctl.h"
#include "tierd.h"
#include "tiering.h"
#include "log.h"
#include "pager_link.h"

#define CLIENT_OUT_MAX (8u << 20)

int ctl_check_free(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int probe;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A live tierd answers on the socket: never steal it (or its pins). */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_err("another tierd is running (its control socket %s answers); stop it first, "
			"or use --socket",
			path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	return 0;
}

int ctl_listen(struct tierd *t, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			log_err("cannot create %s for the control socket: %s", dir, strerror(-ret));
			return ret;
		}
	}
	ret = ctl_check_free(path);
	if (ret < 0)
		return ret;
	unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		ret = -errno;
		log_err("cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	ev.data.ptr = &t->listen_fd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	t->listen_fd = fd;
	t->socket_path = path;
	return 0;
}

static void client_free(struct tierd *t, struct client *c)
{
	int i;

	for (i = 0; i < TIERD_MAX_CLIENTS; i++)
		if (t->clients[i] == c)
			t->clients[i] = NULL;
	pager_link_gone(c); /* a pager connection (pager_link.c) */
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

void ctl_close(struct tierd *t)
{
	int i;

	for (i = 0; i < TIERD_MAX_CLIENTS; i++)
		if (t->clients[i])
			client_free(t, t->clients[i]);
	if (t->listen_fd >= 0) {
		close(t->listen_fd);
		unlink(t->socket_path);
		t->listen_fd = -1;
	}
}

/* Append bytes to the client's output; false (and counted) if it is full. */
static bool client_put(struct client *c, const char *s, size_t n)
{
	if (c->out_len + n > CLIENT_OUT_MAX)
		return false;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap * 2 : 65536;
		char *p;

		while (cap < c->out_len + n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return false;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return true;
}

/* Write what can be written now; 0, or -errno if the client is gone. */
static int client_write(struct tierd *t, struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
	}
	ev.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
	epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

static void reply_json(struct client *c, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	client_put(c, s, strlen(s));
	client_put(c, "\n", 1);
}

static void reply_error(struct client *c, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	reply_json(c, o);
	json_object_put(o);
}

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_uint64(v);
}

static void cmd_status(struct tierd *t, struct client *c)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct json_object *g = json_object_new_object(), *progs = json_object_new_array();
	struct json_object *nodes = json_object_new_object(), *ranks = json_object_new_array();
	struct json_object *notes = json_object_new_array();
	const struct observer_prog_state *ps;
	int i, nr;

	for (i = 0; i < t->nr_watched; i++) {
		struct watched *w = &t->watched[i];
		struct tierd_cgroup_stats st = { 0 };
		struct json_object *e = json_object_new_object();

		observer_read_stats(t->ob, w->id, &st);
		json_object_object_add(e, "path", json_object_new_string(w->path));
		json_object_object_add(e, "id", u64_json(w->id));
		json_object_object_add(e, "faults", u64_json(st.faults));
		json_object_object_add(e, "fault_rate", json_object_new_double(w->fault_rate));
		json_object_object_add(e, "faults_sampled_out", u64_json(st.faults_sampled_out));
		json_object_object_add(e, "records_dropped", u64_json(st.records_dropped));
		json_object_object_add(e, "promotions", u64_json(st.promotions));
		json_object_object_add(e, "demotions", u64_json(st.demotions));
		json_object_object_add(e, "migrate_same_tier", u64_json(st.migrate_same_tier));
		json_object_object_add(e, "migrate_ctx_succeeded",
				       u64_json(st.migrate_ctx_succeeded));
		json_object_object_add(e, "migrate_failed", u64_json(st.migrate_failed));
		if (t->tiering && tiering_find(t->tiering, w->id))
			json_object_object_add(
			    e, "tiering",
			    tiering_cg_json(t->tiering, tiering_find(t->tiering, w->id)));
		json_object_array_add(arr, e);
	}
	json_object_object_add(g, "records_received", u64_json(observer_records_received(t->ob)));
	json_object_object_add(g, "fault_records_received",
			       u64_json(observer_fault_records_received(t->ob)));
	json_object_object_add(g, "records_dropped", u64_json(observer_records_dropped(t->ob)));
	json_object_object_add(g, "migrate_unattributed",
			       u64_json(observer_migrate_unattributed(t->ob)));
	json_object_object_add(g, "sample_every", u64_json(t->sample_every));
	json_object_object_add(g, "uptime_s",
			       json_object_new_double((now_ns() - t->start_ns) / 1e9));
	json_object_object_add(g, "dry_run", json_object_new_boolean(t->dry_run));
	for (i = 0, nr = 0; i < TIERD_MAX_CLIENTS; i++)
		nr += t->clients[i] && t->clients[i]->subscriber;
	json_object_object_add(g, "event_readers", json_object_new_int(nr));

	ps = observer_programs(t->ob, &nr);
	for (i = 0; i < nr; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "name", json_object_new_string(ps[i].name));
		json_object_object_add(p, "what", json_object_new_string(ps[i].what));
		json_object_object_add(p, "attached", json_object_new_boolean(ps[i].attached));
		json_object_object_add(p, "reason", json_object_new_string(ps[i].reason));
		json_object_array_add(progs, p);
	}
	for (i = 0; i < TIERD_MAX_NODES; i++) {
		struct json_object *n;

		if (t->ranks.rank[i] == TIERD_RANK_UNKNOWN)
			continue;
		n = json_object_new_object();
		json_object_object_add(n, "node", json_object_new_int(i));
		json_object_object_add(n, "rank", json_object_new_int(t->ranks.rank[i]));
		json_object_array_add(ranks, n);
	}
	json_object_object_add(nodes, "ranks", ranks);
	json_object_object_add(nodes, "how", json_object_new_string(t->ranks.how));
	if (observer_migration_note(t->ob))
		json_object_array_add(notes,
				      json_object_new_string(observer_migration_note(t->ob)));

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "cgroups", arr);
	json_object_object_add(o, "global", g);
	json_object_object_add(o, "programs", progs);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "notes", notes);
	if (t->tiering)
		json_object_object_add(o, "tiering", tiering_json(t->tiering));
	reply_json(c, o);
	json_object_put(o);
}

/*
 * Budgets of an attach request ("dram", "cxl": sizes as in tierd-policy(5);
 * "pool": bool). With either size the cgroup is managed by the tiering
 * loop; without, it is only observed. Checked before attaching.
 */
static int request_size(struct json_object *req, const char *key, struct policy_size *out,
			bool *given, char *err, size_t err_size)
{
	struct json_object *v;

	*given = json_object_object_get_ex(req, key, &v);
	out->kind = POLICY_SIZE_MAX;
	if (!*given)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    policy_size_parse(json_object_get_string(v), out) < 0) {
		snprintf(err, err_size,
			 "bad \"%s\" budget \"%s\": expected a size like 512M, 2G, 25%% (of the "
			 "cgroup's usage) or max",
			 key, json_object_get_string(v));
		return -EINVAL;
	}
	return 0;
}

static int attach_budgets(struct json_object *req, char *err, size_t err_size)
{
	struct policy_size s;
	bool given;

	if (request_size(req, "dram", &s, &given, err, err_size) < 0 ||
	    request_size(req, "cxl", &s, &given, err, err_size) < 0)
		return -EINVAL;
	return 0;
}

static int manage_from_request(struct tierd *t, struct json_object *req, struct watched *w)
{
	struct policy_size dram, cxl;
	struct json_object *v;
	bool has_dram, has_cxl, pool;
	char err[256];

	request_size(req, "dram", &dram, &has_dram, err, sizeof(err));
	request_size(req, "cxl", &cxl, &has_cxl, err, sizeof(err));
	pool = json_object_object_get_ex(req, "pool", &v) && json_object_get_boolean(v);
	if (!has_dram && !has_cxl && !pool)
		return 0; /* observe only; a managed cgroup stays managed */
	return tiering_manage(t->tiering, w->id, w->path, &dram, &cxl, pool, w->from_policy,
			      now_ns() / 1000000);
}

/* Handle one request line; returns true if the connection stays open. */
static bool handle_request(struct tierd *t, struct client *c, const char *line)
{
	struct json_object *req = json_tokener_parse(line), *v, *o;
	const char *cmd, *path;
	char err[512];
	bool keep = false;

	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v)) {
		reply_error(c, "bad request: expected a JSON object with \"cmd\"");
		goto out;
	}
	cmd = json_object_get_string(v);
	path = json_object_object_get_ex(req, "path", &v) ? json_object_get_string(v) : NULL;

	if (strcmp(cmd, "attach") == 0 || strcmp(cmd, "detach") == 0) {
		struct watched *w = NULL;
		uint64_t id = 0;
		int ret;

		if (!path) {
			reply_error(c, "bad request: \"path\" missing");
			goto out;
		}
		if (cmd[0] == 'a' && attach_budgets(req, err, sizeof(err)) < 0) {
			reply_error(c, err);
			goto out;
		}
		if (cmd[0] == 'a')
			ret = tierd_attach(t, path, false, err, sizeof(err), &w);
		else
			ret = tierd_detach(t, path, err, sizeof(err), &id);
		if (ret < 0) {
			reply_error(c, err);
			goto out;
		}
		if (cmd[0] == 'a' && t->tiering) {
			ret = manage_from_request(t, req, w);
			if (ret < 0) {
				snprintf(err, sizeof(err),
					 "attached %.400s, but cannot manage it: %.64s", w->path,
					 strerror(-ret));
				reply_error(c, err);
				goto out;
			}
		}
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "path", json_object_new_string(w ? w->path : path));
		json_object_object_add(o, "id", u64_json(w ? w->id : id));
		reply_json(c, o);
		json_object_put(o);
	} else if (strcmp(cmd, "status") == 0) {
		cmd_status(t, c);
	} else if (strcmp(cmd, "pager_hello") == 0) {
		/* the connection becomes a pager channel (include/tierd/pager_ctl.h) */
		keep = pager_link_hello(c, req, err, sizeof(err));
		if (keep)
			client_put(c, "{\"ok\":true}\n", 12);
		else
			reply_error(c, err);
	} else if (strcmp(cmd, "events") == 0) {
		c->filter_id =
		    json_object_object_get_ex(req, "cgroup_id", &v) ? json_object_get_uint64(v) : 0;
		c->subscriber = true;
		client_put(c, "{\"ok\":true}\n", 12);
		keep = true;
	} else {
		snprintf(err, sizeof(err), "unknown command \"%s\"", cmd);
		reply_error(c, err);
	}
out:
	json_object_put(req);
	return keep;
}

void ctl_accept(struct tierd *t)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd, i;

	while ((fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
			reply_error(c, "permission denied: tierd's control socket is root-only");
			client_write(t, c);
			close(fd);
			free(c->out);
			free(c);
			continue;
		}
		for (i = 0; i < TIERD_MAX_CLIENTS && t->clients[i]; i++)
			;
		if (i == TIERD_MAX_CLIENTS) {
			reply_error(c, "too many clients");
			client_write(t, c);
			close(fd);
			free(c->out);
			free(c);
			continue;
		}
		t->clients[i] = c;
		ev.data.ptr = c;
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

void ctl_client_event(struct tierd *t, struct client *c, uint32_t events)
{
	char *nl;
	ssize_t n;

	if (events & EPOLLOUT) {
		if (client_write(t, c) < 0) {
			client_free(t, c);
			return;
		}
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		client_free(t, c);
		return;
	}
	if (n > 0 && pager_link_owns(c)) {
		c->in_len += n;
		pager_link_input(c);
		return;
	}
	if (n < 0 || c->subscriber)
		return; /* a subscriber has nothing more to say */
	c->in_len += n;
	c->in[c->in_len] = 0;
	nl = strchr(c->in, '\n');
	if (!nl) {
		if (c->in_len >= sizeof(c->in) - 1) {
			reply_error(c, "request too long");
			client_write(t, c);
			client_free(t, c);
		}
		return;
	}
	*nl = 0;
	if (handle_request(t, c, c->in)) {
		client_write(t, c);
		return;
	}
	/* One request per connection: answer (blocking is fine, it is small
	 * and the client is waiting for it) and close. */
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	while (c->out_len) {
		n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
	}
	client_free(t, c);
}

static int format_record(const struct tierd_rec_hdr *h, size_t size, char *buf, size_t bsz,
			 uint64_t *cgid)
{
	static const char *const dirs[] = { "?", "promote", "demote", "same_tier" };

	*cgid = 0;
	switch (h->type) {
	case TIERD_REC_FAULT: {
		const struct tierd_fault_rec *r = (const void *)h;

		if (size < sizeof(*r))
			return -1;
		*cgid = r->cgroup_id;
		return snprintf(
		    buf, bsz,
		    "{\"type\":\"fault\",\"ts_ns\":%llu,\"cpu\":%u,\"cgroup_id\":%llu,"
		    "\"pid\":%u,\"tid\":%u,\"address\":%llu,\"ip\":%llu,\"error_code\":%llu}\n",
		    (unsigned long long)h->ts_ns, h->cpu, (unsigned long long)r->cgroup_id, r->pid,
		    r->tid, (unsigned long long)r->address, (unsigned long long)r->ip,
		    (unsigned long long)r->error_code);
	}
	case TIERD_REC_MIGRATE: {
		const struct tierd_migrate_rec *r = (const void *)h;

		if (size < sizeof(*r))
			return -1;
		*cgid = r->cgroup_id;
		return snprintf(
		    buf, bsz,
		    "{\"type\":\"migrate\",\"ts_ns\":%llu,\"cpu\":%u,\"cgroup_id\":%llu,"
		    "\"nr_pages\":%u,\"direction\":\"%s\",\"src_nid\":%u,\"dst_nid\":%u}\n",
		    (unsigned long long)h->ts_ns, h->cpu, (unsigned long long)r->cgroup_id,
		    r->nr_pages, dirs[r->direction <= 3 ? r->direction : 0], r->src_nid,
		    r->dst_nid);
	}
	case TIERD_REC_SAMPLE: {
		const struct tierd_sample_rec *r = (const void *)h;

		if (size < sizeof(*r))
			return -1;
		*cgid = r->cgroup_id;
		return snprintf(buf, bsz,
				"{\"type\":\"sample\",\"ts_ns\":%llu,\"cpu\":%u,\"cgroup_id\":%llu,"
				"\"pid\":%u,\"tid\":%u,\"address\":%llu,\"ip\":%llu}\n",
				(unsigned long long)h->ts_ns, h->cpu,
				(unsigned long long)r->cgroup_id, r->pid, r->tid,
				(unsigned long long)r->addr, (unsigned long long)r->ip);
	}
	case TIERD_REC_DAMON: {
		const struct tierd_damon_rec *r = (const void *)h;

		if (size < sizeof(*r))
			return -1;
		return snprintf(buf, bsz,
				"{\"type\":\"damon\",\"ts_ns\":%llu,\"cpu\":%u,\"target_id\":%llu,"
				"\"start\":%llu,\"end\":%llu,\"nr_accesses\":%u,\"age\":%u}\n",
				(unsigned long long)h->ts_ns, h->cpu,
				(unsigned long long)r->target_id, (unsigned long long)r->start,
				(unsigned long long)r->end, r->nr_accesses, r->age);
	}
	}
	return -1;
}

void ctl_publish(struct tierd *t, const struct tierd_rec_hdr *rec, size_t size)
{
	char buf[512];
	uint64_t cgid;
	int i, n = -2;

	for (i = 0; i < TIERD_MAX_CLIENTS; i++) {
		struct client *c = t->clients[i];

		if (!c || !c->subscriber)
			continue;
		if (n == -2)
			n = format_record(rec, size, buf, sizeof(buf), &cgid);
		if (n < 0)
			return;
		if (c->filter_id && c->filter_id != cgid)
			continue;
		if (c->lost) {
			char lost[64];
			int m =
			    snprintf(lost, sizeof(lost), "{\"type\":\"lost\",\"records\":%llu}\n",
				     (unsigned long long)c->lost);

			if (client_put(c, lost, m))
				c->lost = 0;
		}
		if (!client_put(c, buf, n))
			c->lost++;
	}
}

void ctl_flush(struct tierd *t)
{
	int i;

	for (i = 0; i < TIERD_MAX_CLIENTS; i++) {
		struct client *c = t->clients[i];

		if (c && c->subscriber && c->out_len && client_write(t, c) < 0)
			client_free(t, c);
	}
}
