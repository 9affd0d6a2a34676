// SPDX-License-Identifier: GPL-2.0
/*
 * pager_link.c — the pagers connected to tierd (protocol:
 * include/tierd/pager_ctl.h).
 *
 * Why it is shaped this way: a pager lives in a workload that tierd does
 * not own, so everything here is advice in both directions. tierd keeps
 * per pager pid only the last report (counters, fetch latency, the runs
 * of pages in the pool) and sends commands without blocking: a command
 * that does not fit in the socket now is dropped and the next plan round
 * asks again from fresh facts. A pager that closes is forgotten; its
 * pages become "not present" to the next round.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "tierd/pager_ctl.h"
#include "log.h"
#include "pager_link.h"
#include "tierd.h"

#define MAX_PAGERS TIERD_MAX_CLIENTS
#define PAGE_BYTES 4096u

struct pool_run {
	uint64_t start;
	uint64_t nr_pages;
};

struct pager_stats {
	uint64_t managed, resident, pool, faults, fetches, prefetches, evictions, pool_writes,
	    fetch_p50_ns, fetch_p99_ns, hints, cmd_evicted, cmd_fetched;
};

struct pager {
	const struct client *c;
	int fd;
	uint32_t pid;
	struct pager_stats st;
	uint64_t prev_fetches, prev_ms;
	double fetch_per_s;
	struct pool_run *runs, *next;
	size_t nr_runs, cap_runs, nr_next, cap_next;
	bool in_pool_list;
	uint32_t hint_sent;
	bool congested; /* a command did not fit: none until the next report */
	uint64_t nr_cmds, nr_dropped;
	/* pages of evict/fetch commands sent since the first report, and the
	 * pager's cmd_evicted + cmd_fetched then: it executes commands and
	 * reports on one thread, so a report whose count reached what we sent
	 * says every command is done and its pool runs are current */
	bool reported;
	uint64_t done_base, sent_pages, behind_since_ms;
	uint64_t done_pages; /* cmd_evicted + cmd_fetched of the last whole report */
};

static struct pager *pagers[MAX_PAGERS];

static uint64_t mono_ms(void)
{
	return now_ns() / 1000000ull;
}

static struct pager *by_client(const struct client *c)
{
	unsigned i;

	for (i = 0; i < MAX_PAGERS; i++)
		if (pagers[i] && pagers[i]->c == c)
			return pagers[i];
	return NULL;
}

static struct pager *by_pid(uint32_t pid)
{
	unsigned i;

	for (i = 0; i < MAX_PAGERS; i++)
		if (pagers[i] && pagers[i]->pid == pid)
			return pagers[i];
	return NULL;
}

bool pager_link_owns(const struct client *c)
{
	return by_client(c) != NULL;
}

bool pager_link_hello(struct client *c, struct json_object *req, char *err, size_t err_size)
{
	struct json_object *v;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct pager *p, *old;
	size_t used;
	unsigned i;
	int64_t pid;

	if (!json_object_object_get_ex(req, "pid", &v) || (pid = json_object_get_int64(v)) <= 0) {
		snprintf(err, err_size, "bad pager_hello: \"pid\" missing");
		return false;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != pid) {
		snprintf(err, err_size,
			 "pager_hello for pid %" PRId64 " from pid %d: a pager speaks only for "
			 "its own process",
			 pid, (int)cred.pid);
		return false;
	}
	old = by_pid((uint32_t)pid);
	if (old) /* re-registered before we saw the old connection close */
		old->pid = 0;
	for (i = 0; i < MAX_PAGERS && pagers[i]; i++)
		;
	p = i < MAX_PAGERS ? calloc(1, sizeof(*p)) : NULL;
	if (!p) {
		snprintf(err, err_size, "too many pagers");
		return false;
	}
	p->c = c;
	p->fd = c->fd;
	p->pid = (uint32_t)pid;
	p->prev_ms = mono_ms();
	pagers[i] = p;
	{
		/* a round's commands in one go where the kernel allows (then advice is dropped) */
		int sndbuf = 1 << 20;

		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	/* the hello line is consumed; keep whatever followed it */
	used = strlen(c->in) + 1;
	if (used > c->in_len)
		used = c->in_len;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	log_info("pager of pid %u registered", p->pid);
	return true;
}

static void free_pager(unsigned i)
{
	free(pagers[i]->runs);
	free(pagers[i]->next);
	free(pagers[i]);
	pagers[i] = NULL;
}

void pager_link_gone(const struct client *c)
{
	unsigned i;

	for (i = 0; i < MAX_PAGERS; i++)
		if (pagers[i] && pagers[i]->c == c) {
			log_info("pager of pid %u gone (%" PRIu64 " commands sent, %" PRIu64
				 " dropped)",
				 pagers[i]->pid, pagers[i]->nr_cmds, pagers[i]->nr_dropped);
			free_pager(i);
		}
}

static void parse_stats(struct pager *p, char *line)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
#define K(f) { #f, offsetof(struct pager_stats, f) }
		K(managed),    K(resident),    K(pool),	       K(faults),	K(fetches),
		K(prefetches), K(evictions),   K(pool_writes), K(fetch_p50_ns), K(fetch_p99_ns),
		K(hints),      K(cmd_evicted), K(cmd_fetched),
#undef K
	};
	char *save = NULL, *tok;
	uint64_t now = mono_ms();
	unsigned i;

	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = 0;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(tok, keys[i].key))
				*(uint64_t *)((char *)&p->st + keys[i].off) =
				    strtoull(eq + 1, NULL, 10);
	}
	if (now > p->prev_ms + 500) {
		uint64_t f = p->st.fetches + p->st.prefetches;

		p->fetch_per_s = f >= p->prev_fetches ? (double)(f - p->prev_fetches) * 1000.0 /
							    (double)(now - p->prev_ms)
						      : 0;
		p->prev_fetches = f;
		p->prev_ms = now;
	}
}

static void parse_pool(struct pager *p, char *line)
{
	char *s = line + 4, *end;

	for (;;) {
		uint64_t a = strtoull(s, &end, 16), n;

		if (end == s)
			return;
		s = end;
		n = strtoull(s, &end, 10);
		if (end == s)
			return;
		s = end;
		if (p->nr_next == p->cap_next) {
			size_t cap = p->cap_next ? 2 * p->cap_next : 64;
			struct pool_run *r;

			if (cap > TIERD_PAGER_MAX_POOL_RUNS)
				return;
			r = realloc(p->next, cap * sizeof(*r));
			if (!r)
				return;
			p->next = r;
			p->cap_next = cap;
		}
		p->next[p->nr_next].start = a;
		p->next[p->nr_next].nr_pages = n;
		p->nr_next++;
	}
}

static void line(struct pager *p, char *l)
{
	if (!strncmp(l, "stats ", 6)) {
		parse_stats(p, l + 6);
		p->congested = false; /* it reads its socket again */
	} else if (!strcmp(l, "pool_begin")) {
		p->nr_next = 0;
		p->in_pool_list = true;
	} else if (!strncmp(l, "pool ", 5) && p->in_pool_list) {
		parse_pool(p, l);
	} else if (!strcmp(l, "pool_end") && p->in_pool_list) {
		struct pool_run *t = p->runs;
		size_t cap = p->cap_runs;

		/* swap: the runs arrive sorted (the pager walks its regions in order) */
		p->runs = p->next;
		p->cap_runs = p->cap_next;
		p->nr_runs = p->nr_next;
		p->next = t;
		p->cap_next = cap;
		p->nr_next = 0;
		p->in_pool_list = false;
		/* the report is whole: its counts and its runs go together */
		p->done_pages = p->st.cmd_evicted + p->st.cmd_fetched;
		if (!p->reported) {
			p->done_base = p->done_pages;
			p->sent_pages = 0;
			p->reported = true;
		}
	}
}

void pager_link_input(struct client *c)
{
	struct pager *p = by_client(c);
	char *s = c->in, *nl;
	size_t used;

	if (!p)
		return;
	c->in[c->in_len] = 0;
	while ((nl = strchr(s, '\n'))) {
		*nl = 0;
		line(p, s);
		s = nl + 1;
	}
	used = (size_t)(s - c->in);
	memmove(c->in, s, c->in_len - used);
	c->in_len -= used;
	if (c->in_len >= sizeof(c->in) - 1) /* a line longer than the protocol allows */
		c->in_len = 0;
}

/* --- the hooks the tiering loop uses ------------------------------------- */

static bool hook_connected(uint32_t pid)
{
	return by_pid(pid) != NULL;
}

static bool hook_in_pool(uint32_t pid, uint64_t addr)
{
	struct pager *p = by_pid(pid);
	size_t lo = 0, hi;

	if (!p)
		return false;
	hi = p->nr_runs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pool_run *r = &p->runs[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->start + r->nr_pages * PAGE_BYTES)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static int send_cmd(uint32_t pid, const char *verb, uint64_t a, uint64_t len, int node)
{
	struct pager *p = by_pid(pid);
	char buf[96];
	ssize_t n;
	int k;

	if (!p)
		return -ENOTCONN;
	if (p->congested) {
		p->nr_dropped++;
		return -EAGAIN;
	}
	if (node >= 0) /* an older pager reads the first two fields only */
		k = snprintf(buf, sizeof(buf), "%s %#" PRIx64 " %" PRIu64 " %d\n", verb, a, len,
			     node);
	else
		k = snprintf(buf, sizeof(buf), "%s %#" PRIx64 " %" PRIu64 "\n", verb, a, len);
	n = send(p->fd, buf, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != k) {
		/* (a partial line cannot happen: the socket takes a short line whole or not) */
		p->nr_dropped++;
		p->congested = true;
		return n < 0 ? -errno : -EAGAIN;
	}
	p->nr_cmds++;
	if (p->reported)
		p->sent_pages += len / PAGE_BYTES;
	return 0;
}

/*
 * The pager of PID has not reported yet, or has not made all the pool
 * moves we sent: where its pages are is not known yet. After
 * TIERD_PAGER_BEHIND_MS it is taken as caught up (a lost command must not
 * stop tiering for good).
 */
static bool hook_busy(uint32_t pid)
{
	struct pager *p = by_pid(pid);
	uint64_t done = 0, now = mono_ms();

	if (!p)
		return false;
	if (p->reported) {
		done = p->done_pages - p->done_base;
		if (p->sent_pages <= done) {
			p->behind_since_ms = 0;
			return false;
		}
	}
	if (!p->behind_since_ms)
		p->behind_since_ms = now;
	if (now - p->behind_since_ms < TIERD_PAGER_BEHIND_MS)
		return true;
	log_warn("pager of pid %u: %" PRIu64 " page(s) of pool moves not reported done after %d "
		 "ms; planning without waiting for them",
		 p->pid, p->reported ? p->sent_pages - done : 0, TIERD_PAGER_BEHIND_MS);
	if (p->reported)
		p->done_base += p->sent_pages - done;
	p->behind_since_ms = 0;
	return false;
}

static int hook_evict(uint32_t pid, uint64_t a, uint64_t len)
{
	return send_cmd(pid, "evict", a, len, -1);
}

static int hook_fetch(uint32_t pid, uint64_t a, uint64_t len, int node)
{
	return send_cmd(pid, "fetch", a, len, node);
}

static void hook_hint(uint32_t pid, uint32_t rate)
{
	struct pager *p = by_pid(pid);
	char buf[32];
	int k;

	if (!p || p->hint_sent == rate + 1)
		return;
	k = snprintf(buf, sizeof(buf), "hint %u\n", rate);
	if (send(p->fd, buf, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL) == k)
		p->hint_sent = rate + 1;
}

static struct json_object *hook_cg_json(const uint32_t *pids, unsigned nr)
{
	struct json_object *o;
	struct pager_stats sum = { 0 };
	double fetch_per_s = 0;
	unsigned i, nr_pagers = 0;

	for (i = 0; i < nr; i++) {
		struct pager *p = by_pid(pids[i]);

		if (!p)
			continue;
		nr_pagers++;
		sum.managed += p->st.managed;
		sum.resident += p->st.resident;
		sum.pool += p->st.pool;
		sum.faults += p->st.faults;
		sum.fetches += p->st.fetches;
		sum.prefetches += p->st.prefetches;
		sum.evictions += p->st.evictions;
		sum.hints += p->st.hints;
		sum.cmd_evicted += p->st.cmd_evicted;
		sum.cmd_fetched += p->st.cmd_fetched;
		/* the worst pager's latency: a sum means nothing */
		if (p->st.fetch_p50_ns > sum.fetch_p50_ns)
			sum.fetch_p50_ns = p->st.fetch_p50_ns;
		if (p->st.fetch_p99_ns > sum.fetch_p99_ns)
			sum.fetch_p99_ns = p->st.fetch_p99_ns;
		fetch_per_s += p->fetch_per_s;
	}
	if (!nr_pagers)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "pagers", json_object_new_int((int)nr_pagers));
	json_object_object_add(o, "managed_bytes",
			       json_object_new_uint64(sum.managed * PAGE_BYTES));
	json_object_object_add(o, "resident_bytes",
			       json_object_new_uint64(sum.resident * PAGE_BYTES));
	json_object_object_add(o, "pool_bytes", json_object_new_uint64(sum.pool * PAGE_BYTES));
	json_object_object_add(o, "pool_faults", json_object_new_uint64(sum.fetches));
	json_object_object_add(o, "pool_faults_per_s", json_object_new_double(fetch_per_s));
	json_object_object_add(o, "prefetches", json_object_new_uint64(sum.prefetches));
	json_object_object_add(o, "evictions", json_object_new_uint64(sum.evictions));
	json_object_object_add(o, "fetch_p50_ns", json_object_new_uint64(sum.fetch_p50_ns));
	json_object_object_add(o, "fetch_p99_ns", json_object_new_uint64(sum.fetch_p99_ns));
	json_object_object_add(o, "hints", json_object_new_uint64(sum.hints));
	json_object_object_add(o, "evict_cmd_pages", json_object_new_uint64(sum.cmd_evicted));
	json_object_object_add(o, "fetch_cmd_pages", json_object_new_uint64(sum.cmd_fetched));
	return o;
}

static const struct tiering_pool_hooks hooks = {
	.connected = hook_connected,
	.busy = hook_busy,
	.in_pool = hook_in_pool,
	.evict = hook_evict,
	.fetch = hook_fetch,
	.hint = hook_hint,
	.cg_json = hook_cg_json,
};

__attribute__((constructor)) static void pager_link_register(void)
{
	tiering_pool_hooks = &hooks;
}
