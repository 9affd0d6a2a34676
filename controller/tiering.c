// SPDX-License-Identifier: GPL-2.0
/*
 * tiering.c — the DRAM <-> CXL loop of tierd (see tiering.h for the round).
 *
 * Why it is shaped this way:
 *  - Heat arrives between rounds (observer records, drained every 25 ms by
 *    main.c) and only adds to per-page records; all the expensive work —
 *    re-reading the processes and their ranges, asking the kernel where
 *    pages are, decaying, planning, moving — happens once per plan
 *    interval, per cgroup, so its cost is bounded by the interval and not
 *    by the event rate.
 *  - Placement is re-read from the kernel every round (move_pages(2) with
 *    nodes = NULL) instead of trusting our own bookkeeping: the kernel
 *    (NUMA balancing, TPP demotion, reclaim, a user's migratepages) moves
 *    pages too, and a plan built on a stale map would fight it.
 *  - Ranges are matched by (pid, start, length): an unchanged range keeps
 *    its heat across rounds; a range that changed shape starts cold, which
 *    is the safe side (cold pages are not promoted).
 *  - After a round that moved pages the next round waits an extra
 *    cool-down, so a burst of moves settles (and its effect shows in the
 *    heat) before the next decision.
 *  - Only the workload's pids are ever passed to move_pages(2); tierd's own
 *    pid is filtered out even when it sits in a managed cgroup (it is
 *    mlockall()ed and must never be demoted by its own plan).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "log.h"
#include "pager_link.h"
#include "placement.h"
#include "sampler.h"
#include "tiering.h"

/* The pagers (pager_link.c sets this in tierd; NULL in the unit tests). */
const struct tiering_pool_hooks *tiering_pool_hooks;

/* Pages per placement query step (scratch: 16 bytes a page; tierd's loop
 * checks its time slice between steps). */
#define TIERING_QUERY_CHUNK 8192

/* --- system ops ----------------------------------------------------------- */

static int add_pid(uint32_t **pids, unsigned *nr, unsigned *cap, uint32_t pid)
{
	if (*nr == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*pids, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*pids = p;
		*cap = ncap;
	}
	(*pids)[(*nr)++] = pid;
	return 0;
}

static int read_procs_rec(const char *dir, uint32_t **pids, unsigned *nr, unsigned *cap, int depth)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	unsigned long v;
	DIR *d;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (ret == 0 && fscanf(f, "%lu", &v) == 1)
		ret = add_pid(pids, nr, cap, (uint32_t)v);
	fclose(f);
	if (ret < 0 || depth >= 32)
		return ret;
	d = opendir(dir);
	if (!d)
		return 0; /* removed meanwhile: what we read is what there was */
	while (ret == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ret = read_procs_rec(path, pids, nr, cap, depth + 1);
		if (ret == -ENOENT)
			ret = 0;
	}
	closedir(d);
	return ret;
}

static int sys_read_pids(void *ctx, const char *path, uint32_t **pids, unsigned *nr)
{
	unsigned cap = 0;

	*pids = NULL;
	*nr = 0;
	return read_procs_rec(path, pids, nr, &cap, 0);
}

static int sys_read_ranges(void *ctx, uint32_t pid, struct tiering_range **out, unsigned *nr)
{
	struct tiering_range *r = NULL, rng;
	unsigned n = 0, cap = 0;
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n')) { /* a long path: skip the rest of the line */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		if (!tiering_maps_parse_line(line, &rng))
			continue;
		if (n == TIERING_MAX_RANGES)
			break;
		if (n == cap) {
			struct tiering_range *p;

			cap = cap ? cap * 2 : 32;
			p = realloc(r, cap * sizeof(*r));
			if (!p) {
				free(r);
				fclose(f);
				return -ENOMEM;
			}
			r = p;
		}
		r[n++] = rng;
	}
	fclose(f);
	*out = r;
	*nr = n;
	return 0;
}

static int sys_query(void *ctx, uint32_t pid, const uint64_t *addrs, size_t n, int *status)
{
	return placement_query(pid, addrs, n, status);
}

static long sys_move(void *ctx, uint32_t pid, const uint64_t *addrs, const int *nodes, size_t n,
		     int *status)
{
	return placement_move(pid, addrs, nodes, n, status);
}

static int sys_read_usage(void *ctx, const char *path, uint64_t *bytes)
{
	char p[PATH_MAX + 32];
	unsigned long long v;
	FILE *f;
	int ret;

	snprintf(p, sizeof(p), "%s/memory.current", path);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	ret = fscanf(f, "%llu", &v) == 1 ? 0 : -EINVAL;
	fclose(f);
	*bytes = v;
	return ret;
}

const struct tiering_ops tiering_sys_ops = {
	.read_pids = sys_read_pids,
	.read_ranges = sys_read_ranges,
	.query = sys_query,
	.move = sys_move,
	.read_usage = sys_read_usage,
};

/* --- pure helpers --------------------------------------------------------- */

bool tiering_maps_parse_line(const char *line, struct tiering_range *out)
{
	unsigned long long start, end, off, inode;
	char perms[8], dev[32];
	int pos = 0;
	const char *name;

	if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &off, dev, &inode,
		   &pos) < 6)
		return false;
	if (strcmp(perms, "rw-p") != 0 || inode != 0)
		return false;
	name = pos ? line + pos : "";
	/* anonymous: no name, the heap, the stack, or a named anon VMA */
	if (*name && *name != '\n' && strncmp(name, "[heap]", 6) && strncmp(name, "[stack]", 7) &&
	    strncmp(name, "[anon:", 6))
		return false;
	/* but never a pager's own tables and buffers: they are not the
	 * workload's memory, and tierd must not move or count them */
	if (!strncmp(name, "[anon:tierd-pager]", 18))
		return false;
	if (end <= start || (start | end) & (HEAT_PAGE_SIZE - 1) ||
	    end - start < TIERING_MIN_RANGE_BYTES)
		return false;
	out->start = start;
	out->end = end;
	return true;
}

static bool range_listed(const struct tiering_range *r, unsigned nr, uint64_t start,
			 uint64_t nr_pages)
{
	for (unsigned i = 0; i < nr; i++)
		if (r[i].start == start && (r[i].end - r[i].start) >> HEAT_PAGE_SHIFT == nr_pages)
			return true;
	return false;
}

int tiering_sync_regions(struct heat_table *t, uint32_t pid, const struct tiering_range *ranges,
			 unsigned nr)
{
	unsigned i;
	int ret;

	/* drop what is not listed any more (the array shifts: restart at i) */
	for (i = 0; i < t->nr_regions;) {
		struct heat_region *r = t->regions[i];

		if (r->pid == pid && !range_listed(ranges, nr, r->start, r->nr_pages))
			heat_region_remove(t, pid, r->start);
		else
			i++;
	}
	for (i = 0; i < nr; i++) {
		uint32_t *rec = heat_lookup(t, pid, ranges[i].start);

		if (rec) /* kept: it was listed with the same shape */
			continue;
		ret = heat_region_add(t, pid, ranges[i].start, ranges[i].end - ranges[i].start);
		if (ret < 0 && ret != -EEXIST && ret != -EINVAL)
			return ret;
	}
	return 0;
}

/* --- setup and policy ----------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * The kernel's NUMA balancing moves pages too: in mode 1 it pulls pages
 * toward the CPUs that touch them (node 0 here), in mode 2 it promotes hot
 * CXL pages itself. Either fights tierd's plan for a managed cgroup
 * (observed in the guest: the DRAM footprint creeps 10-30% over the budget
 * between rounds). tierd does not switch it off — it is the machine's
 * setting — but says so, at start and in status.
 */
static void check_numa_balancing(struct tiering *tg, bool log_change)
{
	int v = -1, old = tg->numa_balancing;
	FILE *f;

	if (!tg->numa_balancing_path)
		return;
	f = fopen(tg->numa_balancing_path, "re");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	tg->numa_balancing = v;
	if (log_change && v > 0 && v != old && tg->has_cxl)
		log_warn("kernel NUMA balancing is on (%s = %d): the kernel also moves the pages "
			 "of managed cgroups, against tierd's budgets; set it to 0 to leave "
			 "placement to tierd",
			 tg->numa_balancing_path, v);
}

static int compute_nodes(struct tiering *tg, const struct policy *p, struct policy_tier_nodes *out)
{
	return policy_tier_nodes(&p->tiers, tg->rank, TIERD_MAX_NODES, out);
}

static enum heat_tier node_tier(const struct tiering *tg, int node)
{
	unsigned i;

	for (i = 0; i < tg->nodes.nr_dram; i++)
		if (tg->nodes.dram[i] == node)
			return HEAT_TIER_DRAM;
	for (i = 0; i < tg->nodes.nr_cxl; i++)
		if (tg->nodes.cxl[i] == node)
			return HEAT_TIER_CXL;
	return HEAT_TIER_UNKNOWN;
}

int tiering_init(struct tiering *tg, const struct tiering_ops *ops, const uint32_t *rank,
		 const char *damon_root, bool damon_prog_attached, bool dry_run, uint64_t now_ms)
{
	int ret;

	memset(tg, 0, sizeof(*tg));
	tg->ops = *ops;
	memcpy(tg->rank, rank, sizeof(tg->rank));
	tg->dry_run = dry_run;
	tg->fault_weight = 1;
	tg->self_pid = getpid();
	policy_init(&tg->policy);
	ret = compute_nodes(tg, &tg->policy, &tg->nodes);
	if (ret < 0) {
		log_err("no DRAM node: %s", tg->nodes.how);
		return ret;
	}
	tg->has_cxl = tg->nodes.nr_cxl > 0;
	tg->damon_prog_attached = damon_prog_attached;
	tg->numa_balancing = -1;
	if (damon_root) {
		damon_probe(&tg->damon, damon_root, NULL, DAMON_OWNER_FILE);
		tg->numa_balancing_path = "/proc/sys/kernel/numa_balancing";
		check_numa_balancing(tg, true);
	} else
		snprintf(tg->damon.why, sizeof(tg->damon.why), "DAMON not used (tests)");
	return 0;
}

static void cg_free(struct tiering_cg *cg)
{
	heat_table_free(&cg->heat);
	free(cg->pids);
	free(cg);
}

void tiering_free(struct tiering *tg)
{
	unsigned i;

	damon_release(&tg->damon);
	for (i = 0; i < tg->nr_cgs; i++)
		cg_free(tg->cgs[i]);
	free(tg->cgs);
	free(tg->addrs);
	free(tg->nodes_buf);
	free(tg->status);
	free(tg->moves);
	policy_free(&tg->policy);
}

static void log_nodes(const struct tiering *tg)
{
	char d[128] = "", c[128] = "";
	size_t o = 0;
	unsigned i;

	for (i = 0; i < tg->nodes.nr_dram && o < sizeof(d); i++)
		o += snprintf(d + o, sizeof(d) - o, "%s%d", i ? "," : "", tg->nodes.dram[i]);
	for (i = 0, o = 0; i < tg->nodes.nr_cxl && o < sizeof(c); i++)
		o += snprintf(c + o, sizeof(c) - o, "%s%d", i ? "," : "", tg->nodes.cxl[i]);
	log_info("tiers: DRAM node(s) %s, CXL node(s) %s (%s)", d[0] ? d : "none",
		 c[0] ? c : "none", tg->nodes.how);
}

int tiering_load_policy(struct tiering *tg, const char *file, uint64_t now_ms)
{
	struct policy_tier_nodes nodes;
	struct policy_diag diag;
	struct policy np;
	char buf[800];
	unsigned i;
	int ret;

	policy_init(&np);
	memset(&diag, 0, sizeof(diag));
	ret = policy_load_file(file, &np, &diag);
	if (ret < 0) {
		for (i = 0; i < diag.nr; i++)
			log_err("policy %s", policy_error_format(&diag, i, buf, sizeof(buf)));
		if (diag.nr_lost)
			log_err("policy %s: %u more error(s)", file, diag.nr_lost);
		if (!diag.nr)
			log_err("policy %s: %s", file, strerror(-ret));
		policy_free(&np);
		log_err("policy %s refused; the policy in force stays (%s)", file,
			tg->policy_file[0] ? tg->policy_file : "the defaults");
		return ret;
	}
	ret = compute_nodes(tg, &np, &nodes);
	if (ret < 0) {
		log_err("policy %s: tiers: %s; refused, the policy in force stays", file,
			nodes.how);
		policy_free(&np);
		return ret;
	}
	policy_free(&tg->policy);
	tg->policy = np;
	tg->nodes = nodes;
	tg->has_cxl = nodes.nr_cxl > 0;
	snprintf(tg->policy_file, sizeof(tg->policy_file), "%s", file);
	tg->policy_loads++;
	for (i = 0; i < tg->nr_cgs; i++) {
		heat_decay(&tg->cgs[i]->heat, now_ms); /* at the old half-life up to now */
		tg->cgs[i]->heat.half_life_ms = np.heat.half_life_ms;
	}
	log_info("policy %s in force: %u cgroup(s), round every %u ms, half-life %u ms, "
		 "promote <= %u MiB/s, demote <= %u MiB/s, cool-down %u ms, hysteresis %u%%",
		 file, np.nr_cgroups, np.moves.interval_ms, np.heat.half_life_ms,
		 np.moves.max_promote_mb_s, np.moves.max_demote_mb_s, np.moves.cooldown_ms,
		 np.moves.hysteresis_pct);
	log_nodes(tg);
	return 0;
}

struct tiering_cg *tiering_find(struct tiering *tg, uint64_t id)
{
	for (unsigned i = 0; i < tg->nr_cgs; i++)
		if (tg->cgs[i]->id == id)
			return tg->cgs[i];
	return NULL;
}

int tiering_manage(struct tiering *tg, uint64_t id, const char *path,
		   const struct policy_size *dram, const struct policy_size *cxl, bool pool,
		   bool from_policy, uint64_t now_ms)
{
	struct tiering_cg *cg = tiering_find(tg, id), **p;
	char d[32], c[32];
	int ret;

	if (!cg) {
		p = realloc(tg->cgs, (tg->nr_cgs + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		tg->cgs = p;
		cg = calloc(1, sizeof(*cg));
		if (!cg)
			return -ENOMEM;
		ret = heat_table_init(&cg->heat, tg->policy.heat.half_life_ms, now_ms);
		if (ret < 0) {
			free(cg);
			return ret;
		}
		cg->id = id;
		cg->next_round_ms = now_ms; /* first round at the next tick */
		cg->prev_rate_ms = now_ms;
		/* the baseline of the rates: nothing moved yet; the kernel's
		 * counters are unknown (UINT64_MAX: no kernel rate from it) */
		cg->rate_samples[0] = (struct tiering_rate_sample){ .ms = now_ms,
								    .k_promotions = UINT64_MAX,
								    .k_demotions = UINT64_MAX };
		cg->rate_head = 1;
		cg->nr_rate_samples = 1;
		tg->cgs[tg->nr_cgs++] = cg;
	}
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	cg->dram = *dram;
	cg->cxl = *cxl;
	cg->pool = pool;
	cg->from_policy = from_policy;
	log_info("managing %s: DRAM budget %s, CXL budget %s%s%s", path,
		 policy_size_format(dram, d, sizeof(d)), policy_size_format(cxl, c, sizeof(c)),
		 pool ? ", pool requested (used while a pager of the cgroup is connected)" : "",
		 tg->dry_run ? " (dry run: plans are logged, nothing moves)" : "");
	return 0;
}

void tiering_unmanage(struct tiering *tg, uint64_t id)
{
	for (unsigned i = 0; i < tg->nr_cgs; i++) {
		if (tg->cgs[i]->id != id)
			continue;
		log_info("no longer managing %s", tg->cgs[i]->path);
		cg_free(tg->cgs[i]);
		memmove(&tg->cgs[i], &tg->cgs[i + 1], (tg->nr_cgs - i - 1) * sizeof(*tg->cgs));
		tg->nr_cgs--;
		return;
	}
}

/* --- heat ----------------------------------------------------------------- */

static bool perf_running(const struct tiering *tg)
{
	return tg->perf && tg->perf->running;
}

enum tiering_sampler tiering_sampler(const struct tiering *tg)
{
	enum policy_sampler s = tg->policy.heat.sampler;

	if ((s == POLICY_SAMPLER_AUTO || s == POLICY_SAMPLER_PEBS) && perf_running(tg))
		return TIERING_SAMPLER_PEBS;
	if ((s == POLICY_SAMPLER_AUTO || s == POLICY_SAMPLER_DAMON) && tg->damon.available &&
	    tg->damon_prog_attached)
		return TIERING_SAMPLER_DAMON;
	return TIERING_SAMPLER_FAULTS;
}

const char *tiering_sampler_name(const struct tiering *tg)
{
	switch (tiering_sampler(tg)) {
	case TIERING_SAMPLER_PEBS:
		return "pebs";
	case TIERING_SAMPLER_DAMON:
		return "damon";
	default:
		return "faults";
	}
}

/* Why not DAMON (or why DAMON), for "auto" and "damon". */
static const char *damon_why(const struct tiering *tg)
{
	if (!tg->damon_prog_attached)
		return "the observer's damon_aggregated program is not attached (no DAMON "
		       "tracepoint in this kernel): page faults only";
	return tg->damon.why;
}

const char *tiering_sampler_why(const struct tiering *tg)
{
	/* tierd is one thread, and status copies the text at once. */
	static char buf[1280];
	enum policy_sampler s = tg->policy.heat.sampler;

	if (tiering_sampler(tg) == TIERING_SAMPLER_PEBS) {
		snprintf(buf, sizeof(buf), "%s: %s",
			 tg->perf->hardware ? "hardware memory samples"
					    : "software stand-in for PEBS/IBS "
					      "(tierd --sampler-event sw-page-faults, for tests)",
			 tg->perf->event);
		return buf;
	}
	if (s == POLICY_SAMPLER_PEBS) {
		snprintf(buf, sizeof(buf),
			 "the policy asks for pebs, which is not running (%s): "
			 "page faults only",
			 tg->perf && tg->perf->why[0] ? tg->perf->why : "not loaded");
		return buf;
	}
	if (s == POLICY_SAMPLER_FAULTS)
		return "the policy asks for page faults only";
	if (s == POLICY_SAMPLER_HINT)
		return "the policy's sampler (hint) needs the pager, which tierd does not drive "
		       "yet: page faults only";
	if (s == POLICY_SAMPLER_AUTO && tg->perf && tg->perf->why[0]) {
		snprintf(buf, sizeof(buf), "not pebs: %s; %s", tg->perf->why, damon_why(tg));
		return buf;
	}
	return damon_why(tg);
}

/* The perf_event sampler's state for status ("perf_sampler"). */
static struct json_object *sampler_status_json(const struct sampler_status *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "verified", json_object_new_boolean(st->verified));
	json_object_object_add(o, "running", json_object_new_boolean(st->running));
	json_object_object_add(o, "hardware", json_object_new_boolean(st->hardware));
	json_object_object_add(o, "event", json_object_new_string(st->event));
	json_object_object_add(o, "why", json_object_new_string(st->why));
	json_object_object_add(o, "cpus", json_object_new_int(st->nr_cpus));
	json_object_object_add(o, "samples", json_object_new_uint64(st->samples));
	json_object_object_add(o, "records_received", json_object_new_uint64(st->records_received));
	json_object_object_add(o, "records_dropped", json_object_new_uint64(st->records_dropped));
	json_object_object_add(o, "unattached", json_object_new_uint64(st->unattached));
	json_object_object_add(o, "no_addr", json_object_new_uint64(st->no_addr));
	return o;
}

void tiering_on_record(struct tiering *tg, const struct tierd_rec_hdr *h, size_t size)
{
	struct tiering_cg *cg;
	uint32_t pid;

	if (h->type == TIERD_REC_FAULT && size >= sizeof(struct tierd_fault_rec)) {
		const struct tierd_fault_rec *r = (const void *)h;

		cg = tiering_find(tg, r->cgroup_id);
		if (cg && heat_record(&cg->heat, r->pid, r->address & ~(HEAT_PAGE_SIZE - 1),
				      tg->fault_weight) == 0)
			cg->fault_samples++;
	} else if (h->type == TIERD_REC_DAMON && size >= sizeof(struct tierd_damon_rec)) {
		const struct tierd_damon_rec *r = (const void *)h;

		if (tiering_sampler(tg) != TIERING_SAMPLER_DAMON ||
		    damon_target_pid(&tg->damon, r->target_id, h->ts_ns, &pid) < 0 ||
		    !r->nr_accesses)
			return;
		for (unsigned i = 0; i < tg->nr_cgs; i++)
			tg->cgs[i]->damon_pages += heat_record_range(
			    &tg->cgs[i]->heat, pid, r->start, r->end, r->nr_accesses);
	} else if (h->type == TIERD_REC_SAMPLE && size >= sizeof(struct tierd_sample_rec)) {
		/* one sampled load/store (sampler.c): one access, like a fault */
		const struct tierd_sample_rec *r = (const void *)h;

		cg = tiering_find(tg, r->cgroup_id);
		if (!cg)
			return;
		cg->perf_samples++;
		heat_record(&cg->heat, r->pid, r->addr & ~(HEAT_PAGE_SIZE - 1), 1);
	}
}

/* --- one round ------------------------------------------------------------ */

static int scratch_reserve(struct tiering *tg, size_t n)
{
	uint64_t *a;
	int *s, *d;

	if (n <= tg->scratch_cap)
		return 0;
	a = realloc(tg->addrs, n * sizeof(*a));
	if (a)
		tg->addrs = a;
	s = realloc(tg->status, n * sizeof(*s));
	if (s)
		tg->status = s;
	d = realloc(tg->nodes_buf, n * sizeof(*d));
	if (d)
		tg->nodes_buf = d;
	if (!a || !s || !d)
		return -ENOMEM;
	tg->scratch_cap = n;
	return 0;
}

static bool pid_listed(const uint32_t *pids, unsigned nr, uint32_t pid)
{
	for (unsigned i = 0; i < nr; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Processes and ranges: make the heat table match the cgroup now. */
static int refresh_regions(struct tiering *tg, struct tiering_cg *cg)
{
	uint32_t *pids = NULL;
	unsigned nr = 0, i, k;
	int ret;

	ret = tg->ops.read_pids(tg->ops.ctx, cg->path, &pids, &nr);
	if (ret < 0) {
		free(pids);
		return ret;
	}
	for (i = 0, k = 0; i < nr; i++) /* never ourselves */
		if (pids[i] != tg->self_pid)
			pids[k++] = pids[i];
	nr = k;
	/* processes that left the cgroup (or exited) */
	for (i = 0; i < cg->heat.nr_regions;) {
		uint32_t pid = cg->heat.regions[i]->pid;

		if (!pid_listed(pids, nr, pid))
			heat_forget_pid(&cg->heat, pid);
		else
			i++;
	}
	for (i = 0; i < nr; i++) {
		struct tiering_range *r = NULL;
		unsigned nr_r = 0;

		ret = tg->ops.read_ranges(tg->ops.ctx, pids[i], &r, &nr_r);
		if (ret < 0) { /* exited meanwhile: forget it */
			heat_forget_pid(&cg->heat, pids[i]);
			continue;
		}
		ret = tiering_sync_regions(&cg->heat, pids[i], r, nr_r);
		free(r);
		if (ret < 0) {
			free(pids);
			return ret;
		}
	}
	free(cg->pids);
	cg->pids = pids;
	cg->nr_pids = nr;
	return 0;
}

/*
 * Ask the kernel where every tracked page is; write it into the records.
 * From where the last call stopped (cg->q_region, cg->q_first) until
 * DEADLINE_NS (0: to the end). Returns 1 while pages remain, 0 when done
 * (cg->nr_on_tier and nr_not_present are then this query's), or -errno.
 */
static int refresh_placement(struct tiering *tg, struct tiering_cg *cg, uint64_t deadline_ns)
{
	uint64_t p, n;
	int ret;

	if (cg->q_region == 0 && cg->q_first == 0) {
		memset(cg->q_on_tier, 0, sizeof(cg->q_on_tier));
		cg->q_not_present = 0;
	}
	/* in chunks: the scratch stays small however big a region is */
	ret = scratch_reserve(tg, TIERING_QUERY_CHUNK);
	if (ret < 0)
		return ret;
	for (; cg->q_region < cg->heat.nr_regions; cg->q_region++, cg->q_first = 0) {
		struct heat_region *r = cg->heat.regions[cg->q_region];

		for (; cg->q_first < r->nr_pages; cg->q_first += n) {
			uint64_t first = cg->q_first;

			if (deadline_ns && mono_ns() >= deadline_ns)
				return 1;
			n = r->nr_pages - first < TIERING_QUERY_CHUNK ? r->nr_pages - first
								      : TIERING_QUERY_CHUNK;
			for (p = 0; p < n; p++)
				tg->addrs[p] = r->start + ((first + p) << HEAT_PAGE_SHIFT);
			ret = tg->ops.query(tg->ops.ctx, r->pid, tg->addrs, n, tg->status);
			for (p = 0; p < n; p++) {
				int st = ret < 0 ? ret : tg->status[p];
				enum heat_tier tier =
				    st >= 0 ? node_tier(tg, st) : HEAT_TIER_UNKNOWN;
				uint32_t *rec = &r->recs[first + p];

				/* not present, and its pager says: in the pool */
				if (st < 0 && tiering_pool_hooks &&
				    tiering_pool_hooks->in_pool(r->pid, tg->addrs[p]))
					tier = HEAT_TIER_POOL;

				*rec =
				    (*rec & ~HEAT_TIER_MASK) | ((uint32_t)tier << HEAT_TIER_SHIFT);
				if (tier == HEAT_TIER_POOL)
					cg->q_on_tier[tier]++;
				else if (st < 0)
					cg->q_not_present++;
				else
					cg->q_on_tier[tier]++;
			}
		}
	}
	cg->q_region = 0;
	cg->q_first = 0;
	memcpy(cg->nr_on_tier, cg->q_on_tier, sizeof(cg->nr_on_tier));
	cg->nr_not_present = cg->q_not_present;
	return 0;
}

static int target_node(const struct tiering *tg, uint8_t to)
{
	if (to == HEAT_TIER_DRAM && tg->nodes.nr_dram)
		return tg->nodes.dram[0];
	if (to == HEAT_TIER_CXL && tg->nodes.nr_cxl)
		return tg->nodes.cxl[0];
	return -1; /* the pool: the pager's business, not move_pages(2)'s */
}

/*
 * Why a move failed, counted per round for the log line (move_pages(2)'s
 * per-page status: -ENOENT the page is not present any more (evicted or
 * unmapped meanwhile), -EBUSY/-EAGAIN it was pinned or locked (a pager
 * copying it out, I/O), -ENOMEM the target node is full, a node number:
 * the kernel left it where it was).
 */
static void note_failure(struct tiering_cg *cg, int st)
{
	enum tiering_fail f;

	switch (st) {
	case -ENOENT:
		f = TIERING_FAIL_NOT_PRESENT;
		break;
	case -EBUSY:
	case -EAGAIN:
		f = TIERING_FAIL_BUSY;
		break;
	case -ENOMEM:
		f = TIERING_FAIL_NOMEM;
		break;
	case -ESRCH:
		f = TIERING_FAIL_GONE;
		break;
	case -ENOTCONN:
		f = TIERING_FAIL_POOL;
		break;
	default:
		f = st >= 0 ? TIERING_FAIL_STAYED : TIERING_FAIL_OTHER;
	}
	cg->round_fail[f]++;
	cg->fail[f]++;
}

static const char *const fail_names[TIERING_NR_FAIL] = {
	[TIERING_FAIL_NOT_PRESENT] = "not present",
	[TIERING_FAIL_BUSY] = "busy",
	[TIERING_FAIL_NOMEM] = "node full",
	[TIERING_FAIL_STAYED] = "left on its node",
	[TIERING_FAIL_GONE] = "process gone",
	[TIERING_FAIL_POOL] = "no pager",
	[TIERING_FAIL_OTHER] = "other",
};

/* A page moved FROM -> TO: the per-tier counts of status follow. */
static void count_move(struct tiering_cg *cg, uint8_t from, uint8_t to)
{
	if (from < HEAT_NR_TIERS && cg->nr_on_tier[from])
		cg->nr_on_tier[from]--;
	if (to < HEAT_NR_TIERS)
		cg->nr_on_tier[to]++;
}

/*
 * Execute the head of the move list: one move_pages(2) batch (one pid, at
 * most PLACEMENT_BATCH pages). Returns the moves it consumed.
 */
static size_t execute(struct tiering *tg, struct tiering_cg *cg, const struct plan_move *mv,
		      size_t nr, uint64_t *ok_promote, uint64_t *ok_demote, uint64_t *failed)
{
	size_t i = 0, j, n;

	if (i < nr) {
		uint32_t pid = mv[i].pid;

		for (n = 0; i + n < nr && n < PLACEMENT_BATCH && mv[i + n].pid == pid; n++) {
			tg->addrs[n] = mv[i + n].addr;
			tg->nodes_buf[n] = target_node(tg, mv[i + n].to);
		}
		/* pool moves (node -1) went to the pagers (execute_pool) */
		for (j = 0; j < n; j++)
			tg->status[j] = -ENODEV;
		{
			size_t k = 0;

			for (j = 0; j < n; j++) {
				if (tg->nodes_buf[j] < 0)
					continue;
				tg->addrs[k] = tg->addrs[j];
				tg->nodes_buf[k] = tg->nodes_buf[j];
				k++;
			}
			if (k && tg->ops.move(tg->ops.ctx, pid, tg->addrs, tg->nodes_buf, k,
					      tg->status) < 0) {
				for (j = 0; j < k; j++)
					tg->status[j] = -ESRCH;
			}
			for (j = 0, k = 0; j < n; j++) {
				const struct plan_move *m = &mv[i + j];
				int st;

				if (target_node(tg, m->to) < 0) {
					(*failed)++;
					note_failure(cg, -ENODEV);
					continue;
				}
				st = tg->status[k++];
				if (st == target_node(tg, m->to)) {
					heat_set_tier(&cg->heat, pid, m->addr,
						      (enum heat_tier)m->to);
					count_move(cg, m->from, m->to);
					if (m->to < m->from)
						(*ok_promote)++;
					else
						(*ok_demote)++;
				} else {
					(*failed)++;
					note_failure(cg, st);
					heat_set_tier(&cg->heat, pid, m->addr,
						      st >= 0 ? node_tier(tg, st)
							      : HEAT_TIER_UNKNOWN);
				}
			}
		}
		i += n;
	}
	return i;
}

static double heat_acc(uint32_t raw)
{
	return raw == PLAN_NONE ? -1.0 : (double)raw / HEAT_ONE;
}

static void fmt_pages(char *buf, size_t size, uint64_t pages)
{
	if (pages == PLAN_UNLIMITED)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%" PRIu64 " pages (%.1f MiB)", pages,
			 pages * (double)HEAT_PAGE_SIZE / (1 << 20));
}

static void update_rates(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms)
{
	struct tiering_rate_sample now = { .ms = now_ms,
					   .promoted = cg->promoted,
					   .demoted = cg->demoted },
				   *old = NULL, *old_k = NULL;
	struct tierd_cgroup_stats st;
	bool have_k = false;
	unsigned i;
	double dt;

	now.k_promotions = now.k_demotions = UINT64_MAX; /* unknown */
	if (tg->ops.read_stats && tg->ops.read_stats(tg->ops.ctx, cg->id, &st) == 0) {
		now.k_promotions = st.promotions;
		now.k_demotions = st.demotions;
		have_k = true;
	}
	/* the oldest sample still inside the window (at least the newest) */
	for (i = 0; i < cg->nr_rate_samples; i++) {
		struct tiering_rate_sample *s =
		    &cg->rate_samples[(cg->rate_head + TIERING_RATE_SAMPLES - 1 - i) %
				      TIERING_RATE_SAMPLES];

		if (i > 0 && now_ms - s->ms > TIERING_RATE_WINDOW_MS)
			break;
		old = s;
		if (s->k_promotions != UINT64_MAX)
			old_k = s;
	}
	if (old && now_ms > old->ms) {
		dt = (now_ms - old->ms) / 1000.0;
		cg->promote_per_s = (now.promoted - old->promoted) / dt;
		cg->demote_per_s = (now.demoted - old->demoted) / dt;
	}
	if (have_k && old_k && now_ms > old_k->ms && now.k_promotions >= old_k->k_promotions &&
	    now.k_demotions >= old_k->k_demotions) {
		dt = (now_ms - old_k->ms) / 1000.0;
		cg->k_promote_per_s = (now.k_promotions - old_k->k_promotions) / dt;
		cg->k_demote_per_s = (now.k_demotions - old_k->k_demotions) / dt;
	}
	cg->rate_samples[cg->rate_head] = now;
	cg->rate_head = (cg->rate_head + 1) % TIERING_RATE_SAMPLES;
	if (cg->nr_rate_samples < TIERING_RATE_SAMPLES)
		cg->nr_rate_samples++;
	cg->prev_rate_ms = now_ms;
}

/* The cgroup asked for the pool and one of its processes has a pager. */
static bool pool_ready(const struct tiering_cg *cg)
{
	unsigned i;

	if (!cg->pool || !tiering_pool_hooks)
		return false;
	for (i = 0; i < cg->nr_pids; i++)
		if (tiering_pool_hooks->connected(cg->pids[i]))
			return true;
	return false;
}

static int pool_move_cmp(const void *a, const void *b)
{
	const struct plan_move *x = a, *y = b;
	int kx = x->to == HEAT_TIER_POOL, ky = y->to == HEAT_TIER_POOL;

	if (kx != ky)
		return ky - kx; /* evictions first: they make the room */
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The moves to and from the pool go to the pagers as commands (runs of
 * adjacent pages in one command); they leave the list, which keeps the
 * move_pages(2) moves in their order. Returns the moves left.
 */
static size_t execute_pool(struct tiering *tg, struct tiering_cg *cg, struct plan_move *mv,
			   size_t nr, uint64_t *ok_promote, uint64_t *ok_demote, uint64_t *failed)
{
	size_t i, k = 0, np, j;
	struct plan_move *pool;

	for (i = 0; i < nr; i++)
		if (mv[i].to == HEAT_TIER_POOL || mv[i].from == HEAT_TIER_POOL)
			k++;
	if (!k || !tiering_pool_hooks)
		return nr;
	pool = malloc(k * sizeof(*pool));
	if (!pool)
		return nr;
	for (i = 0, np = 0, j = 0; i < nr; i++) {
		if (mv[i].to == HEAT_TIER_POOL || mv[i].from == HEAT_TIER_POOL)
			pool[np++] = mv[i];
		else
			mv[j++] = mv[i];
	}
	qsort(pool, np, sizeof(*pool), pool_move_cmp);
	for (i = 0; i < np;) {
		bool evict = pool[i].to == HEAT_TIER_POOL;
		size_t n = 1;
		int ret;

		while (i + n < np && pool[i + n].pid == pool[i].pid &&
		       (pool[i + n].to == HEAT_TIER_POOL) == evict &&
		       pool[i + n].addr == pool[i].addr + (n << HEAT_PAGE_SHIFT))
			n++;
		if (evict)
			ret = tiering_pool_hooks->evict(pool[i].pid, pool[i].addr,
							n << HEAT_PAGE_SHIFT);
		else /* onto the node of the tier the plan chose (a hot page: DRAM) */
			ret = tiering_pool_hooks->fetch(pool[i].pid, pool[i].addr,
							n << HEAT_PAGE_SHIFT,
							target_node(tg, pool[i].to));
		for (k = i; k < i + n; k++) {
			if (ret == -EAGAIN)
				continue; /* the pager is behind: the next round asks again */
			if (ret < 0) {
				(*failed)++;
				note_failure(cg, ret);
				continue;
			}
			/* sent: assume done; the pager's next report says what is */
			heat_set_tier(&cg->heat, pool[k].pid, pool[k].addr,
				      (enum heat_tier)pool[k].to);
			count_move(cg, pool[k].from, pool[k].to);
			if (evict)
				(*ok_demote)++;
			else
				(*ok_promote)++;
		}
		i += n;
	}
	free(pool);
	return j;
}

/* The round's end: totals, the log line, rates, the next round's time. */
static void round_end(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms)
{
	const struct policy *p = &tg->policy;

	cg->promoted += cg->round_promoted;
	cg->demoted += cg->round_demoted;
	cg->move_failed += cg->round_failed;
	if (cg->plan.nr_moves && !tg->dry_run) {
		char why[256] = "";
		size_t len = 0;

		for (unsigned f = 0; f < TIERING_NR_FAIL && len < sizeof(why); f++)
			if (cg->round_fail[f])
				len += (size_t)snprintf(why + len, sizeof(why) - len,
							"%s%s %" PRIu64, len ? ", " : " (",
							fail_names[f], cg->round_fail[f]);
		if (len && len < sizeof(why) - 1)
			strcat(why, ")");
		log_info("round %s: moved %" PRIu64 " up, %" PRIu64 " down, %" PRIu64
			 " failed%s in %.1f ms; cool-down %u ms",
			 cg->path, cg->round_promoted, cg->round_demoted, cg->round_failed, why,
			 (mono_ns() - cg->round_t0_ns) / 1e6, p->moves.cooldown_ms);
	}
	cg->nr_pending = cg->pending_done = 0;
	update_rates(tg, cg, now_ms);
	cg->next_round_ms = now_ms + p->moves.interval_ms +
			    (cg->plan.nr_moves && !tg->dry_run ? p->moves.cooldown_ms : 0);
}

/*
 * The round's move_pages(2) moves still to make (tg->moves from
 * cg->pending_done on), until DEADLINE_NS (0: all of them); then its end.
 * Returns 1 while moves remain, else 0. Between two slices the main loop
 * serves the control socket and drains the observer: heat only grows
 * meanwhile, and no other round starts (tiering_tick), so the list and
 * the tables it points into stay valid.
 */
static int round_continue(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms,
			  uint64_t deadline_ns)
{
	while (cg->pending_done < cg->nr_pending) {
		cg->pending_done +=
		    execute(tg, cg, tg->moves + cg->pending_done, cg->nr_pending - cg->pending_done,
			    &cg->round_promoted, &cg->round_demoted, &cg->round_failed);
		if (deadline_ns && mono_ns() >= deadline_ns)
			break;
	}
	if (cg->pending_done < cg->nr_pending)
		return 1;
	round_end(tg, cg, now_ms);
	return 0;
}

/*
 * A pager of the cgroup is still making the pool moves of an earlier
 * round: the kernel's placement does not show them yet (a page being
 * evicted is still present), and a plan made now would evict more than
 * the budget needs and fetch the surplus back on the next round.
 */
static bool pool_busy(const struct tiering_cg *cg)
{
	unsigned i;

	if (!cg->pool || !tiering_pool_hooks || !tiering_pool_hooks->busy)
		return false;
	for (i = 0; i < cg->nr_pids; i++)
		if (tiering_pool_hooks->busy(cg->pids[i]))
			return true;
	return false;
}

static int round_plan(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms, bool bounded);
static int round_query(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms, bool bounded);

/*
 * A round: processes and ranges, then the placement query, the plan, the
 * pool's commands and the move_pages(2) moves. BOUNDED (tierd's loop):
 * the query and the moves go in slices of TIERING_SLICE_NS, continued by
 * tiering_tick; else all of it now.
 */
static int round_start(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms, bool bounded)
{
	int ret;

	if (pool_busy(cg)) { /* after its next report (every TIERD_PAGER_REPORT_MS) */
		cg->nr_pool_waits++;
		cg->next_round_ms = now_ms + TIERING_POOL_WAIT_MS;
		return 0;
	}
	cg->nr_rounds++;
	cg->last_round_ms = now_ms;
	cg->round_t0_ns = mono_ns();
	ret = refresh_regions(tg, cg);
	if (ret < 0) {
		if (ret != -ENOENT)
			log_warn("round %s: reading its processes: %s", cg->path, strerror(-ret));
		return ret;
	}
	cg->q_region = 0;
	cg->q_first = 0;
	cg->querying = true;
	return round_query(tg, cg, now_ms, bounded);
}

/* The placement query (a slice of it when BOUNDED), then the plan. */
static int round_query(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms, bool bounded)
{
	int ret = refresh_placement(tg, cg, bounded ? mono_ns() + TIERING_SLICE_NS : 0);

	if (ret == 1)
		return 0; /* tiering_tick goes on with it */
	cg->querying = false;
	if (ret < 0)
		return ret;
	return round_plan(tg, cg, now_ms, bounded);
}

/* Plan from the placement just read; send the pool's moves; start the rest. */
static int round_plan(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms, bool bounded)
{
	const struct policy *p = &tg->policy;
	struct policy_cgroup pc = {
		.path = cg->path, .dram = cg->dram, .cxl = cg->cxl, .pool = cg->pool
	};
	uint64_t t0 = mono_ns();
	char budget[64], after[64];
	size_t cap;
	int ret;

	heat_decay(&cg->heat, now_ms);
	if (tg->ops.read_usage(tg->ops.ctx, cg->path, &cg->usage_bytes) < 0)
		cg->usage_bytes = cg->heat.nr_pages << HEAT_PAGE_SHIFT;
	/* pool pages need a connected pager (pager_link.c) */
	plan_budget_from_policy(p, &pc, cg->usage_bytes, tg->has_cxl, pool_ready(cg), &cg->budget);
	if (cg->budget.pool) {
		unsigned i;
		uint32_t rate =
		    tiering_sampler(tg) != TIERING_SAMPLER_FAULTS ? 0 : p->heat.hint_pages_per_s;

		for (i = 0; i < cg->nr_pids; i++)
			tiering_pool_hooks->hint(cg->pids[i], rate);
	}
	cap = plan_moves_needed(&cg->heat, &cg->budget);
	if (cap > tg->moves_cap) {
		struct plan_move *m = realloc(tg->moves, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		tg->moves = m;
		tg->moves_cap = cap;
	}
	ret = plan_round(&cg->heat, &cg->budget, tg->moves, tg->moves_cap, &cg->plan);
	if (ret < 0) {
		log_warn("round %s: planning failed: %s", cg->path, strerror(-ret));
		return ret;
	}
	fmt_pages(budget, sizeof(budget), cg->budget.dram_pages);
	memset(cg->round_fail, 0, sizeof(cg->round_fail));
	cg->round_promoted = cg->round_demoted = cg->round_failed = 0;
	cg->nr_pending = cg->pending_done = 0;
	if (cg->plan.nr_moves && !tg->dry_run) {
		ret = scratch_reserve(tg, PLACEMENT_BATCH);
		if (ret < 0)
			return ret;
		/* the pool's moves are commands, sent now; move_pages(2) follows */
		cg->nr_pending =
		    execute_pool(tg, cg, tg->moves, cg->plan.nr_moves, &cg->round_promoted,
				 &cg->round_demoted, &cg->round_failed);
		cg->nr_moving_rounds++;
	}
	cg->round_ns = mono_ns() - cg->round_t0_ns;
	fmt_pages(after, sizeof(after), cg->plan.nr_after[HEAT_TIER_DRAM]);
	/* a dry run also shows its first round, so a quiet plan is visible */
	if (cg->plan.nr_moves || (tg->dry_run && cg->nr_rounds == 1))
		log_info("%sround %s: %s %" PRIu64 " page(s) to DRAM (hot: heat >= %.2f, "
			 "incumbents >= %.2f), %" PRIu64 " to CXL (cold: below the DRAM cut; "
			 "wanted %" PRIu64 "/%" PRIu64 ", limits %" PRIu64 "/%" PRIu64
			 " per round); DRAM %" PRIu64 " -> %s of budget %s, CXL %" PRIu64
			 "; %s; read and planned in %.1f ms (planning %.1f ms)",
			 tg->dry_run ? "dry run: " : "", cg->path,
			 tg->dry_run ? "would promote" : "promote",
			 cg->plan.nr_planned[PLAN_CXL_TO_DRAM], heat_acc(cg->plan.dram.enter_heat),
			 heat_acc(cg->plan.dram.stay_heat), cg->plan.nr_planned[PLAN_DRAM_TO_CXL],
			 cg->plan.nr_wanted[PLAN_CXL_TO_DRAM], cg->plan.nr_wanted[PLAN_DRAM_TO_CXL],
			 cg->budget.max_promote_pages, cg->budget.max_demote_pages,
			 cg->plan.nr_pages[HEAT_TIER_DRAM], after, budget,
			 cg->plan.nr_pages[HEAT_TIER_CXL],
			 tg->dry_run ? "nothing moved (dry run)" : "moving", cg->round_ns / 1e6,
			 (mono_ns() - t0) / 1e6);
	if (cg->plan.nr_moves && cg->budget.pool)
		log_info("%sround %s: pool: %" PRIu64 " page(s) CXL->pool, %" PRIu64
			 " DRAM->pool (cold: below the CXL cut, heat < %.2f), %" PRIu64
			 " pool->DRAM, %" PRIu64 " pool->CXL; CXL %" PRIu64 " -> %" PRIu64
			 " of budget %" PRIu64 ", pool %" PRIu64 " -> %" PRIu64,
			 tg->dry_run ? "dry run: " : "", cg->path,
			 cg->plan.nr_planned[PLAN_CXL_TO_POOL],
			 cg->plan.nr_planned[PLAN_DRAM_TO_POOL], heat_acc(cg->plan.cxl.enter_heat),
			 cg->plan.nr_planned[PLAN_POOL_TO_DRAM],
			 cg->plan.nr_planned[PLAN_POOL_TO_CXL], cg->plan.nr_pages[HEAT_TIER_CXL],
			 cg->plan.nr_after[HEAT_TIER_CXL], cg->budget.cxl_pages,
			 cg->plan.nr_pages[HEAT_TIER_POOL], cg->plan.nr_after[HEAT_TIER_POOL]);
	round_continue(tg, cg, now_ms, bounded ? mono_ns() + TIERING_SLICE_NS : 0);
	return 0;
}

int tiering_round(struct tiering *tg, struct tiering_cg *cg, uint64_t now_ms)
{
	return round_start(tg, cg, now_ms, false);
}

static void update_damon(struct tiering *tg, uint64_t now_ms)
{
	uint32_t pids[DAMON_MAX_TARGETS];
	unsigned n = 0, i, j;

	if (!tg->damon.available || !tg->damon_prog_attached ||
	    tiering_sampler(tg) != TIERING_SAMPLER_DAMON)
		return;
	for (i = 0; i < tg->nr_cgs; i++)
		for (j = 0; j < tg->cgs[i]->nr_pids && n < DAMON_MAX_TARGETS; j++)
			pids[n++] = tg->cgs[i]->pids[j];
	damon_set_targets(&tg->damon, pids, n, mono_ns());
}

uint64_t tiering_tick(struct tiering *tg, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	bool ran = false;
	unsigned i;

	/* a round still reading placement or moving pages: its next slice, and
	 * nothing else */
	for (i = 0; i < tg->nr_cgs; i++) {
		struct tiering_cg *cg = tg->cgs[i];

		if (cg->querying) {
			if (round_query(tg, cg, now_ms, true) < 0)
				cg->next_round_ms = now_ms + tg->policy.moves.interval_ms;
			return 0;
		}
		if (cg->pending_done < cg->nr_pending)
			return round_continue(tg, cg, now_ms, mono_ns() + TIERING_SLICE_NS) ? 0 : 1;
	}
	for (i = 0; i < tg->nr_cgs; i++) {
		struct tiering_cg *cg = tg->cgs[i];

		if (now_ms >= cg->next_round_ms) {
			if (round_start(tg, cg, now_ms, true) < 0)
				cg->next_round_ms = now_ms + tg->policy.moves.interval_ms;
			ran = true;
		}
		if (cg->next_round_ms < next)
			next = cg->next_round_ms;
	}
	if (ran) {
		update_damon(tg, now_ms);
		check_numa_balancing(tg, true);
	}
	if (!tg->nr_cgs && tg->damon.running)
		damon_set_targets(&tg->damon, NULL, 0, mono_ns());
	return next == UINT64_MAX ? tg->policy.moves.interval_ms
				  : (next > now_ms ? next - now_ms : 0);
}

/* --- status --------------------------------------------------------------- */

static struct json_object *size_json(const struct policy_size *s)
{
	char buf[32];

	return json_object_new_string(policy_size_format(s, buf, sizeof(buf)));
}

static struct json_object *pages_json(uint64_t pages)
{
	return pages == PLAN_UNLIMITED ? NULL : json_object_new_uint64(pages << HEAT_PAGE_SHIFT);
}

struct json_object *tiering_cg_json(const struct tiering *tg, const struct tiering_cg *cg)
{
	struct json_object *o = json_object_new_object(), *b = json_object_new_object();
	struct json_object *bytes = json_object_new_object(), *hist = json_object_new_array();
	struct json_object *th = json_object_new_object();
	struct heat_hist *h = calloc(1, sizeof(*h));
	unsigned i;

	json_object_object_add(o, "managed", json_object_new_boolean(1));
	json_object_object_add(b, "dram", size_json(&cg->dram));
	json_object_object_add(b, "cxl", size_json(&cg->cxl));
	json_object_object_add(b, "pool", json_object_new_boolean(cg->pool));
	json_object_object_add(b, "dram_bytes", pages_json(cg->budget.dram_pages));
	json_object_object_add(b, "cxl_bytes", pages_json(cg->budget.cxl_pages));
	json_object_object_add(b, "from_policy", json_object_new_boolean(cg->from_policy));
	json_object_object_add(o, "budget", b);
	json_object_object_add(
	    bytes, "dram",
	    json_object_new_uint64(cg->nr_on_tier[HEAT_TIER_DRAM] << HEAT_PAGE_SHIFT));
	json_object_object_add(
	    bytes, "cxl", json_object_new_uint64(cg->nr_on_tier[HEAT_TIER_CXL] << HEAT_PAGE_SHIFT));
	json_object_object_add(
	    bytes, "pool",
	    json_object_new_uint64(cg->nr_on_tier[HEAT_TIER_POOL] << HEAT_PAGE_SHIFT));
	json_object_object_add(
	    bytes, "other_nodes",
	    json_object_new_uint64(cg->nr_on_tier[HEAT_TIER_UNKNOWN] << HEAT_PAGE_SHIFT));
	json_object_object_add(bytes, "not_present",
			       json_object_new_uint64(cg->nr_not_present << HEAT_PAGE_SHIFT));
	json_object_object_add(bytes, "usage", json_object_new_uint64(cg->usage_bytes));
	json_object_object_add(o, "bytes", bytes);
	json_object_object_add(o, "pool",
			       json_object_new_string(!cg->pool		? "off"
						      : cg->budget.pool ? "on (pager connected)"
									: "requested; no pager "
									  "connected, CXL is the "
									  "floor"));
	if (tiering_pool_hooks) {
		struct json_object *pg = tiering_pool_hooks->cg_json(cg->pids, cg->nr_pids);

		if (pg)
			json_object_object_add(o, "pager", pg);
	}
	json_object_object_add(o, "pids", json_object_new_int(cg->nr_pids));
	json_object_object_add(o, "regions", json_object_new_int(cg->heat.nr_regions));
	json_object_object_add(o, "tracked_pages", json_object_new_uint64(cg->heat.nr_pages));
	json_object_object_add(o, "heat_bytes",
			       json_object_new_uint64(heat_table_bytes(&cg->heat)));
	if (h) {
		heat_histogram(&cg->heat, h);
		for (i = 0; i < HEAT_HIST_BUCKETS; i++) {
			uint64_t d = h->nr_pages[HEAT_TIER_DRAM][i],
				 c = h->nr_pages[HEAT_TIER_CXL][i],
				 u = h->nr_pages[HEAT_TIER_UNKNOWN][i];
			struct json_object *e;

			if (!d && !c && !u)
				continue;
			e = json_object_new_object();
			json_object_object_add(
			    e, "min_accesses",
			    json_object_new_double(heat_acc(heat_hist_bucket_min(i))));
			json_object_object_add(e, "dram", json_object_new_uint64(d));
			json_object_object_add(e, "cxl", json_object_new_uint64(c));
			json_object_object_add(e, "unknown", json_object_new_uint64(u));
			json_object_array_add(hist, e);
		}
		free(h);
	}
	json_object_object_add(o, "heat_hist", hist);
	json_object_object_add(th, "dram_enter_accesses",
			       json_object_new_double(heat_acc(cg->plan.dram.enter_heat)));
	json_object_object_add(th, "dram_stay_accesses",
			       json_object_new_double(heat_acc(cg->plan.dram.stay_heat)));
	json_object_object_add(o, "thresholds", th);
	json_object_object_add(o, "rounds", json_object_new_uint64(cg->nr_rounds));
	json_object_object_add(o, "moving_rounds", json_object_new_uint64(cg->nr_moving_rounds));
	json_object_object_add(o, "pool_waits", json_object_new_uint64(cg->nr_pool_waits));
	json_object_object_add(o, "last_round_ms", json_object_new_double(cg->round_ns / 1e6));
	json_object_object_add(o, "promoted_pages", json_object_new_uint64(cg->promoted));
	json_object_object_add(o, "demoted_pages", json_object_new_uint64(cg->demoted));
	json_object_object_add(o, "move_failed_pages", json_object_new_uint64(cg->move_failed));
	{
		struct json_object *fb = json_object_new_object();

		for (i = 0; i < TIERING_NR_FAIL; i++)
			if (cg->fail[i])
				json_object_object_add(fb, fail_names[i],
						       json_object_new_uint64(cg->fail[i]));
		json_object_object_add(o, "move_failed_by", fb);
	}
	json_object_object_add(o, "promote_pages_per_s", json_object_new_double(cg->promote_per_s));
	json_object_object_add(o, "demote_pages_per_s", json_object_new_double(cg->demote_per_s));
	json_object_object_add(o, "kernel_promote_pages_per_s",
			       json_object_new_double(cg->k_promote_per_s));
	json_object_object_add(o, "kernel_demote_pages_per_s",
			       json_object_new_double(cg->k_demote_per_s));
	json_object_object_add(o, "rate_window_s",
			       json_object_new_double(TIERING_RATE_WINDOW_MS / 1000.0));
	json_object_object_add(o, "fault_samples", json_object_new_uint64(cg->fault_samples));
	json_object_object_add(o, "damon_page_samples", json_object_new_uint64(cg->damon_pages));
	json_object_object_add(o, "perf_samples", json_object_new_uint64(cg->perf_samples));
	json_object_object_add(o, "sampler", json_object_new_string(tiering_sampler_name(tg)));
	return o;
}

struct json_object *tiering_json(const struct tiering *tg)
{
	struct json_object *o = json_object_new_object(), *t = json_object_new_object();
	struct json_object *d = json_object_new_array(), *c = json_object_new_array();
	unsigned i;

	json_object_object_add(
	    o, "policy_file",
	    json_object_new_string(tg->policy_file[0] ? tg->policy_file : "(built-in defaults)"));
	json_object_object_add(o, "policy_loads", json_object_new_uint64(tg->policy_loads));
	json_object_object_add(o, "policy", policy_to_json(&tg->policy));
	for (i = 0; i < tg->nodes.nr_dram; i++)
		json_object_array_add(d, json_object_new_int(tg->nodes.dram[i]));
	for (i = 0; i < tg->nodes.nr_cxl; i++)
		json_object_array_add(c, json_object_new_int(tg->nodes.cxl[i]));
	json_object_object_add(t, "dram", d);
	json_object_object_add(t, "cxl", c);
	json_object_object_add(t, "how", json_object_new_string(tg->nodes.how));
	json_object_object_add(o, "tiers", t);
	json_object_object_add(o, "sampler", json_object_new_string(tiering_sampler_name(tg)));
	json_object_object_add(o, "sampler_why", json_object_new_string(tiering_sampler_why(tg)));
	if (tg->perf)
		json_object_object_add(o, "perf_sampler", sampler_status_json(tg->perf));
	json_object_object_add(o, "damon_running", json_object_new_boolean(tg->damon.running));
	json_object_object_add(o, "damon_targets", json_object_new_int(tg->damon.nr_targets));
	json_object_object_add(o, "dry_run", json_object_new_boolean(tg->dry_run));
	json_object_object_add(o, "managed", json_object_new_int(tg->nr_cgs));
	json_object_object_add(o, "kernel_numa_balancing", json_object_new_int(tg->numa_balancing));
	if (tg->numa_balancing > 0 && tg->has_cxl)
		json_object_object_add(
		    o, "note",
		    json_object_new_string(
			"kernel NUMA balancing is on: the kernel also moves "
			"pages of managed cgroups (see kernel_promote_pages_per_s); "
			"set /proc/sys/kernel/numa_balancing to 0 to leave "
			"placement to tierd"));
	return o;
}
