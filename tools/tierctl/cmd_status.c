// SPDX-License-Identifier: GPL-2.0
/* tierctl status */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "tierctl_client.h"

static const char status_help[] =
    "usage: tierctl status [-j]\n"
    "What tierd observes. Per attached cgroup: path, cgroup id, user page faults\n"
    "(exact) and their rate over the last second, fault records sampled out\n"
    "(--sample) and dropped (ring buffer full), pages migrated by direction\n"
    "(promotions: to a faster tier; demotions: to a slower one; same tier), pages\n"
    "migrated by the cgroup's own tasks, and failed migrations. Globally: records\n"
    "received and dropped, which BPF programs are attached and why the others are\n"
    "not, and how NUMA nodes are ranked into tiers. -j prints all of it as JSON.\n"
    "For managed cgroups (attach --dram/--cxl, or the policy): bytes in DRAM and\n"
    "CXL against the budgets, tracked pages, pages moved by tierd and seen by the\n"
    "kernel per second, the heat sampler in use and a heat histogram; globally\n"
    "the policy in force and the tier nodes.\n";

static unsigned long long get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (unsigned long long)json_object_get_uint64(v)
						   : 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static double get_dbl(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0.0;
}

static double mib(struct json_object *o, const char *k)
{
	return get_u64(o, k) / 1048576.0;
}

/* The tiering loop's view of a managed cgroup (ctl.h: "tiering"). */
static void print_tiering(struct json_object *tg)
{
	struct json_object *b = NULL, *by = NULL, *hist = NULL, *pg;
	size_t i, n;

	json_object_object_get_ex(tg, "budget", &b);
	json_object_object_get_ex(tg, "bytes", &by);
	printf("    managed: DRAM %.1f MiB (budget %s), CXL %.1f MiB (budget %s), pool: %s\n",
	       mib(by, "dram"), get_str(b, "dram"), mib(by, "cxl"), get_str(b, "cxl"),
	       get_str(tg, "pool"));
	if (json_object_object_get_ex(tg, "pager", &pg)) /* controller/pager_link.c */
		printf("    pool: %.1f MiB (pager: %.1f of %.1f MiB resident), pool faults %llu "
		       "(%.0f/s), fetch p50 %.1f us p99 %.1f us, hint faults armed %llu\n",
		       mib(pg, "pool_bytes"), mib(pg, "resident_bytes"), mib(pg, "managed_bytes"),
		       get_u64(pg, "pool_faults"), get_dbl(pg, "pool_faults_per_s"),
		       get_u64(pg, "fetch_p50_ns") / 1000.0, get_u64(pg, "fetch_p99_ns") / 1000.0,
		       get_u64(pg, "hints"));
	printf("    tracked %llu pages in %llu ranges of %llu process(es), %.1f MiB not present;"
	       " heat sampler %s\n",
	       get_u64(tg, "tracked_pages"), get_u64(tg, "regions"), get_u64(tg, "pids"),
	       mib(by, "not_present"), get_str(tg, "sampler"));
	printf("    moves by tierd: promoted %llu (%.0f/s), demoted %llu (%.0f/s), failed %llu;"
	       " kernel saw %.0f/s up, %.0f/s down; rounds %llu (%llu moved, last %.1f ms)\n",
	       get_u64(tg, "promoted_pages"), get_dbl(tg, "promote_pages_per_s"),
	       get_u64(tg, "demoted_pages"), get_dbl(tg, "demote_pages_per_s"),
	       get_u64(tg, "move_failed_pages"), get_dbl(tg, "kernel_promote_pages_per_s"),
	       get_dbl(tg, "kernel_demote_pages_per_s"), get_u64(tg, "rounds"),
	       get_u64(tg, "moving_rounds"), get_dbl(tg, "last_round_ms"));
	if (!json_object_object_get_ex(tg, "heat_hist", &hist))
		return;
	n = json_object_array_length(hist);
	printf("    heat (accesses >=: pages DRAM/CXL):");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(hist, i);

		printf(" %g:%llu/%llu", get_dbl(e, "min_accesses"), get_u64(e, "dram"),
		       get_u64(e, "cxl"));
	}
	printf("\n");
}

static void print_text(struct json_object *r)
{
	struct json_object *arr, *g, *progs, *nodes, *ranks, *notes, *v;
	size_t i, n;

	json_object_object_get_ex(r, "cgroups", &arr);
	n = arr ? json_object_array_length(arr) : 0;
	if (!n)
		printf("no cgroups attached (tierctl attach CGROUP_PATH)\n");
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		double rate = 0;

		if (json_object_object_get_ex(c, "fault_rate", &v))
			rate = json_object_get_double(v);
		printf("cgroup %s  id %llu\n", get_str(c, "path"), get_u64(c, "id"));
		printf("    faults %llu (%.0f/s)  sampled out %llu  records dropped %llu\n",
		       get_u64(c, "faults"), rate, get_u64(c, "faults_sampled_out"),
		       get_u64(c, "records_dropped"));
		printf("    migrated pages: promotions %llu  demotions %llu  same tier %llu"
		       "  by its tasks %llu  failed %llu\n",
		       get_u64(c, "promotions"), get_u64(c, "demotions"),
		       get_u64(c, "migrate_same_tier"), get_u64(c, "migrate_ctx_succeeded"),
		       get_u64(c, "migrate_failed"));
		if (json_object_object_get_ex(c, "tiering", &v))
			print_tiering(v);
	}
	if (json_object_object_get_ex(r, "global", &g))
		printf("global: records received %llu, dropped %llu; unattributed migrations %llu;"
		       " sampling 1 in %llu; up %.0f s\n",
		       get_u64(g, "records_received"), get_u64(g, "records_dropped"),
		       get_u64(g, "migrate_unattributed"), get_u64(g, "sample_every"),
		       json_object_object_get_ex(g, "uptime_s", &v) ? json_object_get_double(v)
								    : 0.0);
	if (json_object_object_get_ex(r, "programs", &progs)) {
		printf("programs:\n");
		for (i = 0; i < json_object_array_length(progs); i++) {
			struct json_object *p = json_object_array_get_idx(progs, i);
			bool att = json_object_object_get_ex(p, "attached", &v) &&
				   json_object_get_boolean(v);
			const char *why = get_str(p, "reason");

			printf("    %-14s %-13s %s%s%s\n", get_str(p, "name"),
			       att ? "attached" : "not attached", get_str(p, "what"),
			       why[0] ? ": " : "", why);
		}
	}
	if (json_object_object_get_ex(r, "nodes", &nodes) &&
	    json_object_object_get_ex(nodes, "ranks", &ranks)) {
		printf("nodes:");
		for (i = 0; i < json_object_array_length(ranks); i++) {
			struct json_object *nd = json_object_array_get_idx(ranks, i);

			printf(" node%llu=rank%llu", get_u64(nd, "node"), get_u64(nd, "rank"));
		}
		printf(" (%s)\n", get_str(nodes, "how"));
	}
	if (json_object_object_get_ex(r, "tiering", &v)) {
		struct json_object *tiers = NULL, *d = NULL, *x = NULL, *dry = NULL;

		json_object_object_get_ex(v, "tiers", &tiers);
		json_object_object_get_ex(tiers, "dram", &d);
		json_object_object_get_ex(tiers, "cxl", &x);
		printf("tiering: policy %s; DRAM nodes %s, CXL nodes %s; heat sampler %s (%s)%s\n",
		       get_str(v, "policy_file"), d ? json_object_to_json_string(d) : "[]",
		       x ? json_object_to_json_string(x) : "[]", get_str(v, "sampler"),
		       get_str(v, "sampler_why"),
		       json_object_object_get_ex(v, "dry_run", &dry) && json_object_get_boolean(dry)
			   ? "; dry run"
			   : "");
		if (json_object_object_get_ex(v, "note", &dry))
			printf("note: %s\n", json_object_get_string(dry));
	}
	if (json_object_object_get_ex(r, "notes", &notes))
		for (i = 0; i < json_object_array_length(notes); i++)
			printf("note: %s\n",
			       json_object_get_string(json_object_array_get_idx(notes, i)));
}

int cmd_status(int argc, char **argv, const struct tierctl_opts *o)
{
	struct tierctl_opts o2 = *o;
	struct json_object *req, *resp;
	int i, ret;

	if (wants_help(argc, argv)) {
		fputs(status_help, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			o2.json = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			o2.json = o2.pretty = true;
		} else {
			tierctl_err(o, "status: unexpected argument '%s'", argv[i]);
			return -EINVAL;
		}
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("status"));
	ret = ctl_request(&o2, req, &resp);
	json_object_put(req);
	if (ret < 0)
		return ret;
	json_object_object_del(resp, "ok");
	if (o2.json)
		print_json(&o2, resp);
	else
		print_text(resp);
	json_object_put(resp);
	return 0;
}
