// SPDX-License-Identifier: GPL-2.0
/*
 * sampler.bpf.c — memory-access samples for tierd's heat: which data
 * addresses the tasks of attached cgroups touch, as the CPU's own sampling
 * hardware sees them.
 *
 * Design. One perf_event program, attached by tierd to one perf event per
 * online CPU:
 *
 *  - Where a PMU offers data-address sampling (Intel PEBS mem-loads /
 *    mem-stores, AMD IBS op), each sample carries the address of the load
 *    or store (PERF_SAMPLE_ADDR). That is the access source that sees hits
 *    on resident pages — faults only see first touches — at a cost set by
 *    the sample period, not by the access rate: the program runs once per
 *    sample, never per access.
 *  - The same program serves the software event PERF_COUNT_SW_PAGE_FAULTS,
 *    whose sample address is the faulting address. That lane exists so the
 *    whole path (attach, filter, batch, ring, tierd's heat) runs on machines
 *    without a PMU; tierd offers it only behind a test/debug option.
 *  - The program runs in NMI context for hardware events: no locks, no
 *    waiting. The ring is written with BPF_RB_NO_WAKEUP (tierd drains it on
 *    its 25 ms timer); a reservation that fails (full ring, or the ring's
 *    lock held by the interrupted context) is counted, never silent.
 *  - The cgroup filter is the observer's "attached" map itself: tierd hands
 *    this object the observer's map fd before load (bpf_map__reuse_fd), so
 *    attaching a cgroup is still one map update. A task counts toward the
 *    deepest attached cgroup among its cgroup2 ancestors. The walk is not
 *    cached (the observer's cache is stamped with a generation only the
 *    observer sees): at a sample rate of at most a few thousand per second
 *    per CPU a walk of a few levels is cheap, and it is never stale.
 *  - Records are staged per CPU and leave in batches of sample_batch_len
 *    (one ring reservation per batch), like the observer's fault records.
 *    tierd runs tierd_sample_flush on every CPU before each drain (from an
 *    IPI). Either side may interrupt the other (an NMI the flush, the flush
 *    IPI a software-event run), so each raises a flag: a flush leaves a
 *    batch that is being written for the next tick, and a sample that finds
 *    a flush in progress goes straight to the ring on its own.
 *  - Counters are per CPU (tierd sums them) and exact: every sample is
 *    counted once as unattached, without address, or as a sample of an
 *    attached cgroup; of those, each record lost to the ring is counted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "tierd/events.h"

#define barrier() asm volatile("" ::: "memory")
/* x86-64: user addresses lie below 2^47 (2^56 with 5-level paging; tierd
 * tracks no memory above 2^47 either way). */
#define TIERD_USER_ADDR_END (1ULL << 47)

char LICENSE[] SEC("license") = "GPL";

/* Written by tierd through the mmap'ed .data (1 where it cannot flush). */
volatile __u32 sample_batch_len = TIERD_SAMPLE_BATCH;

/* Shared with the observer (tierd reuses its fd): attached cgroup ids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} attached SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tierd_sampler_stats);
} sampler_stats SEC(".maps");

struct sample_batch {
	__u32 nr; /* records in recs[] */
	__u32 busy; /* tierd_sample is changing this batch */
	__u32 flushing; /* tierd_sample_flush is emptying this batch */
	__u32 pad;
	struct tierd_sample_rec recs[TIERD_SAMPLE_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sample_batch);
} sample_batch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} samples SEC(".maps");

/* The deepest attached ancestor (or self) of the current task, or 0. */
static __always_inline __u64 attached_root(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	int level, i;

	if (!cgrp)
		return 0;
	level = BPF_CORE_READ(cgrp, level);
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

/* Output n staged records as one ring record; count them if it fails. */
static __always_inline void flush_batch(struct sample_batch *b, __u32 n,
					struct tierd_sampler_stats *st)
{
	if (n > TIERD_SAMPLE_BATCH)
		n = TIERD_SAMPLE_BATCH;
	if (n == 0)
		return;
	if (bpf_ringbuf_output(&samples, b->recs, n * sizeof(b->recs[0]), BPF_RB_NO_WAKEUP) == 0)
		return;
	__sync_fetch_and_add(&st->records_dropped, n);
}

static __always_inline void fill(struct tierd_sample_rec *r, __u64 root, __u64 addr, __u64 ip)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	r->hdr.type = TIERD_REC_SAMPLE;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->cgroup_id = root;
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->addr = addr;
	r->ip = ip;
}

SEC("perf_event")
int tierd_sample(struct bpf_perf_event_data *ctx)
{
	struct tierd_sampler_stats *st;
	struct tierd_sample_rec *r;
	struct sample_batch *b;
	__u64 addr = ctx->addr, root;
	__u32 zero = 0, i;

	st = bpf_map_lookup_elem(&sampler_stats, &zero);
	b = bpf_map_lookup_elem(&sample_batch, &zero);
	if (!st || !b)
		return 0;
	root = attached_root();
	if (!root) {
		__sync_fetch_and_add(&st->unattached, 1);
		return 0;
	}
	if (!addr || addr >= TIERD_USER_ADDR_END) {
		__sync_fetch_and_add(&st->no_addr, 1);
		return 0;
	}
	__sync_fetch_and_add(&st->samples, 1);

	if (b->flushing || b->busy) {
		/* We interrupted a flush (or another run) on this CPU: leave
		 * the batch alone and send this one record on its own. */
		r = bpf_ringbuf_reserve(&samples, sizeof(*r), 0);
		if (!r) {
			__sync_fetch_and_add(&st->records_dropped, 1);
			return 0;
		}
		fill(r, root, addr, ctx->regs.ip);
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
		return 0;
	}
	b->busy = 1;
	barrier();
	i = b->nr;
	if (i >= TIERD_SAMPLE_BATCH)
		i = 0;
	fill(&b->recs[i], root, addr, ctx->regs.ip);
	i++;
	if (i >= sample_batch_len) {
		flush_batch(b, i, st);
		i = 0;
	}
	b->nr = i;
	barrier();
	b->busy = 0;
	return 0;
}

/*
 * Run by tierd on every CPU (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU)
 * before each drain, so a batch that stopped filling reaches tierd within
 * one tick. Never attached.
 */
SEC("raw_tp")
int tierd_sample_flush(void *ctx)
{
	struct tierd_sampler_stats *st;
	struct sample_batch *b;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&sampler_stats, &zero);
	b = bpf_map_lookup_elem(&sample_batch, &zero);
	if (!st || !b || b->busy || !b->nr)
		return 0;
	b->flushing = 1;
	barrier();
	flush_batch(b, b->nr, st);
	b->nr = 0;
	barrier();
	b->flushing = 0;
	return 0;
}
