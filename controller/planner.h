/* SPDX-License-Identifier: GPL-2.0 */
/*
 * planner.h — one plan round for one cgroup: which pages go to which tier.
 *
 * A pure function over the cgroup's heat table (heat.h): it reads the heat
 * and the current tier of every tracked page, and writes a move list. It
 * does not move anything, allocate per page, or look at the clock; tierd
 * decays the table (heat_decay()) before a round and executes the list
 * after it (move_pages(2) for DRAM<->CXL, pager commands for the pool).
 *
 * The rule: the hottest pages fill the DRAM budget, the next fill the CXL
 * budget, the rest go to the pool; without the pool the lowest memory tier
 * (CXL, or DRAM when there is no CXL node) is the floor and takes the rest.
 *
 * Thresholds come from a histogram of the pages' heat (log2 buckets with 8
 * linear sub-buckets each, so a threshold is exact to 1/8 of an octave),
 * never from constants: the DRAM threshold is the heat of the page that
 * just fills the DRAM budget. Hysteresis: a page already in a tier (or a
 * faster one) competes with its heat raised by hysteresis_pct (and by at
 * least one access when hysteresis_pct > 0), so a page moves up only when it is clearly hotter than the page it displaces, and
 * pages whose heat ties in the boundary bucket keep their place. A steady
 * input therefore gives an empty plan on the next round.
 *
 * Rate limits are per direction and per round (policy_round_pages()):
 * promotions go hottest first, demotions coldest first. Budgets hold:
 * the move list is ordered demotions first (to the pool, then DRAM->CXL),
 * then promotions (into DRAM, then pool->CXL), and a promotion is planned
 * only where a planned demotion or free budget makes room for it. DRAM, the
 * scarce tier, never exceeds max(budget, what it held before) at any point
 * of the list; CXL may hold min(DRAM->CXL, CXL->DRAM) extra pages while the
 * two halves of a swap are in flight. Pinned pages (HEAT_F_PINNED) never
 * move but use their tier's budget; pages whose tier is unknown are left
 * out (resolve them with move_pages(2) status first).
 */
#ifndef TIERD_PLANNER_H
#define TIERD_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heat.h"

#define PLAN_UNLIMITED UINT64_MAX

struct plan_budget {
	uint64_t dram_pages; /* PLAN_UNLIMITED: no limit */
	uint64_t cxl_pages; /* ignored when CXL is the floor (no pool) */
	bool has_cxl; /* a CXL node exists; else two tiers */
	bool pool; /* pages may go to the pool */
	uint64_t max_promote_pages; /* this round, all moves to a faster tier */
	uint64_t max_demote_pages; /* this round, all moves to a slower tier */
	uint32_t hysteresis_pct; /* incumbents' heat counts this much more */
};

enum plan_reason {
	PLAN_HOT, /* to DRAM: at or above the DRAM threshold */
	PLAN_DRAM_COLD, /* out of DRAM: below the DRAM threshold */
	PLAN_WARM, /* pool -> CXL: at or above the CXL threshold */
	PLAN_CXL_COLD, /* CXL -> pool: below the CXL threshold */
};

const char *plan_reason_name(enum plan_reason r);

struct plan_move {
	uint64_t addr; /* page address in PID's address space */
	uint32_t pid;
	uint32_t heat; /* raw heat units (HEAT_ONE per access) */
	uint8_t from; /* enum heat_tier */
	uint8_t to; /* enum heat_tier */
	uint8_t reason; /* enum plan_reason */
	uint8_t pad;
};

/* What a tier boundary took: a page not yet in the tier needed heat >=
 * enter_heat, one already in it (or faster) heat >= stay_heat. 0/0: every
 * page fit; PLAN_NONE: no page fit (budget 0). */
#define PLAN_NONE UINT32_MAX
struct plan_threshold {
	uint32_t enter_heat;
	uint32_t stay_heat;
};

/* Moves by (from, to), the index of nr_wanted[] / nr_planned[]. */
enum plan_class {
	PLAN_CXL_TO_POOL,
	PLAN_DRAM_TO_POOL,
	PLAN_DRAM_TO_CXL,
	PLAN_CXL_TO_DRAM,
	PLAN_POOL_TO_DRAM,
	PLAN_POOL_TO_CXL,
	PLAN_NR_CLASSES,
};

struct plan_result {
	struct plan_threshold dram, cxl;
	uint64_t nr_pages[HEAT_NR_TIERS]; /* where pages are now (index: heat_tier) */
	uint64_t nr_target[HEAT_NR_TIERS]; /* where they would be without rate limits */
	uint64_t nr_after[HEAT_NR_TIERS]; /* where they will be after this plan */
	uint64_t nr_pinned;
	uint64_t nr_wanted[PLAN_NR_CLASSES];
	uint64_t nr_planned[PLAN_NR_CLASSES];
	uint64_t nr_promote, nr_demote; /* in the move list */
	uint64_t nr_moves;
	uint64_t floor_overflow_pages; /* pages the floor tier holds beyond its budget */
};

struct policy;
struct policy_cgroup;
/*
 * The budget for one round of cgroup CG under policy P: sizes resolved
 * against USAGE_BYTES (the cgroup's memory.current), rate limits turned
 * into pages per interval_ms. HAS_CXL: the machine has a CXL node.
 * POOL_READY: the cgroup's processes run under a connected pager (pages
 * can go to the pool only then, whatever CG->pool says).
 */
void plan_budget_from_policy(const struct policy *p, const struct policy_cgroup *cg,
			     uint64_t usage_bytes, bool has_cxl, bool pool_ready,
			     struct plan_budget *b);

/* The move list capacity plan_round() needs for this table and budget. */
size_t plan_moves_needed(const struct heat_table *t, const struct plan_budget *b);

/*
 * Plan one round. MOVES has room for CAP entries (>= plan_moves_needed(),
 * else -ENOSPC). Returns 0 (RES->nr_moves entries written, in execution
 * order), -EINVAL, or -ENOMEM.
 */
int plan_round(const struct heat_table *t, const struct plan_budget *b, struct plan_move *moves,
	       size_t cap, struct plan_result *res);

/* Histogram buckets the planner uses (exposed for tests and status). */
#define PLAN_HIST_BUCKETS 240
unsigned plan_bucket(uint32_t key);
uint32_t plan_bucket_min(unsigned bucket);

#endif /* TIERD_PLANNER_H */
