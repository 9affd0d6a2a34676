// SPDX-License-Identifier: GPL-2.0
/* tierctl events: tierd's drained ring-buffer records, decoded, live. */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "../../controller/cgroup.h"
#include "tierctl_client.h"

static const char events_help[] =
    "usage: tierctl events [--cgroup PATH] [--count N] [--timeout SECONDS]\n"
    "Print the records tierd drains from its BPF ring buffer as they arrive\n"
    "(tierd drains every 25 ms), one per line:\n"
    "  fault    cgroup ID pid P tid T addr 0x... ip 0x... err 0x... (read|write)\n"
    "  migrate  cgroup ID promote|demote|same_tier N pages node S -> node D\n"
    "  damon    target ID 0xSTART-0xEND accesses N age N\n"
    "With -j each record is one JSON object per line (JSON Lines).\n"
    "  --cgroup PATH    only records counted toward this attached cgroup\n"
    "  --count N        stop after N records\n"
    "  --timeout S      stop after S seconds (default: run until interrupted)\n"
    "If tierd cannot keep up with this reader, it says how many records this\n"
    "reader lost (\"lost N records\"); tierd itself never waits for a reader.\n";

static unsigned long long u(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (unsigned long long)json_object_get_uint64(v)
						   : 0;
}

static const char *s(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* Print one record; returns 1 if it counts toward --count. */
static int print_record(const struct tierctl_opts *o, const char *line)
{
	struct json_object *r = json_tokener_parse(line);
	const char *type;
	int counted = 1;

	if (!r)
		return 0;
	type = s(r, "type");
	if (!strcmp(type, "lost")) {
		counted = 0;
		fprintf(stderr, "tierctl: lost %llu records (this reader was too slow)\n",
			u(r, "records"));
	}
	if (o->json) {
		if (counted)
			print_json(o, r);
	} else if (!strcmp(type, "fault")) {
		unsigned long long err = u(r, "error_code");

		printf(
		    "fault    cgroup %llu pid %llu tid %llu addr %#llx ip %#llx err %#llx (%s)\n",
		    u(r, "cgroup_id"), u(r, "pid"), u(r, "tid"), u(r, "address"), u(r, "ip"), err,
		    err & 2    ? "write"
		    : err & 16 ? "exec"
			       : "read");
	} else if (!strcmp(type, "migrate")) {
		printf("migrate  cgroup %llu %s %llu pages node %llu -> node %llu\n",
		       u(r, "cgroup_id"), s(r, "direction"), u(r, "nr_pages"), u(r, "src_nid"),
		       u(r, "dst_nid"));
	} else if (!strcmp(type, "sample")) {
		printf("sample   cgroup %llu pid %llu tid %llu addr %#llx ip %#llx\n",
		       u(r, "cgroup_id"), u(r, "pid"), u(r, "tid"), u(r, "address"), u(r, "ip"));
	} else if (!strcmp(type, "damon")) {
		printf("damon    target %llu %#llx-%#llx accesses %llu age %llu\n",
		       u(r, "target_id"), u(r, "start"), u(r, "end"), u(r, "nr_accesses"),
		       u(r, "age"));
	} else {
		counted = 0;
	}
	json_object_put(r);
	return counted;
}

int cmd_events(int argc, char **argv, const struct tierctl_opts *o)
{
	static const struct option lopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char abs_path[PATH_MAX], err[PATH_MAX + 128], *buf = NULL, *line;
	long count = -1, seen = 0;
	double timeout_s = -1;
	size_t cap = 0, len = 0;
	struct json_object *req, *resp;
	struct timespec t0, t1;
	uint64_t id = 0;
	int c, fd, n, ret = 0;

	if (wants_help(argc, argv)) {
		fputs(events_help, stdout);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "c:n:t:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cgroup_resolve(optarg, abs_path, sizeof(abs_path), &id, err,
					   sizeof(err)) < 0) {
				tierctl_err(o, "%s", err);
				return -ENOENT;
			}
			break;
		case 'n':
			if (opt_number(o, "count", optarg, 1, LONG_MAX, &count))
				return -EINVAL;
			break;
		case 't':
			if (opt_seconds(o, "timeout", optarg, 0, DBL_MAX, &timeout_s))
				return -EINVAL;
			break;
		default:
			return opt_bad(o, "events");
		}
	}
	if (opt_no_more(o, "events", argc, argv))
		return -EINVAL;

	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("events"));
	if (id)
		json_object_object_add(req, "cgroup_id", json_object_new_uint64(id));
	fd = ctl_connect(o, req);
	json_object_put(req);
	if (fd < 0)
		return fd;
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* The first line is {"ok": true} or {"error": ...}. */
	n = ctl_read_line(fd, &buf, &cap, &len, &line);
	if (n <= 0) {
		tierctl_err(o, "tierd closed the connection without an answer");
		ret = -EPROTO;
		goto out;
	}
	resp = json_tokener_parse(line);
	if (!resp || json_object_object_get_ex(resp, "error", NULL)) {
		tierctl_err(o, "%s", resp ? s(resp, "error") : "tierd's answer is not JSON");
		json_object_put(resp);
		ret = -EIO;
		goto out;
	}
	json_object_put(resp);
	ctl_consume(buf, &len, n);

	while (count < 0 || seen < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms = -1;

		/* Complete lines already buffered come first. */
		if (len && memchr(buf, '\n', len)) {
			n = ctl_read_line(fd, &buf, &cap, &len, &line);
			seen += print_record(o, line);
			ctl_consume(buf, &len, n);
			continue;
		}
		if (timeout_s > 0) {
			double el;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
			if (el >= timeout_s)
				break;
			wait_ms = (int)((timeout_s - el) * 1000) + 1;
		}
		n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		n = ctl_read_line(fd, &buf, &cap, &len, &line);
		if (n == 0) {
			tierctl_err(o, "tierd closed the event stream");
			ret = -EPIPE;
			break;
		}
		if (n < 0) {
			ret = n;
			break;
		}
		seen += print_record(o, line);
		ctl_consume(buf, &len, n);
	}
out:
	free(buf);
	close(fd);
	return ret;
}
