// SPDX-License-Identifier: GPL-2.0
/* client.c — one request to tierd's control socket (include/tierd/ctl.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "tierctl_client.h"

int ctl_connect(const struct tierctl_opts *o, struct json_object *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int fd, ret;

	if (strlen(o->socket_path) >= sizeof(sa.sun_path)) {
		tierctl_err(o, "socket path too long: %s", o->socket_path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		tierctl_err(o, "cannot reach tierd at %s: %s (is tierd running? as root?)",
			    o->socket_path, strerror(-ret));
		close(fd);
		return ret;
	}
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		ret = -errno;
		tierctl_err(o, "cannot talk to tierd: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int ctl_read_line(int fd, char **buf, size_t *cap, size_t *len, char **line)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = *len ? memchr(*buf, '\n', *len) : NULL;
		if (nl) {
			*nl = 0;
			*line = *buf;
			return nl - *buf + 1;
		}
		if (*len + 4096 + 1 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 65536;
			char *p = realloc(*buf, ncap);

			if (!p)
				return -ENOMEM;
			*buf = p;
			*cap = ncap;
		}
		n = recv(fd, *buf + *len, *cap - *len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*len += n;
	}
}

void ctl_consume(char *buf, size_t *len, int used)
{
	memmove(buf, buf + used, *len - used);
	*len -= used;
}

int ctl_request(const struct tierctl_opts *o, struct json_object *req, struct json_object **resp)
{
	struct json_object *r, *v;
	size_t cap = 0, len = 0;
	char *buf = NULL, *line;
	int fd, n;

	*resp = NULL;
	fd = ctl_connect(o, req);
	if (fd < 0)
		return fd;
	n = ctl_read_line(fd, &buf, &cap, &len, &line);
	close(fd);
	if (n <= 0) {
		tierctl_err(o, "tierd closed the connection without an answer");
		free(buf);
		return -EPROTO;
	}
	r = json_tokener_parse(line);
	free(buf);
	if (!r) {
		tierctl_err(o, "tierd's answer is not JSON");
		return -EPROTO;
	}
	if (json_object_object_get_ex(r, "error", &v)) {
		tierctl_err(o, "%s", json_object_get_string(v));
		json_object_put(r);
		return -EIO;
	}
	*resp = r;
	return 0;
}

void print_json(const struct tierctl_opts *o, struct json_object *j)
{
	printf("%s\n", json_object_to_json_string_ext(j, o->pretty ? JSON_C_TO_STRING_PRETTY |
									 JSON_C_TO_STRING_SPACED
								   : JSON_C_TO_STRING_PLAIN));
}

bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "help"))
			return true;
	return false;
}

int opt_number(const struct tierctl_opts *o, const char *name, const char *arg, long min, long max,
	       long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < min || v > max) {
		if (min == 1 && max == LONG_MAX)
			tierctl_err(o, "--%s wants a positive number", name);
		else
			tierctl_err(o, "--%s wants a number from %ld to %ld", name, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int opt_seconds(const struct tierctl_opts *o, const char *name, const char *arg, double min_s,
		double max_s, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	/* (written so that NaN fails too) */
	if (end == arg || *end || !(v > 0) || !(v >= min_s) || !(v <= max_s)) {
		if (min_s <= 0)
			tierctl_err(o, "--%s wants a positive number of seconds", name);
		else
			tierctl_err(o, "--%s wants seconds between %g and %g", name, min_s, max_s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int opt_bad(const struct tierctl_opts *o, const char *cmd)
{
	tierctl_err(o, "%s: bad arguments (see tierctl %s --help)", cmd, cmd);
	return -EINVAL;
}

int opt_no_more(const struct tierctl_opts *o, const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	tierctl_err(o, "%s: unexpected argument '%s'", cmd, argv[optind]);
	return -EINVAL;
}
