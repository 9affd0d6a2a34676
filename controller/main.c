// SPDX-License-Identifier: GPL-2.0
/*
 * tierd — the tiering daemon (first form: the observer).
 *
 * Shape: parse_args() -> preflight() that fails fast naming what is
 * missing -> run(): one thread, one epoll loop over
 *   - the control socket (tierctl; protocol in include/tierd/ctl.h),
 *   - a timerfd that drains the BPF ring buffer every DRAIN_INTERVAL_MS and
 *     recomputes fault rates every second (the BPF side never wakes us:
 *     per-event wakeups cost more than the faults they report),
 *   - a signalfd: SIGTERM/SIGINT stop cleanly (unpinning what we pinned),
 *     SIGHUP reloads the policy file.
 * tierd is mlockall()ed: the process that decides where memory lives must
 * not itself be paged out by that decision.
 *
 * --policy FILE is a tierd-policy(5) file (without one, the built-in
 * defaults). SIGHUP re-reads it: a bad file is refused with every error
 * logged and the old policy stays; a good one attaches the cgroups it
 * lists (with their budgets) and detaches the policy cgroups it dropped.
 * The tiering loop (tiering.c) runs on the same timer as the drain.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <json-c/json.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "tierd/ctl.h"
#include "cgroup.h"
#include "log.h"
#include "metrics.h"
#include "sampler.h"
#include "tierd.h"
#include "tiering.h"

#define DRAIN_INTERVAL_MS 25
#define RATE_INTERVAL_NS 1000000000ull

int tierd_verbose;

struct args {
	const char *policy;
	const char *pin_root;
	const char *socket;
	const char *metrics; /* ADDR:PORT of the Prometheus endpoint */
	uint32_t sample_every;
	bool dry_run;
	enum sampler_source sampler_source; /* --sampler-event */
};

/* The perf_event sampler (sampler.c): opened after the policy is known. */
static struct tierd_sampler *perf_sampler;
static struct sampler_status perf_status;

static const char usage[] =
    "usage: tierd [OPTIONS]\n"
    "Observe (and, as the controller grows, manage) the memory of attached cgroups.\n"
    "Runs in the foreground and logs to stderr; SIGTERM/SIGINT stop it, SIGHUP reloads.\n"
    "\n"
    "  --policy FILE     tierd-policy(5) JSON: tiers, heat, moves, managed cgroups\n"
    "                    (default: built-in defaults; tierctl policy defaults)\n"
    "  --pin-root DIR    where maps and programs are pinned (default /sys/fs/bpf/tierd)\n"
    "  --socket PATH     control socket for tierctl (default " TIERD_CTL_SOCKET ")\n"
    "  --sample N        record 1 fault in N in the ring buffer (counters stay exact)\n"
    "  --dry-run         observe only: never move pages\n"
    "  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
    "  --sampler-event EV  what the pebs sampler attaches to: hw (default: PEBS/IBS\n"
    "                    data-address samples) or sw-page-faults (test/debug: the\n"
    "                    software page-fault event, so the path runs without a PMU)\n"
    "  -v, --verbose     debug logging (libbpf's too)\n"
    "  -h, --help        this text\n";

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lopts[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "pin-root", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "sample", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "sampler-event", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	long n;
	int c;

	a->pin_root = "/sys/fs/bpf/tierd";
	a->socket = TIERD_CTL_SOCKET;
	a->sample_every = 1;
	while ((c = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			a->policy = optarg;
			break;
		case 'r':
			a->pin_root = optarg;
			break;
		case 's':
			a->socket = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000000) {
				fprintf(stderr,
					"tierd: --sample wants a number from 1 to 1000000\n");
				return -EINVAL;
			}
			a->sample_every = n;
			break;
		case 'd':
			a->dry_run = true;
			break;
		case 'm':
			a->metrics = optarg;
			break;
		case 'S':
			if (!strcmp(optarg, "hw")) {
				a->sampler_source = SAMPLER_SOURCE_HW;
			} else if (!strcmp(optarg, "sw-page-faults")) {
				a->sampler_source = SAMPLER_SOURCE_SW_PAGE_FAULTS;
			} else {
				fprintf(stderr,
					"tierd: --sampler-event wants hw or sw-page-faults\n");
				return -EINVAL;
			}
			break;
		case 'v':
			tierd_verbose = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tierd: unexpected argument '%s'\n%s", argv[optind], usage);
		return -EINVAL;
	}
	return 0;
}

static int preflight(void)
{
	struct btf *btf;
	bool found;

	if (geteuid() != 0) {
		log_err("must run as root: tierd loads BPF programs and pins maps");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		log_err(
		    "no BTF at /sys/kernel/btf/vmlinux: the kernel needs CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		log_err("cannot parse the kernel's BTF at /sys/kernel/btf/vmlinux: %s",
			strerror(errno));
		return -EOPNOTSUPP;
	}
	/* Every raw tracepoint has a btf_trace_<name> typedef. */
	found = btf__find_by_name_kind(btf, "btf_trace_page_fault_user", BTF_KIND_TYPEDEF) >= 0;
	btf__free(btf);
	if (!found) {
		log_err("the kernel has no page_fault_user tracepoint (x86 kernels have it; "
			"CONFIG_TRACEPOINTS is needed)");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !tierd_verbose)
		return 0;
	fputs("tierd: ", stderr); /* libbpf says "libbpf: " itself */
	return vfprintf(stderr, fmt, ap);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct watched *find_watched(struct tierd *t, uint64_t id)
{
	int i;

	for (i = 0; i < t->nr_watched; i++)
		if (t->watched[i].id == id)
			return &t->watched[i];
	return NULL;
}

int tierd_attach(struct tierd *t, const char *path, bool from_policy, char *err, size_t err_size,
		 struct watched **out)
{
	char abs_path[PATH_MAX];
	struct watched *w;
	uint64_t id;
	int ret;

	ret = cgroup_resolve(path, abs_path, sizeof(abs_path), &id, err, err_size);
	if (ret < 0)
		return ret;
	w = find_watched(t, id);
	if (w) {
		*out = w;
		return 0; /* attaching twice is not an error */
	}
	if (t->nr_watched == TIERD_MAX_WATCHED) {
		snprintf(err, err_size, "too many attached cgroups (%d)", TIERD_MAX_WATCHED);
		return -ENOSPC;
	}
	ret = observer_watch(t->ob, id);
	if (ret < 0) {
		snprintf(err, err_size, "cannot attach %s: %s", abs_path, strerror(-ret));
		return ret;
	}
	w = &t->watched[t->nr_watched++];
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->from_policy = from_policy;
	snprintf(w->path, sizeof(w->path), "%s", abs_path);
	log_info("attached %s (cgroup id %llu)%s", abs_path, (unsigned long long)id,
		 from_policy ? " from the policy file" : "");
	*out = w;
	return 0;
}

static void forget(struct tierd *t, struct watched *w)
{
	int i = w - t->watched;

	observer_unwatch(t->ob, w->id);
	tiering_unmanage(t->tiering, w->id);
	log_info("detached %s (cgroup id %llu)", w->path, (unsigned long long)w->id);
	memmove(&t->watched[i], &t->watched[i + 1], (t->nr_watched - i - 1) * sizeof(*w));
	t->nr_watched--;
}

int tierd_detach(struct tierd *t, const char *path, char *err, size_t err_size, uint64_t *id)
{
	char abs_path[PATH_MAX], err2[512];
	struct watched *w = NULL;
	int i, ret;

	ret = cgroup_resolve(path, abs_path, sizeof(abs_path), id, err2, sizeof(err2));
	if (ret == 0)
		w = find_watched(t, *id);
	/* A removed cgroup cannot be resolved any more: match its path. */
	for (i = 0; !w && i < t->nr_watched; i++)
		if (strcmp(t->watched[i].path, ret == 0 ? abs_path : path) == 0)
			w = &t->watched[i];
	if (!w) {
		if (ret < 0)
			snprintf(err, err_size, "%s", err2);
		else
			snprintf(err, err_size, "not attached: %s", path);
		return ret < 0 ? ret : -ENOENT;
	}
	*id = w->id;
	forget(t, w);
	return 0;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000;
}

/*
 * Load the policy (tiering.c refuses a bad one and keeps the old), then
 * attach and manage the cgroups it lists, and detach the policy cgroups
 * it no longer lists. FILE NULL: the built-in defaults.
 */
static int load_policy(struct tierd *t, const char *file)
{
	const struct policy *p = &t->tiering->policy;
	bool keep[TIERD_MAX_WATCHED] = { false };
	char err[512];
	unsigned i;
	int j, ret;

	if (file) {
		ret = tiering_load_policy(t->tiering, file, now_ms());
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < p->nr_cgroups; i++) {
		const struct policy_cgroup *pc = &p->cgroups[i];
		struct watched *w;

		if (tierd_attach(t, pc->path, true, err, sizeof(err), &w) < 0) {
			log_warn("policy %s: cgroups[%u]: %s", file ? file : "(defaults)", i, err);
			continue;
		}
		w->from_policy = true;
		keep[w - t->watched] = true;
		tiering_manage(t->tiering, w->id, w->path, &pc->dram, &pc->cxl, pc->pool, true,
			       now_ms());
	}
	for (j = t->nr_watched - 1; j >= 0; j--)
		if (t->watched[j].from_policy && !keep[j])
			forget(t, &t->watched[j]);
	return 0;
}

static void on_record(void *ctx, const struct tierd_rec_hdr *rec, size_t size)
{
	struct tierd *t = ctx;

	tiering_on_record(t->tiering, rec, size);
	ctl_publish(ctx, rec, size);
}

/*
 * Start or stop the perf_event sampler as the policy's heat.sampler asks:
 * "pebs" must have it (at start, tierd refuses to run without it), "auto"
 * takes it where it attaches and otherwise says why in status, the others
 * leave it off. Called after every policy load.
 */
static int update_sampler(struct tierd *t, const struct args *a, bool starting)
{
	enum policy_sampler want = t->tiering->policy.heat.sampler;
	struct sampler_opts so = { 0 };
	char err[512];
	int ret;

	if (want != POLICY_SAMPLER_PEBS && want != POLICY_SAMPLER_AUTO) {
		if (perf_sampler) {
			sampler_close(perf_sampler);
			perf_sampler = NULL;
			log_info("sampler: stopped: the policy asks for %s",
				 policy_sampler_name(want));
		}
		snprintf(perf_status.why, sizeof(perf_status.why), "the policy asks for %s",
			 policy_sampler_name(want));
		return 0;
	}
	if (perf_sampler)
		return 0;
	so.source = a->sampler_source;
	so.pin_root = a->pin_root;
	so.on_record = on_record;
	so.ctx = t;
	ret = sampler_open(&so, &perf_status, &perf_sampler, err, sizeof(err));
	if (ret == 0)
		return 0;
	if (want == POLICY_SAMPLER_PEBS) {
		log_err("the policy asks for \"sampler\": \"pebs\", but: %s; use \"sampler\": "
			"\"auto\" to fall back to DAMON, hint or page faults",
			err);
		return starting ? ret : 0;
	}
	log_info("sampler: %s; using DAMON/hint faults instead", err);
	return 0;
}

static void update_rates(struct tierd *t)
{
	uint64_t now = now_ns();
	double dt = (now - t->last_rate_ns) / 1e9;
	int i;

	if (now - t->last_rate_ns < RATE_INTERVAL_NS)
		return;
	for (i = 0; i < t->nr_watched; i++) {
		struct watched *w = &t->watched[i];
		struct tierd_cgroup_stats st;

		if (observer_read_stats(t->ob, w->id, &st) < 0)
			continue;
		w->fault_rate = st.faults >= w->prev_faults ? (st.faults - w->prev_faults) / dt : 0;
		w->prev_faults = st.faults;
	}
	t->last_rate_ns = now;
}

static int run(struct tierd *t, const struct args *a)
{
	struct itimerspec its = {
		.it_interval = { 0, DRAIN_INTERVAL_MS * 1000000L },
		.it_value = { 0, DRAIN_INTERVAL_MS * 1000000L },
	};
	int tag_timer, tag_signal, timer_fd, sig_fd, ret = 0, i, n;
	struct epoll_event ev = { .events = EPOLLIN }, evs[32];
	struct signalfd_siginfo si;
	uint64_t ticks;
	sigset_t mask;
	bool stop = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sig_fd < 0 || timer_fd < 0 || timerfd_settime(timer_fd, 0, &its, NULL) < 0) {
		ret = -errno;
		log_err("cannot create the timer/signal fds: %s", strerror(-ret));
		goto out;
	}
	ev.data.ptr = &tag_timer;
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, timer_fd, &ev);
	ev.data.ptr = &tag_signal;
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, sig_fd, &ev);

	log_info("running: pins in %s, control socket %s, draining every %d ms%s%s", a->pin_root,
		 a->socket, DRAIN_INTERVAL_MS, t->dry_run ? ", dry run" : "",
		 a->sample_every > 1 ? ", sampling fault records" : "");
	while (!stop) {
		n = epoll_wait(t->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			log_err("epoll_wait: %s", strerror(-ret));
			break;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_timer) {
				if (read(timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					log_warn("timerfd read: %s", strerror(errno));
				ret = observer_drain(t->ob);
				if (ret < 0)
					log_warn("draining the ring buffer: %s", strerror(-ret));
				if (perf_sampler && (ret = sampler_drain(perf_sampler)) < 0)
					log_warn("draining the sampler's ring: %s", strerror(-ret));
				ret = 0;
				ctl_flush(t);
				update_rates(t);
				tiering_tick(t->tiering, now_ms());
			} else if (p == &tag_signal) {
				while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						log_info("SIGHUP: reloading%s",
							 a->policy ? "" : " (no policy file)");
						if (a->policy && load_policy(t, a->policy) == 0)
							update_sampler(t, a, false);
					} else {
						log_info("%s: stopping", strsignal(si.ssi_signo));
						stop = true;
					}
				}
			} else if (p == &t->listen_fd) {
				ctl_accept(t);
			} else if (metrics_owns(p)) {
				metrics_dispatch(t);
			} else {
				ctl_client_event(t, p, evs[i].events);
			}
		}
	}
	observer_drain(t->ob);
	if (perf_sampler)
		sampler_drain(perf_sampler);
out:
	if (timer_fd >= 0)
		close(timer_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	return ret;
}

static int read_observer_stats(void *ctx, uint64_t id, struct tierd_cgroup_stats *st)
{
	return observer_read_stats(ctx, id, st);
}

/* The tiering loop: system ops plus the observer's counters. */
static int tiering_open(struct tierd *t, struct tiering *tg)
{
	struct tiering_ops ops = tiering_sys_ops;
	const struct observer_prog_state *ps;
	bool damon_prog = false;
	int i, nr, ret;

	ps = observer_programs(t->ob, &nr);
	for (i = 0; i < nr; i++)
		if (!strcmp(ps[i].name, "tierd_damon") && ps[i].attached)
			damon_prog = true;
	ops.read_stats = read_observer_stats;
	ops.ctx = t->ob;
	ret = tiering_init(tg, &ops, t->ranks.rank, DAMON_ADMIN_ROOT, damon_prog, t->dry_run,
			   now_ms());
	if (ret < 0)
		return ret;
	tg->fault_weight = t->sample_every;
	tg->perf = &perf_status;
	t->tiering = tg;
	return 0;
}

int main(int argc, char **argv)
{
	static struct tierd t; /* large: the watched table */
	static struct tiering tg;
	struct observer_opts oo = { 0 };
	struct args a = { 0 };
	char err[512];
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (preflight() < 0 || ctl_check_free(a.socket) < 0)
		return 1;
	libbpf_set_print(libbpf_log);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("mlockall: %s; tierd may be paged out under memory pressure",
			 strerror(errno));

	t.listen_fd = -1;
	t.sample_every = a.sample_every;
	t.dry_run = a.dry_run;
	t.start_ns = t.last_rate_ns = now_ns();
	t.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t.epfd < 0) {
		log_err("epoll_create1: %s", strerror(errno));
		return 1;
	}
	node_ranks_read("", &t.ranks);
	log_info("%d NUMA node(s), %d rank(s): %s", t.ranks.nr_nodes, t.ranks.nr_ranks,
		 t.ranks.how);

	oo.pin_root = a.pin_root;
	oo.sample_every = a.sample_every;
	oo.verbose = tierd_verbose;
	oo.on_record = on_record;
	oo.ctx = &t;
	ret = observer_open(&oo, &t.ranks, &t.ob, err, sizeof(err));
	if (ret < 0) {
		log_err("%s", err);
		return 1;
	}
	{
		const struct observer_prog_state *ps;
		int i, nr;

		ps = observer_programs(t.ob, &nr);
		for (i = 0; i < nr; i++)
			log_info("program %-14s %s%s%s", ps[i].name,
				 ps[i].attached ? "attached" : "not attached",
				 ps[i].reason[0] ? ": " : "", ps[i].reason);
		if (observer_migration_note(t.ob))
			log_info("%s", observer_migration_note(t.ob));
	}

	ret = tiering_open(&t, &tg);
	if (ret < 0)
		goto out_observer;
	ret = ctl_listen(&t, a.socket);
	if (ret < 0)
		goto out_tiering;
	if (load_policy(&t, a.policy) < 0) {
		ret = -EINVAL;
		goto out_ctl;
	}
	ret = update_sampler(&t, &a, true);
	if (ret < 0)
		goto out_ctl;
	log_info("heat sampler: %s (%s)", tiering_sampler_name(&tg), tiering_sampler_why(&tg));
	if (a.metrics && (ret = metrics_listen(&t, a.metrics)) < 0)
		goto out_ctl;
	ret = run(&t, &a);
out_ctl:
	sampler_close(perf_sampler);
	metrics_close(&t);
	ctl_close(&t);
out_tiering:
	tiering_free(&tg); /* gives back tierd's kdamond */
out_observer:
	observer_close(t.ob);
	close(t.epfd);
	log_info("stopped");
	return ret < 0 ? 1 : 0;
}
