/* SPDX-License-Identifier: GPL-2.0 */
/*
 * observer.bpf.h — CO-RE shims for bpf/observer.bpf.c: every place where
 * the kernel's layout differs between the kernels tierd supports (6.1, 6.12,
 * 6.18) is handled here, each with the reason. BPF-only.
 */
#ifndef TIERD_OBSERVER_BPF_H
#define TIERD_OBSERVER_BPF_H

#ifndef __BPF__
#error "observer.bpf.h is for BPF programs only"
#endif

#include <bpf/bpf_core_read.h>

/*
 * migrate:mm_migrate_pages: succeeded and failed sit right after the
 * common header on every kernel since 5.x; later fields (thp_split in 5.9,
 * large_folio_split in 6.9) were appended, so only the first two are used.
 */
struct tierd_migrate_pages_ctx {
	__u64 common;
	__u64 succeeded;
	__u64 failed;
};

/*
 * damon:damon_aggregated. Relocated by CO-RE against the running kernel's
 * trace_event_raw_damon_aggregated (the program is only loaded when the
 * kernel has it): target_id changed width and meaning over time.
 */
struct trace_event_raw_damon_aggregated___tierd {
	unsigned long target_id;
	unsigned int nr_regions;
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
	unsigned int age;
} __attribute__((preserve_access_index));

/*
 * Linux 6.1 keeps a large folio's order in folio->_folio_order; from 6.4
 * on it is the low byte of folio->_flags_1 (commit "mm: free up a word in
 * the first tail page", v6.4).
 */
struct folio___v61 {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));

struct folio___v64 {
	unsigned long _flags_1;
} __attribute__((preserve_access_index));

/*
 * The folio's flags word. Its type became memdesc_flags_t (a struct) in
 * 6.18 while it stays "unsigned long flags" before, so a CO-RE field read
 * would need two flavors; it has been the first word of struct page/folio
 * on every kernel, so read 8 bytes at offset 0.
 */
static __always_inline __u64 tierd_folio_flags(void *folio)
{
	__u64 flags = 0;

	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	return flags;
}

static __always_inline __u32 tierd_folio_nr_pages(struct folio *folio, __u64 flags)
{
	int pg_head = bpf_core_enum_value(enum pageflags, PG_head);
	__u32 order = 0;

	if (!(flags & (1ULL << (pg_head & 63))))
		return 1;
	if (bpf_core_field_exists(((struct folio___v64 *)folio)->_flags_1)) {
		__u64 f1 = BPF_CORE_READ((struct folio___v64 *)folio, _flags_1);

		order = f1 & 0xff;
	} else if (bpf_core_field_exists(((struct folio___v61 *)folio)->_folio_order)) {
		order = BPF_CORE_READ((struct folio___v61 *)folio, _folio_order);
	}
	if (order > 20)
		order = 0;
	return 1U << order;
}

#endif /* TIERD_OBSERVER_BPF_H */
