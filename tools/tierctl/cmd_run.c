// SPDX-License-Identifier: GPL-2.0
/*
 * tierctl run — run a program under libtierpager.
 *
 *   tierctl run [--pool URI[,URI...]]... [--local-limit SIZE] [--pool-size SIZE]
 *               [--node N|local|auto] [--handlers N] [--idle-poll]
 *               [--cgroup PATH] [-v] -- CMD [ARGS...]
 *
 * Nothing runs in between: the options become TIERD_* variables, the
 * library is put first in LD_PRELOAD, tierctl moves itself into the cgroup
 * (so the program starts there) and execs the program, which keeps
 * tierctl's pid. The library is found next to tierctl: ../lib from the
 * binary's directory (build/bin -> build/lib, BINDIR -> LIBDIR), or at
 * $TIERD_PAGER_LIB. Options are checked here with the library's own parser
 * so that a bad value fails before the program starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tierctl.h"
/* the pager's option parser (pager/lib/options.c, linked in), so both
 * sides agree on every value */
#include "tierd/pager.h"

static int find_library(char *path, size_t size)
{
	char exe[PATH_MAX - 32];
	const char *env = getenv("TIERD_PAGER_LIB");
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return access(path, R_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(path, size, "%s/../lib/libtierpager.so", exe);
	if (access(path, R_OK) == 0) {
		char real[PATH_MAX];

		if (realpath(path, real))
			snprintf(path, size, "%s", real);
		return 0;
	}
	return -ENOENT;
}

static int join_cgroup(const char *dir)
{
	char path[PATH_MAX], pid[32];
	int fd, len, rc = 0;

	if (dir[0] == '/')
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	else
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: tierctl run [--pool URI[,URI...]]... [--local-limit SIZE] [--pool-size SIZE]\n"
	    "                   [--node N|local|auto] [--handlers N] [--idle-poll]\n"
	    "                   [--cgroup PATH] [-v] -- CMD [ARGS...]\n"
	    "  --idle-poll: idle CPUs poll instead of halting while faults come in\n"
	    "               (faster wake-ups on VM hosts; system-wide while held; root)\n"
	    "  URI: mem:SIZE, shm:PATH, tcp://HOST:PORT, rdma://HOST:PORT; SIZE: 4096, 64K, 512M, "
	    "2G\n");
}

int cmd_run(int argc, char **argv, const struct tierctl_opts *o)
{
	static const struct option lopts[] = {
		{ "pool", required_argument, NULL, 'P' },
		{ "local-limit", required_argument, NULL, 'l' },
		{ "pool-size", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "handlers", required_argument, NULL, 'H' },
		{ "idle-poll", no_argument, NULL, 'I' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char pools[4096] = "", lib[PATH_MAX], preload[PATH_MAX + 4096], err[256];
	const char *cgroup = NULL, *old;
	struct tier_pager_opts check;
	int c, rc, verbose = 0;
	uint64_t bytes;

	while ((c = getopt_long(argc, argv, "+v", lopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			if (strlen(pools) + strlen(optarg) + 2 > sizeof(pools)) {
				tierctl_err(o, "run: too many --pool URIs");
				return -E2BIG;
			}
			if (pools[0])
				strcat(pools, ",");
			strcat(pools, optarg);
			break;
		case 'l':
		case 's':
			rc = tier_pager_parse_size(optarg, &bytes, err, sizeof(err));
			if (rc) {
				tierctl_err(o, "run: --%s: %s",
					    c == 'l' ? "local-limit" : "pool-size", err);
				return rc;
			}
			setenv(c == 'l' ? "TIERD_LOCAL_LIMIT" : "TIERD_POOL_SIZE", optarg, 1);
			break;
		case 'n':
			setenv("TIERD_NODE", optarg, 1);
			break;
		case 'H':
			setenv("TIERD_HANDLERS", optarg, 1);
			break;
		case 'I':
			setenv("TIERD_IDLE_POLL", "1", 1);
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		tierctl_err(o, "run: no command given (tierctl run [OPTIONS] -- CMD [ARGS...])");
		return -EINVAL;
	}
	if (pools[0])
		setenv("TIERD_POOL", pools, 1);
	if (verbose) {
		snprintf(err, sizeof(err), "%d", verbose);
		setenv("TIERD_VERBOSE", err, 1);
	}
	/* every TIERD_* value as the library will see it */
	rc = tier_pager_opts_from_env(&check, err, sizeof(err));
	if (rc == -ENOENT) {
		tierctl_err(o, "run: no pool: give --pool URI (e.g. --pool tcp://memnode:7471)");
		return rc;
	}
	if (rc) {
		tierctl_err(o, "run: %s", err);
		return rc;
	}
	rc = find_library(lib, sizeof(lib));
	if (rc) {
		tierctl_err(o, "run: libtierpager.so not found next to tierctl (../lib) nor at "
			       "$TIERD_PAGER_LIB: build it (make) or install it");
		return rc;
	}
	old = getenv("LD_PRELOAD");
	snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	if (cgroup) {
		rc = join_cgroup(cgroup);
		if (rc) {
			tierctl_err(o, "run: cannot move into cgroup %s: %s", cgroup,
				    strerror(-rc));
			return rc;
		}
	}
	if (verbose)
		fprintf(stderr,
			"tierctl run: LD_PRELOAD=%s TIERD_POOL=%s TIERD_LOCAL_LIMIT=%s %s\n",
			preload, getenv("TIERD_POOL"),
			getenv("TIERD_LOCAL_LIMIT") ? getenv("TIERD_LOCAL_LIMIT") : "none",
			argv[optind]);
	execvp(argv[optind], &argv[optind]);
	rc = -errno;
	tierctl_err(o, "run: cannot run %s: %s", argv[optind], strerror(-rc));
	return rc;
}
