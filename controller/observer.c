// SPDX-License-Identifier: GPL-2.0
/*
 * observer.c — loads bpf/observer.bpf.c and keeps it running for tierd.
 *
 * The BPF object is loaded once per tierd run. What the running kernel
 * offers decides which programs load (bpf_program__set_autoload before
 * load): the fault program always; fentry on folio_migrate_flags where the
 * kernel has the function and allows fentry (hosts with lockdown or without
 * tracing programs refuse it with EPERM: then we retry without it and say
 * so in status); the DAMON program where the tracepoint exists. Every
 * program not attached has a sentence saying why, shown by tierctl status.
 *
 * Verifier failures must be readable: the object is opened with a 16 MiB
 * kernel log buffer, which libbpf fills and prints when a load fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "observer.skel.h"
#include "observer.h"
#include "log.h"

#define KERNEL_LOG_SIZE (16u << 20)

enum { P_FAULT, P_MIGRATE, P_MIG_TP, P_DAMON };

struct tierd_observer {
	struct observer_opts opts;
	struct observer *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[OBSERVER_NR_PROGS];
	struct observer_prog_state progs[OBSERVER_NR_PROGS];
	char pin_root[PATH_MAX - 128];
	bool mounted_bpffs;
	bool created_pin_root;
	char pinned[32][64]; /* names pinned under pin_root, to unpin */
	int nr_pinned;
	uint64_t records_received;
	uint64_t fault_records_received;
	int nr_cpus;
	bool batching;
	const char *migration_note;
	char *kernel_log;
};

static struct bpf_program *prog_of(struct observer *s, int i)
{
	switch (i) {
	case P_FAULT:
		return s->progs.tierd_fault;
	case P_MIGRATE:
		return s->progs.tierd_migrate;
	case P_MIG_TP:
		return s->progs.tierd_mig_tp;
	default:
		return s->progs.tierd_damon;
	}
}

static bool tracepoint_exists(const char *cat, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], cat, name);
		if (access(path, R_OK) == 0)
			return true;
	}
	return false;
}

static bool kernel_btf_has(const char *name, int kind)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, name, kind) >= 0;
	btf__free(btf);
	return found;
}

static int rm_stale_pins(struct tierd_observer *ob)
{
	struct dirent *de;
	char names[512] = "";
	char path[PATH_MAX * 2];
	int n = 0;
	DIR *d = opendir(ob->pin_root);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		/* bpffs' own preloaded iterators (maps.debug, progs.debug) */
		if (de->d_name[0] == '.' || strstr(de->d_name, ".debug"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", ob->pin_root, de->d_name);
		if (unlink(path) == 0) {
			if (n < 8)
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", n ? " " : "", de->d_name);
			n++;
		}
	}
	closedir(d);
	if (n)
		log_warn("found %d pins of an earlier tierd in %s (%s%s); replaced them", n,
			 ob->pin_root, names, n > 8 ? " ..." : "");
	return n;
}

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

/* Make pin_root a directory on bpffs: inside a mounted bpffs, or mount one. */
static int prepare_pin_root(struct tierd_observer *ob, char *err, size_t err_size)
{
	char parent[PATH_MAX], *slash;
	int ret;

	snprintf(parent, sizeof(parent), "%s", ob->pin_root);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), "/");

	if (access(ob->pin_root, F_OK) == 0 && is_bpffs(ob->pin_root))
		return 0;
	if (access(ob->pin_root, F_OK) != 0) {
		/* /sys/fs/bpf is the standard bpffs mount point, but on hosts
		 * without systemd it is an empty sysfs directory: mount bpffs
		 * there, as systemd would, and leave it for others. */
		if (strcmp(parent, "/sys/fs/bpf") == 0 && !is_bpffs(parent)) {
			if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0) {
				ret = -errno;
				snprintf(err, err_size,
					 "no bpffs at /sys/fs/bpf and mounting one failed: %s",
					 strerror(-ret));
				return ret;
			}
			log_info("mounted bpffs at /sys/fs/bpf (the standard place; left mounted)");
		}
		if (mkdir(ob->pin_root, 0700) < 0) {
			ret = -errno;
			snprintf(err, err_size, "cannot create the pin directory %s: %s",
				 ob->pin_root, strerror(-ret));
			return ret;
		}
		ob->created_pin_root = true;
	}
	if (is_bpffs(ob->pin_root))
		return 0;
	if (mount("bpf", ob->pin_root, "bpf", 0, "mode=0700") < 0) {
		ret = -errno;
		snprintf(err, err_size,
			 "no bpffs at %s and mounting one failed: %s (the kernel needs "
			 "CONFIG_BPF_SYSCALL; or mount -t bpf bpf %s)",
			 ob->pin_root, strerror(-ret), parent);
		return ret;
	}
	ob->mounted_bpffs = true;
	log_info("mounted bpffs at %s", ob->pin_root);
	return 0;
}

static int pin_one(struct tierd_observer *ob, const char *name, int fd_kind, void *obj)
{
	char path[PATH_MAX];
	int ret;

	if (ob->nr_pinned >= 32)
		return -ENOSPC;
	snprintf(path, sizeof(path), "%s/%s", ob->pin_root, name);
	if (fd_kind == 0)
		ret = bpf_map__pin(obj, path);
	else if (fd_kind == 1)
		ret = bpf_program__pin(obj, path);
	else
		ret = bpf_link__pin(obj, path);
	if (ret < 0)
		return ret;
	snprintf(ob->pinned[ob->nr_pinned++], 64, "%s", name);
	return 0;
}

static void unpin_all(struct tierd_observer *ob)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < ob->nr_pinned; i++) {
		snprintf(path, sizeof(path), "%s/%s", ob->pin_root, ob->pinned[i]);
		unlink(path);
	}
	ob->nr_pinned = 0;
	if (ob->mounted_bpffs && umount(ob->pin_root) == 0)
		ob->mounted_bpffs = false;
	if (ob->created_pin_root)
		rmdir(ob->pin_root);
}

static size_t rec_size(uint32_t type)
{
	switch (type) {
	case TIERD_REC_FAULT:
		return sizeof(struct tierd_fault_rec);
	case TIERD_REC_MIGRATE:
		return sizeof(struct tierd_migrate_rec);
	case TIERD_REC_DAMON:
		return sizeof(struct tierd_damon_rec);
	}
	return 0;
}

/* One ring record may hold several records of one type (fault batches). */
static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct tierd_observer *ob = ctx;
	const char *p = data;

	while (size >= sizeof(struct tierd_rec_hdr)) {
		const struct tierd_rec_hdr *h = (const void *)p;
		size_t sz = rec_size(h->type);

		if (!sz || sz > size)
			break;
		ob->records_received++;
		if (h->type == TIERD_REC_FAULT)
			ob->fault_records_received++;
		if (ob->opts.on_record)
			ob->opts.on_record(ob->opts.ctx, h, sz);
		p += sz;
		size -= sz;
	}
	return 0;
}

/* Push every CPU's partial fault batch into the ring (see tierd_flush). */
static int flush_batches(struct tierd_observer *ob)
{
	int fd = bpf_program__fd(ob->skel->progs.tierd_flush), cpu, ret = 0;

	for (cpu = 0; cpu < ob->nr_cpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);

		if (bpf_prog_test_run_opts(fd, &o) < 0 && errno != ENXIO && ret == 0)
			ret = -errno; /* ENXIO: CPU offline */
	}
	return ret;
}

static int fill_node_tier(struct tierd_observer *ob, const struct node_ranks *r)
{
	int fd = bpf_map__fd(ob->skel->maps.node_tier);
	__u32 nid;

	for (nid = 0; nid < TIERD_MAX_NODES; nid++) {
		__u32 rank = r->rank[nid];

		if (bpf_map_update_elem(fd, &nid, &rank, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

static char *captured;
static size_t captured_len;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[4096];
	char *p;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return n;
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	p = realloc(captured, captured_len + n + 8);
	if (!p)
		return 0;
	captured = p;
	memcpy(captured + captured_len, "tierd: ", 7);
	memcpy(captured + captured_len + 7, line, n + 1);
	captured_len += n + 7;
	return n;
}

/* Open and load the object with the programs in want[]; -errno on failure. */
static int load(struct tierd_observer *ob, const bool *want, uint32_t nid_shift, uint32_t nid_mask)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_buf = ob->kernel_log,
		    .kernel_log_size = KERNEL_LOG_SIZE, .kernel_log_level = 0);
	int i, ret;

	ob->skel = observer__open_opts(&oo);
	if (!ob->skel)
		return -errno;
	ob->skel->rodata->sample_every = ob->opts.sample_every ? ob->opts.sample_every : 1;
	ob->skel->rodata->nid_shift = nid_shift;
	ob->skel->rodata->nid_mask = nid_mask;
	for (i = 0; i < OBSERVER_NR_PROGS; i++)
		bpf_program__set_autoload(prog_of(ob->skel, i), want[i]);
	ret = observer__load(ob->skel);
	if (ret < 0) {
		observer__destroy(ob->skel);
		ob->skel = NULL;
		return ret;
	}
	return 0;
}

int observer_open(const struct observer_opts *o, const struct node_ranks *ranks,
		  struct tierd_observer **out, char *err, size_t err_size)
{
	static const char *const names[] = { "tierd_fault", "tierd_migrate", "tierd_mig_tp",
					     "tierd_damon" };
	static const char *const whats[] = { "user page faults", "page migrations by owner",
					     "page migrations by migrating task",
					     "DAMON region reports" };
	uint32_t nid_shift = 54, nid_mask = 1023;
	libbpf_print_fn_t old_print;
	bool want[OBSERVER_NR_PROGS];
	struct bpf_map *map;
	struct tierd_observer *ob;
	int i, ret;

	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	ob->kernel_log = malloc(KERNEL_LOG_SIZE);
	if (!ob->kernel_log) {
		free(ob);
		return -ENOMEM;
	}
	ob->opts = *o;
	snprintf(ob->pin_root, sizeof(ob->pin_root), "%s", o->pin_root);
	for (i = 0; i < OBSERVER_NR_PROGS; i++) {
		ob->progs[i].name = names[i];
		ob->progs[i].what = whats[i];
	}

	ret = nid_layout_from_btf("/sys/kernel/btf/vmlinux", &nid_shift, &nid_mask);
	if (ret < 0)
		log_warn("cannot derive NODES_SHIFT from the kernel's BTF (%s); assuming 10",
			 strerror(-ret));
	log_debug("page flags: nid = flags >> %u & %#x", nid_shift, nid_mask);

	want[P_FAULT] = true;
	want[P_MIG_TP] = tracepoint_exists("migrate", "mm_migrate_pages");
	if (!want[P_MIG_TP])
		snprintf(ob->progs[P_MIG_TP].reason, sizeof(ob->progs[0].reason),
			 "kernel has no migrate:mm_migrate_pages tracepoint");
	want[P_MIGRATE] = kernel_btf_has("folio_migrate_flags", BTF_KIND_FUNC);
	if (!want[P_MIGRATE])
		snprintf(ob->progs[P_MIGRATE].reason, sizeof(ob->progs[0].reason),
			 "kernel BTF has no folio_migrate_flags()");
	want[P_DAMON] = tracepoint_exists("damon", "damon_aggregated") &&
			kernel_btf_has("trace_event_raw_damon_aggregated", BTF_KIND_STRUCT);
	if (!want[P_DAMON])
		snprintf(ob->progs[P_DAMON].reason, sizeof(ob->progs[0].reason),
			 "kernel has no damon:damon_aggregated tracepoint (CONFIG_DAMON off)");

	/* libbpf's messages from the first attempt are held back: where
	 * fentry is simply refused (EPERM) they are noise; otherwise (a
	 * verifier rejection) they are the one thing worth reading. */
	old_print = libbpf_set_print(capture_print);
	ret = load(ob, want, nid_shift, nid_mask);
	libbpf_set_print(old_print);
	if (ret < 0 && want[P_MIGRATE]) {
		int first = ret;

		want[P_MIGRATE] = false;
		ret = load(ob, want, nid_shift, nid_mask);
		if (ret == 0) {
			snprintf(ob->progs[P_MIGRATE].reason, sizeof(ob->progs[0].reason),
				 "fentry refused (%s)",
				 first == -EPERM ? "EPERM" : strerror(-first));
			if (first == -EPERM) {
				log_debug("fentry/folio_migrate_flags refused: %s", captured);
				captured_len = 0;
			}
			log_info(
			    "loading fentry/folio_migrate_flags failed (%s); loaded without it",
			    strerror(-first));
		}
	}
	if (captured_len)
		fputs(captured, stderr);
	free(captured);
	captured = NULL;
	captured_len = 0;
	if (ret < 0) {
		snprintf(err, err_size,
			 "cannot load the BPF observer: %s (the verifier's log is above)",
			 strerror(-ret));
		goto out_free;
	}
	if (!want[P_MIGRATE])
		ob->migration_note = "migration direction unavailable: fentry refused or missing; "
				     "only migrations by tasks of attached cgroups are counted";
	if (!want[P_MIGRATE] && strstr(ob->progs[P_MIGRATE].reason, "EPERM"))
		ob->migration_note = "migration direction unavailable: fentry refused (EPERM)";

	ret = fill_node_tier(ob, ranks);
	if (ret < 0) {
		snprintf(err, err_size, "cannot fill node_tier: %s", strerror(-ret));
		goto out_destroy;
	}

	ret = prepare_pin_root(ob, err, err_size);
	if (ret < 0)
		goto out_destroy;
	rm_stale_pins(ob);
	bpf_object__for_each_map(map, ob->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		ret = pin_one(ob, bpf_map__name(map), 0, map);
		if (ret < 0) {
			snprintf(err, err_size, "cannot pin map %s under %s: %s",
				 bpf_map__name(map), ob->pin_root, strerror(-ret));
			goto out_unpin;
		}
	}

	for (i = 0; i < OBSERVER_NR_PROGS; i++) {
		struct bpf_program *p = prog_of(ob->skel, i);
		char lname[64];

		if (!want[i])
			continue;
		ret = pin_one(ob, names[i], 1, p);
		if (ret < 0) {
			snprintf(err, err_size, "cannot pin program %s: %s", names[i],
				 strerror(-ret));
			goto out_unpin;
		}
		ob->links[i] = bpf_program__attach(p);
		if (!ob->links[i]) {
			ret = -errno;
			if (i == P_FAULT) {
				snprintf(err, err_size,
					 "cannot attach %s to exceptions:page_fault_user: %s",
					 names[i], strerror(-ret));
				goto out_unpin;
			}
			snprintf(ob->progs[i].reason, sizeof(ob->progs[0].reason),
				 "attach failed: %s", strerror(-ret));
			continue;
		}
		ob->progs[i].attached = true;
		snprintf(lname, sizeof(lname), "link_%s", names[i]);
		if (pin_one(ob, lname, 2, ob->links[i]) < 0)
			log_debug("link of %s not pinned (kernel lacks perf links)", names[i]);
	}

	/* Batch fault records only if tierd can flush partial batches. */
	ob->nr_cpus = libbpf_num_possible_cpus();
	ret = ob->nr_cpus > 0 ? flush_batches(ob) : -EINVAL;
	if (ret == 0) {
		ob->batching = true;
	} else {
		ob->skel->data->fault_batch_len = 1;
		log_warn("cannot run tierd_flush (%s): fault records go out one by one",
			 strerror(-ret));
	}
	log_debug("fault records leave in batches of %u", ob->skel->data->fault_batch_len);

	ob->rb = ring_buffer__new(bpf_map__fd(ob->skel->maps.events), on_ring_record, ob, NULL);
	if (!ob->rb) {
		ret = -errno;
		snprintf(err, err_size, "cannot open the ring buffer: %s", strerror(-ret));
		goto out_unpin;
	}
	free(ob->kernel_log); /* only needed while loading */
	ob->kernel_log = NULL;
	*out = ob;
	return 0;

out_unpin:
	for (i = 0; i < OBSERVER_NR_PROGS; i++)
		bpf_link__destroy(ob->links[i]);
	unpin_all(ob);
out_destroy:
	observer__destroy(ob->skel);
out_free:
	free(ob->kernel_log);
	free(ob);
	return ret;
}

void observer_close(struct tierd_observer *ob)
{
	int i;

	if (!ob)
		return;
	ring_buffer__free(ob->rb);
	for (i = 0; i < OBSERVER_NR_PROGS; i++)
		bpf_link__destroy(ob->links[i]);
	unpin_all(ob);
	observer__destroy(ob->skel);
	free(ob->kernel_log);
	free(ob);
}

int observer_watch(struct tierd_observer *ob, uint64_t id)
{
	struct tierd_cgroup_stats zero = { 0 };
	__u64 one = 1;

	/* Stats first, so the first fault after "attached" already counts. */
	if (bpf_map_update_elem(bpf_map__fd(ob->skel->maps.cgroup_stats), &id, &zero, BPF_NOEXIST) <
		0 &&
	    errno != EEXIST)
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(ob->skel->maps.attached), &id, &one, BPF_ANY) < 0)
		return -errno;
	__atomic_add_fetch(&ob->skel->bss->attach_generation, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int observer_unwatch(struct tierd_observer *ob, uint64_t id)
{
	int ret = 0;

	if (bpf_map_delete_elem(bpf_map__fd(ob->skel->maps.attached), &id) < 0)
		ret = -errno;
	__atomic_add_fetch(&ob->skel->bss->attach_generation, 1, __ATOMIC_SEQ_CST);
	/* Settle the CPUs' pending counts now, so none of them can land in
	 * the entry of a later re-attach of the same cgroup. */
	if (ob->batching)
		flush_batches(ob);
	bpf_map_delete_elem(bpf_map__fd(ob->skel->maps.cgroup_stats), &id);
	return ret;
}

int observer_read_stats(struct tierd_observer *ob, uint64_t id, struct tierd_cgroup_stats *st)
{
	if (bpf_map_lookup_elem(bpf_map__fd(ob->skel->maps.cgroup_stats), &id, st) < 0)
		return -errno;
	return 0;
}

int observer_drain(struct tierd_observer *ob)
{
	if (ob->batching)
		flush_batches(ob);
	return ring_buffer__consume(ob->rb);
}

const struct observer_prog_state *observer_programs(struct tierd_observer *ob, int *nr)
{
	*nr = OBSERVER_NR_PROGS;
	return ob->progs;
}

uint64_t observer_records_dropped(struct tierd_observer *ob)
{
	return __atomic_load_n(&ob->skel->bss->nr_records_dropped, __ATOMIC_RELAXED);
}

uint64_t observer_migrate_unattributed(struct tierd_observer *ob)
{
	return __atomic_load_n(&ob->skel->bss->nr_migrate_unattributed, __ATOMIC_RELAXED);
}

uint64_t observer_records_received(struct tierd_observer *ob)
{
	return ob->records_received;
}

uint64_t observer_fault_records_received(struct tierd_observer *ob)
{
	return ob->fault_records_received;
}

const char *observer_migration_note(struct tierd_observer *ob)
{
	return ob->migration_note;
}
