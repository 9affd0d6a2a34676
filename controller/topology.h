/* SPDX-License-Identifier: GPL-2.0 */
/*
 * topology.h — NUMA nodes and memory tiers as tierd ranks them, and where
 * the kernel keeps a page's node in its flags word.
 */
#ifndef TIERD_TOPOLOGY_H
#define TIERD_TOPOLOGY_H

#ifdef __BPF__
#error "topology.h is user-space only"
#endif

#include <stdint.h>
#include "tierd/events.h"

struct node_ranks {
	uint32_t rank[TIERD_MAX_NODES]; /* TIERD_RANK_UNKNOWN for absent nodes */
	int nr_nodes; /* online nodes */
	int nr_ranks;
	char how[128]; /* how the ranks were derived, for status */
};

/*
 * Rank the online nodes: by /sys/devices/virtual/memory_tiering/memory_tierN
 * (lower N = faster) when the nodes sit in more than one tier; otherwise
 * nodes with CPUs rank above CPU-less ones (a CXL expander is CPU-less).
 * sysfs_root is "" normally (tests pass a fixture directory).
 */
int node_ranks_read(const char *sysfs_root, struct node_ranks *r);

/*
 * From the kernel's BTF: MAX_NUMNODES = (elements of
 * zonelist._zonerefs - 1) / __MAX_NR_ZONES; with SPARSEMEM_VMEMMAP (x86-64)
 * a page's nid is flags >> (64 - NODES_SHIFT).
 */
int nid_layout_from_btf(const char *btf_path, uint32_t *nid_shift, uint32_t *nid_mask);

/* Parse a sysfs node list ("0-2,5") into a bitmap of TIERD_MAX_NODES bits. */
int parse_nodelist(const char *s, uint8_t *bitmap);

#endif /* TIERD_TOPOLOGY_H */
