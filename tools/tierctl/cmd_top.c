// SPDX-License-Identifier: GPL-2.0
/*
 * tierctl top: `tierctl status`, live. Every interval it asks tierd for
 * status (the same request), and turns the counters into rates by
 * differencing them against the previous frame, so the rates are over
 * exactly the displayed interval whatever tierd's own rate window is.
 * On a terminal each frame clears the screen; otherwise (a pipe, a log)
 * frames are plain text separated by a blank line, and -j prints one JSON
 * object per frame.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "tierctl_client.h"

static const char top_help[] =
    "usage: tierctl top [--interval S] [--count N]\n"
    "tierctl status, live: per attached cgroup, faults/s, pages promoted and demoted\n"
    "per second (the kernel's migrations, as the observer counts them; for managed\n"
    "cgroups also tierd's own moves), fault records dropped, and bytes per tier\n"
    "(DRAM / CXL / pool) where the tiering loop knows them.\n"
    "  --interval S   seconds between frames (default 1)\n"
    "  --count N      exit after N frames (default: until interrupted)\n"
    "On a terminal the screen is redrawn; otherwise frames are printed one after\n"
    "the other. With -j each frame is one JSON object on one line.\n";

#define TOP_MAX_CGROUPS 1024

struct prev {
	uint64_t id;
	uint64_t faults, promotions, demotions, promoted, demoted;
};

static uint64_t u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? (uint64_t)json_object_get_uint64(v) : 0;
}

static double dbl(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0.0;
}

static struct json_object *obj(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* "12.3M"-style bytes into BUF (binary units). */
static const char *human(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "BKMGTP";
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
	return buf;
}

static double rate(uint64_t now, uint64_t before, double dt)
{
	return now >= before && dt > 0 ? (now - before) / dt : 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One frame from a status answer R; PREV (NR_PREV entries) is updated. */
static void frame(const struct tierctl_opts *o, struct json_object *r, struct prev *prev,
		  int *nr_prev, double dt, bool tty)
{
	struct json_object *cgs = obj(r, "cgroups"), *g = obj(r, "global");
	struct json_object *jf = o->json ? json_object_new_object() : NULL;
	struct json_object *jcgs = o->json ? json_object_new_array() : NULL;
	struct prev next[TOP_MAX_CGROUPS];
	size_t i, n = cgs ? json_object_array_length(cgs) : 0;
	int nr_next = 0, k;

	if (tty && !o->json)
		printf("\033[H\033[2J");
	if (!o->json) {
		time_t now = time(NULL);
		char when[32];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		printf(
		    "tierctl top  %s  tierd up %.0f s  records %llu  dropped %llu  sampling 1/%llu"
		    "  %zu cgroup(s)\n\n",
		    when, dbl(g, "uptime_s"), (unsigned long long)u64(g, "records_received"),
		    (unsigned long long)u64(g, "records_dropped"),
		    (unsigned long long)u64(g, "sample_every"), n);
		printf("%-40s %10s %9s %9s %8s %9s %9s %9s\n", "CGROUP", "FAULTS/s", "PROMO/s",
		       "DEMO/s", "DROPS", "DRAM", "CXL", "POOL");
	}
	for (i = 0; i < n && nr_next < TOP_MAX_CGROUPS; i++) {
		struct json_object *c = json_object_array_get_idx(cgs, i);
		struct json_object *tg = obj(c, "tiering"), *by = obj(tg, "bytes");
		struct prev *p = NULL, *q = &next[nr_next++];
		double fr, pr, dr, tpr = 0, tdr = 0;
		const char *path = str(c, "path");
		char d[16], x[16], pl[16];

		q->id = u64(c, "id");
		q->faults = u64(c, "faults");
		q->promotions = u64(c, "promotions");
		q->demotions = u64(c, "demotions");
		q->promoted = u64(tg, "promoted_pages");
		q->demoted = u64(tg, "demoted_pages");
		for (k = 0; k < *nr_prev; k++)
			if (prev[k].id == q->id)
				p = &prev[k];
		if (p) {
			fr = rate(q->faults, p->faults, dt);
			pr = rate(q->promotions, p->promotions, dt);
			dr = rate(q->demotions, p->demotions, dt);
			tpr = rate(q->promoted, p->promoted, dt);
			tdr = rate(q->demoted, p->demoted, dt);
		} else { /* first sight: tierd's own one-second fault rate */
			fr = dbl(c, "fault_rate");
			pr = dr = NAN;
		}
		if (o->json) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "path", json_object_new_string(path));
			json_object_object_add(e, "id", json_object_new_uint64(q->id));
			json_object_object_add(e, "faults_per_s", json_object_new_double(fr));
			if (p) {
				json_object_object_add(e, "promotions_per_s",
						       json_object_new_double(pr));
				json_object_object_add(e, "demotions_per_s",
						       json_object_new_double(dr));
			}
			json_object_object_add(e, "records_dropped",
					       json_object_new_uint64(u64(c, "records_dropped")));
			if (by) {
				json_object_object_add(e, "dram_bytes",
						       json_object_new_uint64(u64(by, "dram")));
				json_object_object_add(e, "cxl_bytes",
						       json_object_new_uint64(u64(by, "cxl")));
				json_object_object_add(e, "pool_bytes",
						       json_object_new_uint64(u64(by, "pool")));
				json_object_object_add(e, "tierd_promote_pages_per_s",
						       json_object_new_double(tpr));
				json_object_object_add(e, "tierd_demote_pages_per_s",
						       json_object_new_double(tdr));
			}
			json_object_array_add(jcgs, e);
			continue;
		}
		if (strlen(path) > 40)
			path += strlen(path) - 40;
		printf("%-40s %10.0f ", path, fr);
		if (p)
			printf("%9.0f %9.0f", pr, dr);
		else
			printf("%9s %9s", "-", "-");
		printf(" %8llu", (unsigned long long)u64(c, "records_dropped"));
		if (by)
			printf(" %9s %9s %9s\n", human(u64(by, "dram"), d, sizeof(d)),
			       human(u64(by, "cxl"), x, sizeof(x)),
			       human(u64(by, "pool"), pl, sizeof(pl)));
		else
			printf(" %9s %9s %9s\n", "-", "-", "-");
		if (tg)
			printf(
			    "%-40s tierd moved %.0f pages/s up, %.0f/s down; budget DRAM %s, CXL "
			    "%s\n",
			    "", tpr, tdr, str(obj(tg, "budget"), "dram"),
			    str(obj(tg, "budget"), "cxl"));
	}
	if (!n && !o->json)
		printf("(no cgroups attached: tierctl attach CGROUP_PATH)\n");
	if (o->json) {
		json_object_object_add(jf, "interval_s", json_object_new_double(dt));
		json_object_object_add(jf, "records_received",
				       json_object_new_uint64(u64(g, "records_received")));
		json_object_object_add(jf, "records_dropped",
				       json_object_new_uint64(u64(g, "records_dropped")));
		json_object_object_add(jf, "cgroups", jcgs);
		print_json(o, jf);
		json_object_put(jf);
	} else if (!tty) {
		printf("\n");
	}
	memcpy(prev, next, nr_next * sizeof(*next));
	*nr_prev = nr_next;
	fflush(stdout);
}

int cmd_top(int argc, char **argv, const struct tierctl_opts *o)
{
	static const struct option lopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct prev prev[TOP_MAX_CGROUPS];
	struct json_object *req, *resp;
	double interval_s = 1, last = 0, now;
	long count = -1, frames = 0;
	int c, nr_prev = 0, ret = 0;
	bool tty = isatty(STDOUT_FILENO);

	if (wants_help(argc, argv)) {
		fputs(top_help, stdout);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "i:n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (opt_seconds(o, "interval", optarg, 0.05, 3600, &interval_s))
				return -EINVAL;
			break;
		case 'n':
			if (opt_number(o, "count", optarg, 1, LONG_MAX, &count))
				return -EINVAL;
			break;
		default:
			return opt_bad(o, "top");
		}
	}
	if (opt_no_more(o, "top", argc, argv))
		return -EINVAL;
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("status"));
	while (count < 0 || frames < count) {
		struct timespec ts;
		double wait_s;

		ret = ctl_request(o, req, &resp);
		if (ret < 0)
			break;
		now = mono_s();
		frame(o, resp, prev, &nr_prev, last ? now - last : 0, tty);
		json_object_put(resp);
		last = now;
		if (++frames == count)
			break;
		wait_s = interval_s - (mono_s() - now);
		if (wait_s > 0) {
			ts.tv_sec = (time_t)wait_s;
			ts.tv_nsec = (long)((wait_s - ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	json_object_put(req);
	return ret;
}
