/* SPDX-License-Identifier: GPL-2.0 */
/*
 * observer.h — tierd's side of bpf/observer.bpf.c: load the programs once,
 * pin them, attach and detach cgroups with map updates, drain the ring
 * buffer on tierd's timer and read the per-cgroup counters.
 */
#ifndef TIERD_OBSERVER_H
#define TIERD_OBSERVER_H

#ifdef __BPF__
#error "observer.h is user-space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tierd/events.h"
#include "topology.h"

/* Called for every record drained from the ring (struct tierd_*_rec). */
typedef void (*observer_rec_fn)(void *ctx, const struct tierd_rec_hdr *rec, size_t size);

struct observer_opts {
	const char *pin_root; /* e.g. /sys/fs/bpf/tierd */
	uint32_t sample_every; /* record 1 fault in N; 1 = all */
	bool verbose;
	observer_rec_fn on_record;
	void *ctx;
};

#define OBSERVER_NR_PROGS 4

struct observer_prog_state {
	const char *name;
	const char *what; /* "user page faults", ... */
	bool attached;
	char reason[192]; /* why not attached, or how it is attached */
};

struct tierd_observer;

/* Load, pin and attach; err gets a sentence on failure. Returns 0/-errno. */
int observer_open(const struct observer_opts *o, const struct node_ranks *ranks,
		  struct tierd_observer **out, char *err, size_t err_size);
/* Detach the programs, unpin what was pinned, free. */
void observer_close(struct tierd_observer *ob);

int observer_watch(struct tierd_observer *ob, uint64_t cgroup_id);
int observer_unwatch(struct tierd_observer *ob, uint64_t cgroup_id);
int observer_read_stats(struct tierd_observer *ob, uint64_t cgroup_id,
			struct tierd_cgroup_stats *st);
/* Hand every record in the ring to on_record; returns how many, or -errno. */
int observer_drain(struct tierd_observer *ob);

const struct observer_prog_state *observer_programs(struct tierd_observer *ob, int *nr);
uint64_t observer_records_dropped(struct tierd_observer *ob);
uint64_t observer_migrate_unattributed(struct tierd_observer *ob);
uint64_t observer_records_received(struct tierd_observer *ob);
uint64_t observer_fault_records_received(struct tierd_observer *ob);
/* A sentence for status when migrations cannot be attributed, else NULL. */
const char *observer_migration_note(struct tierd_observer *ob);

#endif /* TIERD_OBSERVER_H */
