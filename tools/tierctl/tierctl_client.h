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

#endif /* TIERCTL_CLIENT_H */
