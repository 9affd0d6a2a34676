/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tiering.h — tierd's tiering loop: per managed cgroup, a heat table fed
 * by the observer's records, and every plan interval one round of
 *   pids (cgroup.procs, recursive) -> ranges (/proc/PID/maps)
 *   -> where each page is (move_pages(2) query) -> decay -> plan_round()
 *   -> batched move_pages(2) DRAM <-> CXL -> log line, cool-down.
 *
 * Everything that touches the system goes through struct tiering_ops, so
 * the unit tests run whole rounds against a simulated machine; tierd uses
 * tiering_sys_ops (cgroupfs, procfs, move_pages, the observer's counters).
 * A cgroup is "managed" when it has budgets (tierctl attach --dram/--cxl,
 * or a policy entry); attached-only cgroups are just observed.
 */
#ifndef TIERD_TIERING_H
#define TIERD_TIERING_H

#ifdef __BPF__
#error "tiering.h is user-space only"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tierd/events.h"
#include "damon.h"
#include "heat.h"
#include "planner.h"
#include "policy.h"

/* Ranges smaller than this are not worth a heat table entry. */
#define TIERING_MIN_RANGE_BYTES (64u << 10)
#define TIERING_MAX_RANGES 4096
#define TIERING_RATE_WINDOW_MS 10000
#define TIERING_RATE_SAMPLES 64
/* tierd's loop makes a round's move_pages(2) moves this long at a time
 * (then it serves status and drains the observer before the next slice) */
#define TIERING_SLICE_NS (50ull * 1000 * 1000)
/* a round waiting for a pager's pool moves looks again this much later */
#define TIERING_POOL_WAIT_MS 200

struct tiering_range {
	uint64_t start, end; /* page-aligned, [start, end) */
};

struct tiering_ops {
	/* Every pid (tgid) in the cgroup at PATH and its descendants. */
	int (*read_pids)(void *ctx, const char *path, uint32_t **pids, unsigned *nr);
	/* PID's anonymous, private, writable ranges (tiering_maps_parse_line). */
	int (*read_ranges)(void *ctx, uint32_t pid, struct tiering_range **r, unsigned *nr);
	int (*query)(void *ctx, uint32_t pid, const uint64_t *addrs, size_t n, int *status);
	long (*move)(void *ctx, uint32_t pid, const uint64_t *addrs, const int *nodes, size_t n,
		     int *status);
	/* memory.current of the cgroup (for "25%" budgets); -errno if none. */
	int (*read_usage)(void *ctx, const char *path, uint64_t *bytes);
	/* The observer's kernel-side counters; may be NULL. */
	int (*read_stats)(void *ctx, uint64_t cgroup_id, struct tierd_cgroup_stats *st);
	void *ctx;
};

extern const struct tiering_ops tiering_sys_ops;

/* Why a planned move did not happen (round log, status move_failed_by). */
enum tiering_fail {
	TIERING_FAIL_NOT_PRESENT,
	TIERING_FAIL_BUSY,
	TIERING_FAIL_NOMEM,
	TIERING_FAIL_STAYED,
	TIERING_FAIL_GONE,
	TIERING_FAIL_POOL,
	TIERING_FAIL_OTHER,
	TIERING_NR_FAIL,
};

enum tiering_sampler {
	TIERING_SAMPLER_FAULTS,
	TIERING_SAMPLER_DAMON,
	TIERING_SAMPLER_PEBS, /* the perf_event sampler (sampler.h) is running */
};

struct sampler_status;

struct tiering_cg {
	uint64_t id;
	char path[PATH_MAX];
	struct policy_size dram, cxl;
	bool pool;
	bool from_policy;
	struct heat_table heat;
	uint32_t *pids;
	unsigned nr_pids;
	uint64_t next_round_ms;

	/* the last round */
	uint64_t last_round_ms;
	uint64_t round_ns; /* how long it took */
	uint64_t usage_bytes;
	uint64_t nr_on_tier[HEAT_NR_TIERS]; /* pages, from the query */
	uint64_t nr_not_present;
	struct plan_budget budget;
	struct plan_result plan;

	/* totals and rates */
	uint64_t nr_rounds, nr_moving_rounds;
	uint64_t nr_pool_waits; /* rounds put off for a pager still moving pages */
	uint64_t promoted, demoted, move_failed; /* pages, executed by tierd */
	uint64_t fail[TIERING_NR_FAIL], round_fail[TIERING_NR_FAIL]; /* by cause */
	/* the round in progress: the placement query at (q_region, q_first),
	 * then tg->moves[pending_done, nr_pending) to make */
	bool querying;
	unsigned q_region;
	uint64_t q_first, q_on_tier[HEAT_NR_TIERS], q_not_present;
	size_t nr_pending, pending_done;
	uint64_t round_t0_ns, round_promoted, round_demoted, round_failed;
	uint64_t prev_rate_ms;
	/* per-round samples of the counters: rates are over the last
	 * TIERING_RATE_WINDOW_MS, not one round (most rounds move nothing) */
	struct tiering_rate_sample {
		uint64_t ms, promoted, demoted, k_promotions, k_demotions;
	} rate_samples[TIERING_RATE_SAMPLES];
	unsigned nr_rate_samples, rate_head;
	double promote_per_s, demote_per_s;
	double k_promote_per_s, k_demote_per_s; /* the kernel's counts (observer) */
	uint64_t fault_samples, damon_pages;
	uint64_t perf_samples; /* sample records (sampler.h) of this cgroup */
};

struct tiering {
	struct policy policy;
	char policy_file[PATH_MAX]; /* "" = the embedded defaults */
	uint64_t policy_loads;
	struct policy_tier_nodes nodes;
	bool has_cxl;
	uint32_t rank[TIERD_MAX_NODES];
	bool dry_run;
	uint32_t fault_weight; /* the BPF 1-in-N fault sampling factor */
	uint32_t self_pid; /* never touch this one */
	struct tiering_ops ops;
	struct damon_ctl damon;
	bool damon_prog_attached; /* the observer forwards damon_aggregated */
	const struct sampler_status *perf; /* tierd's perf_event sampler; NULL: none */
	int numa_balancing; /* /proc/sys/kernel/numa_balancing; -1 unknown */
	const char *numa_balancing_path; /* NULL in tests */
	struct tiering_cg **cgs;
	unsigned nr_cgs;
	/* scratch, reused by every round */
	uint64_t *addrs;
	int *nodes_buf, *status;
	size_t scratch_cap;
	struct plan_move *moves;
	size_t moves_cap;
};

/*
 * Set up with OPS (copied); RANK[n] for n < TIERD_MAX_NODES is node n's
 * memory rank (topology.h). DAMON_ROOT: DAMON's admin directory, or NULL
 * to leave DAMON out (tests). The embedded default policy is in force.
 */
int tiering_init(struct tiering *tg, const struct tiering_ops *ops, const uint32_t *rank,
		 const char *damon_root, bool damon_prog_attached, bool dry_run, uint64_t now_ms);
void tiering_free(struct tiering *tg);

/*
 * Load FILE; on success it replaces the policy in force (tier nodes and
 * half-lives follow). On failure every error is logged, the old policy
 * stays, and -EINVAL/-errno is returned.
 */
int tiering_load_policy(struct tiering *tg, const char *file, uint64_t now_ms);

/* Manage cgroup ID at PATH with these budgets (update if managed). */
int tiering_manage(struct tiering *tg, uint64_t id, const char *path,
		   const struct policy_size *dram, const struct policy_size *cxl, bool pool,
		   bool from_policy, uint64_t now_ms);
void tiering_unmanage(struct tiering *tg, uint64_t id);
struct tiering_cg *tiering_find(struct tiering *tg, uint64_t id);

/* An observer record (fault or DAMON region) -> heat. */
void tiering_on_record(struct tiering *tg, const struct tierd_rec_hdr *rec, size_t size);

/* Run the rounds that are due at NOW_MS; a round's moves are made in
 * slices of TIERING_SLICE_NS over several calls. Returns ms until the
 * next one. */
uint64_t tiering_tick(struct tiering *tg, uint64_t now_ms);
/* One whole round for CG now, moves included (tests call this directly). */
int tiering_round(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms);

enum tiering_sampler tiering_sampler(const struct tiering *tg);
/* "pebs", "damon" or "faults": what status shows. */
const char *tiering_sampler_name(const struct tiering *tg);
const char *tiering_sampler_why(const struct tiering *tg);

/* Status (json-c objects, caller puts them): per cgroup, and global. */
struct json_object *tiering_cg_json(const struct tiering *tg, const struct tiering_cg *cg);
struct json_object *tiering_json(const struct tiering *tg);

/* Pure helpers (unit-tested). */
/* One /proc/PID/maps line: true and the range if it is anonymous, private,
 * writable and at least TIERING_MIN_RANGE_BYTES. */
bool tiering_maps_parse_line(const char *line, struct tiering_range *out);
/* Make PID's regions in T exactly RANGES (sorted by start): unchanged
 * ranges keep their heat, vanished ones go, new ones start cold. Returns
 * 0 or -ENOMEM. */
int tiering_sync_regions(struct heat_table *t, uint32_t pid, const struct tiering_range *ranges,
			 unsigned nr);

#endif /* TIERD_TIERING_H */
