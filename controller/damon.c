// SPDX-License-Identifier: GPL-2.0
/*
 * damon.c — one tierd-owned kdamond through DAMON's sysfs admin files.
 *
 * Layout used (Linux >= 5.18; vaddr and the damon_aggregated tracepoint):
 *   kdamonds/nr_kdamonds, kdamonds/0/state ("on"/"off"),
 *   kdamonds/0/contexts/nr_contexts, contexts/0/operations,
 *   contexts/0/monitoring_attrs/intervals/{sample_us,aggr_us,update_us},
 *   contexts/0/monitoring_attrs/nr_regions/{min,max},
 *   contexts/0/targets/nr_targets, targets/N/pid_target.
 * A change of the pid set turns the kdamond off, rewrites the targets and
 * turns it on again: simpler and more portable than an online "commit",
 * and it happens only when processes come or go.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "damon.h"
#include "log.h"

void damon_attrs_default(struct damon_attrs *a)
{
	*a = (struct damon_attrs){
		.sample_us = 20000,
		.aggr_us = 200000,
		.update_us = 2000000,
		.min_nr_regions = 10,
		.max_nr_regions = 1000,
	};
}

static int write_file(const struct damon_ctl *d, const char *rel, const char *val)
{
	char path[PATH_MAX + 128];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", d->root, rel);
	fd = open(path,
		  O_WRONLY | O_TRUNC | O_CLOEXEC); /* O_TRUNC: sysfs ignores it, fixtures need it */
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int write_u64(const struct damon_ctl *d, const char *rel, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return write_file(d, rel, buf);
}

static int read_file(const struct damon_ctl *d, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX + 128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->root, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The pid in the owner file, or 0. */
static pid_t owner_pid(const struct damon_ctl *d)
{
	long pid = 0;
	FILE *f;

	if (!d->owner_file[0] || !(f = fopen(d->owner_file, "re")))
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 ? (pid_t)pid : 0;
}

static void write_owner(const struct damon_ctl *d)
{
	FILE *f;

	char dir[PATH_MAX], *slash;

	if (!d->owner_file[0])
		return;
	snprintf(dir, sizeof(dir), "%s", d->owner_file);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755); /* /run/tierd, also where the socket lives */
	}
	f = fopen(d->owner_file, "we");
	if (!f)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int damon_probe(struct damon_ctl *d, const char *root, const struct damon_attrs *a,
		const char *owner_file)
{
	pid_t owner;
	char buf[256];
	int ret;

	memset(d, 0, sizeof(*d));
	snprintf(d->root, sizeof(d->root), "%s", root);
	if (owner_file)
		snprintf(d->owner_file, sizeof(d->owner_file), "%s", owner_file);
	if (a)
		d->attrs = *a;
	else
		damon_attrs_default(&d->attrs);
	ret = read_file(d, "kdamonds/nr_kdamonds", buf, sizeof(buf));
	if (ret < 0) {
		snprintf(
		    d->why, sizeof(d->why),
		    "no DAMON sysfs at %.200s (%.64s): the kernel needs CONFIG_DAMON_SYSFS and "
		    "CONFIG_DAMON_VADDR; heat comes from page faults",
		    root, strerror(-ret));
		return 0;
	}
	owner = owner_pid(d);
	if (strcmp(buf, "1") == 0 && owner && owner != getpid() && kill(owner, 0) < 0 &&
	    errno == ESRCH) {
		/* a tierd that died (pid gone) left its kdamond running */
		log_warn("taking back the kdamond a previous tierd (pid %ld) left running",
			 (long)owner);
		d->owned = true;
		damon_release(d);
		if (read_file(d, "kdamonds/nr_kdamonds", buf, sizeof(buf)) < 0)
			buf[0] = 0;
	}
	if (strcmp(buf, "0") != 0) {
		snprintf(d->why, sizeof(d->why),
			 "%.16s kdamond(s) already exist (nr_kdamonds = %.16s): they belong to "
			 "the platform, tierd leaves them alone; heat comes from page faults",
			 buf, buf);
		return 0;
	}
	/* no kdamond: an owner file is stale whatever it says */
	if (d->owner_file[0] && owner_pid(d) != getpid())
		unlink(d->owner_file);
	d->available = true;
	snprintf(d->why, sizeof(d->why), "DAMON vaddr available (no kdamond yet)");
	return 0;
}

static int stop_kdamond(struct damon_ctl *d)
{
	char buf[32];

	if (read_file(d, "kdamonds/0/state", buf, sizeof(buf)) == 0 && strcmp(buf, "on") == 0)
		return write_file(d, "kdamonds/0/state", "off");
	return 0;
}

/* Create kdamond 0 with one vaddr context (first start only). */
static int create_kdamond(struct damon_ctl *d)
{
	char buf[256];
	int ret;

	ret = write_u64(d, "kdamonds/nr_kdamonds", 1);
	if (ret < 0)
		return ret;
	d->owned = true;
	write_owner(d);
	ret = write_u64(d, "kdamonds/0/contexts/nr_contexts", 1);
	if (ret < 0)
		return ret;
	/* avail_operations exists since 5.19; without it, try vaddr anyway. */
	if (read_file(d, "kdamonds/0/contexts/0/avail_operations", buf, sizeof(buf)) == 0 &&
	    !strstr(buf, "vaddr"))
		return -EOPNOTSUPP;
	ret = write_file(d, "kdamonds/0/contexts/0/operations", "vaddr");
	if (ret < 0)
		return ret;
#define ATTR(file, v)                                                                  \
	do {                                                                           \
		ret = write_u64(d, "kdamonds/0/contexts/0/monitoring_attrs/" file, v); \
		if (ret < 0)                                                           \
			return ret;                                                    \
	} while (0)
	/* max before min: the kernel refuses min > max at every write */
	ATTR("nr_regions/max", d->attrs.max_nr_regions);
	ATTR("nr_regions/min", d->attrs.min_nr_regions);
	ATTR("intervals/sample_us", d->attrs.sample_us);
	ATTR("intervals/aggr_us", d->attrs.aggr_us);
	ATTR("intervals/update_us", d->attrs.update_us);
#undef ATTR
	return 0;
}

unsigned damon_pid_set_normalize(uint32_t *pids, unsigned n)
{
	unsigned i, j, k = 0;

	/* insertion sort: sets are small (the processes of a few cgroups) */
	for (i = 1; i < n; i++) {
		uint32_t v = pids[i];

		for (j = i; j > 0 && pids[j - 1] > v; j--)
			pids[j] = pids[j - 1];
		pids[j] = v;
	}
	for (i = 0; i < n; i++)
		if (pids[i] && (k == 0 || pids[k - 1] != pids[i]))
			pids[k++] = pids[i];
	return k;
}

int damon_set_targets(struct damon_ctl *d, const uint32_t *pids_in, unsigned n, uint64_t now_ns)
{
	uint32_t pids[DAMON_MAX_TARGETS];
	char rel[128];
	unsigned i;
	int ret;

	if (!d->available)
		return -EOPNOTSUPP;
	if (n > DAMON_MAX_TARGETS)
		n = DAMON_MAX_TARGETS;
	memcpy(pids, pids_in, n * sizeof(*pids));
	n = damon_pid_set_normalize(pids, n);
	if (n == d->nr_targets && !memcmp(pids, d->pids, n * sizeof(*pids)) &&
	    d->running == (n > 0))
		return 0;

	if (!d->owned) {
		ret = create_kdamond(d);
		if (ret < 0)
			goto fail;
	}
	ret = stop_kdamond(d);
	if (ret < 0)
		goto fail;
	d->running = false;
	d->config_ns = now_ns;
	d->nr_targets = 0;
	if (n == 0)
		return 0;
	ret = write_u64(d, "kdamonds/0/contexts/0/targets/nr_targets", n);
	if (ret < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "kdamonds/0/contexts/0/targets/%u/pid_target", i);
		ret = write_u64(d, rel, pids[i]);
		if (ret < 0)
			goto fail;
	}
	memcpy(d->pids, pids, n * sizeof(*pids));
	d->nr_targets = n;
	ret = write_file(d, "kdamonds/0/state", "on");
	if (ret < 0) {
		/* Most likely a target exited between cgroup.procs and now
		 * (the kernel cannot find its pid): try again next round. */
		log_warn("DAMON: turning the kdamond on for %u process(es) failed: %s; retrying "
			 "next round",
			 n, strerror(-ret));
		d->nr_targets = 0;
		return ret;
	}
	d->running = true;
	d->nr_restarts++;
	snprintf(d->why, sizeof(d->why), "DAMON vaddr: tierd's kdamond monitors %u process(es)", n);
	return 0;
fail:
	snprintf(d->why, sizeof(d->why),
		 "DAMON vaddr could not be set up (%.64s at %.200s/kdamonds/0); heat comes from "
		 "page faults",
		 strerror(-ret), d->root);
	log_warn("%s", d->why);
	damon_release(d);
	d->available = false;
	return ret;
}

int damon_target_pid(const struct damon_ctl *d, uint64_t target_id, uint64_t ts_ns, uint32_t *pid)
{
	if (!d->running || ts_ns < d->config_ns || target_id >= d->nr_targets)
		return -ENOENT;
	*pid = d->pids[target_id];
	return 0;
}

void damon_release(struct damon_ctl *d)
{
	int ret;

	if (!d->owned)
		return;
	stop_kdamond(d);
	ret = write_u64(d, "kdamonds/nr_kdamonds", 0);
	if (ret < 0)
		log_warn("could not give back the kdamond (nr_kdamonds = 0 failed): %s",
			 strerror(-ret));
	else if (d->owner_file[0])
		unlink(d->owner_file);
	d->owned = false;
	d->running = false;
	d->nr_targets = 0;
}
