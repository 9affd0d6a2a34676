// SPDX-License-Identifier: GPL-2.0
/*
 * observer.bpf.c — what tierd sees of its workloads' memory.
 *
 * Design. These programs observe; they decide nothing. They run on the
 * hottest paths of the kernel (every user page fault of the machine), so:
 *
 *  - Faults are seen through the raw tracepoint page_fault_user
 *    (address, regs, error_code; stable since 3.13), not the perf-based
 *    exceptions:page_fault_user tracepoint: that one first copies every
 *    event into a perf buffer, which measured ~75 ns per fault more here.
 *
 *  - The cgroup filter is a hash map of attached cgroup ids ("attached"),
 *    so attaching is a map update, never a reload. A task counts toward the
 *    deepest attached cgroup among its cgroup2 ancestors. Walking the
 *    ancestors on every fault would be too slow, so the answer is cached
 *    per current cgroup id in an LRU map, stamped with attach_generation,
 *    which tierd bumps on every attach/detach: a stale entry is recomputed.
 *    (bpf_get_current_ancestor_cgroup_id() would be simpler but is not
 *    offered to tracepoint programs on every kernel we support.)
 *  - Counters are exact and live in "cgroup_stats" (key: attached cgroup
 *    id); descendants aggregate into their attached ancestor. tierd creates
 *    the entry on attach and deletes it on detach. The fault program counts
 *    per CPU and adds to the entry every fault_batch_len faults, when the
 *    CPU's cgroup changes, and on tierd's tick (tierd_flush): an atomic add
 *    on a shared line per fault was a quarter of the program's cost.
 *  - Records go to one ring buffer, always with BPF_RB_NO_WAKEUP: tierd
 *    drains it on a timer (waking the consumer per event costs more than
 *    the fault itself). Fault records are staged per CPU and leave in
 *    batches (one ring reservation per batch); tierd runs tierd_flush on
 *    every CPU before each drain, so none waits more than a tick. A full
 *    ring is counted (records_dropped), never silent; fault records can be
 *    sampled 1-in-N (sample_every) while the counters stay exact.
 *  - Migrations: migrate:mm_migrate_pages runs in whoever migrates (tierd,
 *    kswapd, the faulting task), so it cannot say whose pages moved or in
 *    which direction. Where fentry works, tierd_migrate hooks
 *    folio_migrate_flags(new, old), called once per migrated folio: the
 *    owner is the old folio's memcg, the nodes come from the folios' flags
 *    (nid in the top NODES_SHIFT bits with SPARSEMEM_VMEMMAP; tierd computes
 *    nid_shift from the kernel's BTF) and the direction from "node_tier",
 *    the ranks tierd derived from the memory tiers. tierd_mig_tp counts
 *    successes and failures by the migrating task's cgroup either way.
 *  - DAMON region reports are forwarded when the kernel has the tracepoint;
 *    tierd turns the program off (autoload) where it does not.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "tierd/events.h"
#include "observer.bpf.h"

#define barrier() asm volatile("" ::: "memory")

char LICENSE[] SEC("license") = "GPL";

/* Set by tierd before load. */
const volatile __u32 sample_every = 1; /* record 1 fault in N (counters exact) */
const volatile __u32 nid_shift = 54; /* 64 - NODES_SHIFT */
const volatile __u32 nid_mask = 1023; /* MAX_NUMNODES - 1 */

/* Written by tierd through the mmap'ed .bss/.data; read here. */
volatile __u64 attach_generation;
volatile __u32 fault_batch_len = TIERD_FAULT_BATCH;

/* Global counters, read by tierd through the mmap'ed .bss. */
__u64 nr_records_dropped; /* every record lost to a full ring */
__u64 nr_migrate_unattributed; /* migrated folios of no attached cgroup */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* attached cgroup id */
	__type(value, __u64); /* unused (attach time) */
} attached SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct tierd_cgroup_stats);
} cgroup_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* current cgroup id */
	__type(value, struct tierd_cgroup_cache_val);
} cgroup_cache SEC(".maps");

/* The last answer per CPU: a fault storm comes from one cgroup, and a
 * per-CPU array lookup is far cheaper than the LRU hash behind it. */
struct last_cgroup {
	__u64 cgroup_id;
	__u64 attached_id;
	__u64 generation;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_cgroup);
} last_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIERD_MAX_NODES);
	__type(key, __u32); /* NUMA node id */
	__type(value, __u32); /* rank: lower is faster; TIERD_RANK_UNKNOWN */
} node_tier SEC(".maps");

/*
 * Fault records are staged per CPU and leave in batches of fault_batch_len
 * (one ring reservation per batch instead of per fault: the ring's lock and
 * header atomics were half of the fault program's cost). tierd lowers
 * fault_batch_len to 1 where it cannot run tierd_flush.
 */
struct fault_batch {
	__u32 nr; /* records in recs[] */
	__u32 busy; /* tierd_fault is changing this batch */
	/* Counts of pend_root not yet added to its cgroup_stats entry: added
	 * every fault_batch_len faults, when the CPU's cgroup changes, and by
	 * tierd_flush on every tick, so cgroup_stats lags by at most one
	 * tick, and no atomic on a shared line is paid per fault. */
	__u64 pend_root;
	__u64 pend_faults;
	__u64 pend_sampled_out;
	__u32 sample_ctr;
	__u32 pad;
	struct tierd_fault_rec recs[TIERD_FAULT_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_batch);
} fault_batch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* The deepest attached ancestor (or self) of cgrp, or 0. */
static __always_inline __u64 walk_ancestors(struct cgroup *cgrp)
{
	int level = BPF_CORE_READ(cgrp, level);
	int i;

	for (i = TIERD_MAX_CGROUP_LEVEL - 1; i >= 0; i--) {
		struct cgroup *anc = NULL;
		__u64 id;

		if (i > level)
			continue;
		bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[i]);
		if (!anc)
			continue;
		id = BPF_CORE_READ(anc, kn, id);
		if (bpf_map_lookup_elem(&attached, &id))
			return id;
	}
	return 0;
}

/* The attached cgroup that cgroup cgrp (id cgid) counts toward, or 0. */
static __always_inline __u64 attached_root(__u64 cgid, struct cgroup *cgrp)
{
	struct tierd_cgroup_cache_val *c, nc;
	__u64 gen = attach_generation;
	struct last_cgroup *last;
	__u32 zero = 0;

	last = bpf_map_lookup_elem(&last_cgroup, &zero);
	if (last && last->cgroup_id == cgid && last->generation == gen)
		return last->attached_id;
	c = bpf_map_lookup_elem(&cgroup_cache, &cgid);
	if (c && c->generation == gen) {
		nc = *c;
		goto remember;
	}
	if (!cgrp) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	}
	nc.attached_id = cgrp ? walk_ancestors(cgrp) : 0;
	nc.generation = gen;
	bpf_map_update_elem(&cgroup_cache, &cgid, &nc, BPF_ANY);
remember:
	if (last) {
		last->cgroup_id = cgid;
		last->attached_id = nc.attached_id;
		last->generation = gen;
	}
	return nc.attached_id;
}

static __always_inline void count_dropped(struct tierd_cgroup_stats *st)
{
	__sync_fetch_and_add(&nr_records_dropped, 1);
	if (st)
		__sync_fetch_and_add(&st->records_dropped, 1);
}

/* Output a batch of n fault records as one ring record; count a failure. */
static __always_inline void flush_batch(struct fault_batch *b, __u32 n)
{
	__u32 i;

	if (n > TIERD_FAULT_BATCH)
		n = TIERD_FAULT_BATCH;
	if (n == 0)
		return;
	if (bpf_ringbuf_output(&events, b->recs, n * sizeof(b->recs[0]), BPF_RB_NO_WAKEUP) == 0)
		return;
	/* Ring full: every record of the batch is lost; charge each to its
	 * cgroup (a batch can mix cgroups). */
	for (i = 0; i < TIERD_FAULT_BATCH; i++) {
		struct tierd_cgroup_stats *st;

		if (i >= n)
			break;
		st = bpf_map_lookup_elem(&cgroup_stats, &b->recs[i].cgroup_id);
		count_dropped(st);
	}
}

/* Add the CPU's pending counts to their cgroup's entry. A cgroup detached
 * meanwhile has no entry: its counts go with it. */
static __always_inline void publish_counts(struct fault_batch *b)
{
	struct tierd_cgroup_stats *st;

	if (!b->pend_faults && !b->pend_sampled_out)
		return;
	st = bpf_map_lookup_elem(&cgroup_stats, &b->pend_root);
	if (st) {
		__sync_fetch_and_add(&st->faults, b->pend_faults);
		if (b->pend_sampled_out)
			__sync_fetch_and_add(&st->faults_sampled_out, b->pend_sampled_out);
	}
	b->pend_faults = 0;
	b->pend_sampled_out = 0;
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(tierd_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	struct tierd_fault_rec *r;
	struct fault_batch *b;
	__u64 root, pid_tgid;
	__u32 zero = 0, i;

	root = attached_root(cgid, NULL);
	if (!root)
		return 0;
	b = bpf_map_lookup_elem(&fault_batch, &zero);
	if (!b)
		return 0;
	/* tierd_flush may run on this CPU from an IPI while we change the
	 * batch: "busy" tells it to leave the batch for the next tick. */
	b->busy = 1;
	barrier();
	if (b->pend_root != root) {
		publish_counts(b);
		b->pend_root = root;
	}
	b->pend_faults++;
	if (b->pend_faults + b->pend_sampled_out >= fault_batch_len)
		publish_counts(b);

	if (sample_every > 1 && ++b->sample_ctr < sample_every) {
		b->pend_sampled_out++; /* counted in faults all the same */
		goto out;
	}
	b->sample_ctr = 0;

	i = b->nr;
	if (i >= TIERD_FAULT_BATCH)
		i = 0;
	r = &b->recs[i];
	pid_tgid = bpf_get_current_pid_tgid();
	r->hdr.type = TIERD_REC_FAULT;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->cgroup_id = root;
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->address = address;
	r->ip = BPF_CORE_READ(regs, ip);
	r->error_code = error_code;
	i++;
	if (i >= fault_batch_len) {
		flush_batch(b, i);
		i = 0;
	}
	b->nr = i;
out:
	barrier();
	b->busy = 0;
	return 0;
}

/*
 * Run by tierd on every CPU (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU)
 * before each drain, so a batch that stopped filling still reaches tierd
 * within one tick. Never attached.
 */
SEC("raw_tp")
int tierd_flush(void *ctx)
{
	struct fault_batch *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&fault_batch, &zero);
	if (!b || b->busy)
		return 0;
	publish_counts(b);
	if (b->nr)
		flush_batch(b, b->nr);
	b->nr = 0;
	return 0;
}

static __always_inline __u32 rank_of(__u32 nid)
{
	__u32 *rank = bpf_map_lookup_elem(&node_tier, &nid);

	return rank ? *rank : TIERD_RANK_UNKNOWN;
}

SEC("fentry/folio_migrate_flags")
int BPF_PROG(tierd_migrate, struct folio *newfolio, struct folio *folio)
{
	__u64 new_flags = tierd_folio_flags(newfolio);
	__u64 old_flags = tierd_folio_flags(folio);
	__u32 src = (old_flags >> nid_shift) & nid_mask;
	__u32 dst = (new_flags >> nid_shift) & nid_mask;
	__u32 src_rank, dst_rank, dir, nr;
	struct tierd_cgroup_stats *st;
	struct tierd_migrate_rec *r;
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	__u64 memcg_data, cgid, root;

	if (src == dst)
		return 0;
	/* The old folio still carries the charge: on 6.1 the new one is only
	 * charged at the end of folio_migrate_flags (mem_cgroup_migrate).
	 * The low bits of memcg_data are flags (MEMCG_DATA_*). */
	memcg_data = BPF_CORE_READ(folio, memcg_data);
	memcg = (struct mem_cgroup *)(memcg_data & ~3ULL);
	if (!memcg || (memcg_data & 3))
		goto unattributed;
	cgrp = BPF_CORE_READ(memcg, css.cgroup);
	if (!cgrp)
		goto unattributed;
	cgid = BPF_CORE_READ(cgrp, kn, id);
	root = attached_root(cgid, cgrp);
	if (!root)
		goto unattributed;
	st = bpf_map_lookup_elem(&cgroup_stats, &root);
	if (!st)
		return 0;

	nr = tierd_folio_nr_pages(folio, old_flags);
	src_rank = rank_of(src);
	dst_rank = rank_of(dst);
	if (dst_rank < src_rank) {
		dir = TIERD_DIR_PROMOTE;
		__sync_fetch_and_add(&st->promotions, nr);
	} else if (dst_rank > src_rank) {
		dir = TIERD_DIR_DEMOTE;
		__sync_fetch_and_add(&st->demotions, nr);
	} else {
		dir = TIERD_DIR_SAME_TIER;
		__sync_fetch_and_add(&st->migrate_same_tier, nr);
	}

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_dropped(st);
		return 0;
	}
	r->hdr.type = TIERD_REC_MIGRATE;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->cgroup_id = root;
	r->nr_pages = nr;
	r->direction = dir;
	r->src_nid = src;
	r->dst_nid = dst;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;

unattributed:
	__sync_fetch_and_add(&nr_migrate_unattributed, 1);
	return 0;
}

SEC("tracepoint/migrate/mm_migrate_pages")
int tierd_mig_tp(struct tierd_migrate_pages_ctx *ctx)
{
	struct tierd_cgroup_stats *st;
	__u64 root;

	root = attached_root(bpf_get_current_cgroup_id(), NULL);
	if (!root)
		return 0;
	st = bpf_map_lookup_elem(&cgroup_stats, &root);
	if (!st)
		return 0;
	if (ctx->succeeded)
		__sync_fetch_and_add(&st->migrate_ctx_succeeded, ctx->succeeded);
	if (ctx->failed)
		__sync_fetch_and_add(&st->migrate_failed, ctx->failed);
	return 0;
}

SEC("tracepoint/damon/damon_aggregated")
int tierd_damon(struct trace_event_raw_damon_aggregated___tierd *ctx)
{
	struct tierd_damon_rec *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&nr_records_dropped, 1);
		return 0;
	}
	r->hdr.type = TIERD_REC_DAMON;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->target_id = BPF_CORE_READ(ctx, target_id);
	r->start = BPF_CORE_READ(ctx, start);
	r->end = BPF_CORE_READ(ctx, end);
	r->nr_accesses = BPF_CORE_READ(ctx, nr_accesses);
	r->age = BPF_CORE_READ(ctx, age);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}
