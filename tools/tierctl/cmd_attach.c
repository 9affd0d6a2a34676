// SPDX-License-Identifier: GPL-2.0
/* tierctl attach / detach CGROUP_PATH */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "../../controller/cgroup.h"
#include "tierctl_client.h"

static const char attach_help[] =
    "usage: tierctl attach CGROUP_PATH\n"
    "Start observing the cgroup2 directory CGROUP_PATH: user page faults and page\n"
    "migrations of its tasks and of its descendants' tasks count toward it.\n"
    "The path must be a directory on cgroup2 (e.g. /sys/fs/cgroup/NAME, or\n"
    "/sys/fs/cgroup/unified/NAME on hybrid hosts). Attaching is a map update in\n"
    "the running BPF programs; nothing is reloaded. Attaching twice is harmless.\n"
    "Prints the path and its cgroup id (JSON with -j).\n";

static const char detach_help[] =
    "usage: tierctl detach CGROUP_PATH\n"
    "Stop observing CGROUP_PATH and drop its counters. A cgroup that has been\n"
    "removed can still be detached by the path it was attached with.\n";

static int attach_or_detach(int argc, char **argv, const struct tierctl_opts *o, bool attach)
{
	struct json_object *req, *resp, *v;
	char abs_path[PATH_MAX], err[PATH_MAX + 128];
	const char *path;
	uint64_t id;
	int ret;

	if (wants_help(argc, argv)) {
		fputs(attach ? attach_help : detach_help, stdout);
		return 0;
	}
	if (argc != 2) {
		tierctl_err(o, "%s wants exactly one CGROUP_PATH (see tierctl %s --help)", argv[0],
			    argv[0]);
		return -EINVAL;
	}
	path = argv[1];
	/* Check here too, so the error names the user's own path. */
	ret = cgroup_resolve(argv[1], abs_path, sizeof(abs_path), &id, err, sizeof(err));
	if (ret < 0 && attach) {
		tierctl_err(o, "%s", err);
		return ret;
	}
	if (ret == 0)
		path = abs_path;

	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(attach ? "attach" : "detach"));
	json_object_object_add(req, "path", json_object_new_string(path));
	ret = ctl_request(o, req, &resp);
	json_object_put(req);
	if (ret < 0)
		return ret;
	json_object_object_del(resp, "ok");
	if (o->json) {
		print_json(o, resp);
	} else {
		json_object_object_get_ex(resp, "id", &v);
		printf("%s %s (cgroup id %s)\n", attach ? "attached" : "detached", path,
		       json_object_get_string(v));
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
