/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events.h — the records and counters that bpf/observer.bpf.c hands to
 * tierd. This header is compiled by both sides (clang -target bpf and gcc),
 * so every field is a fixed-width __u32/__u64: no pointers, bool, long or
 * enum-typed fields whose size could differ between the two compilers.
 *
 * Records travel through one ring buffer ("events"); each starts with
 * struct tierd_rec_hdr whose type says which record follows. Counters live
 * in the hash map "cgroup_stats" (key: the attached cgroup's id, value:
 * struct tierd_cgroup_stats) and in the observer's .bss (global counters).
 */
#ifndef TIERD_EVENTS_H
#define TIERD_EVENTS_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Record types (plain defines: an enum would not be a fixed-width type). */
#define TIERD_REC_FAULT 1
#define TIERD_REC_MIGRATE 2
#define TIERD_REC_DAMON 3
#define TIERD_REC_SAMPLE 4 /* bpf/sampler.bpf.c: one perf_event data sample */

/* Migration directions, by the ranks tierd writes into "node_tier". */
#define TIERD_DIR_PROMOTE 1
#define TIERD_DIR_DEMOTE 2
#define TIERD_DIR_SAME_TIER 3

/*
 * Fault records leave the kernel in batches of up to this many: one ring
 * record then holds several struct tierd_fault_rec back to back (a ring
 * record of any type may hold several records of that type).
 */
#define TIERD_FAULT_BATCH 16

/* Largest cgroup depth the ancestor walk looks at (the root is level 0). */
#define TIERD_MAX_CGROUP_LEVEL 32
/* Size of the node_tier map: covers MAX_NUMNODES up to NODES_SHIFT 10. */
#define TIERD_MAX_NODES 1024
/* node_tier value for a node tierd knows nothing about. */
#define TIERD_RANK_UNKNOWN 0xffffffffu

struct tierd_rec_hdr {
	__u32 type; /* TIERD_REC_* */
	__u32 cpu; /* CPU the record was produced on */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/* One user page fault of a task in an attached cgroup (or a descendant). */
struct tierd_fault_rec {
	struct tierd_rec_hdr hdr;
	__u64 cgroup_id; /* the ATTACHED cgroup the task counts toward */
	__u32 pid; /* thread group id */
	__u32 tid;
	__u64 address; /* faulting user address */
	__u64 ip; /* user instruction pointer */
	__u64 error_code; /* x86 page-fault error code (bit 1: write) */
};

/* One folio moved between NUMA nodes (fentry on folio_migrate_flags). */
struct tierd_migrate_rec {
	struct tierd_rec_hdr hdr;
	__u64 cgroup_id; /* attached cgroup owning the folio (its memcg) */
	__u32 nr_pages;
	__u32 direction; /* TIERD_DIR_* */
	__u32 src_nid;
	__u32 dst_nid;
};

/* One DAMON region as reported by damon:damon_aggregated. */
struct tierd_damon_rec {
	struct tierd_rec_hdr hdr;
	__u64 target_id;
	__u64 start;
	__u64 end;
	__u32 nr_accesses;
	__u32 age;
};

/*
 * One memory-access sample (bpf/sampler.bpf.c): a hardware load/store
 * sample (PEBS/IBS) with its data address, or, on the software test lane,
 * a page-fault event with its faulting address. Leaves the kernel in
 * batches of up to TIERD_SAMPLE_BATCH, like fault records.
 */
#define TIERD_SAMPLE_BATCH 16
struct tierd_sample_rec {
	struct tierd_rec_hdr hdr;
	__u64 cgroup_id; /* the ATTACHED cgroup the task counts toward */
	__u32 pid; /* thread group id */
	__u32 tid;
	__u64 addr; /* sampled data address (user virtual) */
	__u64 ip; /* instruction pointer of the sample */
};

/*
 * The sampler's counters, per CPU (a PERCPU_ARRAY of one entry: tierd sums
 * the CPUs). Every sample the program sees lands in exactly one of
 * unattached, no_addr, or samples; samples = records received + dropped.
 */
struct tierd_sampler_stats {
	__u64 samples; /* samples of attached cgroups, recorded or dropped */
	__u64 records_dropped; /* of those, lost to a full ring */
	__u64 unattached; /* samples of tasks outside every attached cgroup */
	__u64 no_addr; /* samples without a user data address */
};

/*
 * Per attached cgroup; descendants aggregate into their attached ancestor.
 * The field names are a user contract: `bpftool map dump pinned
 * /sys/fs/bpf/tierd/cgroup_stats` prints them. Append only. Fault counts
 * are exact but reach the map per CPU in steps (every TIERD_FAULT_BATCH
 * faults and on every tierd tick, 25 ms).
 */
struct tierd_cgroup_stats {
	__u64 faults; /* every user fault, exact (sampling aside) */
	__u64 faults_sampled_out; /* faults counted but not recorded (--sample) */
	__u64 records_dropped; /* fault records lost: ring buffer full */
	__u64 promotions; /* pages moved to a faster tier */
	__u64 demotions; /* pages moved to a slower tier */
	__u64 migrate_same_tier; /* pages moved between nodes of one tier */
	__u64 migrate_ctx_succeeded; /* pages migrated by a task of this cgroup */
	__u64 migrate_failed; /* pages a task of this cgroup failed to move */
};

/* Value of the "cgroup_cache" LRU map: current cgroup -> attached ancestor. */
struct tierd_cgroup_cache_val {
	__u64 attached_id; /* 0: not under any attached cgroup */
	__u64 generation; /* attach_generation when this entry was computed */
};

#endif /* TIERD_EVENTS_H */
