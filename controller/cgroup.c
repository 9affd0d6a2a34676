// SPDX-License-Identifier: GPL-2.0
/* cgroup.c — cgroup2 path checks and ids (see cgroup.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "cgroup.h"

int cgroup2_mount_point(char *buf, size_t size)
{
	struct mntent *m;
	FILE *f;
	int ret = -ENOENT;

	f = setmntent("/proc/mounts", "r");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2") == 0) {
			snprintf(buf, size, "%s", m->mnt_dir);
			ret = 0;
			break;
		}
	}
	endmntent(f);
	return ret;
}

int cgroup_resolve(const char *path, char *abs_path, size_t abs_size, uint64_t *id, char *err,
		   size_t err_size)
{
	char real[PATH_MAX], mnt[PATH_MAX];
	struct {
		struct file_handle fh;
		unsigned char bytes[64];
	} h;
	struct statfs sfs;
	struct stat st;
	int mount_id, ret;

	if (!realpath(path, real) || stat(real, &st) < 0) {
		ret = -errno;
		snprintf(err, err_size, "no such cgroup: %s (%s)", path, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "not a cgroup2 directory: %s is not a directory", path);
		return -ENOTDIR;
	}
	if (statfs(real, &sfs) < 0) {
		ret = -errno;
		snprintf(err, err_size, "cannot statfs %s: %s", path, strerror(-ret));
		return ret;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (cgroup2_mount_point(mnt, sizeof(mnt)) == 0)
			snprintf(err, err_size,
				 "not a cgroup2 directory: %s (cgroup2 is mounted at %s)", path,
				 mnt);
		else
			snprintf(err, err_size,
				 "not a cgroup2 directory: %s (and no cgroup2 is mounted)", path);
		return -EMEDIUMTYPE;
	}
	h.fh.handle_bytes = sizeof(h.bytes);
	if (name_to_handle_at(AT_FDCWD, real, &h.fh, &mount_id, 0) < 0) {
		ret = -errno;
		snprintf(err, err_size, "cannot get the cgroup id of %s: %s", path, strerror(-ret));
		return ret;
	}
	if (h.fh.handle_bytes != sizeof(*id)) {
		snprintf(err, err_size, "unexpected cgroup handle size %u for %s",
			 h.fh.handle_bytes, path);
		return -EINVAL;
	}
	memcpy(id, h.fh.f_handle, sizeof(*id));
	snprintf(abs_path, abs_size, "%s", real);
	return 0;
}
