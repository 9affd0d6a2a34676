// SPDX-License-Identifier: GPL-2.0
/*
 * sampler.c — loads bpf/sampler.bpf.c and attaches it to one perf event
 * per online CPU: a hardware event that samples data addresses (Intel
 * PEBS mem-loads and mem-stores, AMD IBS op) or, on request, the software
 * page-fault event (a test/debug lane for machines without a PMU).
 *
 * Why it is shaped this way:
 *  - The program is loaded, and so verified by the kernel, before the PMU
 *    is looked for. On a machine without one (a VM, a CPU without PEBS or
 *    IBS) tierd then refuses with a sentence naming the missing sysfs
 *    entries, and the log shows that the program itself was good: the
 *    user knows the fix is hardware, not tierd.
 *  - The PMU is found through sysfs, as perf(1) does: the events/ file of
 *    mem-loads gives the encoding, the format/ files say which config bits
 *    each term fills. No table of CPU models to keep current. The sysfs
 *    directory is a parameter so the probe is unit-tested on fake trees.
 *  - The cgroup filter is the observer's "attached" map, shared by fd
 *    (bpf_map__reuse_fd on its pin), so tierctl attach needs nothing here.
 *  - Records leave the kernel in per-CPU batches through their own ring
 *    ("samples"); tierd drains it on the observer's timer, flushing every
 *    CPU's partial batch first (tierd_sample_flush), and hands each record
 *    to the same callback as the observer's records.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sampler.skel.h"
#include "sampler.h"
#include "log.h"

#define MAX_CPUS 1024

struct tierd_sampler {
	struct sampler_opts opts;
	struct sampler_status *st;
	struct sampler *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int nr_links;
	int nr_possible_cpus;
	bool batching;
};

/* --- sysfs probe (pure: files only) -------------------------------------- */

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, size, f)) {
		fclose(f);
		buf[0] = 0;
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

bool sampler_cpulist_has(const char *list, int cpu)
{
	const char *p = list;

	if (!list || !*list)
		return true;
	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi;

		if (end == p)
			return false;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p)
				return false;
		}
		if (cpu >= lo && cpu <= hi)
			return true;
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return false;
		else
			break;
	}
	return false;
}

/*
 * Put VALUE into the bits that FORMAT ("config1:0-15", "config:0-7,32-35",
 * "config:21") names, lowest value bit first.
 */
static int put_bits(const char *format, uint64_t value, uint64_t config[3])
{
	const char *colon = strchr(format, ':'), *p;
	uint64_t *word;
	unsigned used = 0;

	if (!colon)
		return -EINVAL;
	if (!strncmp(format, "config:", 7))
		word = &config[0];
	else if (!strncmp(format, "config1:", 8))
		word = &config[1];
	else if (!strncmp(format, "config2:", 8))
		word = &config[2];
	else
		return -EINVAL;
	for (p = colon + 1; *p;) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi, b;

		if (end == p || lo > 63)
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi > 63 || hi < lo)
				return -EINVAL;
		}
		for (b = lo; b <= hi; b++, used++)
			if (used < 64 && (value >> used) & 1)
				*word |= 1ull << b;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (used < 64 && value >> used)
		return -EINVAL; /* the value does not fit the field */
	return 0;
}

int sampler_encode_event(const char *pmu_dir, const char *spec, uint64_t config[3])
{
	char copy[256], path[PATH_MAX], format[128], *save = NULL, *term;

	config[0] = config[1] = config[2] = 0;
	if (snprintf(copy, sizeof(copy), "%s", spec) >= (int)sizeof(copy))
		return -EINVAL;
	for (term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(term, '='), *end;
		uint64_t value = 1;

		if (eq) {
			*eq = 0;
			errno = 0;
			value = strtoull(eq + 1, &end, 0);
			if (errno || end == eq + 1 || *end)
				return -EINVAL;
		}
		if (!*term || strchr(term, '/'))
			return -EINVAL;
		snprintf(path, sizeof(path), "%s/format/%s", pmu_dir, term);
		if (read_line(path, format, sizeof(format)) < 0)
			return -EINVAL;
		if (put_bits(format, value, config) < 0)
			return -EINVAL;
	}
	return 0;
}

static int add_event(struct sampler_pmu *pmu, const char *pmu_dir, uint32_t type, const char *event)
{
	struct sampler_hw_event *e = &pmu->events[pmu->nr_events];
	char path[PATH_MAX], spec[256], pmu_name[sizeof(pmu->pmu)];
	uint64_t config[3];

	snprintf(path, sizeof(path), "%s/events/%s", pmu_dir, event);
	if (read_line(path, spec, sizeof(spec)) < 0)
		return -ENOENT;
	if (sampler_encode_event(pmu_dir, spec, config) < 0) {
		log_warn("cannot encode %s (\"%s\") by %s/format", path, spec, pmu_dir);
		return -EINVAL;
	}
	memcpy(pmu_name, pmu->pmu, sizeof(pmu_name));
	snprintf(e->name, sizeof(e->name), "%s/%s/", pmu_name, event);
	e->type = type;
	e->config = config[0];
	e->config1 = config[1];
	e->config2 = config[2];
	e->precise_ip = 3;
	e->period = SAMPLER_HW_PERIOD;
	pmu->nr_events++;
	return 0;
}

int sampler_find_pmu(const char *devices_dir, struct sampler_pmu *pmu, char *why, size_t why_size)
{
	static const char *const pebs_pmus[] = { "cpu", "cpu_core" };
	char dir[PATH_MAX], path[PATH_MAX + 16], line[64];
	unsigned i;

	memset(pmu, 0, sizeof(*pmu));
	for (i = 0; i < sizeof(pebs_pmus) / sizeof(pebs_pmus[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", devices_dir, pebs_pmus[i]);
		snprintf(path, sizeof(path), "%s/type", dir);
		if (read_line(path, line, sizeof(line)) < 0)
			continue;
		snprintf(pmu->pmu, sizeof(pmu->pmu), "%s", pebs_pmus[i]);
		if (add_event(pmu, dir, strtoul(line, NULL, 0), "mem-loads") < 0) {
			pmu->nr_events = 0;
			continue;
		}
		add_event(pmu, dir, strtoul(line, NULL, 0), "mem-stores");
		snprintf(path, sizeof(path), "%s/cpus", dir);
		if (read_line(path, pmu->cpus, sizeof(pmu->cpus)) < 0)
			pmu->cpus[0] = 0;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/ibs_op", devices_dir);
	snprintf(path, sizeof(path), "%s/type", dir);
	if (read_line(path, line, sizeof(line)) == 0) {
		struct sampler_hw_event *e = &pmu->events[0];

		snprintf(pmu->pmu, sizeof(pmu->pmu), "ibs_op");
		snprintf(e->name, sizeof(e->name), "ibs_op//");
		e->type = strtoul(line, NULL, 0);
		e->period = SAMPLER_IBS_PERIOD;
		pmu->nr_events = 1;
		return 0;
	}
	memset(pmu, 0, sizeof(*pmu));
	snprintf(why, why_size,
		 "no hardware memory sampling PMU: %s/cpu/events/mem-loads and %s/ibs_op are "
		 "absent (a VM or a CPU without PEBS/IBS)",
		 devices_dir, devices_dir);
	return -ENODEV;
}

/* --- the BPF side -------------------------------------------------------- */

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct tierd_sampler *s = ctx;
	const char *p = data;

	while (size >= sizeof(struct tierd_sample_rec)) {
		const struct tierd_rec_hdr *h = (const void *)p;

		if (h->type != TIERD_REC_SAMPLE)
			break;
		s->st->records_received++;
		if (s->opts.on_record)
			s->opts.on_record(s->opts.ctx, h, sizeof(struct tierd_sample_rec));
		p += sizeof(struct tierd_sample_rec);
		size -= sizeof(struct tierd_sample_rec);
	}
	return 0;
}

static int flush_batches(struct tierd_sampler *s)
{
	int fd = bpf_program__fd(s->skel->progs.tierd_sample_flush), cpu, ret = 0;

	for (cpu = 0; cpu < s->nr_possible_cpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);

		if (bpf_prog_test_run_opts(fd, &o) < 0 && errno != ENXIO && ret == 0)
			ret = -errno; /* ENXIO: CPU offline */
	}
	return ret;
}

static void read_counters(struct tierd_sampler *s)
{
	struct tierd_sampler_stats *v, sum = { 0 };
	__u32 zero = 0;
	int i;

	v = calloc(s->nr_possible_cpus, sizeof(*v));
	if (!v)
		return;
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.sampler_stats), &zero, v) == 0) {
		for (i = 0; i < s->nr_possible_cpus; i++) {
			sum.samples += v[i].samples;
			sum.records_dropped += v[i].records_dropped;
			sum.unattached += v[i].unattached;
			sum.no_addr += v[i].no_addr;
		}
		s->st->samples = sum.samples;
		s->st->records_dropped = sum.records_dropped;
		s->st->unattached = sum.unattached;
		s->st->no_addr = sum.no_addr;
	}
	free(v);
}

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Open EV on CPU; PEBS: the highest precise_ip the CPU takes. */
static int open_hw(const struct sampler_hw_event *ev, int cpu)
{
	struct perf_event_attr attr = { 0 };
	int fd, precise = ev->precise_ip;

	attr.size = sizeof(attr);
	attr.type = ev->type;
	attr.config = ev->config;
	attr.config1 = ev->config1;
	attr.config2 = ev->config2;
	attr.sample_period = ev->period;
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_ADDR;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	for (;;) {
		attr.precise_ip = precise;
		fd = perf_event_open(&attr, cpu);
		if (fd >= 0 || precise == 0 || (errno != EINVAL && errno != EOPNOTSUPP))
			break;
		precise--;
	}
	if (fd < 0 && errno == EINVAL) {
		/* Some PMUs (IBS on older kernels) take no privilege filter:
		 * the program drops samples of kernel addresses itself. */
		attr.exclude_kernel = 0;
		fd = perf_event_open(&attr, cpu);
	}
	return fd < 0 ? -errno : fd;
}

static int open_sw_page_faults(int cpu)
{
	struct perf_event_attr attr = { 0 };
	int fd;

	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	attr.sample_period = 1;
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_ADDR;
	attr.exclude_hv = 1;
	fd = perf_event_open(&attr, cpu);
	return fd < 0 ? -errno : fd;
}

static int attach_fd(struct tierd_sampler *s, int fd)
{
	struct bpf_link *l = bpf_program__attach_perf_event(s->skel->progs.tierd_sample, fd);

	if (!l) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	s->links[s->nr_links++] = l; /* the link closes fd when destroyed */
	return 0;
}

/* Attach to the wanted event on every online CPU; -errno if on none. */
static int attach_all(struct tierd_sampler *s, const struct sampler_pmu *pmu, char *err,
		      size_t err_size)
{
	char online[1024] = "";
	int cpu, fd, ret, first_err = 0, first_cpu = -1;
	unsigned e, nr_events = s->opts.source == SAMPLER_SOURCE_HW ? pmu->nr_events : 1;
	const char *what = "";

	if (read_line("/sys/devices/system/cpu/online", online, sizeof(online)) < 0)
		online[0] = 0;
	s->links = calloc((size_t)s->nr_possible_cpus * 2, sizeof(*s->links));
	if (!s->links)
		return -ENOMEM;
	for (cpu = 0; cpu < s->nr_possible_cpus && cpu < MAX_CPUS; cpu++) {
		bool on_cpu = false;

		if (!sampler_cpulist_has(online, cpu))
			continue;
		if (s->opts.source == SAMPLER_SOURCE_HW && !sampler_cpulist_has(pmu->cpus, cpu))
			continue;
		for (e = 0; e < nr_events; e++) {
			if (s->opts.source == SAMPLER_SOURCE_HW) {
				what = pmu->events[e].name;
				fd = open_hw(&pmu->events[e], cpu);
			} else {
				what = "software page-faults";
				fd = open_sw_page_faults(cpu);
			}
			ret = fd < 0 ? fd : attach_fd(s, fd);
			if (ret < 0) {
				if (!first_err) {
					first_err = ret;
					first_cpu = cpu;
				}
				log_debug("sampler: %s on CPU %d: %s", what, cpu, strerror(-ret));
				continue;
			}
			on_cpu = true;
		}
		s->st->nr_cpus += on_cpu;
	}
	if (s->nr_links)
		return 0;
	if (!first_err)
		first_err = -ENODEV;
	snprintf(err, err_size,
		 "cannot open or attach the sampling event %s on any CPU (first: CPU %d: %s)%s",
		 what, first_cpu, strerror(-first_err),
		 first_err == -EACCES || first_err == -EPERM
		     ? ": check /proc/sys/kernel/perf_event_paranoid and CAP_PERFMON"
		     : "");
	return first_err == -ENOENT || first_err == -EINVAL ? -EOPNOTSUPP : first_err;
}

static void destroy(struct tierd_sampler *s)
{
	int i;

	ring_buffer__free(s->rb);
	for (i = 0; i < s->nr_links; i++)
		bpf_link__destroy(s->links[i]);
	free(s->links);
	sampler__destroy(s->skel);
	free(s);
}

static void describe(char *buf, size_t size, const struct tierd_sampler *s,
		     const struct sampler_pmu *pmu)
{
	unsigned e;
	int n;

	if (s->opts.source == SAMPLER_SOURCE_SW_PAGE_FAULTS) {
		snprintf(buf, size, "software page-faults, every fault");
		return;
	}
	n = snprintf(buf, size, "%s", "");
	for (e = 0; e < pmu->nr_events && n < (int)size; e++)
		n += snprintf(buf + n, size - n, "%s%s", e ? " + " : "", pmu->events[e].name);
	if (n < (int)size)
		snprintf(buf + n, size - n, ", 1 in %llu",
			 (unsigned long long)pmu->events[0].period);
}

int sampler_open(const struct sampler_opts *o, struct sampler_status *st,
		 struct tierd_sampler **out, char *err, size_t err_size)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	struct sampler_pmu pmu = { 0 };
	struct tierd_sampler *s;
	char path[PATH_MAX];
	int ret, fd;

	memset(st, 0, sizeof(*st));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *o;
	s->st = st;
	s->nr_possible_cpus = libbpf_num_possible_cpus();
	if (s->nr_possible_cpus <= 0) {
		free(s);
		snprintf(err, err_size, "cannot count the possible CPUs");
		return -EINVAL;
	}
	s->skel = sampler__open();
	if (!s->skel) {
		ret = -errno;
		snprintf(err, err_size, "cannot open the BPF sampler object: %s", strerror(-ret));
		goto out_err;
	}
	if (o->pin_root) {
		snprintf(path, sizeof(path), "%s/attached", o->pin_root);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			ret = -errno;
			snprintf(err, err_size,
				 "cannot open the observer's cgroup map %s: %s (the observer "
				 "must be loaded first)",
				 path, strerror(-ret));
			goto out_err;
		}
		ret = bpf_map__reuse_fd(s->skel->maps.attached, fd);
		close(fd);
		if (ret < 0) {
			snprintf(err, err_size, "cannot share the observer's cgroup map: %s",
				 strerror(-ret));
			goto out_err;
		}
	}
	ret = sampler__load(s->skel);
	if (ret < 0) {
		snprintf(err, err_size,
			 "the kernel refused the BPF sampler tierd_sample: %s (the verifier's "
			 "log is above)",
			 strerror(-ret));
		goto out_err;
	}
	st->verified = true;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(s->skel->progs.tierd_sample), &info,
				   &info_len) == 0)
		log_info("sampler: program tierd_sample loaded: verified by the kernel "
			 "(prog id %u, %u instructions)",
			 info.id, info.xlated_prog_len / 8);
	else
		log_info("sampler: program tierd_sample loaded: verified by the kernel");

	if (o->source == SAMPLER_SOURCE_HW) {
		ret = sampler_find_pmu(o->devices_dir ? o->devices_dir : SAMPLER_SYSFS_PMUS, &pmu,
				       err, err_size);
		if (ret < 0)
			goto out_err;
	}
	describe(st->event, sizeof(st->event), s, &pmu);
	ret = attach_all(s, &pmu, err, err_size);
	if (ret < 0)
		goto out_err;
	st->hardware = o->source == SAMPLER_SOURCE_HW;

	ret = flush_batches(s);
	if (ret == 0) {
		s->batching = true;
	} else {
		s->skel->data->sample_batch_len = 1;
		log_warn("sampler: cannot run tierd_sample_flush (%s): records go out one by one",
			 strerror(-ret));
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), on_ring_record, s, NULL);
	if (!s->rb) {
		ret = -errno;
		snprintf(err, err_size, "cannot open the sampler's ring buffer: %s",
			 strerror(-ret));
		goto out_err;
	}
	st->running = true;
	log_info("sampler: attached to %s on %d CPU(s)", st->event, st->nr_cpus);
	*out = s;
	return 0;

out_err:
	st->running = false;
	st->nr_cpus = 0;
	snprintf(st->why, sizeof(st->why), "%s", err);
	if (s->skel && st->verified)
		log_info("sampler: tierd_sample unloaded: not attached");
	destroy(s);
	return ret;
}

void sampler_close(struct tierd_sampler *s)
{
	if (!s)
		return;
	s->st->running = false;
	destroy(s);
}

int sampler_drain(struct tierd_sampler *s)
{
	int ret;

	if (s->batching)
		flush_batches(s);
	ret = ring_buffer__consume(s->rb);
	read_counters(s);
	return ret;
}
