// SPDX-License-Identifier: GPL-2.0
/*
 * tierctl — the command line for tierd.
 *
 * bpftool-shaped: a table of commands matched by prefix ("tierctl st" is
 * status), -j/-p for JSON everywhere, and one error printer that speaks
 * JSON under -j so scripts never have to parse prose. Every command talks
 * to tierd over its control socket (include/tierd/ctl.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "tierd/ctl.h"
#include "tierctl.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, const struct tierctl_opts *o);
	const char *args;
	const char *summary;
};

static const struct cmd cmds[] = {
	{ "attach", cmd_attach, "CGROUP_PATH",
	  "observe a cgroup2 directory (and its descendants)" },
	{ "detach", cmd_detach, "CGROUP_PATH", "stop observing it" },
	{ "status", cmd_status, "", "per-cgroup counters, rates, programs and why" },
	{ "events", cmd_events, "[--cgroup PATH] [--count N] [--timeout S]",
	  "live decoded stream of fault, migration and DAMON records" },
	{ "top", cmd_top, "[--interval S] [--count N]", "status, live: rates per cgroup" },
	{ "heatmap", cmd_heatmap, "--cgroup PATH -o FILE.png [--seconds S]",
	  "fault heat over address x time (gnuplot)" },
	{ "run", cmd_run, "-- CMD [ARGS...]", "run a workload under tierd's pager" },
	{ "policy", cmd_policy, "...", "show or change the tiering policy" },
	{ "help", NULL, "", "this text" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: tierctl [-j|-p] [--socket PATH] COMMAND [ARGS...]\n"
		   "       tierctl COMMAND --help\n\n"
		   "commands (any unique prefix works):\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-7s %-42s %s\n", cmds[i].name, cmds[i].args, cmds[i].summary);
	fprintf(f,
		"\noptions:\n"
		"  -j, --json      JSON output (errors too: {\"error\": \"...\"})\n"
		"  -p, --pretty    pretty-printed JSON (implies -j)\n"
		"  --socket PATH   tierd's control socket (default %s)\n"
		"  -h, --help      this text\n",
		TIERD_CTL_SOCKET);
}

void tierctl_err(const struct tierctl_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "error", json_object_new_string(msg));
		printf("%s\n",
		       json_object_to_json_string_ext(j, o->pretty ? JSON_C_TO_STRING_PRETTY
								   : JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		fprintf(stderr, "tierctl: %s\n", msg);
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct tierctl_opts o = { .socket_path = TIERD_CTL_SOCKET };
	const struct cmd *found = NULL;
	unsigned int i;
	int c, ret;

	/* Options before the command only; the command parses the rest. */
	while ((c = getopt_long(argc, argv, "+jph", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'p':
			o.json = o.pretty = true;
			break;
		case 's':
			o.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strncmp(argv[optind], cmds[i].name, strlen(argv[optind])) == 0) {
			found = &cmds[i];
			break;
		}
	}
	if (!found) {
		tierctl_err(&o, "unknown command '%s' (try: tierctl help)", argv[optind]);
		return 2;
	}
	if (!found->fn) {
		usage(stdout);
		return 0;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the subcommand (0: full re-init) */
	ret = found->fn(argc, argv, &o);
	if (ret == -EINVAL)
		return 2;
	return ret < 0 ? 1 : 0;
}
