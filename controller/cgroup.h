/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup.h — cgroup2 paths and ids, shared by tierd and tierctl.
 * A cgroup's id is its cgroup2 directory's kernfs id: the 8 bytes that
 * name_to_handle_at() returns for the directory, and what
 * bpf_get_current_cgroup_id() returns for a task inside it.
 */
#ifndef TIERD_CGROUP_H
#define TIERD_CGROUP_H

#ifdef __BPF__
#error "cgroup.h is user-space only"
#endif

#include <stddef.h>
#include <stdint.h>

/*
 * Resolve PATH to an absolute path and its cgroup2 id. Returns 0, or
 * -errno with a sentence in err that names the problem:
 * -ENOENT (no such directory), -ENOTDIR, -EMEDIUMTYPE (not on cgroup2).
 */
int cgroup_resolve(const char *path, char *abs_path, size_t abs_size, uint64_t *id, char *err,
		   size_t err_size);

/* Where cgroup2 is mounted (first cgroup2 entry of /proc/mounts). */
int cgroup2_mount_point(char *buf, size_t size);

#endif /* TIERD_CGROUP_H */
