/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tierctl.h — what tierctl's subcommands share. Each subcommand lives in
 * tools/tierctl/cmd_<name>.c and is listed in main.c's command table.
 * A subcommand returns 0 or a negative errno; main() turns that into the
 * exit status after the subcommand has printed its own error message
 * (through tierctl_err(), which speaks JSON under -j).
 */
#ifndef TIERCTL_H
#define TIERCTL_H

#include <stdbool.h>

struct tierctl_opts {
	bool json; /* -j: JSON output */
	bool pretty; /* -p: pretty JSON */
	const char *socket_path; /* tierd's control socket */
};

int cmd_attach(int argc, char **argv, const struct tierctl_opts *o);
int cmd_detach(int argc, char **argv, const struct tierctl_opts *o);
int cmd_status(int argc, char **argv, const struct tierctl_opts *o);
int cmd_events(int argc, char **argv, const struct tierctl_opts *o);
int cmd_run(int argc, char **argv, const struct tierctl_opts *o);
int cmd_policy(int argc, char **argv, const struct tierctl_opts *o);
int cmd_top(int argc, char **argv, const struct tierctl_opts *o);
int cmd_heatmap(int argc, char **argv, const struct tierctl_opts *o);

/* Print an error ("tierctl: ..." on stderr, or {"error": "..."} under -j). */
void tierctl_err(const struct tierctl_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TIERCTL_H */
