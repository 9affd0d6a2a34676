// SPDX-License-Identifier: GPL-2.0
/* topology.c — node ranks and the nid layout (see topology.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "topology.h"

#define BIT_SET(bm, i) ((bm)[(i) / 8] |= 1u << ((i) % 8))
#define BIT_TEST(bm, i) ((bm)[(i) / 8] & (1u << ((i) % 8)))

int parse_nodelist(const char *s, uint8_t *bitmap)
{
	const char *p = s;
	char *end;

	memset(bitmap, 0, TIERD_MAX_NODES / 8);
	while (*p && *p != '\n') {
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a >= TIERD_MAX_NODES)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= TIERD_MAX_NODES)
				return -EINVAL;
			p = end;
		}
		for (; a <= b; a++)
			BIT_SET(bitmap, a);
		if (*p == ',')
			p++;
	}
	return 0;
}

static int read_nodelist(const char *path, uint8_t *bitmap)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	int ret;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	ret = parse_nodelist(buf, bitmap);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int node_ranks_read(const char *sysfs_root, struct node_ranks *r)
{
	uint8_t online[TIERD_MAX_NODES / 8], cpus[TIERD_MAX_NODES / 8], nodes[TIERD_MAX_NODES / 8];
	char path[PATH_MAX];
	int tiers[64], nr_tiers = 0, i, t, ret;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < TIERD_MAX_NODES; i++)
		r->rank[i] = TIERD_RANK_UNKNOWN;
	r->nr_nodes = 0;
	r->nr_ranks = 0;
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/online", sysfs_root);
	ret = read_nodelist(path, online);
	if (ret < 0) {
		/* No NUMA support: one node 0. */
		memset(online, 0, sizeof(online));
		BIT_SET(online, 0);
	}
	for (i = 0; i < TIERD_MAX_NODES; i++)
		if (BIT_TEST(online, i))
			r->nr_nodes++;

	snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering", sysfs_root);
	d = opendir(path);
	while (d && (de = readdir(d)) && nr_tiers < 64) {
		if (sscanf(de->d_name, "memory_tier%d", &t) == 1)
			tiers[nr_tiers++] = t;
	}
	if (d)
		closedir(d);
	qsort(tiers, nr_tiers, sizeof(int), cmp_int);

	if (nr_tiers > 1) {
		for (t = 0; t < nr_tiers; t++) {
			snprintf(path, sizeof(path),
				 "%s/sys/devices/virtual/memory_tiering/memory_tier%d/nodelist",
				 sysfs_root, tiers[t]);
			if (read_nodelist(path, nodes) < 0)
				continue;
			for (i = 0; i < TIERD_MAX_NODES; i++)
				if (BIT_TEST(nodes, i) && BIT_TEST(online, i))
					r->rank[i] = r->nr_ranks;
			r->nr_ranks++;
		}
		snprintf(r->how, sizeof(r->how), "%d memory tiers (memory_tiering sysfs)",
			 nr_tiers);
	} else {
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/has_cpu", sysfs_root);
		if (read_nodelist(path, cpus) < 0)
			memcpy(cpus, online, sizeof(cpus));
		for (i = 0; i < TIERD_MAX_NODES; i++) {
			if (!BIT_TEST(online, i))
				continue;
			r->rank[i] = BIT_TEST(cpus, i) ? 0 : 1;
			if ((int)r->rank[i] + 1 > r->nr_ranks)
				r->nr_ranks = r->rank[i] + 1;
		}
		snprintf(r->how, sizeof(r->how),
			 "one memory tier: nodes with CPUs rank above CPU-less nodes");
	}
	return 0;
}

int nid_layout_from_btf(const char *btf_path, uint32_t *nid_shift, uint32_t *nid_mask)
{
	const struct btf_member *m;
	const struct btf_array *arr;
	const struct btf_type *t;
	struct btf *btf;
	int id, i, nr_zones = -1, ret = 0;
	unsigned int max_numnodes, shift = 0;

	btf = btf__parse(btf_path, NULL);
	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "zonelist", BTF_KIND_STRUCT);
	if (id < 0) {
		ret = -ENOENT;
		goto out;
	}
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	t = btf__type_by_id(btf, m[0].type);
	if (!t || !btf_is_array(t)) {
		ret = -EINVAL;
		goto out;
	}
	arr = btf_array(t);
	id = btf__find_by_name_kind(btf, "zone_type", BTF_KIND_ENUM);
	if (id < 0) {
		ret = -ENOENT;
		goto out;
	}
	t = btf__type_by_id(btf, id);
	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;

		if (strcmp(btf__name_by_offset(btf, e->name_off), "__MAX_NR_ZONES") == 0)
			nr_zones = e->val;
	}
	if (nr_zones <= 0 || arr->nelems < 2) {
		ret = -ENOENT;
		goto out;
	}
	max_numnodes = (arr->nelems - 1) / nr_zones;
	while ((1u << shift) < max_numnodes)
		shift++;
	if ((1u << shift) != max_numnodes || shift > 10) {
		ret = -ERANGE;
		goto out;
	}
	*nid_shift = 64 - shift;
	*nid_mask = max_numnodes - 1;
	if (shift == 0) { /* one node: nothing in the flags */
		*nid_shift = 63;
		*nid_mask = 0;
	}
out:
	btf__free(btf);
	return ret;
}
