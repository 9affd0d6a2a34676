// SPDX-License-Identifier: GPL-2.0
/*
 * tierctl policy — check a policy file without running it, or print the
 * built-in defaults. Works without tierd: the same parser tierd uses
 * (controller/policy.c) runs here, so "check passes" means "tierd accepts".
 *
 *   tierctl policy check FILE     exit 0 + a one-line summary, or every
 *                                 error as FILE:LINE: KEY: MESSAGE, exit 1
 *   tierctl policy defaults       the policy tierd runs without a file
 * -j / -p (before or after the subcommand) print JSON instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "../../controller/policy.h"
#include "tierctl.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tierctl policy check FILE [-j|-p]\n"
		   "       tierctl policy defaults [-j|-p]\n\n"
		   "check     validate FILE (the format is in tierd-policy(5)): exit 0 with a\n"
		   "          one-line summary, or exit 1 with every error as\n"
		   "          FILE:LINE: KEY: what is expected\n"
		   "defaults  print the policy tierd uses when given no file\n");
}

static void print_json(json_object *j, const struct tierctl_opts *o)
{
	printf("%s\n", json_object_to_json_string_ext(
			   j, (o->pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
				  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void nodes_text(char *buf, size_t len, bool given, const int *nodes, unsigned nr)
{
	size_t o = 0;

	if (!given) {
		snprintf(buf, len, "discovered");
		return;
	}
	o += (size_t)snprintf(buf, len, "[");
	for (unsigned i = 0; i < nr && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", nodes[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

static void summary(const char *file, const struct policy *p)
{
	char dram[96], cxl[96];

	nodes_text(dram, sizeof(dram), p->tiers.dram_given, p->tiers.dram_nodes,
		   p->tiers.nr_dram_nodes);
	nodes_text(cxl, sizeof(cxl), p->tiers.cxl_given, p->tiers.cxl_nodes, p->tiers.nr_cxl_nodes);
	printf("%s: ok: %u cgroup%s; dram %s, cxl %s, %u pool URI%s; sampler %s, half-life %u ms; "
	       "every %u ms promote <= %u MiB/s, demote <= %u MiB/s, hysteresis %u%%\n",
	       file, p->nr_cgroups, p->nr_cgroups == 1 ? "" : "s", dram, cxl, p->tiers.nr_pool_uris,
	       p->tiers.nr_pool_uris == 1 ? "" : "s", policy_sampler_name(p->heat.sampler),
	       p->heat.half_life_ms, p->moves.interval_ms, p->moves.max_promote_mb_s,
	       p->moves.max_demote_mb_s, p->moves.hysteresis_pct);
}

static int check(const char *file, const struct tierctl_opts *o)
{
	struct policy p;
	struct policy_diag d;
	char buf[1024];
	int ret = policy_load_file(file, &p, &d);

	if (ret == -ENOMEM) {
		tierctl_err(o, "policy check: out of memory");
		return ret;
	}
	if (o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "file", json_object_new_string(file));
		json_object_object_add(j, "valid", json_object_new_boolean(!ret));
		if (!ret) {
			json_object_object_add(j, "policy", policy_to_json(&p));
		} else {
			json_object *errs = json_object_new_array();

			for (unsigned i = 0; i < d.nr; i++) {
				json_object *e = json_object_new_object();

				json_object_object_add(e, "line",
						       json_object_new_int(d.errs[i].line));
				json_object_object_add(e, "key",
						       json_object_new_string(d.errs[i].key));
				json_object_object_add(e, "message",
						       json_object_new_string(d.errs[i].msg));
				json_object_object_add(e, "text",
						       json_object_new_string(policy_error_format(
							   &d, i, buf, sizeof(buf))));
				json_object_array_add(errs, e);
			}
			json_object_object_add(j, "errors", errs);
			json_object_object_add(j, "errors_not_shown",
					       json_object_new_int(d.nr_lost));
		}
		print_json(j, o);
		json_object_put(j);
	} else if (!ret) {
		summary(file, &p);
	} else {
		for (unsigned i = 0; i < d.nr; i++)
			fprintf(stderr, "%s\n", policy_error_format(&d, i, buf, sizeof(buf)));
		if (d.nr_lost)
			fprintf(stderr, "%s: %u more errors not shown\n", file, d.nr_lost);
	}
	policy_free(&p);
	/* an invalid file is a failed check (exit 1), not a usage error (exit 2) */
	return ret == -EINVAL ? -EBADMSG : ret;
}

static int defaults(const struct tierctl_opts *o)
{
	struct policy p;
	struct tierctl_opts pretty = *o;
	json_object *j;

	policy_init(&p);
	j = policy_to_json(&p);
	if (!j) {
		tierctl_err(o, "policy defaults: out of memory");
		return -ENOMEM;
	}
	if (!pretty.json)
		pretty.json = pretty.pretty = true; /* a person reads it: indent */
	print_json(j, &pretty);
	json_object_put(j);
	return 0;
}

int cmd_policy(int argc, char **argv, const struct tierctl_opts *o)
{
	struct tierctl_opts opts = *o;
	const char *sub = NULL, *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			opts.json = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			opts.json = opts.pretty = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!sub) {
			sub = argv[i];
		} else if (!file) {
			file = argv[i];
		} else {
			tierctl_err(&opts,
				    "policy: unexpected argument '%s' (try: tierctl policy --help)",
				    argv[i]);
			return -EINVAL;
		}
	}
	if (sub && !strcmp(sub, "check")) {
		if (!file) {
			tierctl_err(&opts,
				    "policy check: which file? usage: tierctl policy check FILE");
			return -EINVAL;
		}
		return check(file, &opts);
	}
	if (sub && !strcmp(sub, "defaults") && !file)
		return defaults(&opts);
	if (!sub) {
		usage(stderr);
		return -EINVAL;
	}
	tierctl_err(&opts, "policy: unknown subcommand '%s' (try: tierctl policy --help)", sub);
	return -EINVAL;
}
