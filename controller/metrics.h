/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h — tierd's Prometheus endpoint (tierd --metrics ADDR:PORT).
 *
 * Two halves, so that the format is testable without a daemon:
 *   - pure functions (metrics.c): render a struct metrics_snapshot as the
 *     Prometheus text exposition format 0.0.4, and classify an HTTP request;
 *   - the server (metrics_server.c): a non-blocking listener with its own
 *     epoll set, nested in tierd's loop, and metrics_snapshot_fill(), which
 *     reads the same state `tierctl status` reads (observer counters,
 *     tiering loop) into a snapshot.
 */
#ifndef TIERD_METRICS_H
#define TIERD_METRICS_H

#ifdef __BPF__
#error "metrics.h is user-space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tierd/events.h"

#ifndef TIERD_VERSION
#define TIERD_VERSION "0.1"
#endif

/* A value not known or not limited (a budget of "max"): no sample. */
#define METRICS_NONE UINT64_MAX

/* The tiering loop's view of a managed cgroup (all in bytes). */
struct metrics_tiering {
	uint64_t dram_bytes, cxl_bytes, pool_bytes, other_bytes;
	uint64_t budget_dram_bytes, budget_cxl_bytes;
	uint64_t tracked_bytes;
	uint64_t promoted_bytes, demoted_bytes, move_failed_bytes; /* moves by tierd */
	uint64_t rounds;
};

struct metrics_cgroup {
	const char *path;
	uint64_t id;
	struct tierd_cgroup_stats st; /* the observer's counters (pages, faults) */
	bool managed;
	struct metrics_tiering tiering; /* when managed */
};

struct metrics_snapshot {
	const char *version;
	double uptime_s;
	uint64_t records_received, fault_records_received, records_dropped;
	uint64_t migrate_unattributed;
	uint32_t sample_every;
	uint32_t event_readers;
	unsigned nr_programs, nr_programs_attached;
	unsigned nr_cgroups;
	struct metrics_cgroup *cgroups;
	/* the perf_event (PEBS/IBS) sampler: all 0 when it never ran */
	bool sampler_running;
	uint64_t sampler_samples, sampler_records_received, sampler_records_dropped;
	uint64_t sampler_unattached, sampler_no_addr;
};

/*
 * The text exposition of S into a malloc()ed, NUL-terminated *OUT of
 * *LEN bytes. Returns 0 or -ENOMEM.
 */
int metrics_render(const struct metrics_snapshot *s, char **out, size_t *len);

/* VALUE escaped for a label value (\\, \", \n) into BUF; returns BUF. */
char *metrics_escape_label(const char *value, char *buf, size_t size);

/*
 * What to answer to the request bytes REQ[0..LEN): 0 if the request head is
 * not complete yet, else an HTTP status: 200 (GET or HEAD /metrics, query
 * ignored), 404 (another path), 405 (another method), 400 (not HTTP, or a
 * head longer than METRICS_MAX_REQUEST). *HEAD is set for HEAD requests.
 */
#define METRICS_MAX_REQUEST 4096
int metrics_classify_request(const char *req, size_t len, bool *head);

/* The server (metrics_server.c). */
struct tierd;
/* Listen on ADDR:PORT ("127.0.0.1:9477", "[::1]:9477", ":9477" = all). */
int metrics_listen(struct tierd *t, const char *addr_port);
/* True if P is the epoll tag metrics_listen() put in tierd's epoll set. */
bool metrics_owns(const void *p);
/* Serve whatever is ready (never blocks). */
void metrics_dispatch(struct tierd *t);
void metrics_close(struct tierd *t);
/* Fill S from tierd's state; S->cgroups is malloc()ed (metrics_snapshot_free). */
int metrics_snapshot_fill(struct tierd *t, struct metrics_snapshot *s);
void metrics_snapshot_free(struct metrics_snapshot *s);

#endif /* TIERD_METRICS_H */
