// SPDX-License-Identifier: GPL-2.0
/*
 * pager.c — libtierpager: a userfaultfd pager that keeps a process's
 * anonymous memory within a local limit and the rest in a memory pool.
 *
 * Why it is shaped this way:
 *
 * - One userfaultfd for the process, registered MISSING|WP on every managed
 *   region. A page in the pool is simply not present; touching it faults;
 *   a handler thread reads it from the pool into a staging buffer and
 *   installs it with UFFDIO_COPY, which never overwrites a present page
 *   (-EEXIST: someone else won, wake and go on) and fails with -EAGAIN
 *   while an mremap/munmap event is pending (then the page is NOT marked
 *   present: we wake the thread, it faults again after the event).
 *   The handler's mempolicy decides the node the new page lands on.
 *
 * - Per page, one 16-bit state word changed only by compare-and-swap (see
 *   pager_internal.h) and one 32-bit pool slot: no pointers per page. A
 *   thread that moves a page into FETCHING or EVICTING owns it.
 *
 * - Fault loop (leader/followers): of the handler threads one owns the
 *   read side of the uffd at a time; it reads a batch of messages,
 *   handles the events (remap/unmap) while still holding the read side,
 *   hands the read side on and then resolves the faults, so a slow pool
 *   read on one fault does not hold up the next. After a fault the owner
 *   busy-polls (non-blocking read) for spin_us (a sleeping handler costs
 *   ~50 us per fault here, a polling one ~6 us); then it sleeps in poll()
 *   with an eventfd for shutdown, so an idle process costs no CPU.
 *
 * - Eviction, in one evictor thread, ahead of need (it starts when the
 *   resident count comes within a margin of the limit and stops a margin
 *   lower): CLOCK picks victims; each is claimed (EVICTING),
 *   write-protected, copied out (through /proc/self/mem: a page that is not
 *   there fails the read instead of faulting; see copy_out), written to
 *   the pool, then zapped with
 *   MADV_DONTNEED. A write during eviction raises a WP fault whose handler
 *   flags the page CANCEL and unprotects it (waking the writer) at once;
 *   the evictor then keeps it, dirty. The check and the zap happen under ev_lock, the
 *   lock under which messages are read and events handled, so an munmap
 *   whose event we have not processed cannot have let new memory appear
 *   at the address we zap. Pages fetched by a read are installed
 *   write-protected (UFFDIO_COPY_MODE_WP): while they stay clean, evicting
 *   them is a zap without a pool write; first touches read as zero are
 *   installed the same way and go back to UNTOUCHED.
 *   UFFD_FEATURE_WP_ASYNC is not used: it turns every WP fault on the uffd
 *   asynchronous, so a write during eviction would no longer be caught.
 *
 * - Work a program thread asks for (registering what it maps, forgetting
 *   what it zaps, fetching all back before fork, the C API) runs on the
 *   scanner thread while the caller waits (on_pager_side): it takes locks
 *   under which faults cannot be resolved, and the caller's stack is
 *   managed memory.
 *
 * - The pager never touches memory it manages from its own threads: its
 *   tables, staging buffers and thread stacks live in mappings it made
 *   itself (named "[anon:tierd-pager]" where the kernel allows), which
 *   the /proc/self/maps scan skips, as it skips everything that existed
 *   when the pager started (the pool transport's state, loader data).
 *
 * - No allocation and no logging on the fault path; errors there are
 *   counted, and a failed pool read (after the transport's own retries)
 *   poisons the page (SIGBUS to the toucher) or aborts with a message:
 *   never a zero page in place of data.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/mempolicy.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tierd/compat.h"
#include "tierd/pager.h"
#include "tierd/pool.h"
#include "pager_internal.h"
#include "pager_sys.h"

#define PAGE TIER_PAGE_SIZE
#define MSG_BATCH 32
#define EVICT_BATCH 256 /* victims per batch: fewer TLB shootdowns per page */
#define WP_GAP 64 /* victims this close share one write-protect ioctl */
#define FETCH_MAX (1 + TP_STREAM_MAX_WINDOW)
#define INSTALL_CHUNK 16 /* pages per UFFDIO_COPY of a prefetch window */
#define MAX_REGIONS 8192
#define MAX_OWN 256
#define HANDLER_STACK_BYTES (256u << 10)
#define SCANNER_STACK_BYTES (256u << 10)
#define SCAN_TICK_NS (20ull * 1000 * 1000)
#define DEFAULT_POOL_BYTES (64ull << 30)

struct tp_region {
	uintptr_t start, end;
	uint64_t nr_pages;
	tp_word_t *words;
	uint32_t *slots;
	struct tp_clock clock;
	_Atomic int64_t nr_gone; /* pages in GONE: the scanner skips regions with none */
	pthread_spinlock_t stream_lock;
	struct tp_stream stream;
};

struct tp_handler {
	pthread_t thread;
	unsigned int idx;
	unsigned char *staging; /* FETCH_MAX pages, registered with the pool */
};

struct own_range {
	uintptr_t start, end;
};

/* A call handed to the scanner thread (on_pager_side). */
#define CALL_SLOTS 16
enum { CALL_FREE, CALL_PENDING, CALL_RUNNING, CALL_DONE };
struct tp_call {
	int state;
	int (*fn)(uintptr_t a, uintptr_t b);
	uintptr_t a, b;
	int rc;
};

static struct pager {
	bool initialised;
	bool disabled; /* forked child, or after shutdown */
	int uffd;
	int stop_fd; /* eventfd: shutdown */
	uint64_t features;
	bool have_poison;
	int pidfd; /* for process_madvise: many ranges, one TLB flush (>= 6.13) */
	int mem_fd; /* /proc/self/mem: the evictor's copy-out (copy_out) */
	bool pool_direct; /* the pool is mapped here: no staging copies */
	_Atomic unsigned int futile_batches; /* batches in a row that an event pending stopped */
	struct tier_pool *pool;
	struct tier_pager_opts opts;
	int policy_mode;
	unsigned long policy_mask[16];

	uint64_t limit_pages, margin_pages;
	_Atomic int64_t nr_resident, nr_pool, nr_managed;
	_Atomic bool stopping, paused;
	_Atomic uint64_t last_fault_ns;
	_Atomic uint64_t pool_read_ns_avg; /* moving average of one fault's pool read */
	_Atomic unsigned int window_hint; /* the last prefetch window: room to make */
	_Atomic bool evictor_busy; /* the evictor thread is in its eviction loop */

	pthread_mutex_t owner_lock; /* the read side of the uffd */
	pthread_mutex_t ev_lock; /* reading messages + events; the evictor's zap */
	pthread_rwlock_t regions_lock;
	struct tp_region *regions[MAX_REGIONS];
	unsigned int nr_regions;
	unsigned int clock_region;

	unsigned int nr_handlers;
	struct tp_handler handlers[16];
	unsigned char *zero_page; /* a registered page of zeros */

	pthread_t evictor;
	bool evictor_started;
	pthread_mutex_t evict_lock; /* one eviction pipeline at a time (staging) */
	pthread_mutex_t kick_lock;
	pthread_cond_t kick_cond;
	bool kicked;
	unsigned char *evict_staging; /* EVICT_BATCH pages */

	pthread_mutex_t own_lock;
	struct own_range own[MAX_OWN];
	unsigned int nr_own;
	unsigned char *arena;
	size_t arena_used, arena_size;

	struct tp_scan scan; /* pager_scan.c */
	_Atomic uintptr_t thread_heap[18]; /* a malloc'd address per pager thread */
	pthread_t scanner;
	bool scanner_started;
	/* work a program thread hands to the scanner thread (on_pager_side) */
	pthread_mutex_t call_lock;
	pthread_cond_t call_work, call_done;
	struct tp_call calls[CALL_SLOTS];
	bool calls_open; /* the scanner serves calls */
	_Atomic bool threads_go;
	_Atomic bool pool_full; /* victims found, none could go for want of a slot */
	_Atomic bool pool_down; /* the last pool write failed; cleared by the next success */

	struct tier_pager_stats st; /* counters updated with atomics */
	char err[512];
} P = {
	.uffd = -1,
	.stop_fd = -1,
	.pidfd = -1,
	.mem_fd = -1,
	.owner_lock = PTHREAD_MUTEX_INITIALIZER,
	.ev_lock = PTHREAD_MUTEX_INITIALIZER,
	.regions_lock = PTHREAD_RWLOCK_INITIALIZER,
	.evict_lock = PTHREAD_MUTEX_INITIALIZER,
	.kick_lock = PTHREAD_MUTEX_INITIALIZER,
	.kick_cond = PTHREAD_COND_INITIALIZER,
	.own_lock = PTHREAD_MUTEX_INITIALIZER,
	.call_lock = PTHREAD_MUTEX_INITIALIZER,
	.call_work = PTHREAD_COND_INITIALIZER,
	.call_done = PTHREAD_COND_INITIALIZER,
};

#define STAT_INC(f) __atomic_fetch_add(&P.st.f, 1, __ATOMIC_RELAXED)
#define STAT_ADD(f, n) __atomic_fetch_add(&P.st.f, (n), __ATOMIC_RELAXED)

/* ---- logging (never on the fault path's success side) ---------------------- */

void tp_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "tierd-pager[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0) {
		/* nothing to do: stderr is gone */
	}
}

static int set_err(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(P.err, sizeof(P.err), fmt, ap);
	va_end(ap);
	return rc;
}

const char *tier_pager_strerror(void)
{
	return P.err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * Where a fault's and an eviction's time goes, for tuning: build with
 * -DTP_PROFILE (tools/bench/bench-pager.sh says how) and
 * the totals are logged at exit. Off, the macros cost nothing.
 */
#ifdef TP_PROFILE
enum {
	PF_WAIT,
	PF_READ,
	PF_COPY,
	PF_MISSING,
	PE_PICK,
	PE_WP,
	PE_READV,
	PE_PWRITE,
	PE_ZAP,
	PE_B_IDLE,
	PE_B_INLINE,
	PE_B_THREAD,
	PE_WPRUNS,
	PE_ZAPRUNS,
	PF_NR
};
static const char *const pf_names[PF_NR] = {
	"fault.wait",  "fault.read",   "fault.copy",   "fault.all", "evict.pick",
	"evict.wp",    "evict.readv",  "evict.pwrite", "evict.zap", "batch.idle",
	"batch.fault", "batch.thread", "runs.wp",      "runs.zap",
};
static _Atomic uint64_t pf_ns[PF_NR], pf_n[PF_NR], pf_pages[PF_NR], pf_max[PF_NR], pf_1ms[PF_NR];
#define PROF_START(v) uint64_t v = now_ns()
#define PROF_END(k, v, pages)                 \
	do {                                  \
		uint64_t d_ = now_ns() - (v); \
		pf_ns[k] += d_;               \
		pf_n[k]++;                    \
		pf_pages[k] += (pages);       \
		if (d_ > pf_max[k])           \
			pf_max[k] = d_;       \
		pf_1ms[k] += d_ > 1000000;    \
	} while (0)
#define PROF_COUNT(k, pages)            \
	do {                            \
		pf_n[k]++;              \
		pf_pages[k] += (pages); \
	} while (0)
__attribute__((destructor)) static void pf_dump(void)
{
	for (int i = 0; i < PF_NR; i++)
		if (pf_n[i])
			tp_log("profile %-12s n=%8llu pages=%8llu total_ms=%8.1f avg_us=%7.2f "
			       "max_us=%7.0f over_1ms=%llu",
			       pf_names[i], (unsigned long long)pf_n[i],
			       (unsigned long long)pf_pages[i], (double)pf_ns[i] / 1e6,
			       (double)pf_ns[i] / 1e3 / (double)pf_n[i], (double)pf_max[i] / 1e3,
			       (unsigned long long)pf_1ms[i]);
}
#else
#define PROF_START(v) \
	do {          \
	} while (0)
#define PROF_END(k, v, pages) ((void)(pages))
#define PROF_COUNT(k, pages) ((void)(pages))
#endif

/* ---- the pager's own memory ---------------------------------------------- */

/* Under own_lock. */
static void own_record_locked(void *p, size_t len)
{
	if (P.nr_own < MAX_OWN) {
		P.own[P.nr_own].start = (uintptr_t)p;
		P.own[P.nr_own].end = (uintptr_t)p + len;
		P.nr_own++;
	}
}

static void own_record(void *p, size_t len)
{
	pthread_mutex_lock(&P.own_lock);
	own_record_locked(p, len);
	pthread_mutex_unlock(&P.own_lock);
}

/* mmap without preload.c's interposer: the pager's own memory is never managed. */
static void *raw_mmap(size_t len, int flags)
{
	return (void *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
}

/* Set on the pager's threads: what they map is never managed (tp_mapped). */
static __thread bool on_pager_thread __attribute__((tls_model("initial-exec")));

static int on_pager_side(int (*fn)(uintptr_t, uintptr_t), uintptr_t a, uintptr_t b);

/*
 * The program mapped [p, p + len) itself (preload.c's mmap): anonymous
 * private read-write memory is registered before mmap returns, so its
 * first touches come through the pager (placed on its node, counted
 * against the limit) instead of being adopted as resident by the next maps
 * scan (up to 20 ms later, after a fast program filled part of it). Small
 * mappings are left to the scan, which sees them merged.
 */
void tp_mapped(void *p, size_t len, int prot, int flags)
{
	if (!tp_is_active() || on_pager_thread || !P.opts.scan_maps || P.paused ||
	    len < (256u << 10))
		return;
	if (!(flags & MAP_ANONYMOUS) || (flags & (MAP_SHARED | MAP_PRIVATE)) != MAP_PRIVATE ||
	    (flags & MAP_HUGETLB) || (prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
		return;
	/* a failure: the scan tries again */
	on_pager_side(tp_manage_range, (uintptr_t)p, (uintptr_t)p + len);
}

/* A mapping of the pager's own: recorded, named, never managed. */
void *tp_own_map(size_t len, bool lock)
{
	void *p;

	len = (len + PAGE - 1) & ~(size_t)(PAGE - 1);
	/*
	 * Mapped and recorded under own_lock, which tp_own_first takes: a maps
	 * scan that sees the new mapping finds it recorded and leaves it
	 * alone. Recorded afterwards, a scan in between could register it,
	 * and the pager would fault on its own tables or stack while holding
	 * ev_lock (a hang seen once in CI, a pager thread faulting in
	 * region_add; this window is a suspect, not established).
	 */
	pthread_mutex_lock(&P.own_lock);
	p = raw_mmap(len, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	if (p != MAP_FAILED)
		own_record_locked(p, len);
	pthread_mutex_unlock(&P.own_lock);
	if (p == MAP_FAILED)
		return NULL;
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, len,
	      (unsigned long)"tierd-pager");
	if (lock && mlock(p, len))
		memset(p, 0, len); /* at least populate it */
	return p;
}

void tp_own_add(uintptr_t start, uintptr_t end)
{
	own_record((void *)start, end - start);
}

/*
 * First thing on every pager thread: get this thread's malloc arena now
 * and publish an address in it; init makes the arena the pager's own
 * (tp_scan_own_heaps) before any thread goes on. A pool transport
 * allocates on pager threads (a reconnect's CM id and QP, a new channel):
 * in a heap that the pager manages, a pager thread could fault on, or be
 * the one evicting, the memory it needs to move pages at all.
 */
static void thread_begin(unsigned int slot)
{
	void *p;

	on_pager_thread = true;
	p = malloc(64);

	atomic_store(&P.thread_heap[slot], p ? (uintptr_t)p : 1);
	free(p);
	while (!atomic_load(&P.threads_go) && !P.stopping)
		usleep(100);
}

/*
 * Run fn(a, b) on a pager thread (the scanner) and wait for it: for work
 * that a program thread asks for (registering what it mapped, forgetting
 * what it zaps, fetching all back before fork) and that takes locks under
 * which a fault cannot be resolved (ev_lock: the handlers read faults
 * under it; evict_lock, regions_lock). A program thread's stack is managed
 * memory that may be in the pool: doing the work there, it could fault on
 * its own stack while holding such a lock, and nobody could resolve the
 * fault (seen as --churn hanging under the interposed mmap; tier-memcheck
 * --stack-evict hung 3 runs in 3). The waiting
 * caller holds only call_lock, which no thread resolving a fault takes.
 * Slots are freed by their waiters, so a signal handler that maps memory
 * while its thread waits here takes another slot instead of waiting on its
 * own. Runs fn here when this is a pager thread or the scanner is not
 * serving (starting, stopping).
 */
/* A call slot in @state, or NULL. Under call_lock. */
static struct tp_call *call_find(int state)
{
	unsigned int i;

	for (i = 0; i < CALL_SLOTS; i++)
		if (P.calls[i].state == state)
			return &P.calls[i];
	return NULL;
}

static int on_pager_side(int (*fn)(uintptr_t, uintptr_t), uintptr_t a, uintptr_t b)
{
	struct tp_call *c;
	int rc;

	if (on_pager_thread)
		return fn(a, b);
	pthread_mutex_lock(&P.call_lock);
	for (;;) {
		if (!P.calls_open) {
			pthread_mutex_unlock(&P.call_lock);
			return fn(a, b);
		}
		c = call_find(CALL_FREE);
		if (c)
			break;
		pthread_cond_wait(&P.call_done, &P.call_lock);
	}
	*c = (struct tp_call){ .state = CALL_PENDING, .fn = fn, .a = a, .b = b };
	pthread_cond_signal(&P.call_work);
	while (c->state != CALL_DONE)
		pthread_cond_wait(&P.call_done, &P.call_lock);
	rc = c->rc;
	c->state = CALL_FREE;
	pthread_cond_broadcast(&P.call_done); /* a poster may wait for a slot */
	pthread_mutex_unlock(&P.call_lock);
	return rc;
}

/*
 * The scanner: serve pending calls, waiting for one until @deadline_ns
 * (CLOCK_MONOTONIC, like now_ns). With @close, stop serving after the
 * pending ones (later callers run their work themselves).
 */
static void serve_calls(uint64_t deadline_ns, bool close)
{
	pthread_mutex_lock(&P.call_lock);
	for (;;) {
		struct tp_call *c = call_find(CALL_PENDING);

		if (c) {
			int (*fn)(uintptr_t, uintptr_t) = c->fn;
			uintptr_t a = c->a, b = c->b;
			int rc;

			c->state = CALL_RUNNING;
			pthread_mutex_unlock(&P.call_lock);
			rc = fn(a, b);
			pthread_mutex_lock(&P.call_lock);
			c->rc = rc;
			c->state = CALL_DONE;
			pthread_cond_broadcast(&P.call_done);
			continue;
		}
		if (close) {
			P.calls_open = false;
			break;
		}
		if (P.stopping || now_ns() >= deadline_ns)
			break;
		{
			struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
					       .tv_nsec = (long)(deadline_ns % 1000000000ull) };

			pthread_cond_clockwait(&P.call_work, &P.call_lock, CLOCK_MONOTONIC, &ts);
		}
	}
	pthread_mutex_unlock(&P.call_lock);
}

/* The lowest of the pager's own ranges that overlaps [start, end). */
bool tp_own_first(uintptr_t start, uintptr_t end, struct tp_range *out)
{
	unsigned int i;
	bool found = false;

	pthread_mutex_lock(&P.own_lock);
	for (i = 0; i < P.nr_own; i++) {
		if (start < P.own[i].end && P.own[i].start < end &&
		    (!found || P.own[i].start < out->start)) {
			out->start = P.own[i].start;
			out->end = P.own[i].end;
			found = true;
		}
	}
	pthread_mutex_unlock(&P.own_lock);
	return found;
}

/* Table memory: bump allocation from own chunks, never freed while running. */
static void *arena_alloc(size_t len)
{
	void *p;

	len = (len + 63) & ~(size_t)63;
	pthread_mutex_lock(&P.own_lock);
	if (!P.arena || P.arena_used + len > P.arena_size) {
		size_t sz = len > (256u << 20) ? len : (256u << 20);

		pthread_mutex_unlock(&P.own_lock);
		p = tp_own_map(sz, false);
		if (!p)
			return NULL;
		pthread_mutex_lock(&P.own_lock);
		P.arena = p;
		P.arena_size = sz;
		P.arena_used = 0;
	}
	p = P.arena + P.arena_used;
	P.arena_used += len;
	pthread_mutex_unlock(&P.own_lock);
	return p;
}

/* ---- userfaultfd ioctls, converted to 0 / -errno ------------------------- */

static int uffd_copy(uintptr_t dst, const void *src, size_t len, bool wp, bool wake, size_t *done)
{
	struct uffdio_copy c = {
		.dst = dst,
		.src = (uintptr_t)src,
		.len = len,
		.mode = (wp ? UFFDIO_COPY_MODE_WP : 0) | (wake ? 0 : UFFDIO_COPY_MODE_DONTWAKE),
	};
	int rc = ioctl(P.uffd, UFFDIO_COPY, &c);

	*done = c.copy > 0 ? (size_t)c.copy : 0;
	if (rc == 0)
		return 0;
	if (c.copy < 0)
		return (int)c.copy;
	return -errno;
}

static int uffd_wp(uintptr_t addr, size_t len, bool protect)
{
	struct uffdio_writeprotect w = {
		.range = { .start = addr, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(P.uffd, UFFDIO_WRITEPROTECT, &w) ? -errno : 0;
}

static void uffd_wake(uintptr_t addr, size_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };

	ioctl(P.uffd, UFFDIO_WAKE, &r);
}

/* The kernel's madvise: the library interposes madvise() for the program. */
static int raw_madvise(uintptr_t addr, size_t len, int advice)
{
	return syscall(SYS_madvise, addr, len, advice) ? -errno : 0;
}

/* ---- regions ------------------------------------------------------------- */

/* Under regions_lock (read or write). */
static struct tp_region *region_find(uintptr_t addr)
{
	unsigned int lo = 0, hi = P.nr_regions;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct tp_region *r = P.regions[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* A new region over [start, end), every page GONE. Under regions_lock (write). */
static struct tp_region *region_add(uintptr_t start, uintptr_t end)
{
	uint64_t nr = (end - start) / PAGE, i;
	struct tp_region *r;
	unsigned int pos;

	if (P.nr_regions >= MAX_REGIONS)
		return NULL;
	r = arena_alloc(sizeof(*r) + nr * sizeof(tp_word_t) + nr * sizeof(uint32_t) + 64);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = end;
	r->nr_pages = nr;
	r->slots = (uint32_t *)(r + 1);
	r->words = (tp_word_t *)(r->slots + nr);
	for (i = 0; i < nr; i++) {
		r->slots[i] = TP_SLOT_NONE;
		atomic_init(&r->words[i], TP_GONE);
	}
	r->nr_gone = (int64_t)nr;
	pthread_spin_init(&r->stream_lock, PTHREAD_PROCESS_PRIVATE);
	for (pos = 0; pos < P.nr_regions && P.regions[pos]->start < start; pos++)
		;
	memmove(&P.regions[pos + 1], &P.regions[pos], (P.nr_regions - pos) * sizeof(P.regions[0]));
	P.regions[pos] = r;
	P.nr_regions++;
	STAT_INC(nr_regions);
	return r;
}

/*
 * Make sure regions cover [start, end): add regions (all GONE) over the
 * gaps. Under regions_lock (write). Returns -ENOSPC when the table is full.
 */
static int regions_cover(uintptr_t start, uintptr_t end)
{
	uintptr_t a = start;

	while (a < end) {
		struct tp_region *r = region_find(a), *next = NULL;
		unsigned int i;
		uintptr_t gap_end = end;

		if (r) {
			a = r->end;
			continue;
		}
		for (i = 0; i < P.nr_regions; i++) {
			if (P.regions[i]->start > a) {
				next = P.regions[i];
				break;
			}
		}
		if (next && next->start < gap_end)
			gap_end = next->start;
		if (!region_add(a, gap_end))
			return -ENOSPC;
		a = gap_end;
	}
	return 0;
}

static void slot_free(struct tp_region *r, uint64_t idx)
{
	uint32_t s = r->slots[idx];

	if (s != TP_SLOT_NONE) {
		r->slots[idx] = TP_SLOT_NONE;
		tier_pool_free_slot(P.pool, s);
		atomic_store(&P.pool_full, false);
	}
}

/* ---- arming: register a run of GONE pages and take over what is present -- */

static int pagemap_fd = -1;

/*
 * Register [start, end) (inside one region, all GONE) and make its pages
 * UNTOUCHED, or RESIDENT where /proc/self/pagemap says a page is present
 * or swapped. Called under ev_lock so that no unmap event is handled
 * meanwhile.
 */
static int arm_run(struct tp_region *r, uintptr_t start, uintptr_t end)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	const uint64_t need =
	    (1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_WAKE) | (1ull << _UFFDIO_WRITEPROTECT);
	uint64_t pm[512], i, idx0 = (start - r->start) / PAGE, n = (end - start) / PAGE;
	int64_t resident = 0;

	raw_madvise(start, end - start, MADV_NOHUGEPAGE);
	if (ioctl(P.uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	if ((reg.ioctls & need) != need) {
		struct uffdio_range ur = { .start = start, .len = end - start };

		ioctl(P.uffd, UFFDIO_UNREGISTER, &ur);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < n; i++)
		atomic_store(&r->words[idx0 + i], TP_UNTOUCHED);
	r->nr_gone -= (int64_t)n;
	if (pagemap_fd < 0)
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < n && pagemap_fd >= 0; i += 512) {
		uint64_t chunk = n - i < 512 ? n - i : 512, j;
		off_t off = (off_t)((start / PAGE + i) * 8);

		if (pread(pagemap_fd, pm, chunk * 8, off) != (ssize_t)(chunk * 8))
			break;
		for (j = 0; j < chunk; j++) {
			/* bit 63 present, bit 62 swapped */
			if (!(pm[j] >> 62))
				continue;
			if (tp_claim(&r->words[idx0 + i + j], TP_UNTOUCHED, TP_FETCHING, NULL)) {
				atomic_store(&r->words[idx0 + i + j],
					     tp_make(TP_RESIDENT, TP_F_DIRTY));
				resident++;
			}
		}
	}
	P.nr_resident += resident;
	P.nr_managed += (int64_t)n;
	return 0;
}

/* Covered by regions without a GONE page: nothing to do (the common case). */
static bool range_fully_managed(uintptr_t start, uintptr_t end)
{
	bool all = true;

	pthread_rwlock_rdlock(&P.regions_lock);
	while (start < end && all) {
		struct tp_region *r = region_find(start);

		all = r && r->nr_gone == 0;
		if (r)
			start = r->end;
	}
	pthread_rwlock_unlock(&P.regions_lock);
	return all;
}

/* Arm every GONE run inside [start, end). Takes ev_lock and regions_lock. */
static int manage_run(uintptr_t start, uintptr_t end)
{
	int rc = 0, rc2;

	start &= ~(uintptr_t)(PAGE - 1);
	end = (end + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	if (start >= end)
		return 0;
	if (range_fully_managed(start, end))
		return 0;
	pthread_mutex_lock(&P.ev_lock);
	pthread_rwlock_wrlock(&P.regions_lock);
	rc = regions_cover(start, end);
	pthread_rwlock_unlock(&P.regions_lock);
	if (rc) {
		pthread_mutex_unlock(&P.ev_lock);
		return rc;
	}
	pthread_rwlock_rdlock(&P.regions_lock);
	for (uintptr_t a = start; a < end;) {
		struct tp_region *r = region_find(a);
		uint64_t i, j;
		uintptr_t rend;

		if (!r)
			break;
		rend = r->end < end ? r->end : end;
		i = (a - r->start) / PAGE;
		while (r->start + i * PAGE < rend) {
			if (tp_state_of(atomic_load(&r->words[i])) != TP_GONE) {
				i++;
				continue;
			}
			for (j = i; r->start + j * PAGE < rend &&
				    tp_state_of(atomic_load(&r->words[j])) == TP_GONE;
			     j++)
				;
			rc2 = arm_run(r, r->start + i * PAGE, r->start + j * PAGE);
			if (rc2 && !rc)
				rc = rc2;
			i = j;
		}
		a = rend;
	}
	pthread_rwlock_unlock(&P.regions_lock);
	pthread_mutex_unlock(&P.ev_lock);
	return rc;
}

/*
 * fn on each piece of [start, end) outside the pager's own memory (its
 * stacks, tables and staging buffers: a pager thread must never fault on
 * or evict what it needs to move pages at all); the first error.
 */
static int outside_own(uintptr_t start, uintptr_t end, int (*fn)(uintptr_t, uintptr_t))
{
	struct tp_range own;
	int rc = 0, rc2;

	while (start < end && tp_own_first(start, end, &own)) {
		if (own.start > start) {
			rc2 = fn(start, own.start);
			if (rc2 && !rc)
				rc = rc2;
		}
		start = own.end;
	}
	if (start < end) {
		rc2 = fn(start, end);
		if (rc2 && !rc)
			rc = rc2;
	}
	return rc;
}

/* Manage [start, end), whoever asks: the maps scan, the program's mmap, tier_pager_manage. */
int tp_manage_range(uintptr_t start, uintptr_t end)
{
	return outside_own(start, end, manage_run);
}

/* ---- events (under ev_lock, from the handler that read them) -------------- */

/* Wait until no page of [idx, idx+n) is being fetched (fetchers take no locks). */
static void wait_fetchers(struct tp_region *r, uint64_t idx, uint64_t n)
{
	uint64_t i;

	for (i = idx; i < idx + n; i++)
		while (tp_state_of(atomic_load(&r->words[i])) == TP_FETCHING)
			sched_yield();
}

/* Forget page (r, idx): it was unmapped. */
static void page_unmapped(struct tp_region *r, uint64_t idx)
{
	for (;;) {
		uint16_t w = atomic_load(&r->words[idx]);

		switch (tp_state_of(w)) {
		case TP_GONE:
			return;
		case TP_FETCHING:
			sched_yield();
			continue;
		case TP_EVICTING:
			if (atomic_compare_exchange_weak(&r->words[idx], &w,
							 (uint16_t)(w | TP_F_DISCARD)))
				return;
			continue;
		default:
			if (!atomic_compare_exchange_weak(&r->words[idx], &w, TP_GONE))
				continue;
			r->nr_gone++;
			if (tp_state_of(w) == TP_RESIDENT)
				P.nr_resident--;
			if (tp_state_of(w) == TP_POOL)
				P.nr_pool--;
			P.nr_managed--;
			slot_free(r, idx);
			return;
		}
	}
}

static void event_unmap(uintptr_t start, uintptr_t end)
{
	uintptr_t a = start;

	pthread_rwlock_wrlock(&P.regions_lock);
	while (a < end) {
		struct tp_region *r = region_find(a);
		unsigned int i;

		if (!r) {
			/* skip to the next region that starts after a */
			uintptr_t next = end;

			for (i = 0; i < P.nr_regions; i++)
				if (P.regions[i]->start > a) {
					next = P.regions[i]->start;
					break;
				}
			a = next;
			continue;
		}
		for (; a < end && a < r->end; a += PAGE)
			page_unmapped(r, (a - r->start) / PAGE);
	}
	pthread_rwlock_unlock(&P.regions_lock);
}

/* mremap moved [from, from+len) to [to, to+len): the pages' states go along. */
static void event_remap(uintptr_t from, uintptr_t to, uint64_t len)
{
	uint64_t k;

	pthread_rwlock_wrlock(&P.regions_lock);
	if (regions_cover(to, to + len))
		tp_log("region table full: memory moved by mremap to %#lx is unmanaged",
		       (unsigned long)to);
	for (k = 0; k < len / PAGE; k++) {
		struct tp_region *rs = region_find(from + k * PAGE);
		struct tp_region *rd = region_find(to + k * PAGE);
		uint64_t is, id;
		uint16_t w, nw;

		if (!rd)
			continue;
		id = (to + k * PAGE - rd->start) / PAGE;
		page_unmapped(rd, id); /* normally GONE already */
		if (!rs)
			continue;
		is = (from + k * PAGE - rs->start) / PAGE;
		wait_fetchers(rs, is, 1);
		w = atomic_load(&rs->words[is]);
		switch (tp_state_of(w)) {
		case TP_GONE:
			continue;
		case TP_EVICTING:
			/* the evictor lets go of the old place; the page moved with its PTE */
			nw = tp_make(TP_RESIDENT, TP_F_DIRTY);
			tp_set_flags(&rs->words[is], TP_F_MOVED);
			break;
		default:
			nw = w & (uint16_t) ~(TP_F_CANCEL | TP_F_DISCARD | TP_F_MOVED);
			atomic_store(&rs->words[is], TP_GONE);
			rs->nr_gone++;
			break;
		}
		rd->slots[id] = rs->slots[is];
		rs->slots[is] = TP_SLOT_NONE;
		if (tp_state_of(atomic_load(&rd->words[id])) == TP_GONE) {
			atomic_store(&rd->words[id], nw);
			rd->nr_gone--;
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
}

static void kick_evictor(void);

static void handle_events(struct uffd_msg *msgs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct uffd_msg *m = &msgs[i];

		switch (m->event) {
		case UFFD_EVENT_PAGEFAULT:
			continue;
		case UFFD_EVENT_UNMAP:
		case UFFD_EVENT_REMOVE:
			event_unmap(m->arg.remove.start, m->arg.remove.end);
			break;
		case UFFD_EVENT_REMAP:
			event_remap(m->arg.remap.from, m->arg.remap.to, m->arg.remap.len);
			break;
		default:
			break;
		}
		STAT_INC(nr_events);
		m->event = 0;
		/* eviction stopped by this event can go on: now, not in a tick */
		if (atomic_load(&P.futile_batches))
			kick_evictor();
	}
}

/* ---- the fault path -------------------------------------------------------- */

static void kick_evictor(void)
{
	pthread_mutex_lock(&P.kick_lock);
	P.kicked = true;
	pthread_cond_signal(&P.kick_cond);
	pthread_mutex_unlock(&P.kick_lock);
}

static unsigned int evict_batch(unsigned int want, uintptr_t lo, uintptr_t hi);

/* TCP, RDMA: a fault's pool read takes tens of microseconds. */
static bool pool_slow(void)
{
	return P.pool_read_ns_avg > 20000;
}

/*
 * A sequential or strided stream is being read ahead: it brings pages in
 * faster than small batches between faults can take them out, and the
 * pages it left behind are long runs of victims.
 */
static bool streaming(void)
{
	return P.window_hint >= 8;
}

/* Resident pages are within a margin of the limit: evict ahead of need. */
static bool evict_needed(void)
{
	return P.limit_pages && !P.paused &&
	       (uint64_t)P.nr_resident + P.margin_pages > P.limit_pages;
}

/* Before bringing @n pages in: wait while that would exceed the limit. */
static void wait_for_space(unsigned int n)
{
	bool waited = false;

	if (!P.limit_pages)
		return;
	while ((uint64_t)P.nr_resident + n > P.limit_pages && !P.paused && !P.stopping) {
		/*
		 * A full pool cannot take the pages that must go: go over the
		 * limit rather than stop the program (clean pages still leave
		 * as the evictor finds them), and say so once.
		 */
		if (atomic_load(&P.pool_full)) {
			static _Atomic bool said;

			if (!atomic_exchange(&said, true))
				tp_log("%s: resident memory goes over the local limit until pool "
				       "space frees up (give the pool more: --pool-size, "
				       "tier-memsrv --size)",
				       tier_pool_strerror(P.pool));
			return;
		}
		/*
		 * Likewise a pool that takes no writes (a server gone, a lease
		 * lost): waiting here would stop the program for good. The
		 * evictor keeps trying; pages stay resident, none is lost.
		 */
		if (atomic_load(&P.pool_down)) {
			static _Atomic bool said;

			if (!atomic_exchange(&said, true))
				tp_log("the pool takes no writes (%s): resident memory goes over "
				       "the local limit until it does",
				       tier_pool_strerror(P.pool));
			return;
		}
		/*
		 * Eviction gives every victim back: an unmap or remap event is
		 * pending (write-protect and zap fail with EAGAIN until it is
		 * read), and only a handler reads it, maybe this very one, while
		 * the unmapping thread waits for that. Waiting here deadlocked
		 * (tier-memcheck --churn): go ahead over the limit by this fault;
		 * the fault's own install fails the same way, so the handler
		 * gets back to reading soon.
		 */
		if (atomic_load(&P.futile_batches) >= 2)
			return;
		if (!waited) {
			STAT_INC(nr_space_waits);
			waited = true;
		}
		/* evict right here if nobody else is at it */
		if (!pthread_mutex_trylock(&P.evict_lock)) {
			PROF_START(tb);
			unsigned int kk =
			    evict_batch(4, 0, 0); /* a few: the fault waits for them */
			PROF_END(PE_B_INLINE, tb, kk);
			pthread_mutex_unlock(&P.evict_lock);
		} else {
			sched_yield();
		}
	}
}

/* The pool lost a page we need: poison it (SIGBUS to the toucher) or abort. */
static void fail_access(uintptr_t addr, int rc)
{
	tp_log("pool read for page %#lx failed (%s: %s): the access cannot be served",
	       (unsigned long)addr, strerror(-rc), tier_pool_strerror(P.pool));
	if (P.have_poison) {
		struct uffdio_poison p = { .range = { .start = addr, .len = PAGE } };

		if (ioctl(P.uffd, UFFDIO_POISON, &p) == 0) {
			tp_log("page %#lx poisoned: the thread touching it gets SIGBUS",
			       (unsigned long)addr);
			return;
		}
	}
	tp_log("kernel lacks UFFDIO_POISON: aborting rather than returning wrong data");
	abort();
}

/* Release page (r, idx) owned in FETCHING into @nw, honouring DISCARD. */
static void fetch_release(struct tp_region *r, uint64_t idx, uint16_t nw)
{
	atomic_store(&r->words[idx], nw);
}

/* First touch (UNTOUCHED) or a page zapped behind our back (RESIDENT). */
static void zero_fill(struct tp_handler *h, struct tp_region *r, uint64_t idx, uint16_t old,
		      bool write)
{
	uintptr_t addr = r->start + idx * PAGE;
	bool was_resident = tp_state_of(old) == TP_RESIDENT;
	bool has_slot = r->slots[idx] != TP_SLOT_NONE;
	size_t done;
	int rc;

	rc = uffd_copy(addr, P.zero_page, PAGE, !write, true, &done);
	if (rc == 0) {
		uint16_t f = TP_F_REF;

		if (write || has_slot)
			f |= TP_F_DIRTY;
		if (write)
			f |= TP_F_WRITTEN;
		if (!write)
			f |= TP_F_WP;
		fetch_release(r, idx, tp_make(TP_RESIDENT, f));
		if (!was_resident)
			P.nr_resident++;
		STAT_INC(nr_zero_fills);
		return;
	}
	/* -EEXIST: present after all (a stale message); -EAGAIN: an event is pending */
	fetch_release(r, idx, old);
	uffd_wake(addr, PAGE);
}

static void fetch(struct tp_handler *h, struct tp_region *r, uint64_t idx, uint16_t old0,
		  bool write)
{
	struct tier_pool_iov iov[FETCH_MAX];
	uint64_t pages[FETCH_MAX];
	bool writable[FETCH_MAX];
	uint64_t t0;
	unsigned int n = 1, i, window = 0;
	int64_t stride = 0;
	int rc;

	pages[0] = idx;
	/* written before: it will be again, so spare it the write-protect fault */
	writable[0] = write || (old0 & TP_F_WRITTEN);
	if (!P.opts.no_prefetch) {
		pthread_spin_lock(&r->stream_lock);
		window = tp_stream_fault(&r->stream, idx, &stride);
		pthread_spin_unlock(&r->stream_lock);
		P.window_hint = window;
		if (P.limit_pages) {
			/* handle_missing made room for the window it expected */
			int64_t room = (int64_t)P.limit_pages - P.nr_resident - 1;

			if (room < (int64_t)window)
				window = room > 0 ? (unsigned int)room : 0;
		}
		for (i = 1; i <= window && n < FETCH_MAX; i++) {
			int64_t j = (int64_t)idx + stride * (int64_t)i;

			if (j < 0 || (uint64_t)j >= r->nr_pages)
				break;
			uint16_t oldj;

			if (tp_claim(&r->words[j], TP_POOL, TP_FETCHING, &oldj)) {
				writable[n] = write || (oldj & TP_F_WRITTEN);
				pages[n++] = (uint64_t)j;
			}
		}
		if (n > 1) {
			pthread_spin_lock(&r->stream_lock);
			for (i = 1; i < n; i++)
				tp_stream_push(&r->stream, pages[i]);
			pthread_spin_unlock(&r->stream_lock);
		}
	}
	t0 = now_ns();
	rc = 0;
	for (i = 0; i < n; i++) {
		iov[i].slot = r->slots[pages[i]];
		/* a mapped pool is copied from where it is (see pool_direct) */
		iov[i].buf = P.pool_direct ? tier_pool_direct(P.pool, iov[i].slot)
					   : h->staging + (size_t)i * PAGE;
		if (!iov[i].buf)
			rc = -ERANGE;
	}
	if (!P.pool_direct)
		rc = tier_pool_read(P.pool, iov, n);
	PROF_END(PF_READ, t0, n);
	PROF_START(tc);
	P.pool_read_ns_avg = (P.pool_read_ns_avg * 7 + (now_ns() - t0)) / 8;
	tp_channel_fetch_ns(now_ns() - t0); /* channel.c: latency histogram (atomic add) */
	if (rc) {
		for (i = 1; i < n; i++)
			fetch_release(r, pages[i], TP_POOL);
		fetch_release(r, idx, TP_POOL);
		fail_access(r->start + idx * PAGE, rc);
		return;
	}
	/*
	 * install: runs of address-contiguous pages with the same mode in one
	 * ioctl; the faulting page alone first, then chunks of INSTALL_CHUNK:
	 * each ioctl wakes the threads waiting in its range only when it
	 * ends, and the faulting thread, running on into the window, would
	 * otherwise wait for all of it.
	 */
	for (i = 0; i < n;) {
		/*
		 * A write fault installs writable (dirty), and so does the
		 * prefetch it triggers: a write stream would otherwise take a
		 * write-protect fault on every prefetched page.
		 */
		bool wp = !writable[i];
		unsigned int k = i + 1, m;
		size_t done = 0;

		while (i > 0 && k < n && k - i < INSTALL_CHUNK && pages[k] == pages[k - 1] + 1 &&
		       writable[k] == writable[i] &&
		       (unsigned char *)iov[k].buf == (unsigned char *)iov[k - 1].buf + PAGE)
			k++;
		rc = uffd_copy(r->start + pages[i] * PAGE, iov[i].buf, (size_t)(k - i) * PAGE, wp,
			       true, &done);
		for (m = i; m < k; m++) {
			uint16_t f;

			if ((size_t)(m - i) * PAGE < done) {
				/* a stream's own demand page is as cold as its read-ahead */
				f = m == 0 && n == 1 ? TP_F_REF : 0;
				f |= wp ? TP_F_WP : TP_F_DIRTY | TP_F_WRITTEN;
				fetch_release(r, pages[m], tp_make(TP_RESIDENT, f));
				P.nr_resident++;
				P.nr_pool--;
				if (m == 0)
					STAT_INC(nr_fetches);
				else
					STAT_INC(nr_prefetches);
			} else if (rc == -EEXIST && (size_t)(m - i) * PAGE == done) {
				/* present after all: keep it, assume it changed */
				fetch_release(r, pages[m], tp_make(TP_RESIDENT, TP_F_DIRTY));
				P.nr_resident++;
				P.nr_pool--;
				uffd_wake(r->start + pages[m] * PAGE, PAGE);
			} else {
				/* -EAGAIN (event pending) or the range went away: not installed */
				fetch_release(r, pages[m], TP_POOL);
				if (m == 0)
					uffd_wake(r->start + pages[m] * PAGE, PAGE);
			}
		}
		i = k;
	}
	PROF_END(PF_COPY, tc, n);
}

static void handle_missing(struct tp_handler *h, uintptr_t addr, bool write);

/* A fault outside our tables: the tail of an mremap that grew in place. */
static void unknown_fault(struct tp_handler *h, uintptr_t addr, bool write)
{
	struct tp_region *r;
	size_t done;
	bool known;

	pthread_mutex_lock(&P.ev_lock);
	pthread_rwlock_rdlock(&P.regions_lock);
	r = region_find(addr);
	known = r && tp_state_of(atomic_load(&r->words[(addr - r->start) / PAGE])) != TP_GONE;
	pthread_rwlock_unlock(&P.regions_lock);
	if (!known) {
		/* no event can be read meanwhile: -EAGAIN if one is pending */
		if (uffd_copy(addr, P.zero_page, PAGE, false, true, &done))
			uffd_wake(addr, PAGE);
	}
	pthread_mutex_unlock(&P.ev_lock);
	if (known)
		handle_missing(h, addr, write);
}

/*
 * A missing fault on a page being evicted. The evictor zaps its victims and
 * publishes their new state in one ev_lock section, and fault messages are
 * read under ev_lock, so a page that is still EVICTING when we hold ev_lock
 * was not zapped by this eviction: either the message is stale (the page
 * is present: -EEXIST, wake) or the program zapped it behind our back
 * (glibc's internal madvise of free memory and of cached thread stacks is
 * not interposed). Then its content is zeros by the program's own doing:
 * install a zero page and cancel the eviction (the evictor keeps it,
 * dirty). This fault used to wait for the eviction, which deadlocked when
 * the copy-out itself took it (see copy_out); zeros are the answer anyway.
 * Returns false if the page is no longer EVICTING (look again).
 */
static bool missing_while_evicting(uintptr_t addr)
{
	struct tp_region *r;
	bool evicting = false;
	size_t done;
	int rc;

	pthread_mutex_lock(&P.ev_lock);
	pthread_rwlock_rdlock(&P.regions_lock);
	r = region_find(addr);
	if (r) {
		uint64_t idx = (addr - r->start) / PAGE;

		evicting = tp_state_of(atomic_load(&r->words[idx])) == TP_EVICTING;
		if (evicting) {
			rc = uffd_copy(addr, P.zero_page, PAGE, false, true, &done);
			if (rc == 0) {
				tp_set_flags(&r->words[idx], TP_F_CANCEL);
				STAT_INC(nr_evict_cancels);
				STAT_INC(nr_foreign_zaps);
			} else {
				/* -EEXIST: present (a stale message); -EAGAIN: an event is pending */
				uffd_wake(addr, PAGE);
			}
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
	pthread_mutex_unlock(&P.ev_lock);
	return evicting;
}

static void handle_missing(struct tp_handler *h, uintptr_t addr, bool write)
{
	struct tp_region *r;
	uint64_t idx;
	uint16_t old;

	/*
	 * Room for this page and the prefetch window it may bring (made before
	 * claiming anything: eviction must never wait for a page we own).
	 * Prefetched pages come in without a reference bit, so CLOCK takes
	 * them before pages that were used.
	 */
	PROF_START(tw);
	wait_for_space(1 + P.window_hint);
	PROF_END(PF_WAIT, tw, 0);
	for (;;) {
		pthread_rwlock_rdlock(&P.regions_lock);
		r = region_find(addr);
		if (!r) {
			pthread_rwlock_unlock(&P.regions_lock);
			unknown_fault(h, addr, write);
			return;
		}
		idx = (addr - r->start) / PAGE;
		old = atomic_load(&r->words[idx]);
		switch (tp_state_of(old)) {
		case TP_UNTOUCHED:
		case TP_RESIDENT:
			if (!tp_claim(&r->words[idx], tp_state_of(old), TP_FETCHING, &old))
				break;
			pthread_rwlock_unlock(&P.regions_lock);
			zero_fill(h, r, idx, old, write);
			return;
		case TP_POOL:
			if (!tp_claim(&r->words[idx], TP_POOL, TP_FETCHING, &old))
				break;
			pthread_rwlock_unlock(&P.regions_lock);
			fetch(h, r, idx, old, write);
			/* a stream: the evictor takes its trail in long runs, now */
			if (streaming() && !P.evictor_busy && evict_needed())
				kick_evictor();
			return;
		case TP_FETCHING:
			/*
			 * Another fault or a prefetch is installing it: wait for that
			 * and look again (a present page then gets -EEXIST and a wake).
			 */
			pthread_rwlock_unlock(&P.regions_lock);
			sched_yield();
			continue;
		case TP_EVICTING:
			pthread_rwlock_unlock(&P.regions_lock);
			if (missing_while_evicting(addr))
				return;
			/* the eviction ended meanwhile: look again */
			continue;
		case TP_GONE:
		default:
			pthread_rwlock_unlock(&P.regions_lock);
			unknown_fault(h, addr, write);
			return;
		}
		pthread_rwlock_unlock(&P.regions_lock);
	}
}

/*
 * A write to a page being evicted: flag it CANCEL and let the writer go at
 * once. Under ev_lock, so the evictor's check-then-zap (also under ev_lock)
 * sees the flag before it zaps, or has zapped already (then the page is no
 * longer EVICTING and the writer, woken, faults again as missing). The
 * writer must not wait for the eviction to end: it may be the evictor
 * itself (a pool transport touching memory it allocated after the pager
 * started, e.g. a QP made on a reconnect, in a page of this very batch).
 */
static void cancel_eviction(uintptr_t addr)
{
	struct tp_region *r;
	bool unprotected = false;

	pthread_mutex_lock(&P.ev_lock);
	pthread_rwlock_rdlock(&P.regions_lock);
	r = region_find(addr);
	if (r) {
		uint64_t idx = (addr - r->start) / PAGE;

		if (tp_state_of(atomic_load(&r->words[idx])) == TP_EVICTING) {
			tp_set_flags(&r->words[idx], TP_F_CANCEL);
			STAT_INC(nr_evict_cancels);
			/* fails while an event is pending: the woken writer retries */
			unprotected = !uffd_wp(addr, PAGE, false);
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
	if (!unprotected)
		uffd_wake(addr, PAGE);
	pthread_mutex_unlock(&P.ev_lock);
}

static void handle_wp(uintptr_t addr)
{
	struct tp_region *r;
	uint64_t idx;
	uint16_t old;

	STAT_INC(nr_wp_faults);
	for (;;) {
		pthread_rwlock_rdlock(&P.regions_lock);
		r = region_find(addr);
		if (!r) {
			pthread_rwlock_unlock(&P.regions_lock);
			uffd_wp(addr, PAGE, false);
			return;
		}
		idx = (addr - r->start) / PAGE;
		old = atomic_load(&r->words[idx]);
		switch (tp_state_of(old)) {
		case TP_RESIDENT:
			/* own it while unprotecting, so no eviction starts in between */
			if (!tp_claim(&r->words[idx], TP_RESIDENT, TP_FETCHING, &old))
				break;
			pthread_rwlock_unlock(&P.regions_lock);
			if (uffd_wp(addr, PAGE, false)) {
				/* an event is pending: keep it protected; the writer retries */
				fetch_release(r, idx, old);
				uffd_wake(addr, PAGE);
				return;
			}
			fetch_release(r, idx,
				      tp_make(TP_RESIDENT, (uint16_t)((old | TP_F_DIRTY | TP_F_REF |
								       TP_F_WRITTEN) &
								      ~TP_F_WP)));
			return;
		case TP_EVICTING:
			pthread_rwlock_unlock(&P.regions_lock);
			cancel_eviction(addr);
			return;
		case TP_FETCHING:
			/*
			 * Its owner may have installed it write-protected and not yet
			 * published RESIDENT: wait for that, then unprotect it.
			 */
			pthread_rwlock_unlock(&P.regions_lock);
			sched_yield();
			continue;
		default:
			/* not present any more: the writer faults again as missing */
			pthread_rwlock_unlock(&P.regions_lock);
			uffd_wake(addr, PAGE);
			return;
		}
		pthread_rwlock_unlock(&P.regions_lock);
	}
}

static unsigned int evict_batch(unsigned int want, uintptr_t lo, uintptr_t hi);

/*
 * As the owner of the uffd's read side, wait for a batch and handle its
 * events. Returns the number of messages, or -1 at shutdown.
 */
static int handler_wait_batch(struct uffd_msg *msgs)
{
	uint64_t spin_ns = (uint64_t)(P.opts.spin_us ? P.opts.spin_us : 200) * 1000;
	int n = -1;

	while (!P.stopping) {
		ssize_t rd;

		pthread_mutex_lock(&P.ev_lock);
		rd = read(P.uffd, msgs, sizeof(msgs[0]) * MSG_BATCH);
		if (rd > 0) {
			n = (int)(rd / (ssize_t)sizeof(msgs[0]));
			tp_idle_poll_fault(); /* idlepoll.c: the faulting CPUs wake cheaply */
			handle_events(msgs, (unsigned int)n);
			pthread_mutex_unlock(&P.ev_lock);
			break;
		}
		pthread_mutex_unlock(&P.ev_lock);
		if (rd < 0 && errno != EAGAIN && errno != EINTR) {
			tp_log("reading the userfaultfd failed: %s; the fault loop stops",
			       strerror(errno));
			P.stopping = true;
			break;
		}
		if (now_ns() - P.last_fault_ns < spin_ns) {
			/*
			 * While waiting for the next fault, do the eviction it will
			 * need (small batches, so a fault waits little): on a busy
			 * machine this spares the evictor thread a CPU of its own.
			 */
			if (evict_needed() && !pool_slow() && !streaming() &&
			    !tp_idle_poll_active() && !pthread_mutex_trylock(&P.evict_lock)) {
				/* few pages: each write-protect is an IPI, a fault waits for them */
				if (!P.paused) {
					PROF_START(tb);
					unsigned int kk = evict_batch(4, 0, 0);
					PROF_END(PE_B_IDLE, tb, kk);
				}
				pthread_mutex_unlock(&P.evict_lock);
				continue;
			}
			for (int i = 0; i < 64; i++)
				cpu_relax();
			continue;
		}
		struct pollfd pfd[2] = {
			{ .fd = P.uffd, .events = POLLIN },
			{ .fd = P.stop_fd, .events = POLLIN },
		};
		poll(pfd, 2, 1000);
	}
	return n;
}

static void *handler_main(void *arg)
{
	struct tp_handler *h = arg;
	struct uffd_msg msgs[MSG_BATCH];
	int n, i;

	/* its malloc arena first, under the default policy: pager memory stays local */
	thread_begin(h->idx);
	if (P.policy_mode != MPOL_DEFAULT &&
	    syscall(SYS_set_mempolicy, P.policy_mode, P.policy_mask, 1024))
		tp_log("set_mempolicy for node %d failed: %s; pages land on the local node",
		       P.opts.node, strerror(errno));
	pthread_mutex_lock(&P.owner_lock);
	while ((n = handler_wait_batch(msgs)) >= 0) {
		/*
		 * Leader/followers: with a slow pool (TCP, RDMA: tens of us per
		 * read) hand the read side to the next handler while this one
		 * waits on the pool; with a fast one (shm, mem) keep it: the
		 * hand-off would cost more than the fault, and two spinning
		 * handlers would take the program's CPUs.
		 */
		bool handoff = P.nr_handlers > 1 && pool_slow();

		if (handoff)
			pthread_mutex_unlock(&P.owner_lock);
		for (i = 0; i < n; i++) {
			struct uffd_msg *m = &msgs[i];
			uintptr_t addr;

			if (m->event != UFFD_EVENT_PAGEFAULT)
				continue;
			addr = (uintptr_t)m->arg.pagefault.address & ~(uintptr_t)(PAGE - 1);
			if (m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
				handle_wp(addr);
			} else {
				STAT_INC(nr_faults);
				PROF_START(tm);
				handle_missing(h, addr,
					       m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
				PROF_END(PF_MISSING, tm, 1);
			}
		}
		P.last_fault_ns = now_ns();
		if (handoff)
			pthread_mutex_lock(&P.owner_lock);
	}
	pthread_mutex_unlock(&P.owner_lock);
	return NULL;
}

/* ---- eviction ---------------------------------------------------------------- */

struct victim {
	struct tp_region *r;
	uint64_t idx;
	uint16_t old;
	bool copy; /* needs write-protect + copy + pool write */
	bool protected; /* we write-protected it */
	bool aborted; /* give it back */
	bool missing; /* the copy-out found no page there */
};

static unsigned int pick_range_victims(struct victim *v, unsigned int want, uintptr_t lo,
				       uintptr_t hi);

/* A page just claimed (EVICTING) from @old as a victim. */
static void victim_init(struct victim *v, struct tp_region *r, uint64_t idx, uint16_t old)
{
	v->r = r;
	v->idx = idx;
	v->old = old;
	v->aborted = false;
	v->protected = false;
	v->missing = false;
	/* clean = write-protected since its content matched the slot (or zero) */
	v->copy = (old & TP_F_DIRTY) || !(old & TP_F_WP);
}

static unsigned int pick_victims(struct victim *v, unsigned int want, uintptr_t lo, uintptr_t hi)
{
	unsigned int n = 0, tries;
	uint64_t cand[EVICT_BATCH];
	bool full = false;

	if (hi) /* a command for a range (tierd's plan): exactly those pages, no CLOCK */
		return pick_range_victims(v, want, lo, hi);
	pthread_rwlock_rdlock(&P.regions_lock);
	for (tries = 0; tries < 2 * P.nr_regions + 2 && n < want && P.nr_regions; tries++) {
		struct tp_region *r;
		unsigned int k, got;
		uint64_t scan;

		if (P.clock_region >= P.nr_regions)
			P.clock_region = 0;
		r = P.regions[P.clock_region];
		if (hi && (r->end <= lo || r->start >= hi)) {
			P.clock_region++;
			continue;
		}
		scan = 2 * r->nr_pages;
		got = tp_clock_pick(&r->clock, r->words, r->nr_pages, scan, cand, want - n);
		for (k = 0; k < got; k++) {
			uintptr_t a = r->start + cand[k] * PAGE;
			uint16_t old;

			if (hi && (a < lo || a >= hi))
				continue;
			if (!tp_claim(&r->words[cand[k]], TP_RESIDENT, TP_EVICTING, &old))
				continue;
			victim_init(&v[n], r, cand[k], old);
			if (v[n].copy && r->slots[cand[k]] == TP_SLOT_NONE) {
				uint64_t slot;

				/*
				 * A full pool: this one stays, but pages that own a
				 * slot (fetched before, or clean) can still go.
				 */
				if (full || tier_pool_alloc_slot(P.pool, &slot) ||
				    slot >= TP_SLOT_NONE) {
					full = true;
					atomic_store(&r->words[cand[k]], old);
					continue;
				}
				r->slots[cand[k]] = (uint32_t)slot;
			}
			n++;
		}
		if (n < want)
			P.clock_region++;
	}
	pthread_rwlock_unlock(&P.regions_lock);
	if (full) { /* true: nothing could go for want of a slot (see wait_for_space) */
		static _Atomic bool said;

		atomic_store(&P.pool_full, !n);
		if (!atomic_exchange(&said, true))
			tp_log("%s: pages without a pool slot stay resident, those with one "
			       "still go",
			       tier_pool_strerror(P.pool));
	}
	return n;
}

/* The resident pages of [lo, hi), in address order (helper-8, the pager channel). */
static unsigned int pick_range_victims(struct victim *v, unsigned int want, uintptr_t lo,
				       uintptr_t hi)
{
	unsigned int n = 0;
	uintptr_t a;

	pthread_rwlock_rdlock(&P.regions_lock);
	for (a = lo; a < hi && n < want; a += PAGE) {
		struct tp_region *r = region_find(a);
		uint64_t idx;
		uint16_t old;

		if (!r)
			continue;
		idx = (a - r->start) / PAGE;
		if (!tp_claim(&r->words[idx], TP_RESIDENT, TP_EVICTING, &old))
			continue;
		victim_init(&v[n], r, idx, old);
		if (v[n].copy && r->slots[idx] == TP_SLOT_NONE) {
			uint64_t slot;

			if (tier_pool_alloc_slot(P.pool, &slot) || slot >= TP_SLOT_NONE) {
				atomic_store(&r->words[idx], old);
				break;
			}
			r->slots[idx] = (uint32_t)slot;
		}
		n++;
	}
	pthread_rwlock_unlock(&P.regions_lock);
	return n;
}

/*
 * Give an owned EVICTING page back (RESIDENT with @flags), or let go of it
 * if it moved or was unmapped meanwhile. A page written meanwhile (CANCEL)
 * is write-protected, by us or since its fetch: unprotecting it wakes the
 * writer. Under ev_lock.
 */
static void victim_release(struct victim *v, uint16_t flags)
{
	tp_word_t *w = &v->r->words[v->idx];
	uint16_t cur = atomic_load(w);

	if (cur & TP_F_MOVED) {
		atomic_store(w, TP_GONE);
		v->r->nr_gone++;
		return;
	}
	if (cur & TP_F_DISCARD) {
		atomic_store(w, TP_GONE);
		v->r->nr_gone++;
		slot_free(v->r, v->idx);
		P.nr_resident--;
		P.nr_managed--;
		return;
	}
	if (v->protected || (cur & TP_F_CANCEL)) {
		/*
		 * Fails while an event is pending: the page then stays
		 * protected but counts as dirty (no WP flag), and a write takes
		 * a WP fault that handle_wp resolves. Never wait here for the
		 * event with ev_lock dropped: the other victims of the batch
		 * were checked for CANCEL under this same hold of ev_lock, and a
		 * write let through meanwhile (cancel_eviction unprotects) would
		 * be zapped unseen: a lost write (tier-memcheck --stack-evict
		 * over TCP lost stack contents in 12 runs of 12).
		 */
		uffd_wp(v->r->start + v->idx * PAGE, PAGE, false);
		flags = (uint16_t)((flags | TP_F_DIRTY) & ~TP_F_WP);
	}
	atomic_store(w, tp_make(TP_RESIDENT, flags));
}

/*
 * Copy @n victims (one page each, at remote[i]) to to[i].buf (the staging
 * buffer, or the pool itself where it is mapped here); ok[i] says which
 * arrived.
 *
 * Through /proc/self/mem, not process_vm_readv: the kernel reads it with
 * get_user_pages without FAULT_FLAG_ALLOW_RETRY, so a page that is not
 * there (zapped by the program behind our back: glibc's internal madvise
 * of free memory and cached thread stacks; or unmapped meanwhile) fails
 * that read with EIO at once, where process_vm_readv raises a userfault
 * and waits for a handler. Waiting deadlocks: the copier may be a handler
 * holding the uffd's read side, and a handler may be waiting for the
 * space this eviction makes. A page that failed becomes a zero page
 * (victim_zapped_behind) or is given back. Runs of pages adjacent at both
 * ends are one pread.
 */
static void copy_out(const struct iovec *remote, const struct tier_pool_iov *to, bool *ok,
		     unsigned int n)
{
	unsigned int i = 0;

	while (i < n) {
		unsigned int j = i + 1;
		ssize_t got;

		while (j < n &&
		       (uintptr_t)remote[j - 1].iov_base + PAGE == (uintptr_t)remote[j].iov_base &&
		       (unsigned char *)to[j - 1].buf + PAGE == (unsigned char *)to[j].buf)
			j++;
		got = pread(P.mem_fd, to[i].buf, (size_t)(j - i) * PAGE,
			    (off_t)(uintptr_t)remote[i].iov_base);
		if (got < 0)
			got = 0;
		for (; i < j && got >= (ssize_t)PAGE; i++, got -= (ssize_t)PAGE)
			ok[i] = true;
		if (i < j) /* page i is not there; go on after it */
			ok[i++] = false;
	}
}

/*
 * A victim the copy-out did not find: the program zapped it (no event is
 * pending for it, or installing would fail with -EAGAIN), so it reads as
 * zeros now. Install a clean, write-protected zero page and forget the
 * pool copy: the next eviction drops it without a pool write. Given back
 * as is otherwise (present after all, or moved/unmapped: the event fixes
 * it). Under ev_lock, so no fault on it is being resolved meanwhile.
 */
static bool victim_zapped_behind(struct victim *v)
{
	size_t done;

	if (uffd_copy(v->r->start + v->idx * PAGE, P.zero_page, PAGE, true, true, &done))
		return false;
	slot_free(v->r, v->idx);
	atomic_store(&v->r->words[v->idx], tp_make(TP_RESIDENT, TP_F_WP));
	STAT_INC(nr_foreign_zaps);
	return true;
}

/* Evict up to @want pages (within [lo, hi) if hi != 0). Under evict_lock. */
static unsigned int evict_batch(unsigned int want, uintptr_t lo, uintptr_t hi)
{
	struct victim v[EVICT_BATCH];
	struct iovec remote[EVICT_BATCH];
	struct tier_pool_iov iov[EVICT_BATCH];
	unsigned int n, i, nc = 0, nr_evicted = 0;
	unsigned int copy_of[EVICT_BATCH], zap_first[EVICT_BATCH], nz;
	bool exact = false; /* write-protect runs without gaps */
	bool event_pending = false; /* a write-protect failed with EAGAIN */
	bool ok[EVICT_BATCH];
	struct iovec zap[EVICT_BATCH];
	bool batched;
	int rc;

	if (want > EVICT_BATCH)
		want = EVICT_BATCH;
	PROF_START(tp);
	n = pick_victims(v, want, lo, hi);
	PROF_END(PE_PICK, tp, n);
	if (!n)
		return 0;
	PROF_START(tw);

	/* 1. write-protect the pages that must be copied, a run per ioctl */
	for (i = 0; i < n;) {
		unsigned int j = i + 1, k;
		uint64_t span;

		if (!v[i].copy) {
			i++;
			continue;
		}
		/*
		 * One ioctl (one TLB shootdown: an IPI to every CPU running the
		 * program) over victims up to WP_GAP pages apart. Protecting the
		 * pages between them is harmless: a write there takes a WP fault
		 * that handle_wp resolves like any other.
		 */
		while (j < n && v[j].copy && v[j].r == v[i].r && v[j].idx > v[j - 1].idx &&
		       v[j].idx - v[j - 1].idx <= (exact ? 1 : WP_GAP))
			j++;
		span = v[j - 1].idx - v[i].idx + 1;
		rc = uffd_wp(v[i].r->start + v[i].idx * PAGE, (size_t)span * PAGE, true);
		PROF_COUNT(PE_WPRUNS, j - i);
		if (rc == -EAGAIN)
			event_pending = true;
		if (rc && span > j - i && !exact) {
			/* something between them is not registered (a new mapping
			 * in an unmapped hole): protect exactly the victims */
			exact = true;
			continue;
		}
		exact = false;
		for (k = i; k < j; k++) {
			if (rc) {
				v[k].aborted = true;
				continue;
			}
			v[k].protected = true;
			remote[nc].iov_base = (void *)(v[k].r->start + v[k].idx * PAGE);
			remote[nc].iov_len = PAGE;
			iov[nc].slot = v[k].r->slots[v[k].idx];
			iov[nc].buf = P.pool_direct ? tier_pool_direct(P.pool, iov[nc].slot)
						    : P.evict_staging + (size_t)nc * PAGE;
			if (!iov[nc].buf) {
				v[k].aborted = true;
				continue;
			}
			copy_of[nc++] = k;
		}
		i = j;
	}
	PROF_END(PE_WP, tw, nc);
	PROF_START(tr);
	/* 2. copy out (a page that is not there fails alone: see copy_out) */
	if (nc) {
		unsigned int m = 0;

		copy_out(remote, iov, ok, nc);
		for (i = 0; i < nc; i++) {
			if (!ok[i]) {
				v[copy_of[i]].aborted = true;
				v[copy_of[i]].missing = true;
				continue;
			}
			iov[m] = iov[i];
			copy_of[m++] = copy_of[i];
		}
		nc = m;
	}
	PROF_END(PE_READV, tr, nc);
	PROF_START(tpw);
	/* 3. pool write (done already where the pool is mapped here) */
	if (nc && !P.pool_direct) {
		rc = tier_pool_write(P.pool, iov, nc);
		if (rc) {
			static _Atomic int logged;

			if (!logged++)
				tp_log("pool write failed (%s: %s): pages stay resident",
				       strerror(-rc), tier_pool_strerror(P.pool));
			for (i = 0; i < nc; i++)
				v[copy_of[i]].aborted = true;
			atomic_store(&P.pool_down, true);
		} else {
			STAT_ADD(nr_pool_writes, nc);
			atomic_store(&P.pool_down, false);
		}
	} else if (nc) {
		STAT_ADD(nr_pool_writes, nc);
	}
	PROF_END(PE_PWRITE, tpw, nc);
	/* 4. under ev_lock: cancelled ones back, the rest zapped (a run per madvise) */
	PROF_START(tz);
	pthread_mutex_lock(&P.ev_lock);
	for (i = 0; i < n; i++) {
		uint16_t cur = atomic_load(&v[i].r->words[v[i].idx]);

		if (v[i].missing && !(cur & (TP_F_CANCEL | TP_F_MOVED | TP_F_DISCARD)) &&
		    victim_zapped_behind(&v[i]))
			continue;
		if (v[i].aborted) {
			victim_release(&v[i], v[i].old);
			continue;
		}
		if (cur & (TP_F_CANCEL | TP_F_MOVED | TP_F_DISCARD)) {
			victim_release(&v[i], v[i].old | TP_F_REF);
			v[i].aborted = true;
		}
	}
	/* the runs to zap; all in one process_madvise where the kernel allows */
	nz = 0;
	for (i = 0; i < n;) {
		unsigned int j = i + 1;

		if (v[i].aborted) {
			i++;
			continue;
		}
		while (j < n && !v[j].aborted && v[j].r == v[i].r && v[j].idx == v[j - 1].idx + 1)
			j++;
		zap[nz].iov_base = (void *)(v[i].r->start + v[i].idx * PAGE);
		zap[nz].iov_len = (size_t)(j - i) * PAGE;
		zap_first[nz++] = i;
		i = j;
	}
	PROF_COUNT(PE_ZAPRUNS, nz);
	batched = false;
	if (nz > 1 && P.pidfd >= 0) {
		ssize_t total = 0;

		for (i = 0; i < nz; i++)
			total += (ssize_t)zap[i].iov_len;
		batched = syscall(SYS_process_madvise, P.pidfd, zap, (size_t)nz, MADV_DONTNEED,
				  0) == total;
	}
	for (i = 0; i < nz; i++) {
		unsigned int first = zap_first[i],
			     last = first + (unsigned int)(zap[i].iov_len / PAGE), k;

		/* (a failed batch is redone run by run: zapping twice is harmless) */
		if (!batched &&
		    raw_madvise((uintptr_t)zap[i].iov_base, zap[i].iov_len, MADV_DONTNEED)) {
			for (k = first; k < last; k++)
				victim_release(&v[k], v[k].old);
			continue;
		}
		for (k = first; k < last; k++) {
			if (v[k].r->slots[v[k].idx] != TP_SLOT_NONE) {
				atomic_store(&v[k].r->words[v[k].idx],
					     tp_make(TP_POOL, v[k].old & TP_F_WRITTEN));
				P.nr_pool++;
			} else {
				atomic_store(&v[k].r->words[v[k].idx], TP_UNTOUCHED);
			}
			P.nr_resident--;
			nr_evicted++;
			if (!v[k].copy)
				STAT_INC(nr_clean_drops);
		}
		/* a write that faulted after the check waits on the zapped pages: wake it */
		uffd_wake((uintptr_t)zap[i].iov_base, zap[i].iov_len);
	}
	pthread_mutex_unlock(&P.ev_lock);
	PROF_END(PE_ZAP, tz, nr_evicted);
	STAT_ADD(nr_evictions, nr_evicted);
	atomic_store(&P.futile_batches,
		     nr_evicted || !event_pending ? 0 : atomic_load(&P.futile_batches) + 1);
	return n;
}

/* Batch by batch over [lo, hi) (the lock is not held across batches: the
 * local evictor and faults get their turn). */
static int evict_run(uintptr_t lo, uintptr_t hi)
{
	while (lo < hi && !P.stopping) {
		uintptr_t end =
		    hi - lo > (uintptr_t)EVICT_BATCH * PAGE ? lo + EVICT_BATCH * PAGE : hi;

		pthread_mutex_lock(&P.evict_lock);
		evict_batch(EVICT_BATCH, lo, end);
		pthread_mutex_unlock(&P.evict_lock);
		lo = end;
	}
	return 0;
}

/*
 * Never the pager's own memory (tierd cannot tell it by name on kernels
 * without CONFIG_ANON_VMA_NAME and may ask): a pager thread evicting its
 * own stack waits on itself (seen in tier_pool_hotset: the channel thread,
 * under ev_lock).
 */
static int evict_here(uintptr_t lo, uintptr_t hi)
{
	return outside_own(lo, hi, evict_run);
}

int tier_pager_evict(void *addr, size_t len)
{
	if (!P.initialised || P.disabled)
		return -ENODEV;
	return on_pager_side(evict_here, (uintptr_t)addr & ~(uintptr_t)(PAGE - 1),
			     (uintptr_t)addr + len);
}

/*
 * Bring the pool pages of [addr, addr+len) back (tierd's "fetch" command:
 * they are hot again), EVICT_BATCH pages per pool read, installed
 * write-protected (a clean copy: evicting it again needs no pool write)
 * with the reference bit set, so local CLOCK keeps them a while.
 */
static int fetch_here(uintptr_t a, uintptr_t hi)
{
	struct tier_pool_iov iov[EVICT_BATCH];
	struct tp_region *rr[EVICT_BATCH];
	uint64_t idxs[EVICT_BATCH];
	uint16_t olds[EVICT_BATCH];
	unsigned int n, i;
	int rc = 0, ret = 0;

	while (a < hi && !P.stopping && !P.paused) {
		pthread_mutex_lock(&P.evict_lock); /* the staging buffer */
		pthread_rwlock_rdlock(&P.regions_lock);
		for (n = 0; a < hi && n < EVICT_BATCH; a += PAGE) {
			struct tp_region *r = region_find(a);
			uint64_t idx;

			if (!r)
				continue;
			idx = (a - r->start) / PAGE;
			if (!tp_claim(&r->words[idx], TP_POOL, TP_FETCHING, &olds[n]))
				continue;
			rr[n] = r;
			idxs[n] = idx;
			iov[n].slot = r->slots[idx];
			iov[n].buf = P.evict_staging + (size_t)n * PAGE;
			n++;
		}
		rc = n ? tier_pool_read(P.pool, iov, n) : 0;
		for (i = 0; i < n; i++) {
			size_t done;
			int crc;

			if (rc) {
				fetch_release(rr[i], idxs[i], olds[i]);
				continue;
			}
			crc = uffd_copy(rr[i]->start + idxs[i] * PAGE, iov[i].buf, PAGE, true, true,
					&done);
			if (crc == 0 || crc == -EEXIST) {
				fetch_release(
				    rr[i], idxs[i],
				    tp_make(TP_RESIDENT, TP_F_REF | (olds[i] & TP_F_WRITTEN) |
							     (crc ? TP_F_DIRTY : TP_F_WP)));
				P.nr_resident++;
				P.nr_pool--;
			} else {
				fetch_release(rr[i], idxs[i], olds[i]);
			}
		}
		pthread_rwlock_unlock(&P.regions_lock);
		pthread_mutex_unlock(&P.evict_lock);
		if (rc)
			ret = rc;
	}
	return ret;
}

int tier_pager_fetch(void *addr, size_t len)
{
	if (!P.initialised || P.disabled)
		return -ENODEV;
	return on_pager_side(fetch_here, (uintptr_t)addr & ~(uintptr_t)(PAGE - 1),
			     (uintptr_t)addr + len);
}

/*
 * Up to @max runs of pool pages at or after *@cursor (the channel's
 * report); *@cursor moves past what was looked at; 0 runs: the end.
 */
unsigned int tp_pool_runs(uintptr_t *cursor, struct tp_range *out, unsigned int max)
{
	unsigned int ri, n = 0;

	pthread_rwlock_rdlock(&P.regions_lock);
	for (ri = 0; ri < P.nr_regions && n < max; ri++) {
		struct tp_region *r = P.regions[ri];
		uint64_t i;

		if (r->end <= *cursor)
			continue;
		i = *cursor > r->start ? (*cursor - r->start) / PAGE : 0;
		for (; i < r->nr_pages && n < max; i++) {
			uint64_t j = i;

			while (j < r->nr_pages && tp_state_of(atomic_load(&r->words[j])) == TP_POOL)
				j++;
			if (j > i) {
				out[n].start = r->start + i * PAGE;
				out[n].end = r->start + j * PAGE;
				n++;
				i = j;
			}
			*cursor = r->start + (i + 1) * PAGE;
		}
		if (i >= r->nr_pages)
			*cursor = r->end;
	}
	pthread_rwlock_unlock(&P.regions_lock);
	return n;
}

/* The address of a resident managed page near page number @rnd of all
 * managed pages (the hint sampler), or 0. */
uintptr_t tp_pick_resident(uint64_t rnd)
{
	uint64_t total = 0, k;
	unsigned int ri;
	uintptr_t found = 0;

	pthread_rwlock_rdlock(&P.regions_lock);
	for (ri = 0; ri < P.nr_regions; ri++)
		total += P.regions[ri]->nr_pages;
	if (total) {
		rnd %= total;
		for (ri = 0; ri < P.nr_regions && rnd >= P.regions[ri]->nr_pages; ri++)
			rnd -= P.regions[ri]->nr_pages;
		if (ri < P.nr_regions) {
			struct tp_region *r = P.regions[ri];

			for (k = 0; k < 64 && rnd + k < r->nr_pages; k++) {
				if (tp_state_of(atomic_load(&r->words[rnd + k])) == TP_RESIDENT) {
					found = r->start + (rnd + k) * PAGE;
					break;
				}
			}
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
	return found;
}

/*
 * The /proc/self/maps scanner, every 20 ms, in a thread of its own: new
 * memory must be managed before the program fills it (found only once
 * touched, its pages are adopted as resident all at once, over the
 * limit), also while the evictor waits on a slow or reconnecting pool.
 * Between scans it serves the calls program threads hand over
 * (on_pager_side), and withdraws idle polling after a quiet spell.
 */
static void *scanner_main(void *arg)
{
	uint64_t next_tick;

	thread_begin((unsigned int)(uintptr_t)arg);
	pthread_mutex_lock(&P.call_lock);
	P.calls_open = true;
	pthread_mutex_unlock(&P.call_lock);
	next_tick = now_ns();
	while (!P.stopping) {
		uint64_t now = now_ns();

		if (now >= next_tick) {
			if (P.opts.scan_maps && !P.paused)
				tp_scan_tick(&P.scan);
			tp_idle_poll_tick(now, P.last_fault_ns);
			next_tick = now_ns() + SCAN_TICK_NS;
		}
		serve_calls(next_tick, false);
	}
	serve_calls(0, true);
	return NULL;
}

static void *evictor_main(void *arg)
{
	uint64_t spin_ns = (uint64_t)(P.opts.spin_us ? P.opts.spin_us : 200) * 1000;

	thread_begin((unsigned int)(uintptr_t)arg);
	while (!P.stopping) {
		bool busy = false;

		/*
		 * While faults come in, the spinning handler evicts between them
		 * (a thread of its own would compete for the CPUs); this thread
		 * evicts when the handlers sleep, and always with a slow pool
		 * (then it mostly waits on the network, in parallel with faults)
		 * or with idle polling (idlepoll.c: waking it is cheap then, and
		 * a fault no longer waits behind the handler's batch: random
		 * faults mean 12-14 us instead of 17-18, p90 21-28 instead of 50).
		 */
		if (evict_needed() && (pool_slow() || streaming() || tp_idle_poll_active() ||
				       now_ns() - P.last_fault_ns > spin_ns)) {
			unsigned int got = 0;

			/* evict down to two margins under the limit */
			P.evictor_busy = true;
			pthread_mutex_lock(&P.evict_lock);
			while (!P.stopping && !P.paused &&
			       (uint64_t)P.nr_resident + 2 * P.margin_pages > P.limit_pages) {
				PROF_START(tb);
				unsigned int k = evict_batch(EVICT_BATCH, 0, 0);
				PROF_END(PE_B_THREAD, tb, k);

				/* nothing to take, the pool took nothing, or an event is
				 * pending (nothing can go until it is read): try again in a tick */
				if (!k || atomic_load(&P.pool_down) ||
				    atomic_load(&P.futile_batches))
					break;
				got += k;
			}
			pthread_mutex_unlock(&P.evict_lock);
			P.evictor_busy = false;
			busy = got > 0;
		}
		if (busy)
			continue;
		pthread_mutex_lock(&P.kick_lock);
		if (!P.kicked) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			/* a pool that takes no writes: try again less often (each try
			 * write-protects and copies a batch for nothing) */
			ts.tv_nsec += (atomic_load(&P.pool_down) ? 100 : 2) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&P.kick_cond, &P.kick_lock, &ts);
		}
		P.kicked = false;
		pthread_mutex_unlock(&P.kick_lock);
	}
	return NULL;
}

/*
 * The program zaps [start, end) (madvise DONTNEED/REMOVE, interposed):
 * afterwards the pages read as zeros, so pooled copies are dropped.
 * Owned pages are waited for, without the lock.
 */
static int discard_here(uintptr_t start, uintptr_t end)
{
	uintptr_t a;

	pthread_rwlock_wrlock(&P.regions_lock);
	for (a = start & ~(uintptr_t)(PAGE - 1); a < end; a += PAGE) {
		struct tp_region *r = region_find(a);
		uint64_t idx;

		if (!r)
			continue;
		idx = (a - r->start) / PAGE;
		for (;;) {
			uint16_t w = atomic_load(&r->words[idx]);
			unsigned int st = tp_state_of(w);

			if (st == TP_FETCHING || st == TP_EVICTING) {
				/*
				 * Not holding the lock meanwhile: what the owner
				 * waits for (a fault, resolved by a handler that
				 * takes this lock) must not wait for us.
				 */
				pthread_rwlock_unlock(&P.regions_lock);
				sched_yield();
				pthread_rwlock_wrlock(&P.regions_lock);
				r = region_find(a);
				if (!r)
					break;
				idx = (a - r->start) / PAGE;
				continue;
			}
			if (st == TP_GONE || st == TP_UNTOUCHED)
				break;
			if (!atomic_compare_exchange_weak(&r->words[idx], &w, TP_UNTOUCHED))
				continue;
			if (st == TP_RESIDENT)
				P.nr_resident--;
			else
				P.nr_pool--;
			slot_free(r, idx);
			break;
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
	return 0;
}

void tp_discard_range(uintptr_t start, uintptr_t end)
{
	if (tp_is_active())
		on_pager_side(discard_here, start, end);
}

/* ---- fork, shutdown ------------------------------------------------------------- */

static int fetch_all_here(uintptr_t unused_a, uintptr_t unused_b)
{
	unsigned int ri;
	int rc = 0;

	(void)unused_a;
	(void)unused_b;
	P.paused = true;
	pthread_mutex_lock(&P.evict_lock); /* no eviction in flight */
	pthread_rwlock_rdlock(&P.regions_lock);
	for (ri = 0; ri < P.nr_regions; ri++) {
		struct tp_region *r = P.regions[ri];
		uint64_t i;

		for (i = 0; i < r->nr_pages; i++) {
			struct tier_pool_iov iov;
			uint16_t old;
			size_t done;

			while (tp_state_of(atomic_load(&r->words[i])) == TP_FETCHING)
				sched_yield(); /* a fault in flight: let it finish */
			if (!tp_claim(&r->words[i], TP_POOL, TP_FETCHING, &old))
				continue;
			iov.slot = r->slots[i];
			iov.buf = P.evict_staging;
			rc = tier_pool_read(P.pool, &iov, 1);
			if (rc) {
				fetch_release(r, i, TP_POOL);
				tp_log("fetching page %#lx back failed: %s",
				       (unsigned long)(r->start + i * PAGE),
				       tier_pool_strerror(P.pool));
				continue;
			}
			rc = uffd_copy(r->start + i * PAGE, P.evict_staging, PAGE, true, true,
				       &done);
			if (rc == 0 || rc == -EEXIST) {
				fetch_release(r, i,
					      tp_make(TP_RESIDENT, rc ? TP_F_DIRTY : TP_F_WP));
				P.nr_resident++;
				P.nr_pool--;
				rc = 0;
			} else {
				fetch_release(r, i, TP_POOL);
			}
		}
	}
	pthread_rwlock_unlock(&P.regions_lock);
	pthread_mutex_unlock(&P.evict_lock);
	return rc;
}

int tier_pager_fetch_all(void)
{
	if (!P.initialised || P.disabled)
		return 0;
	return on_pager_side(fetch_all_here, 0, 0);
}

static void atfork_prepare(void)
{
	tier_pager_fetch_all();
}

void tier_pager_resume(void)
{
	P.paused = false;
	kick_evictor();
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In a forked child: the child's mappings are not registered (no
 * UFFD_FEATURE_EVENT_FORK), its memory is complete (fetch_all ran in the
 * parent): it runs unmanaged. */
void tp_forked_child(void)
{
	if (!P.initialised)
		return;
	P.disabled = true;
	P.calls_open = false; /* no scanner in the child */
	tp_idle_poll_forget();
	close_fd(&P.uffd);
	close_fd(&P.stop_fd);
	close_fd(&P.pidfd);
	close_fd(&P.mem_fd); /* the parent's memory */
	if (P.pool)
		tier_pool_abandon(P.pool); /* the parent's lease and connections stay */
	P.pool = NULL;
	close_fd(&pagemap_fd);
}

void tier_pager_shutdown(void)
{
	unsigned int i;
	uint64_t one = 1;

	if (!P.initialised || P.disabled)
		return;
	P.opts.scan_maps = false;
	tier_pager_fetch_all();
	P.stopping = true;
	tp_idle_poll_close();
	kick_evictor();
	if (P.evictor_started)
		pthread_join(P.evictor, NULL);
	if (P.scanner_started)
		pthread_join(P.scanner, NULL);
	P.evictor_started = P.scanner_started = false;
	if (write(P.stop_fd, &one, sizeof(one)) < 0) {
		/* the handlers also see P.stopping within a second */
	}
	for (i = 0; i < P.nr_handlers; i++)
		pthread_join(P.handlers[i].thread, NULL);
	pthread_rwlock_wrlock(&P.regions_lock);
	for (i = 0; i < P.nr_regions; i++) {
		struct uffdio_range ur = { .start = P.regions[i]->start,
					   .len = P.regions[i]->end - P.regions[i]->start };

		ioctl(P.uffd, UFFDIO_UNREGISTER, &ur); /* fails harmlessly where unmapped */
	}
	pthread_rwlock_unlock(&P.regions_lock);
	close_fd(&P.uffd);
	close_fd(&P.stop_fd);
	close_fd(&P.mem_fd);
	close_fd(&P.pidfd);
	tier_pool_close(P.pool);
	P.pool = NULL;
	P.disabled = true;
}

void tier_pager_get_stats(struct tier_pager_stats *s)
{
	memcpy(s, &P.st, sizeof(*s));
	s->nr_managed_pages = (uint64_t)(P.nr_managed > 0 ? P.nr_managed : 0);
	s->nr_resident_pages = (uint64_t)(P.nr_resident > 0 ? P.nr_resident : 0);
	s->nr_pool_pages = (uint64_t)(P.nr_pool > 0 ? P.nr_pool : 0);
	s->limit_pages = P.limit_pages;
}

/* ---- start-up --------------------------------------------------------------------- */

static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && (errno == EPERM || errno == ENOSYS)) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev >= 0) {
			fd = ioctl(dev, _IO(0xAA, 0x00), O_CLOEXEC | O_NONBLOCK);
			close(dev);
		}
	}
	return fd < 0 ? -errno : fd;
}

/*
 * The UFFDIO_API handshake: first ask what the kernel offers (features 0),
 * then open a second uffd asking for what we use.
 */
static int uffd_setup(void)
{
	const uint64_t need =
	    UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP;
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd = uffd_open();

	if (fd < 0)
		return set_err(fd,
			       "userfaultfd: %s (needs CONFIG_USERFAULTFD, and root or "
			       "vm.unprivileged_userfaultfd=1 or access to /dev/userfaultfd)",
			       strerror(-fd));
	if (ioctl(fd, UFFDIO_API, &api)) {
		int rc = -errno;

		close(fd);
		return set_err(rc, "UFFDIO_API handshake failed: %s", strerror(-rc));
	}
	close(fd);
	if ((api.features & need) != need)
		return set_err(-EOPNOTSUPP,
			       "the kernel's userfaultfd lacks%s%s%s (features %#llx): "
			       "anonymous write-protect needs Linux >= 5.7",
			       (api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP) ? "" : " WP",
			       (api.features & UFFD_FEATURE_EVENT_REMAP) ? "" : " EVENT_REMAP",
			       (api.features & UFFD_FEATURE_EVENT_UNMAP) ? "" : " EVENT_UNMAP",
			       (unsigned long long)api.features);
	P.features = api.features;
	P.have_poison = api.features & UFFD_FEATURE_POISON;
	fd = uffd_open();
	if (fd < 0)
		return set_err(fd, "userfaultfd: %s", strerror(-fd));
	api.api = UFFD_API;
	api.features = need;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int rc = -errno;

		close(fd);
		return set_err(rc, "UFFDIO_API with features %#llx failed: %s",
			       (unsigned long long)need, strerror(-rc));
	}
	if (!(api.ioctls & (1ull << _UFFDIO_REGISTER))) {
		close(fd);
		return set_err(-EOPNOTSUPP, "userfaultfd offers no UFFDIO_REGISTER");
	}
	P.uffd = fd;
	return 0;
}

/* The CXL node: a node with memory and no CPUs (how a CXL expander appears). */
static int find_cxl_node(void)
{
	char path[128], buf[256];
	int node;

	for (node = 0; node < 64; node++) {
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			continue;
		buf[n] = 0;
		if (buf[0] != '\n' && buf[0] != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (strstr(buf, "MemTotal:") && !strstr(buf, "MemTotal:        0 kB"))
			return node;
	}
	return -1;
}

static void setup_policy(void)
{
	int node = P.opts.node;

	P.policy_mode = MPOL_DEFAULT;
	memset(P.policy_mask, 0, sizeof(P.policy_mask));
	if (node == TIER_PAGER_NODE_LOCAL)
		return;
	if (node == TIER_PAGER_NODE_DEFAULT) {
		node = find_cxl_node();
		if (node < 0)
			return;
		P.policy_mode = MPOL_PREFERRED;
	} else {
		P.policy_mode = MPOL_BIND;
	}
	P.policy_mask[node / 64] |= 1ul << (node % 64);
	P.opts.node = node;
}

/* Wait for the @n pager threads' heap addresses, own their arenas, let them go. */
static int own_thread_heaps(unsigned int n)
{
	uintptr_t heaps[18];
	uint64_t deadline = now_ns() + 10000000000ull;
	unsigned int i, in_main;

	for (i = 0; i < n; i++) {
		while (!(heaps[i] = atomic_load(&P.thread_heap[i]))) {
			if (now_ns() > deadline)
				return set_err(-ETIMEDOUT, "a pager thread did not start in 10 s");
			usleep(100);
		}
	}
	if (P.opts.scan_maps) {
		in_main = tp_scan_own_heaps(&P.scan, heaps, n);
		if (in_main && P.opts.verbose)
			tp_log("%u pager threads allocate from the main heap (arena limit "
			       "reached?): their allocations there are managed memory",
			       in_main);
	}
	atomic_store(&P.threads_go, true);
	return 0;
}

int tier_pager_init(const struct tier_pager_opts *o)
{
	pthread_attr_t attr;
	unsigned int i, want_handlers;
	sigset_t all_signals;
	int rc;

	if (P.initialised)
		return set_err(-EBUSY, "the pager is already running in this process");
	if (!o->pool_uris || !*o->pool_uris)
		return set_err(-EINVAL, "no pool given");
	P.opts = *o;
	for (i = 0; i < sizeof(P.thread_heap) / sizeof(P.thread_heap[0]); i++)
		atomic_store(&P.thread_heap[i], 0);
	atomic_store(&P.threads_go, false);
	P.nr_handlers = o->nr_handlers ? o->nr_handlers : 2;
	if (P.nr_handlers > 16)
		P.nr_handlers = 16;
	P.limit_pages = o->local_limit_bytes / PAGE;
	P.margin_pages = P.limit_pages / 32;
	if (P.margin_pages < 64)
		P.margin_pages = 64;
	if (P.margin_pages > 4096)
		P.margin_pages = 4096;
	if (P.limit_pages && P.limit_pages < 4 * P.margin_pages)
		P.margin_pages = P.limit_pages / 4;
	setup_policy();

	rc = uffd_setup();
	if (rc)
		return rc;
	rc = tier_pool_open(o->pool_uris, o->pool_bytes ? o->pool_bytes : DEFAULT_POOL_BYTES,
			    &P.pool);
	if (rc) {
		set_err(rc, "pool %s: %s", o->pool_uris, tier_pool_strerror(NULL));
		goto out_close_uffd;
	}
	P.pool_direct = tier_pool_is_direct(P.pool);
	P.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (P.stop_fd < 0) {
		rc = set_err(-errno, "eventfd: %s", strerror(errno));
		goto out_close_pool;
	}
	P.zero_page = tp_own_map(PAGE, true);
	P.evict_staging = tp_own_map((size_t)EVICT_BATCH * PAGE, true);
	if (!P.zero_page || !P.evict_staging) {
		rc = set_err(-ENOMEM, "cannot map the pager's buffers");
		goto out_close_stop;
	}
	tier_pool_reg_buf(P.pool, P.zero_page, PAGE);
	rc = tier_pool_reg_buf(P.pool, P.evict_staging, (size_t)EVICT_BATCH * PAGE);
	if (rc) {
		set_err(rc, "registering buffers with the pool: %s", tier_pool_strerror(P.pool));
		goto out_close_stop;
	}
	P.mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (P.mem_fd < 0) {
		rc = set_err(-errno,
			     "cannot open /proc/self/mem (%s): eviction copies pages out "
			     "through it; mount procfs",
			     strerror(errno));
		goto out_close_stop;
	}
	P.pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (P.pidfd >= 0) {
		void *page = raw_mmap(PAGE, MAP_PRIVATE | MAP_ANONYMOUS);
		struct iovec probe = { .iov_base = page, .iov_len = PAGE };

		/* process_madvise(MADV_DONTNEED) on oneself: Linux >= 6.13 */
		if (page == MAP_FAILED ||
		    syscall(SYS_process_madvise, P.pidfd, &probe, 1, MADV_DONTNEED, 0) != PAGE) {
			close(P.pidfd);
			P.pidfd = -1;
		}
		if (page != MAP_FAILED)
			munmap(page, PAGE);
	}
	if (o->scan_maps) {
		rc = tp_scan_init(&P.scan);
		if (rc) {
			set_err(rc, "cannot read /proc/self/maps: %s", strerror(-rc));
			goto out_close_stop;
		}
	}
	/*
	 * The pager's threads take no signals: a program's handler running on
	 * one of them could touch managed memory that only it can bring back.
	 */
	sigfillset(&all_signals);
	P.initialised = true;
	want_handlers = P.nr_handlers;
	P.nr_handlers = 0;
	for (i = 0; i < want_handlers; i++) {
		struct tp_handler *h = &P.handlers[i];
		void *stack = tp_own_map(HANDLER_STACK_BYTES, true);

		h->idx = i;
		h->staging = tp_own_map((size_t)FETCH_MAX * PAGE, true);
		if (!stack || !h->staging) {
			rc = set_err(-ENOMEM, "cannot map handler thread memory");
			goto out_stop_threads;
		}
		rc = tier_pool_reg_buf(P.pool, h->staging, (size_t)FETCH_MAX * PAGE);
		if (rc) {
			set_err(rc, "registering buffers with the pool: %s",
				tier_pool_strerror(P.pool));
			goto out_stop_threads;
		}
		pthread_attr_init(&attr);
		pthread_attr_setstack(&attr, stack, HANDLER_STACK_BYTES);
		pthread_attr_setsigmask_np(&attr, &all_signals);
		rc = -pthread_create(&h->thread, &attr, handler_main, h);
		pthread_attr_destroy(&attr);
		if (rc) {
			set_err(rc, "cannot start a fault handler thread: %s", strerror(-rc));
			goto out_stop_threads;
		}
		P.nr_handlers = i + 1;
	}
	{
		void *stack = tp_own_map(HANDLER_STACK_BYTES, true);

		pthread_attr_init(&attr);
		if (stack)
			pthread_attr_setstack(&attr, stack, HANDLER_STACK_BYTES);
		pthread_attr_setsigmask_np(&attr, &all_signals);
		rc = -pthread_create(&P.evictor, &attr, evictor_main,
				     (void *)(uintptr_t)P.nr_handlers);
		pthread_attr_destroy(&attr);
		if (rc) {
			set_err(rc, "cannot start the evictor thread: %s", strerror(-rc));
			goto out_stop_threads;
		}
		P.evictor_started = true;
	}
	{
		void *stack = tp_own_map(SCANNER_STACK_BYTES, true);

		pthread_attr_init(&attr);
		if (stack)
			pthread_attr_setstack(&attr, stack, SCANNER_STACK_BYTES);
		pthread_attr_setsigmask_np(&attr, &all_signals);
		rc = -pthread_create(&P.scanner, &attr, scanner_main,
				     (void *)(uintptr_t)(P.nr_handlers + 1));
		pthread_attr_destroy(&attr);
		if (rc) {
			set_err(rc, "cannot start the maps scanner thread: %s", strerror(-rc));
			goto out_stop_threads;
		}
		P.scanner_started = true;
	}
	rc = own_thread_heaps(P.nr_handlers + 2);
	if (rc)
		goto out_stop_threads;
	if (o->idle_poll) {
		int qrc = tp_idle_poll_open();

		if (qrc)
			tp_log("no polling idle while faulting: /dev/cpu_dma_latency: %s (it needs "
			       "root); running without it",
			       strerror(-qrc));
	}
	{
		static bool atfork_done;

		/* fork: the child must inherit complete memory (see tp_forked_child) */
		if (!atfork_done &&
		    !pthread_atfork(atfork_prepare, tier_pager_resume, tp_forked_child))
			atfork_done = true;
	}
	tp_channel_start(); /* channel.c: talk to tierd if one is there (never blocks) */
	if (o->verbose)
		tp_log("started: pool %s (%" PRIu64 " MiB leased), local limit %" PRIu64
		       " MiB, %u handlers, node %s%d%s%s, features %#llx",
		       o->pool_uris, tier_pool_nr_slots(P.pool) * PAGE >> 20,
		       P.limit_pages * PAGE >> 20, P.nr_handlers,
		       P.policy_mode == MPOL_DEFAULT ? "local/" : "", P.opts.node,
		       P.pidfd >= 0 ? ", batched zaps" : "",
		       tp_idle_poll_active() ? ", idle polling" : "",
		       (unsigned long long)P.features);
	return 0;

out_stop_threads : {
	int keep = rc;

	tier_pager_shutdown();
	P.initialised = false;
	return keep;
}
out_close_stop:
	close_fd(&P.mem_fd);
	close_fd(&P.pidfd);
	close_fd(&P.stop_fd);
out_close_pool:
	tier_pool_close(P.pool);
	P.pool = NULL;
out_close_uffd:
	close_fd(&P.uffd);
	return rc;
}

int tier_pager_manage(void *addr, size_t len)
{
	if (!P.initialised || P.disabled)
		return -ENODEV;
	if ((uintptr_t)addr % PAGE)
		return -EINVAL;
	return on_pager_side(tp_manage_range, (uintptr_t)addr, (uintptr_t)addr + len);
}

bool tp_is_active(void)
{
	return P.initialised && !P.disabled;
}

const struct tier_pager_opts *tp_opts(void)
{
	return &P.opts;
}
