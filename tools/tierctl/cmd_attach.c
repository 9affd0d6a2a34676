// SPDX-License-Identifier: GPL-2.0
/* tierctl attach / detach CGROUP_PATH */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "../../controller/cgroup.h"
#include "../../controller/policy.h"
#include "tierctl_client.h"

static const char attach_help[] =
    "usage: tierctl attach CGROUP_PATH [--dram SIZE] [--cxl SIZE] [--pool]\n"
    "Start observing the cgroup2 directory CGROUP_PATH: user page faults and page\n"
    "migrations of its tasks and of its descendants' tasks count toward it.\n"
    "The path must be a directory on cgroup2 (e.g. /sys/fs/cgroup/NAME, or\n"
    "/sys/fs/cgroup/unified/NAME on hybrid hosts). Attaching is a map update in\n"
    "the running BPF programs; nothing is reloaded. Attaching twice is harmless.\n"
    "Prints the path and its cgroup id (JSON with -j).\n"
    "\n"
    "With a budget the cgroup is also managed: every plan round tierd keeps its\n"
    "hottest pages in DRAM up to the DRAM budget and moves the rest to CXL\n"
    "(move_pages(2) on its processes).\n"
    "  --dram SIZE   DRAM budget: 512M, 2G, 25% (of the cgroup's usage), max\n"
    "  --cxl SIZE    CXL budget (the same forms)\n"
    "  --pool        cold pages may go to the memory pool (needs the pager)\n"
    "Attaching again with other budgets changes them.\n";

static const char detach_help[] =
    "usage: tierctl detach CGROUP_PATH\n"
    "Stop observing CGROUP_PATH and drop its counters. A cgroup that has been\n"
    "removed can still be detached by the path it was attached with.\n";

static int attach_or_detach(int argc, char **argv, const struct tierctl_opts *o, bool attach)
{
	struct json_object *req, *resp, *v;
	char abs_path[PATH_MAX], err[PATH_MAX + 128];
	const char *path = NULL, *dram = NULL, *cxl = NULL;
	struct policy_size size;
	bool pool = false;
	uint64_t id;
	int i, ret;

	if (wants_help(argc, argv)) {
		fputs(attach ? attach_help : detach_help, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (attach && !strcmp(argv[i], "--dram")) {
			dst = &dram;
		} else if (attach && !strcmp(argv[i], "--cxl")) {
			dst = &cxl;
		} else if (attach && !strcmp(argv[i], "--pool")) {
			pool = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			tierctl_err(o, "%s: unknown option '%s' (see tierctl %s --help)", argv[0],
				    argv[i], argv[0]);
			return -EINVAL;
		} else if (!path) {
			path = argv[i];
		} else {
			tierctl_err(o, "%s wants exactly one CGROUP_PATH (see tierctl %s --help)",
				    argv[0], argv[0]);
			return -EINVAL;
		}
		if (!dst)
			continue;
		if (i + 1 >= argc) {
			tierctl_err(o, "%s needs a SIZE (e.g. 512M, 2G, 25%%, max)", argv[i]);
			return -EINVAL;
		}
		if (policy_size_parse(argv[i + 1], &size) < 0) {
			tierctl_err(o,
				    "%s: '%s' is not a size: expected e.g. 512M, 2G, 25%% (of the "
				    "cgroup's usage) or max",
				    argv[i], argv[i + 1]);
			return -EINVAL;
		}
		*dst = argv[++i];
	}
	if (!path) {
		tierctl_err(o, "%s wants exactly one CGROUP_PATH (see tierctl %s --help)", argv[0],
			    argv[0]);
		return -EINVAL;
	}
	/* Check here too, so the error names the user's own path. */
	ret = cgroup_resolve(path, abs_path, sizeof(abs_path), &id, err, sizeof(err));
	if (ret < 0 && attach) {
		tierctl_err(o, "%s", err);
		return ret;
	}
	if (ret == 0)
		path = abs_path;

	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(attach ? "attach" : "detach"));
	json_object_object_add(req, "path", json_object_new_string(path));
	if (dram)
		json_object_object_add(req, "dram", json_object_new_string(dram));
	if (cxl)
		json_object_object_add(req, "cxl", json_object_new_string(cxl));
	if (pool)
		json_object_object_add(req, "pool", json_object_new_boolean(1));
	ret = ctl_request(o, req, &resp);
	json_object_put(req);
	if (ret < 0)
		return ret;
	json_object_object_del(resp, "ok");
	if (o->json) {
		print_json(o, resp);
	} else {
		json_object_object_get_ex(resp, "id", &v);
		printf("%s %s (cgroup id %s)", attach ? "attached" : "detached", path,
		       json_object_get_string(v));
		if (dram || cxl || pool)
			printf(", managed: DRAM budget %s, CXL budget %s%s", dram ? dram : "max",
			       cxl ? cxl : "max", pool ? ", pool" : "");
		printf("\n");
	}
	json_object_put(resp);
	return 0;
}

int cmd_attach(int argc, char **argv, const struct tierctl_opts *o)
{
	return attach_or_detach(argc, argv, o, true);
}

int cmd_detach(int argc, char **argv, const struct tierctl_opts *o)
{
	return attach_or_detach(argc, argv, o, false);
}
