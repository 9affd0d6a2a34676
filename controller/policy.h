/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h — tierd's policy file: what it holds and how it is parsed.
 *
 * The policy is plain data. policy_parse() turns a JSON text (json-c, so
 * comments and trailing commas are accepted) into a struct policy and does
 * every check it can without touching the system: types, ranges, sizes,
 * unknown keys (typo protection), duplicates. It never reads sysfs or
 * cgroupfs: tier discovery is topology.h, and whether a cgroup exists is
 * tierd's business when it attaches it. That keeps `tierctl policy check`
 * and the unit tests free of the machine they run on.
 *
 * Errors carry file, line and key. json-c reports no positions for keys,
 * so the parser scans the text itself once (policy.c: struct keymap) and
 * maps every key path ("cgroups[0].dram") to the line it starts on.
 *
 * Seams for tierd (the lead wires these):
 *  - Load into a fresh struct policy; on success swap it in and
 *    policy_free() the old one. On failure the output is left empty (as
 *    after policy_init()) and the old policy stays in force: that is the
 *    SIGHUP rule "a bad new policy is refused".
 *  - Sizes may be percentages of the cgroup's usage: they stay symbolic
 *    here; resolve them each round with policy_size_resolve().
 *  - Per-round move limits: policy_round_pages().
 */
#ifndef TIERD_POLICY_H
#define TIERD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_NODES 64
#define POLICY_MAX_POOL_URIS 16
#define POLICY_MAX_ERRORS 16
#define POLICY_MAX_FILE_BYTES (1u << 20)
#define POLICY_PAGE_SIZE 4096u

enum policy_sampler {
	POLICY_SAMPLER_AUTO = 0, /* best available: pebs > damon > hint */
	POLICY_SAMPLER_PEBS, /* hardware samples (PEBS/IBS) via perf_event */
	POLICY_SAMPLER_DAMON, /* DAMON vaddr region reports */
	POLICY_SAMPLER_HINT, /* hint faults armed by the pager */
	POLICY_SAMPLER_FAULTS, /* page faults only */
};

enum policy_size_kind {
	POLICY_SIZE_MAX = 0, /* "max": no limit (the default) */
	POLICY_SIZE_BYTES, /* "512M", "2G", 4096 */
	POLICY_SIZE_PCT, /* "25%": of the cgroup's memory usage */
};

struct policy_size {
	enum policy_size_kind kind;
	uint64_t bytes; /* POLICY_SIZE_BYTES */
	uint32_t pct_bp; /* POLICY_SIZE_PCT, in basis points: 25% = 2500 */
};

struct policy_cgroup {
	char *path; /* absolute cgroup2 directory */
	struct policy_size dram; /* DRAM budget */
	struct policy_size cxl; /* CXL budget */
	bool pool; /* may pages of this cgroup go to the pool */
};

struct policy_tiers {
	/* false: not in the file, discover with topology_discover() */
	bool dram_given, cxl_given;
	unsigned nr_dram_nodes, nr_cxl_nodes;
	int dram_nodes[POLICY_MAX_NODES];
	int cxl_nodes[POLICY_MAX_NODES];
	unsigned nr_pool_uris;
	char *pool_uris[POLICY_MAX_POOL_URIS]; /* tcp://H:P, rdma://H:P, shm:/PATH */
};

struct policy_heat {
	enum policy_sampler sampler;
	uint32_t half_life_ms; /* heat halves after this long without access */
	uint32_t hint_pages_per_s; /* hint faults the pager arms per second */
	uint32_t fault_sample_every; /* keep 1 in N fault records (counters stay exact) */
};

struct policy_moves {
	uint32_t interval_ms; /* one plan round every interval_ms */
	uint32_t max_promote_mb_s; /* pages moved to a faster tier, MiB/s */
	uint32_t max_demote_mb_s; /* pages moved to a slower tier, MiB/s */
	uint32_t cooldown_ms; /* pause after each batch of moves */
	uint32_t hysteresis_pct; /* a page must be this much hotter to displace */
};

struct policy {
	struct policy_tiers tiers;
	struct policy_heat heat;
	struct policy_moves moves;
	unsigned nr_cgroups;
	struct policy_cgroup *cgroups;
};

struct policy_error {
	unsigned line; /* 1-based; 0 if the error is about the whole file */
	char key[128]; /* "cgroups[0].dram"; "" for file-level errors */
	char msg[320]; /* what is wrong and what is expected */
};

struct policy_diag {
	char file[256]; /* as given to the loader, for messages */
	unsigned nr; /* errors stored in errs[] */
	unsigned nr_lost; /* errors beyond POLICY_MAX_ERRORS, counted only */
	struct policy_error errs[POLICY_MAX_ERRORS];
};

/* The defaults: what tierd runs with when given no file (see tierd-policy(5)). */
void policy_init(struct policy *p);
void policy_free(struct policy *p);

/*
 * Parse TEXT (LEN bytes, need not be NUL-terminated) named FILE in
 * messages. Returns 0, -EINVAL when the policy has errors (all of them,
 * up to POLICY_MAX_ERRORS, are in DIAG), or -ENOMEM.
 */
int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_diag *diag);

/* Read PATH and parse it. -errno if it cannot be read (DIAG says why). */
int policy_load_file(const char *path, struct policy *out, struct policy_diag *diag);

/* "FILE:LINE: KEY: MSG" (parts left out when absent). Returns BUF. */
char *policy_error_format(const struct policy_diag *diag, unsigned i, char *buf, size_t len);

/* Parse a size ("512M", "2G", "4096", "1.5G", "25%", "max"). 0 or -EINVAL. */
int policy_size_parse(const char *s, struct policy_size *out);
/* Bytes for USAGE_BYTES of usage; UINT64_MAX for "max". */
uint64_t policy_size_resolve(const struct policy_size *s, uint64_t usage_bytes);
/* "512M", "25%", "max" (shortest exact form). Returns BUF. */
char *policy_size_format(const struct policy_size *s, char *buf, size_t len);

/* 4 KiB pages that MB_PER_S allows in INTERVAL_MS (at least 1 if MB_PER_S > 0). */
uint64_t policy_round_pages(uint32_t mb_per_s, uint32_t interval_ms);

const char *policy_sampler_name(enum policy_sampler s);

/* Look up the cgroup entry for PATH (exact match), or NULL. */
const struct policy_cgroup *policy_find_cgroup(const struct policy *p, const char *path);

/*
 * The DRAM and CXL node sets to use. Nodes the policy names win; a tier
 * the policy leaves out is taken from RANK: rank[n] is node n's memory
 * rank for n < NR_NODES (0 = fastest, UINT32_MAX = no such node), as the
 * observer's node_ranks_read() (controller/topology.h) derives it from
 * /sys/devices/virtual/memory_tiering and the node cpulists. Rank 0 is
 * DRAM, every slower rank is CXL. OUT->how says where the sets came from.
 * Returns 0; -ENOENT if the policy names a node that does not exist;
 * -ENODEV if no DRAM node results (OUT->how says which).
 */
struct policy_tier_nodes {
	unsigned nr_dram, nr_cxl;
	int dram[POLICY_MAX_NODES];
	int cxl[POLICY_MAX_NODES];
	char how[192];
};
int policy_tier_nodes(const struct policy_tiers *t, const uint32_t *rank, unsigned nr_nodes,
		      struct policy_tier_nodes *out);

/*
 * The policy as a json-c object in the file's own format (sizes as
 * strings, every default filled in): what `tierctl policy defaults` prints
 * and what tierd can show as the policy in force. NULL on ENOMEM.
 */
struct json_object *policy_to_json(const struct policy *p);

#endif /* TIERD_POLICY_H */
