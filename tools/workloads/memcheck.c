// SPDX-License-Identifier: GPL-2.0
/*
 * tier-memcheck — a memory integrity checker for the pager's tests.
 *
 * Several threads write versioned patterns (every 64-bit word of a page is
 * a hash of page number, version and word index) to a region, in random
 * order, for several rounds, re-reading pages of the previous round as they
 * go; then every page is verified. It runs unchanged under `tierctl run`
 * (the pager is preloaded and found with dlsym, for its statistics) or
 * without the pager (then it checks nothing but itself).
 *
 *   tier-memcheck [--size SIZE] [--threads N] [--rounds N] [--malloc]
 *                 [--fork] [--remap] [--max-resident-mib N] [--zap-behind]
 *                 [--churn] [--stack-evict]
 *
 * --malloc  take the memory from malloc in 1 MiB blocks (glibc's arenas and
 *           mmap'ed chunks: memory the pager finds by scanning, not mmap)
 * --fork    after the first round fork: the child verifies its snapshot
 *           while the parent keeps writing
 * --remap   afterwards move the region with mremap, verify, unmap half of it,
 *           zap a quarter with MADV_DONTNEED (must read as zeros), verify
 * --max-resident-mib N  fail if the pager's resident page count ever
 *           exceeded N MiB (sampled every 5 ms)
 * --wait-file PATH  before the final verification create PATH.ready and
 *           wait until PATH exists
 * --zap-behind  meanwhile a thread keeps writing, checking and zapping a
 *           2 MiB area of its own with the raw madvise(MADV_DONTNEED)
 *           syscall, unseen by the pager's interposer (as glibc zaps free
 *           memory and cached thread stacks internally); what it wrote must
 *           read back before each zap
 * --churn   meanwhile a thread keeps mapping 1 MiB, writing and checking it
 *           and unmapping it (unmap events while faults wait for space)
 * --stack-evict  meanwhile a thread whose stack is managed memory keeps
 *           mapping and unmapping (the interposed mmap), and now and then
 *           zapping (the interposed madvise), from varying stack depths,
 *           while another has the pager evict that stack (tier_pager_evict)
 *           every 200 us: the pager's work for those calls must not fault on
 *           the caller's stack while holding a lock that resolving the fault
 *           needs (it hung so), and no write to the stack may be lost while
 *           an unmap event is pending (it was, over TCP)
 * --grow SIZE  after that, map SIZE more, write every page of it, create
 *           PATH.grown (with --wait-file) and wait for PATH.verify; then
 *           verify both regions (a test takes the pool away meanwhile: new
 *           memory must still be writable)
 * Exit 0: every word matched; 1: mismatches (the first few are printed).
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tierd/pager.h"

#define PAGE 4096ul
#define WORDS (PAGE / 8)
#define BLOCK (1ul << 20)

static size_t size_bytes = 64ul << 20;
static unsigned int nr_threads = 4, nr_rounds = 3;
static bool use_malloc, do_fork, do_remap, zap_behind, churn, stack_evict;
static uint64_t max_resident_mib;
static const char *wait_file;
static size_t grow_bytes;

static uint64_t nr_pages;
static unsigned char **page_ptr; /* page i's address (blocks need not be contiguous) */
static unsigned char *region; /* the contiguous region (not --malloc) */
static _Atomic uint64_t mismatches;
static _Atomic bool stop_monitor;
static uint64_t max_resident_pages, max_rss_anon_kib;
static void (*get_stats)(struct tier_pager_stats *);

static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t expect(uint64_t page, uint64_t version, uint64_t word)
{
	if (version == 0)
		return 0;
	return mix((page << 20) ^ (version << 52) ^ word);
}

static void fill(uint64_t page, uint64_t version)
{
	uint64_t *p = (uint64_t *)page_ptr[page], i;

	for (i = 0; i < WORDS; i++)
		p[i] = expect(page, version, i);
}

static uint64_t check(uint64_t page, uint64_t version, const char *what)
{
	const uint64_t *p = (const uint64_t *)page_ptr[page];
	uint64_t i, bad = 0;

	for (i = 0; i < WORDS; i++) {
		if (p[i] != expect(page, version, i)) {
			if (bad == 0 && atomic_fetch_add(&mismatches, 1) < 10)
				fprintf(stderr,
					"memcheck: %s: page %llu word %llu: got %#llx, want %#llx "
					"(version %llu)\n",
					what, (unsigned long long)page, (unsigned long long)i,
					(unsigned long long)p[i],
					(unsigned long long)expect(page, version, i),
					(unsigned long long)version);
			bad++;
		}
	}
	return bad;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

struct worker {
	pthread_t t;
	unsigned int id;
	uint64_t round;
};

/* Thread id owns pages id, id + n, id + 2n...; writes them in random order. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t mine = (nr_pages - w->id + nr_threads - 1) / nr_threads, k, seed;

	uint64_t step, off;

	/* a pseudo-random permutation: k * step + off (mod mine), step coprime */
	seed = mix(w->id * 7919 + w->round);
	off = seed % (mine ? mine : 1);
	for (step = (mix(seed) % (mine ? mine : 1)) | 1; mine && gcd(step, mine) != 1; step += 2)
		;
	for (k = 0; k < mine; k++) {
		uint64_t j = (k * step + off) % mine;
		uint64_t page = w->id + j * nr_threads;

		/* the previous version must still be there, then write the next */
		uint64_t v = ((const uint64_t *)page_ptr[page])[0];

		if (v != expect(page, w->round - 1, 0) && atomic_fetch_add(&mismatches, 1) < 10)
			fprintf(stderr, "memcheck: round %llu: page %llu holds %#llx\n",
				(unsigned long long)w->round, (unsigned long long)page,
				(unsigned long long)v);
		fill(page, w->round);
	}
	return NULL;
}

static void run_round(uint64_t round)
{
	struct worker w[64];
	unsigned int i;

	for (i = 0; i < nr_threads; i++) {
		w[i].id = i;
		w[i].round = round;
		pthread_create(&w[i].t, NULL, worker_main, &w[i]);
	}
	for (i = 0; i < nr_threads; i++)
		pthread_join(w[i].t, NULL);
}

static uint64_t verify_all(uint64_t version, const char *what)
{
	uint64_t p, bad = 0;

	for (p = 0; p < nr_pages; p++)
		bad += check(p, version, what) != 0;
	return bad;
}

static uint64_t rss_anon_kib(void)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %lu", &v) == 1)
			break;
	fclose(f);
	return v;
}

#define ZAP_PAGES 512 /* 2 MiB */

/*
 * --zap-behind: the pager believes these pages resident after each zap
 * until they fault again; its evictor must cope with finding them gone.
 */
static inline uint64_t zap_word(uint64_t version, uint64_t page, uint64_t word)
{
	return mix((version << 40) ^ (page << 20) ^ word);
}

static void *zapper_main(void *arg)
{
	uint64_t *area = arg, v, p, w, zaps = 0;

	for (v = 1; !stop_monitor; v++) {
		for (p = 0; p < ZAP_PAGES; p++)
			for (w = 0; w < WORDS; w++)
				area[p * WORDS + w] = zap_word(v, p, w);
		for (p = 0; p < ZAP_PAGES; p++)
			for (w = 0; w < WORDS; w++)
				if (area[p * WORDS + w] != zap_word(v, p, w)) {
					if (atomic_fetch_add(&mismatches, 1) < 10)
						fprintf(
						    stderr,
						    "memcheck: zap-behind: page %llu version %llu "
						    "lost before its zap\n",
						    (unsigned long long)p, (unsigned long long)v);
					break;
				}
		syscall(SYS_madvise, area, ZAP_PAGES * PAGE, MADV_DONTNEED);
		zaps++;
		usleep(20000); /* the window in which the pager's tables are wrong */
	}
	printf("memcheck: zap-behind: %llu zaps\n", (unsigned long long)zaps);
	return NULL;
}

/* --churn: short-lived mappings, each written and checked, then unmapped. */
static void *churn_main(void *arg)
{
	uint64_t n = 0, i;

	(void)arg;
	while (!stop_monitor) {
		uint64_t *m =
		    mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			break;
		for (i = 0; i < BLOCK / 8; i += WORDS)
			m[i] = mix(n ^ i);
		for (i = 0; i < BLOCK / 8; i += WORDS)
			if (m[i] != mix(n ^ i) && atomic_fetch_add(&mismatches, 1) < 10)
				fprintf(stderr, "memcheck: churn: mapping %llu word %llu lost\n",
					(unsigned long long)n, (unsigned long long)i);
		munmap(m, BLOCK);
		n++;
	}
	printf("memcheck: churn: %llu mappings\n", (unsigned long long)n);
	return NULL;
}

/*
 * --stack-evict: one step of the caller, @depth bytes deeper than the last,
 * so that what the interposed calls put on the stack starts at a different
 * place in a page each time (some of it in pages evicted meanwhile).
 */
#define STACKER_STACK (1ul << 20)
#define STACKER_AREA (64 * PAGE)
static unsigned char *stacker_stack;
static int (*pager_evict)(void *, size_t);

static __attribute__((noinline)) uint64_t stacker_step(uint64_t *area, size_t depth, uint64_t n)
{
	volatile unsigned char pad[depth + 16];
	uint64_t *m, i, lost = 0;

	pad[0] = (unsigned char)n;
	area[(n % (STACKER_AREA / PAGE)) * WORDS] = mix(n);
	if (area[(n % (STACKER_AREA / PAGE)) * WORDS] != mix(n))
		lost++;
	if (n % 8 == 0) { /* mostly mmap/munmap: their events made the race */
		madvise(area, STACKER_AREA, MADV_DONTNEED);
		for (i = 0; i < STACKER_AREA / 8; i += WORDS)
			if (area[i])
				lost++; /* zapped pages must read as zeros */
	}
	m = mmap(NULL, 4 * 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		m[0] = n;
		if (m[0] != n)
			lost++;
		munmap(m, 4 * 65536);
	}
	return lost + pad[0] - (unsigned char)n;
}

static void *stacker_main(void *arg)
{
	uint64_t *area = arg, n, lost;
	uint64_t x = 88172645463325252ull;

	for (n = 0; !stop_monitor; n++) {
		x = mix(x + n);
		lost = stacker_step(area, x % (3 * PAGE), n);
		if (lost && atomic_fetch_add(&mismatches, 1) < 10)
			fprintf(stderr, "memcheck: stack-evict: step %llu: %llu words wrong\n",
				(unsigned long long)n, (unsigned long long)lost);
	}
	printf("memcheck: stack-evict: %llu steps\n", (unsigned long long)n);
	return NULL;
}

static void *stack_evictor_main(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	while (!stop_monitor) {
		if (pager_evict(stacker_stack, STACKER_STACK) == 0)
			n++;
		usleep(200);
	}
	printf("memcheck: stack-evict: %llu evictions of the stack\n", (unsigned long long)n);
	return NULL;
}

static void *monitor_main(void *arg)
{
	while (!stop_monitor) {
		struct tier_pager_stats s;
		uint64_t a;

		if (get_stats) {
			get_stats(&s);
			if (s.nr_resident_pages > max_resident_pages)
				max_resident_pages = s.nr_resident_pages;
		}
		a = rss_anon_kib();
		if (a > max_rss_anon_kib)
			max_rss_anon_kib = a;
		usleep(5000);
	}
	return NULL;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v < PAGE)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static void setup_memory(void)
{
	uint64_t i;

	nr_pages = size_bytes / PAGE;
	page_ptr = calloc(nr_pages, sizeof(*page_ptr));
	if (use_malloc) {
		for (i = 0; i < nr_pages; i += BLOCK / PAGE) {
			unsigned char *b = malloc(BLOCK + PAGE);
			unsigned char *a =
			    (unsigned char *)(((uintptr_t)b + PAGE - 1) & ~(PAGE - 1));
			uint64_t k;

			memset(b, 0, PAGE); /* malloc'ed memory has no zero guarantee */
			for (k = 0; k < BLOCK / PAGE && i + k < nr_pages; k++) {
				page_ptr[i + k] = a + k * PAGE;
				((uint64_t *)page_ptr[i + k])[0] = 0;
			}
		}
		return;
	}
	region = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("memcheck: mmap");
		exit(2);
	}
	for (i = 0; i < nr_pages; i++)
		page_ptr[i] = region + i * PAGE;
}

static void settle(void)
{
	/* give the pager's scanner a chance to find malloc's memory */
	if (get_stats)
		usleep(300000);
}

static int do_remap_checks(uint64_t version)
{
	unsigned char *target, *moved;
	uint64_t i, half = nr_pages / 2, bad = 0;

	if (use_malloc)
		return 0;
	/* reserve a destination, then force the move there */
	target = mmap(NULL, size_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	moved = mremap(region, size_bytes, size_bytes, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	if (moved == MAP_FAILED) {
		perror("memcheck: mremap");
		return 1;
	}
	region = moved;
	for (i = 0; i < nr_pages; i++)
		page_ptr[i] = region + i * PAGE;
	bad = verify_all(version, "after mremap");
	printf("memcheck: after mremap: %llu bad pages\n", (unsigned long long)bad);
	/* unmap the upper half */
	munmap(region + half * PAGE, (nr_pages - half) * PAGE);
	nr_pages = half;
	/* zap the second quarter: it must read as zeros */
	madvise(region + half / 2 * PAGE, (half - half / 2) * PAGE, MADV_DONTNEED);
	for (i = 0; i < half / 2; i++)
		bad += check(i, version, "after munmap") != 0;
	for (i = half / 2; i < half; i++)
		bad += check(i, 0, "after MADV_DONTNEED") != 0;
	printf("memcheck: after munmap + madvise: %llu bad pages\n", (unsigned long long)bad);
	/* write again after all that: the pager still manages what is left */
	for (i = 0; i < half; i++)
		fill(i, version + 1);
	for (i = 0; i < half; i++)
		bad += check(i, version + 1, "rewrite after remap") != 0;
	return bad != 0;
}

/* Announce PATH.SUFFIX and wait for PATH.NEXT (PATH itself if NEXT is NULL). */
static void handshake(const char *suffix, const char *next)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", wait_file, suffix);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	if (next)
		snprintf(path, sizeof(path), "%s.%s", wait_file, next);
	else
		snprintf(path, sizeof(path), "%s", wait_file);
	while (access(path, F_OK))
		usleep(20000);
}

/* --grow: new memory written (the pool may be gone), then verified. */
static int grow(size_t bytes)
{
	uint64_t n = bytes / PAGE, i, bad = 0, w;
	uint64_t *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("memcheck: mmap for --grow");
		return -1;
	}
	usleep(200000); /* let the pager find it first (its maps scan runs every 20 ms) */
	for (i = 0; i < n; i++)
		for (w = 0; w < WORDS; w++)
			m[i * WORDS + w] = mix(~i ^ (w << 40));
	printf("memcheck: grew by %llu pages\n", (unsigned long long)n);
	fflush(stdout);
	if (wait_file)
		handshake("grown", "verify");
	for (i = 0; i < n; i++)
		for (w = 0; w < WORDS; w++)
			if (m[i * WORDS + w] != mix(~i ^ (w << 40))) {
				bad++;
				break;
			}
	printf("memcheck: grown region: %llu bad pages\n", (unsigned long long)bad);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "malloc", no_argument, NULL, 'm' },
		{ "fork", no_argument, NULL, 'f' },
		{ "remap", no_argument, NULL, 'R' },
		{ "max-resident-mib", required_argument, NULL, 'x' },
		{ "wait-file", required_argument, NULL, 'W' },
		{ "grow", required_argument, NULL, 'g' },
		{ "zap-behind", no_argument, NULL, 'z' },
		{ "churn", no_argument, NULL, 'c' },
		{ "stack-evict", no_argument, NULL, 'S' },
		{ 0 },
	};
	pthread_t mon, zapper, churner, stacker, stack_evictor;
	void *zap_area = NULL;
	uint64_t r, bad, last = 0;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size_bytes)) {
				fprintf(stderr, "memcheck: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			nr_threads = (unsigned int)atoi(optarg);
			break;
		case 'r':
			nr_rounds = (unsigned int)atoi(optarg);
			break;
		case 'm':
			use_malloc = true;
			break;
		case 'f':
			do_fork = true;
			break;
		case 'R':
			do_remap = true;
			break;
		case 'x':
			max_resident_mib = strtoull(optarg, NULL, 10);
			break;
		case 'z':
			zap_behind = true;
			break;
		case 'c':
			churn = true;
			break;
		case 'S':
			stack_evict = true;
			break;
		case 'W':
			wait_file = optarg;
			break;
		case 'g':
			if (parse_size(optarg, &grow_bytes)) {
				fprintf(stderr, "memcheck: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr,
				"usage: tier-memcheck [--size SIZE] [--threads N] [--rounds N] "
				"[--malloc] [--fork] [--remap] [--max-resident-mib N] "
				"[--zap-behind] [--churn] [--stack-evict] "
				"[--wait-file PATH [--grow SIZE]]\n");
			return 2;
		}
	}
	if (nr_threads < 1 || nr_threads > 64 || nr_rounds < 1) {
		fprintf(stderr, "memcheck: threads must be 1..64, rounds >= 1\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* a killed run's log shows how far it got */
	get_stats =
	    (void (*)(struct tier_pager_stats *))dlsym(RTLD_DEFAULT, "tier_pager_get_stats");
	pthread_create(&mon, NULL, monitor_main, NULL);
	setup_memory();
	if (zap_behind) {
		zap_area = mmap(NULL, ZAP_PAGES * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (zap_area == MAP_FAILED) {
			perror("memcheck: mmap for --zap-behind");
			return 2;
		}
	}
	settle();
	if (zap_area)
		pthread_create(&zapper, NULL, zapper_main, zap_area);
	if (churn)
		pthread_create(&churner, NULL, churn_main, NULL);
	if (stack_evict) {
		pthread_attr_t attr;
		void *area;

		pager_evict = (int (*)(void *, size_t))dlsym(RTLD_DEFAULT, "tier_pager_evict");
		/* mapped by the program itself: managed memory (libtierpager's mmap) */
		stacker_stack = mmap(NULL, STACKER_STACK, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		area = mmap(NULL, STACKER_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		if (!pager_evict || stacker_stack == MAP_FAILED || area == MAP_FAILED) {
			fprintf(stderr, "memcheck: --stack-evict needs the pager (tierctl run) "
					"and memory\n");
			return 2;
		}
		pthread_attr_init(&attr);
		pthread_attr_setstack(&attr, stacker_stack, STACKER_STACK);
		pthread_create(&stacker, &attr, stacker_main, area);
		pthread_attr_destroy(&attr);
		pthread_create(&stack_evictor, NULL, stack_evictor_main, NULL);
	}
	/* measure from here: before, the pager may not have found malloc's memory yet */
	max_resident_pages = 0;
	max_rss_anon_kib = 0;
	for (r = 1; r <= nr_rounds; r++) {
		run_round(r);
		last = r;
		if (r == 1 && do_fork) {
			pid_t pid = fork();

			if (pid == 0) {
				/* the child: its memory is round 1's, whatever the parent does now */
				bad = verify_all(1, "child after fork");
				printf("memcheck: child verified %llu pages: %llu bad\n",
				       (unsigned long long)nr_pages, (unsigned long long)bad);
				fflush(stdout);
				_exit(bad ? 1 : 0);
			}
			if (pid < 0) {
				perror("memcheck: fork");
				return 2;
			}
			/* keep writing while the child checks */
			run_round(++r);
			last = r;
			int st;
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "memcheck: the forked child found mismatches\n");
				rc = 1;
			}
		}
	}
	r = last;
	if (wait_file) /* a test does something to the pool now (PATH.ready says when) */
		handshake("ready", NULL);
	if (grow_bytes && grow(grow_bytes))
		rc = 1;
	bad = verify_all(r, "final");
	printf("memcheck: %llu pages x %u threads, %llu rounds: %llu bad pages, %llu mismatches\n",
	       (unsigned long long)nr_pages, nr_threads, (unsigned long long)r,
	       (unsigned long long)bad, (unsigned long long)mismatches);
	if (bad || mismatches)
		rc = 1;
	if (do_remap && do_remap_checks(r))
		rc = 1;
	stop_monitor = true;
	pthread_join(mon, NULL);
	if (zap_area)
		pthread_join(zapper, NULL);
	if (churn)
		pthread_join(churner, NULL);
	if (stack_evict) {
		pthread_join(stacker, NULL);
		pthread_join(stack_evictor, NULL);
	}
	if (get_stats) {
		struct tier_pager_stats s;

		get_stats(&s);
		printf("memcheck: pager: max resident %llu MiB (limit %llu MiB), now resident %llu "
		       "pool %llu pages; faults %llu, fetched %llu, prefetched %llu, evicted %llu, "
		       "pool writes %llu, clean drops %llu, cancels %llu, events %llu\n",
		       (unsigned long long)(max_resident_pages * PAGE >> 20),
		       (unsigned long long)(s.limit_pages * PAGE >> 20),
		       (unsigned long long)s.nr_resident_pages, (unsigned long long)s.nr_pool_pages,
		       (unsigned long long)s.nr_faults, (unsigned long long)s.nr_fetches,
		       (unsigned long long)s.nr_prefetches, (unsigned long long)s.nr_evictions,
		       (unsigned long long)s.nr_pool_writes, (unsigned long long)s.nr_clean_drops,
		       (unsigned long long)s.nr_evict_cancels, (unsigned long long)s.nr_events);
		if (max_resident_mib && (max_resident_pages * PAGE >> 20) > max_resident_mib) {
			fprintf(stderr, "memcheck: resident memory reached %llu MiB > %llu MiB\n",
				(unsigned long long)(max_resident_pages * PAGE >> 20),
				(unsigned long long)max_resident_mib);
			rc = 1;
		}
	} else if (max_resident_mib) {
		fprintf(stderr, "memcheck: --max-resident-mib given but no pager is loaded\n");
		rc = 1;
	}
	printf("memcheck: max RssAnon %llu MiB\n", (unsigned long long)(max_rss_anon_kib >> 10));
	return rc;
}
