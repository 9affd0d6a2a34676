/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sampler.h — tierd's side of bpf/sampler.bpf.c: hardware memory-access
 * samples (Intel PEBS mem-loads/mem-stores, AMD IBS op) through one perf
 * event per CPU with the BPF program attached; or, for tests and
 * debugging, the software page-fault event on the same path.
 *
 * struct sampler_status is plain data (no libbpf), so tiering.c can show
 * it and the unit tests link without BPF. The PMU probe works on a sysfs
 * directory passed in, so it is tested against fake trees.
 */
#ifndef TIERD_SAMPLER_H
#define TIERD_SAMPLER_H

#ifdef __BPF__
#error "sampler.h is user-space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tierd/events.h"

#define SAMPLER_SYSFS_PMUS "/sys/bus/event_source/devices"
/* Loads (and stores) between two samples: prime, so sampling does not
 * lock step with a loop; about 1 sample per 10 us per busy CPU. */
#define SAMPLER_HW_PERIOD 10007
/* IBS counts ops in units of 16: the period's low 4 bits must be 0. */
#define SAMPLER_IBS_PERIOD (SAMPLER_HW_PERIOD & ~15u)

/* Which event the program is attached to. */
enum sampler_source {
	SAMPLER_SOURCE_HW, /* a PMU's data-address sampling event */
	SAMPLER_SOURCE_SW_PAGE_FAULTS, /* test/debug: PERF_COUNT_SW_PAGE_FAULTS */
};

/* A hardware event with data addresses, found in sysfs. */
struct sampler_hw_event {
	char name[64]; /* "cpu/mem-loads/", "ibs_op//" */
	uint32_t type; /* perf_event_attr.type: the PMU's sysfs "type" */
	uint64_t config, config1, config2;
	uint32_t precise_ip; /* PEBS: 2 (the kernel lowers nothing: tried 3..1) */
	uint64_t period;
};

struct sampler_pmu {
	char pmu[32]; /* "cpu", "cpu_core" or "ibs_op" */
	char cpus[256]; /* the PMU's "cpus" list (hybrid CPUs), "" = every CPU */
	unsigned nr_events;
	struct sampler_hw_event events[2]; /* loads, and stores where offered */
};

/* What status shows; kept by tierd, read by tiering.c. */
struct sampler_status {
	bool verified; /* the kernel verified tierd_sample (kept after unloading) */
	bool running; /* attached to its event on at least one CPU */
	bool hardware; /* a PMU event; false: the software test lane */
	char event[160]; /* what it is attached to, with the period */
	char why[512]; /* not running: why; running: "" */
	int nr_cpus; /* CPUs with an event attached */
	uint64_t samples; /* samples of attached cgroups (BPF, exact) */
	uint64_t records_received; /* sample records that reached tierd */
	uint64_t records_dropped; /* lost to a full ring (BPF, exact) */
	uint64_t unattached; /* samples of tasks in no attached cgroup */
	uint64_t no_addr; /* samples without a user data address */
};

/*
 * Find a PMU with data-address sampling under DEVICES_DIR (normally
 * SAMPLER_SYSFS_PMUS): <pmu>/events/mem-loads (and mem-stores) of "cpu" or
 * "cpu_core" (Intel PEBS), else "ibs_op" (AMD IBS). Returns 0, or -ENODEV
 * with a sentence in WHY naming what is missing.
 */
int sampler_find_pmu(const char *devices_dir, struct sampler_pmu *pmu, char *why, size_t why_size);

/*
 * Encode SPEC ("event=0xcd,umask=0x1,ldlat=3": a sysfs events/ file) into
 * CONFIG[0..2] (config, config1, config2) by the PMU's format/ files under
 * PMU_DIR ("config:0-7", "config1:0-15", "config:0-7,32-35"). A term
 * without a value is 1. Returns 0 or -EINVAL (unknown term, bad format).
 */
int sampler_encode_event(const char *pmu_dir, const char *spec, uint64_t config[3]);

/* "0-3,8,10-11" -> is CPU in it? An empty list holds every CPU. */
bool sampler_cpulist_has(const char *list, int cpu);

struct tierd_sampler;

/* Called for every sample record (struct tierd_sample_rec) drained. */
typedef void (*sampler_rec_fn)(void *ctx, const struct tierd_rec_hdr *rec, size_t size);

struct sampler_opts {
	enum sampler_source source;
	const char *pin_root; /* the observer's: its "attached" map is shared */
	const char *devices_dir; /* SAMPLER_SYSFS_PMUS; tests may pass a fake */
	sampler_rec_fn on_record;
	void *ctx;
};

/*
 * Load tierd_sample (always: the kernel verifies it before anything else
 * is decided), then find the event and attach on every online CPU. On
 * failure nothing stays loaded, ST->why and ERR say why, and the return is
 * -ENODEV (no PMU with data addresses), -EOPNOTSUPP (the kernel refused
 * the event) or another -errno. ST stays valid for status either way.
 */
int sampler_open(const struct sampler_opts *o, struct sampler_status *st,
		 struct tierd_sampler **out, char *err, size_t err_size);
void sampler_close(struct tierd_sampler *s);
/* Flush the CPUs' batches, hand every record to on_record, refresh ST's
 * counters. Returns records drained or -errno. */
int sampler_drain(struct tierd_sampler *s);

#endif /* TIERD_SAMPLER_H */
