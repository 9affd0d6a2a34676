/* SPDX-License-Identifier: GPL-2.0 */
/* tierctl_client.h — talking to tierd's control socket, for the commands. */
#ifndef TIERCTL_CLIENT_H
#define TIERCTL_CLIENT_H

#include <stddef.h>
#include <json-c/json.h>
#include "tierctl.h"

/* Connect and send req; returns the fd, or -errno (error printed). */
int ctl_connect(const struct tierctl_opts *o, struct json_object *req);
/* One request, one answer; an {"error"} answer is printed and is -EIO. */
int ctl_request(const struct tierctl_opts *o, struct json_object *req, struct json_object **resp);
/* Read the next line: returns bytes used (consume them), 0 at EOF, -errno. */
int ctl_read_line(int fd, char **buf, size_t *cap, size_t *len, char **line);
void ctl_consume(char *buf, size_t *len, int used);
void print_json(const struct tierctl_opts *o, struct json_object *j);
/* True if any argument after the command asks for help. */
bool wants_help(int argc, char **argv);

/*
 * The commands' getopt_long() loops share these. An option's value: 0, or
 * -EINVAL after an error naming --@name and what it wants. A number is a
 * whole number in [min, max]; seconds are a positive number in
 * [min_s, max_s].
 */
int opt_number(const struct tierctl_opts *o, const char *name, const char *arg, long min, long max,
	       long *out);
int opt_seconds(const struct tierctl_opts *o, const char *name, const char *arg, double min_s,
		double max_s, double *out);
/* An option getopt_long() did not know: the error, -EINVAL. */
int opt_bad(const struct tierctl_opts *o, const char *cmd);
/* After the loop: 0, or -EINVAL if an argument is left over. */
int opt_no_more(const struct tierctl_opts *o, const char *cmd, int argc, char **argv);

#endif /* TIERCTL_CLIENT_H */
