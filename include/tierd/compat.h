/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h — kernel UAPI newer than Debian 12's Linux 6.1 headers.
 *
 * Every definition here is guarded with #ifndef so that newer system
 * headers win, and each struct's size is pinned with _Static_assert so a
 * typo cannot silently change the ABI. Having a constant here says nothing
 * about the running kernel: probe it (UFFDIO_API handshake, the ioctl mask
 * that UFFDIO_REGISTER returns, ENOTTY from PAGEMAP_SCAN) before use.
 */
#ifndef TIERD_COMPAT_H
#define TIERD_COMPAT_H

#ifdef __BPF__
#error "compat.h is for user space only"
#endif

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include <linux/fs.h>

/* userfaultfd features added after 6.1 (6.5: POISON, 6.7: WP_ASYNC, 6.8: MOVE) */
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#ifndef _UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
_Static_assert(sizeof(struct uffdio_move) == 40, "uffdio_move ABI");

#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
_Static_assert(sizeof(struct uffdio_poison) == 32, "uffdio_poison ABI");

/* PAGEMAP_SCAN ioctl on /proc/PID/pagemap (6.7) */
#ifndef PAGEMAP_SCAN
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};
struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#endif
_Static_assert(sizeof(struct page_region) == 24, "page_region ABI");
_Static_assert(sizeof(struct pm_scan_arg) == 96, "pm_scan_arg ABI");

/* prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME) (5.17): <linux/prctl.h> has it,
 * glibc 2.36's <sys/prctl.h> does not, and the two clash if both are used */
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#endif /* TIERD_COMPAT_H */
