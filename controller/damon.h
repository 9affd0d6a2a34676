/* SPDX-License-Identifier: GPL-2.0 */
/*
 * damon.h — tierd drives one DAMON kdamond (sysfs admin interface) whose
 * vaddr targets are the processes of the managed cgroups. The kdamond's
 * region reports reach tierd through the observer's damon_aggregated
 * program (struct tierd_damon_rec); target_id there is the target's index
 * in the context, which damon_target_pid() maps back to a pid.
 *
 * tierd only ever uses a kdamond it created itself: if any kdamond exists
 * when tierd starts (nr_kdamonds != 0), it belongs to the platform (or an
 * operator), tierd leaves it alone and says so, and heat comes from page
 * faults only. On exit tierd turns its kdamond off and sets nr_kdamonds
 * back to 0. While it drives one, tierd's pid is in an owner file
 * (DAMON_OWNER_FILE): a tierd that died without cleaning up left its pid
 * there, and the next tierd takes that kdamond back instead of leaving it
 * running forever as "the platform's".
 */
#ifndef TIERD_DAMON_H
#define TIERD_DAMON_H

#ifdef __BPF__
#error "damon.h is user-space only"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAMON_ADMIN_ROOT "/sys/kernel/mm/damon/admin"
#define DAMON_MAX_TARGETS 256
#define DAMON_OWNER_FILE "/run/tierd/kdamond.owner"

/* Monitoring attributes. The guest tests run under TCG, so the sampling
 * is coarser than DAMON's defaults (5 ms / 100 ms): a kdamond that burns a
 * whole emulated CPU would starve the workload it watches. */
struct damon_attrs {
	uint32_t sample_us;
	uint32_t aggr_us;
	uint32_t update_us;
	uint32_t min_nr_regions, max_nr_regions;
};

struct damon_ctl {
	char root[PATH_MAX]; /* the admin directory; tests pass a fixture */
	char owner_file[PATH_MAX]; /* "" = none */
	struct damon_attrs attrs;
	bool available; /* DAMON sysfs with vaddr, and no kdamond of anyone else */
	bool owned; /* we set nr_kdamonds to 1: ours to give back */
	bool running;
	char why[512]; /* for status: why DAMON is or is not used */
	unsigned nr_targets;
	uint32_t pids[DAMON_MAX_TARGETS]; /* index = target_id */
	uint64_t config_ns; /* records older than this describe old targets */
	uint64_t nr_restarts;
};

void damon_attrs_default(struct damon_attrs *a);

/* Look at ROOT (DAMON_ADMIN_ROOT normally) and decide whether tierd may
 * drive a kdamond; sets available and why. OWNER_FILE (DAMON_OWNER_FILE,
 * or NULL): see the top of this file. Never fails: 0 always. */
int damon_probe(struct damon_ctl *d, const char *root, const struct damon_attrs *a,
		const char *owner_file);

/*
 * Monitor exactly PIDS (N of them, any order; more than DAMON_MAX_TARGETS
 * are cut). Restarts the kdamond only when the set changed; N = 0 stops
 * it. NOW_NS: CLOCK_MONOTONIC, the observer's record clock. 0 or -errno
 * (why says what failed; DAMON is then marked unavailable).
 */
int damon_set_targets(struct damon_ctl *d, const uint32_t *pids, unsigned n, uint64_t now_ns);

/* The pid of TARGET_ID for a record produced at TS_NS: 0 and *PID, or
 * -ENOENT (unknown target, or a record from before the last restart). */
int damon_target_pid(const struct damon_ctl *d, uint64_t target_id, uint64_t ts_ns, uint32_t *pid);

/* Turn our kdamond off and give it back (nr_kdamonds = 0). */
void damon_release(struct damon_ctl *d);

/* Pure helper (tested): sort PIDS in place, drop duplicates and zeros;
 * returns the new count. */
unsigned damon_pid_set_normalize(uint32_t *pids, unsigned n);

#endif /* TIERD_DAMON_H */
