// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c — the Prometheus text exposition of tierd's state, and the
 * little HTTP request check in front of it. Pure functions (no syscalls):
 * the unit test feeds them snapshots and request bytes.
 *
 * Why this shape: the endpoint is served from tierd's own event loop, so
 * rendering must be cheap and bounded (one pass over a snapshot, no I/O);
 * and the names are a contract with dashboards, so they are pinned down by
 * a test rather than spread over the collection code. Names follow the
 * Prometheus conventions: tierd_ prefix, base units (bytes, seconds),
 * counters end in _total, one HELP and one TYPE line per family, all
 * samples of a family together. Page counts observed by the kernel stay
 * counts of pages (promotions, demotions); sizes are bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->len + n < b->cap) {
			b->len += n;
			return;
		}
		{
			size_t cap = b->cap * 2;
			char *p;

			while (cap <= b->len + n)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->failed = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

char *metrics_escape_label(const char *value, char *buf, size_t size)
{
	size_t o = 0;

	if (!size)
		return buf;
	for (; *value && o + 3 < size; value++) {
		if (*value == '\\' || *value == '"') {
			buf[o++] = '\\';
			buf[o++] = *value;
		} else if (*value == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *value;
		}
	}
	buf[o] = 0;
	return buf;
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef uint64_t (*cg_value_fn)(const struct metrics_cgroup *c);

/* One family with a sample per cgroup (managed ones only if MANAGED). */
static void cg_family(struct buf *b, const struct metrics_snapshot *s, const char *name,
		      const char *type, const char *help, bool managed, cg_value_fn fn)
{
	char esc[8192];
	unsigned i;

	family(b, name, type, help);
	for (i = 0; i < s->nr_cgroups; i++) {
		const struct metrics_cgroup *c = &s->cgroups[i];

		if (managed && !c->managed)
			continue;
		put(b, "%s{cgroup=\"%s\"} %llu\n", name,
		    metrics_escape_label(c->path ? c->path : "", esc, sizeof(esc)),
		    (unsigned long long)fn(c));
	}
}

#define CG_FIELD(fname, expr)                                 \
	static uint64_t fname(const struct metrics_cgroup *c) \
	{                                                     \
		return (expr);                                \
	}
CG_FIELD(cg_faults, c->st.faults)
CG_FIELD(cg_sampled_out, c->st.faults_sampled_out)
CG_FIELD(cg_dropped, c->st.records_dropped)
CG_FIELD(cg_promotions, c->st.promotions)
CG_FIELD(cg_demotions, c->st.demotions)
CG_FIELD(cg_same_tier, c->st.migrate_same_tier)
CG_FIELD(cg_ctx_succeeded, c->st.migrate_ctx_succeeded)
CG_FIELD(cg_migrate_failed, c->st.migrate_failed)
CG_FIELD(cg_tracked, c->tiering.tracked_bytes)
CG_FIELD(cg_move_failed, c->tiering.move_failed_bytes)
CG_FIELD(cg_rounds, c->tiering.rounds)

/* A per-cgroup family with a second label (tier, direction). */
static void cg_family2(struct buf *b, const struct metrics_snapshot *s, const char *name,
		       const char *type, const char *help, const char *label, unsigned nr,
		       const char *const *values, size_t offset_of_first)
{
	char esc[8192];
	unsigned i, k;

	family(b, name, type, help);
	for (i = 0; i < s->nr_cgroups; i++) {
		const struct metrics_cgroup *c = &s->cgroups[i];
		const uint64_t *v = (const uint64_t *)((const char *)&c->tiering + offset_of_first);

		if (!c->managed)
			continue;
		metrics_escape_label(c->path ? c->path : "", esc, sizeof(esc));
		for (k = 0; k < nr; k++)
			if (v[k] != METRICS_NONE)
				put(b, "%s{cgroup=\"%s\",%s=\"%s\"} %llu\n", name, esc, label,
				    values[k], (unsigned long long)v[k]);
	}
}

int metrics_render(const struct metrics_snapshot *s, char **out, size_t *len)
{
	static const char *const tiers[] = { "dram", "cxl", "pool", "other" };
	static const char *const dirs[] = { "promote", "demote" };
	struct buf b = { .cap = 16384 };
	char esc[256];
	unsigned i, managed = 0;

	b.p = malloc(b.cap);
	if (!b.p)
		return -ENOMEM;
	b.p[0] = 0;
	for (i = 0; i < s->nr_cgroups; i++)
		managed += s->cgroups[i].managed;

	family(&b, "tierd_build_info", "gauge", "tierd's version; always 1.");
	put(&b, "tierd_build_info{version=\"%s\"} 1\n",
	    metrics_escape_label(s->version ? s->version : TIERD_VERSION, esc, sizeof(esc)));
	family(&b, "tierd_uptime_seconds", "gauge", "Seconds since tierd started.");
	put(&b, "tierd_uptime_seconds %.3f\n", s->uptime_s);
	family(&b, "tierd_records_received_total", "counter",
	       "Records tierd drained from the BPF ring buffer (faults, migrations, DAMON).");
	put(&b, "tierd_records_received_total %llu\n", (unsigned long long)s->records_received);
	family(&b, "tierd_fault_records_received_total", "counter",
	       "Fault records tierd drained from the BPF ring buffer.");
	put(&b, "tierd_fault_records_received_total %llu\n",
	    (unsigned long long)s->fault_records_received);
	family(&b, "tierd_ring_records_dropped_total", "counter",
	       "Records lost because the BPF ring buffer was full (all cgroups).");
	put(&b, "tierd_ring_records_dropped_total %llu\n", (unsigned long long)s->records_dropped);
	family(&b, "tierd_migrations_unattributed_total", "counter",
	       "Migrated pages that could not be attributed to an attached cgroup.");
	put(&b, "tierd_migrations_unattributed_total %llu\n",
	    (unsigned long long)s->migrate_unattributed);
	family(&b, "tierd_sampler_running", "gauge",
	       "1 while the perf_event sampler (PEBS/IBS, or its software test lane) is attached.");
	put(&b, "tierd_sampler_running %u\n", s->sampler_running ? 1u : 0u);
	family(&b, "tierd_sampler_samples_total", "counter",
	       "Sampler samples of tasks in attached cgroups (= received + dropped).");
	put(&b, "tierd_sampler_samples_total %llu\n", (unsigned long long)s->sampler_samples);
	family(&b, "tierd_sampler_records_received_total", "counter",
	       "Sample records tierd drained from the sampler's ring buffer.");
	put(&b, "tierd_sampler_records_received_total %llu\n",
	    (unsigned long long)s->sampler_records_received);
	family(&b, "tierd_sampler_records_dropped_total", "counter",
	       "Sample records lost because the sampler's ring buffer was full.");
	put(&b, "tierd_sampler_records_dropped_total %llu\n",
	    (unsigned long long)s->sampler_records_dropped);
	family(&b, "tierd_sampler_unattached_total", "counter",
	       "Sampler samples of tasks in no attached cgroup (not recorded).");
	put(&b, "tierd_sampler_unattached_total %llu\n", (unsigned long long)s->sampler_unattached);
	family(&b, "tierd_sampler_no_address_total", "counter",
	       "Sampler samples without a user-space data address (not recorded).");
	put(&b, "tierd_sampler_no_address_total %llu\n", (unsigned long long)s->sampler_no_addr);
	family(&b, "tierd_fault_record_sample_every", "gauge",
	       "One fault in this many is recorded in the ring buffer (--sample).");
	put(&b, "tierd_fault_record_sample_every %u\n", s->sample_every);
	family(&b, "tierd_event_readers", "gauge", "Clients reading tierd's event stream.");
	put(&b, "tierd_event_readers %u\n", s->event_readers);
	family(&b, "tierd_bpf_programs", "gauge", "BPF programs by state.");
	put(&b, "tierd_bpf_programs{state=\"attached\"} %u\n", s->nr_programs_attached);
	put(&b, "tierd_bpf_programs{state=\"not_attached\"} %u\n",
	    s->nr_programs - s->nr_programs_attached);
	family(&b, "tierd_attached_cgroups", "gauge", "Cgroups tierd observes.");
	put(&b, "tierd_attached_cgroups %u\n", s->nr_cgroups);
	family(&b, "tierd_managed_cgroups", "gauge", "Cgroups tierd's tiering loop manages.");
	put(&b, "tierd_managed_cgroups %u\n", managed);

	if (s->nr_cgroups) {
		cg_family(&b, s, "tierd_cgroup_faults_total", "counter",
			  "User page faults of the cgroup and its descendants.", false, cg_faults);
		cg_family(&b, s, "tierd_cgroup_faults_sampled_out_total", "counter",
			  "Faults counted but not recorded (--sample).", false, cg_sampled_out);
		cg_family(&b, s, "tierd_cgroup_records_dropped_total", "counter",
			  "Fault records of the cgroup lost because the ring buffer was full.",
			  false, cg_dropped);
		cg_family(&b, s, "tierd_cgroup_promotions_total", "counter",
			  "Pages of the cgroup the kernel moved to a faster tier.", false,
			  cg_promotions);
		cg_family(&b, s, "tierd_cgroup_demotions_total", "counter",
			  "Pages of the cgroup the kernel moved to a slower tier.", false,
			  cg_demotions);
		cg_family(&b, s, "tierd_cgroup_migrations_same_tier_total", "counter",
			  "Pages of the cgroup moved between nodes of one tier.", false,
			  cg_same_tier);
		cg_family(&b, s, "tierd_cgroup_migrations_by_tasks_total", "counter",
			  "Pages migrated by the cgroup's own tasks.", false, cg_ctx_succeeded);
		cg_family(&b, s, "tierd_cgroup_migrate_failed_total", "counter",
			  "Pages the cgroup's tasks failed to migrate.", false, cg_migrate_failed);
	}
	if (managed) {
		cg_family2(&b, s, "tierd_cgroup_memory_bytes", "gauge",
			   "Bytes of the cgroup's tracked memory per tier, at the last round.",
			   "tier", 4, tiers, offsetof(struct metrics_tiering, dram_bytes));
		cg_family2(&b, s, "tierd_cgroup_budget_bytes", "gauge",
			   "The cgroup's budget per tier, at the last round.", "tier", 2, tiers,
			   offsetof(struct metrics_tiering, budget_dram_bytes));
		cg_family(&b, s, "tierd_cgroup_tracked_bytes", "gauge",
			  "Bytes of the cgroup's memory in tierd's heat table.", true, cg_tracked);
		cg_family2(&b, s, "tierd_cgroup_moved_bytes_total", "counter",
			   "Bytes tierd moved between DRAM and CXL for the cgroup.", "direction", 2,
			   dirs, offsetof(struct metrics_tiering, promoted_bytes));
		cg_family(&b, s, "tierd_cgroup_move_failed_bytes_total", "counter",
			  "Bytes tierd tried and failed to move for the cgroup.", true,
			  cg_move_failed);
		cg_family(&b, s, "tierd_cgroup_tiering_rounds_total", "counter",
			  "Tiering rounds run for the cgroup.", true, cg_rounds);
	}
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* "GET /metrics HTTP/1.1" -> 200/404/405; anything else 400. */
static int classify_line(const char *line, size_t n, bool *head)
{
	const char *sp1, *sp2, *end = line + n, *path;
	size_t path_len;

	sp1 = memchr(line, ' ', n);
	if (!sp1 || sp1 == line)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', end - sp1 - 1);
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	if (end - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' ||
	    sp2[8] > '9')
		return 400;
	path = sp1 + 1;
	path_len = sp2 - path;
	if (path[0] != '/')
		return 400;
	if (memchr(path, '?', path_len))
		path_len = (const char *)memchr(path, '?', path_len) - path;
	*head = (sp1 - line == 4 && !strncmp(line, "HEAD", 4));
	if (!*head && !(sp1 - line == 3 && !strncmp(line, "GET", 3))) {
		const char *p;

		for (p = line; p < sp1; p++)
			if (*p < 'A' || *p > 'Z')
				return 400;
		return 405;
	}
	if (path_len == 8 && !strncmp(path, "/metrics", 8))
		return 200;
	return 404;
}

int metrics_classify_request(const char *req, size_t len, bool *head)
{
	const char *nl = memchr(req, '\n', len);
	size_t line_len;
	int status;
	size_t i;

	*head = false;
	if (!nl)
		return len >= METRICS_MAX_REQUEST ? 400 : 0;
	line_len = nl - req;
	if (line_len && req[line_len - 1] == '\r')
		line_len--;
	for (i = 0; i < line_len; i++)
		if ((unsigned char)req[i] < 0x20 || (unsigned char)req[i] == 0x7f)
			return 400;
	status = classify_line(req, line_len, head);
	if (status == 400)
		return 400;
	/* Answer once the head is complete (an empty line ends it). */
	for (i = 0; i + 1 < len; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i + 1] == '\n' || (req[i + 1] == '\r' && i + 2 < len && req[i + 2] == '\n'))
			return status;
	}
	return len >= METRICS_MAX_REQUEST ? 400 : 0;
}
