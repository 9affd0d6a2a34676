// SPDX-License-Identifier: GPL-2.0
/*
 * pager_scan.c — finding the program's anonymous memory.
 *
 * glibc's malloc gets memory through its internal __mmap and __brk, which
 * LD_PRELOAD cannot interpose, so the pager looks at /proc/self/maps
 * instead: at start, then whenever the resident set grew by a MiB, and at
 * least every 200 ms while it changes. Every private, writable, anonymous
 * mapping (and the heap) is managed, except:
 *  - what existed when the pager started (the loader's and libc's data,
 *    the pool transport's buffers and thread stacks: the pager's threads
 *    must never fault on memory it manages), including the heap up to the
 *    break of that moment;
 *  - the pager's own mappings (tp_is_own, "[anon:tierd-pager]") and its
 *    threads' malloc arenas (tp_scan_own_heaps);
 *  - stacks ("[stack]" grows down by itself; thread stacks are fine).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pager_sys.h"

#define MAPS_BUF_BYTES (16u << 20)
#define MAX_EXCL 4096

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Read /proc/self/maps whole into s->buf; returns its length or -errno. */
static ssize_t read_maps(struct tp_scan *s)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len < s->buf_size - 1 && (n = read(fd, s->buf + len, s->buf_size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	s->buf[len] = 0;
	return (ssize_t)len;
}

/* Parse one maps line: is it memory we would manage? */
static bool candidate(const char *line, uintptr_t *start, uintptr_t *end)
{
	unsigned long a, b, inode;
	char perms[8], path[64];
	int n;

	path[0] = 0;
	n = sscanf(line, "%lx-%lx %7s %*s %*s %lu %63s", &a, &b, perms, &inode, path);
	if (n < 4)
		return false;
	if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' || inode != 0)
		return false;
	if (path[0] && strcmp(path, "[heap]") != 0)
		return false;
	*start = a;
	*end = b;
	return true;
}

int tp_scan_init(struct tp_scan *s)
{
	ssize_t len;
	char *line;

	memset(s, 0, sizeof(*s));
	s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	s->buf_size = MAPS_BUF_BYTES;
	s->buf = tp_own_map(s->buf_size, false);
	s->max_excl = MAX_EXCL;
	s->excl = tp_own_map(sizeof(*s->excl) * s->max_excl, false);
	if (!s->buf || !s->excl)
		return -ENOMEM;
	len = read_maps(s);
	if (len < 0)
		return (int)len;
	for (line = s->buf; line && *line;) {
		char *nl = strchr(line, '\n');
		uintptr_t a, b;

		if (nl)
			*nl = 0;
		if (candidate(line, &a, &b) && s->nr_excl < s->max_excl) {
			s->excl[s->nr_excl].start = a;
			s->excl[s->nr_excl].end = b;
			s->nr_excl++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* Manage [a, b) minus the exclusions (which are few and small). */
static void manage_minus_excl(struct tp_scan *s, uintptr_t a, uintptr_t b)
{
	unsigned int i;

	for (i = 0; i < s->nr_excl && a < b; i++) {
		struct tp_range *e = &s->excl[i];

		if (e->end <= a || e->start >= b)
			continue;
		if (e->start > a)
			manage_minus_excl(s, a, e->start);
		a = e->end;
	}
	tp_manage_range(a, b); /* which leaves out the pager's own ranges */
}

void tp_scan_now(struct tp_scan *s)
{
	char *line;

	if (read_maps(s) < 0)
		return;
	for (line = s->buf; line && *line;) {
		char *nl = strchr(line, '\n');
		uintptr_t a, b;

		if (nl)
			*nl = 0;
		if (candidate(line, &a, &b))
			manage_minus_excl(s, a, b);
		line = nl ? nl + 1 : NULL;
	}
	s->last_full_ns = mono_ns();
}

/*
 * glibc gives each new thread an arena of its own on its first malloc: a
 * heap reserved at HEAP_MAX_SIZE (64 MiB, PROT_NONE) and made writable as
 * it grows, so two maps lines, "rw-p" then "---p". Own both: the growth
 * must stay unmanaged too. The main heap ("[heap]") cannot be owned.
 */
unsigned int tp_scan_own_heaps(struct tp_scan *s, const uintptr_t *addrs, unsigned int n)
{
	unsigned int i, in_main = 0;
	uintptr_t owned_end = 0;
	char *line;

	if (read_maps(s) < 0)
		return 0;
	for (line = s->buf; line && *line;) {
		char *nl = strchr(line, '\n');
		unsigned long a, b, inode;
		char perms[8], path[64];
		int k;

		if (nl)
			*nl = 0;
		path[0] = 0;
		k = sscanf(line, "%lx-%lx %7s %*s %*s %lu %63s", &a, &b, perms, &inode, path);
		line = nl ? nl + 1 : NULL;
		if (k < 4 || inode != 0 || perms[3] != 'p')
			continue;
		if (owned_end == a && !strcmp(perms, "---p") && !path[0]) {
			tp_own_add(a, b); /* the arena's reserved rest */
			owned_end = 0;
			continue;
		}
		owned_end = 0;
		for (i = 0; i < n; i++) {
			if (addrs[i] < a || addrs[i] >= b)
				continue;
			if (!strcmp(path, "[heap]")) {
				in_main++;
			} else if (!path[0]) {
				tp_own_add(a, b);
				owned_end = b;
			}
		}
	}
	return in_main;
}

void tp_scan_tick(struct tp_scan *s)
{
	char buf[128];
	unsigned long size = 0, rss = 0;
	ssize_t n;
	bool grew, mapped;

	if (s->statm_fd >= 0) {
		n = pread(s->statm_fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			sscanf(buf, "%lu %lu", &size, &rss);
		}
	}
	grew = rss > s->last_rss_pages + 256;
	/*
	 * A new mapping changes the size, not the RSS: scan now (the caller
	 * ticks every 20 ms), before the program touches it. Found only once
	 * touched, its pages would be adopted as resident all at once, over
	 * the limit (a 24 MiB buffer written before the next RSS-driven scan).
	 */
	mapped = size != s->last_size_pages;
	if (!grew && !mapped && rss == s->last_rss_pages && s->last_full_ns)
		return;
	if (!grew && !mapped && mono_ns() - s->last_full_ns < 200000000ull)
		return;
	s->last_rss_pages = rss;
	s->last_size_pages = size;
	tp_scan_now(s);
}
