// SPDX-License-Identifier: GPL-2.0
/*
 * pool.c — one slot space over several memory servers.
 *
 * Why it is shaped this way: the pager names pages by slot, never by server
 * address, so that moving a page to the pool is "allocate a slot, write it"
 * and the transport underneath (RDMA, TCP, shm, in-process) can change
 * without the pager noticing. Each URI of the list is one server reached
 * through one transport (an ops table); the servers' leases are laid end to
 * end: server i owns global slots [first_slot, first_slot + nr_slots).
 * The allocator is a bitmap per server behind one mutex (allocation is rare
 * next to page copies, and a bitmap costs 1 bit per 4 KiB page); allocations
 * go round-robin over the servers that have free slots, which spreads both
 * space and bandwidth. Reads and writes that name slots on several servers
 * are split into one batch per server.
 *
 * Errors: every function returns 0 or -errno; the explanation of the last
 * failure, naming the URI, is kept for tier_pool_strerror().
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "pool_internal.h"

struct pool_server {
	const struct tier_pool_ops *ops;
	struct tier_pool_conn *conn;
	char *uri;
	uint64_t first_slot;
	uint64_t nr_slots;
	uint64_t nr_free;
	uint64_t *used_bitmap; /* bit set: slot allocated */
	uint64_t cursor_word; /* where the next search starts */
};

struct tier_pool {
	unsigned int nr_servers;
	struct pool_server *servers;
	uint64_t nr_slots;
	pthread_mutex_t lock; /* the allocator */
	uint64_t nr_free;
	unsigned int next_server;
	pthread_mutex_t err_lock;
	char err[512];
};

/* ---- per-thread transport error ------------------------------------------ */

static __thread char thread_err[384];

void tier_pool_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(thread_err, sizeof(thread_err), fmt, ap);
	va_end(ap);
}

void tier_pool_clear_error(void)
{
	thread_err[0] = '\0';
}

const char *tier_pool_thread_error(void)
{
	return thread_err;
}

int tier_pool_timeout_ms(void)
{
	const char *s = getenv("TIERD_POOL_TIMEOUT_MS");
	char *end;
	long v;

	if (!s || !*s)
		return 30000;
	v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > 24L * 3600 * 1000)
		return 30000;
	return (int)v;
}

static void pool_seterr(struct tier_pool *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pool_seterr(struct tier_pool *pool, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&pool->err_lock);
	va_start(ap, fmt);
	vsnprintf(pool->err, sizeof(pool->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&pool->err_lock);
}

/* "URI: OP: why" where why is the transport's message or strerror. */
static void pool_transport_err(struct tier_pool *pool, const char *uri, const char *op, int rc)
{
	const char *why = tier_pool_thread_error();

	pool_seterr(pool, "%s: %s: %s", uri, op, *why ? why : strerror(-rc));
}

const char *tier_pool_strerror(const struct tier_pool *pool)
{
	static __thread char copy[512];
	struct tier_pool *p = (struct tier_pool *)pool;

	if (!pool)
		return tier_pool_thread_error();
	pthread_mutex_lock(&p->err_lock);
	memcpy(copy, p->err, sizeof(copy));
	pthread_mutex_unlock(&p->err_lock);
	return copy;
}

/* ---- URI and size parsing ------------------------------------------------- */

int tier_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ull << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		p++;
		break;
	case 't':
	case 'T':
		mult = 1ull << 40;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (v && mult > UINT64_MAX / v)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

static const char uri_forms[] = "tcp://HOST:PORT, rdma://HOST:PORT, shm:/PATH or mem:SIZE";

static int parse_host_port(const char *uri, const char *hp, struct tier_pool_uri *out, char *err,
			   size_t err_len)
{
	const char *colon, *host = hp, *port;
	size_t host_len;
	char *end;
	long v;

	if (*hp == '[') { /* [IPv6]:PORT */
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':') {
			snprintf(err, err_len,
				 "%s: bad [IPv6]:PORT (expected e.g. tcp://[::1]:7471)", uri);
			return -EINVAL;
		}
		host = hp + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
	} else {
		colon = strrchr(hp, ':');
		if (!colon) {
			snprintf(err, err_len, "%s: missing :PORT (expected SCHEME://HOST:PORT)",
				 uri);
			return -EINVAL;
		}
		host_len = (size_t)(colon - hp);
		port = colon + 1;
		if (memchr(hp, ':', host_len)) {
			snprintf(err, err_len, "%s: an IPv6 address needs brackets: [ADDR]:PORT",
				 uri);
			return -EINVAL;
		}
	}
	if (host_len == 0) {
		snprintf(err, err_len, "%s: missing HOST (expected SCHEME://HOST:PORT)", uri);
		return -EINVAL;
	}
	if (host_len >= sizeof(out->host)) {
		snprintf(err, err_len, "%s: host name too long", uri);
		return -EINVAL;
	}
	if (strpbrk(port, "/?#")) {
		snprintf(err, err_len, "%s: unexpected text after the port", uri);
		return -EINVAL;
	}
	v = strtol(port, &end, 10);
	if (!*port || *end || v < 1 || v > 65535) {
		snprintf(err, err_len, "%s: bad port \"%s\" (expected 1-65535)", uri, port);
		return -EINVAL;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	snprintf(out->port, sizeof(out->port), "%ld", v);
	return 0;
}

int tier_pool_parse_uri(const char *uri, struct tier_pool_uri *out, char *err, size_t err_len)
{
	const char *rest;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!uri || !*uri) {
		snprintf(err, err_len, "empty pool URI: expected %s", uri_forms);
		return -EINVAL;
	}
	if (!strncmp(uri, "tcp://", 6)) {
		out->scheme = TIER_POOL_TCP;
		return parse_host_port(uri, uri + 6, out, err, err_len);
	}
	if (!strncmp(uri, "rdma://", 7)) {
		out->scheme = TIER_POOL_RDMA;
		return parse_host_port(uri, uri + 7, out, err, err_len);
	}
	if (!strncmp(uri, "shm:", 4)) {
		out->scheme = TIER_POOL_SHM;
		rest = uri + 4;
		if (!strncmp(rest, "//", 2) && rest[2] == '/')
			rest += 2; /* shm:///dev/shm/x */
		if (!*rest) {
			snprintf(err, err_len, "%s: missing PATH (expected shm:/dev/shm/NAME)",
				 uri);
			return -EINVAL;
		}
		if (*rest != '/') {
			snprintf(err, err_len,
				 "%s: PATH must be absolute (expected shm:/dev/shm/NAME)", uri);
			return -EINVAL;
		}
		if (strlen(rest) + 8 >= sizeof(out->path)) {
			snprintf(err, err_len, "%s: PATH too long", uri);
			return -EINVAL;
		}
		strcpy(out->path, rest);
		return 0;
	}
	if (!strncmp(uri, "mem:", 4)) {
		out->scheme = TIER_POOL_MEM;
		rc = tier_parse_size(uri + 4, &out->size_bytes);
		if (rc) {
			snprintf(
			    err, err_len,
			    "%s: bad SIZE \"%s\" (expected bytes, or a number with K, M, G or T)",
			    uri, uri + 4);
			return -EINVAL;
		}
		if (out->size_bytes < TIER_PAGE_SIZE) {
			snprintf(err, err_len, "%s: SIZE must be at least one page (%u bytes)", uri,
				 TIER_PAGE_SIZE);
			return -EINVAL;
		}
		if (out->size_bytes % TIER_PAGE_SIZE) {
			snprintf(err, err_len, "%s: SIZE must be a multiple of the page size (%u)",
				 uri, TIER_PAGE_SIZE);
			return -EINVAL;
		}
		return 0;
	}
	rest = strstr(uri, "://");
	if (rest)
		snprintf(err, err_len, "%s: unknown scheme \"%.*s\" (expected %s)", uri,
			 (int)(rest - uri), uri, uri_forms);
	else
		snprintf(err, err_len, "%s: not a pool URI (expected %s)", uri, uri_forms);
	return -EINVAL;
}

int tier_pool_resolve(const struct tier_pool_uri *u, struct tier_pool_addrs *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_un *sun;
	size_t path_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (u->scheme == TIER_POOL_SHM) {
		sun = (struct sockaddr_un *)&out->addr[0];
		path_len = strlen(u->path);
		if (path_len + 5 >= sizeof(sun->sun_path)) {
			tier_pool_set_error("control socket path %s.sock is too long", u->path);
			return -ENAMETOOLONG;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, u->path, path_len);
		memcpy(sun->sun_path + path_len, ".sock", 6);
		out->len[0] = sizeof(*sun);
		out->nr = 1;
		return 0;
	}
	if (u->scheme != TIER_POOL_TCP && u->scheme != TIER_POOL_RDMA) {
		tier_pool_set_error("only tcp://, rdma:// and shm: pools have a server address");
		return -EINVAL;
	}
	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc) {
		tier_pool_set_error("cannot resolve %s: %s", u->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai && out->nr < TIER_POOL_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out->addr[0]))
			continue;
		memcpy(&out->addr[out->nr], ai->ai_addr, ai->ai_addrlen);
		out->len[out->nr++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!out->nr) {
		tier_pool_set_error("%s has no usable address", u->host);
		return -EHOSTUNREACH;
	}
	return 0;
}

static const struct tier_pool_ops *ops_for(enum tier_pool_scheme scheme)
{
	switch (scheme) {
	case TIER_POOL_TCP:
		return &tier_pool_tcp_ops;
	case TIER_POOL_RDMA:
		return &tier_pool_rdma_ops;
	case TIER_POOL_SHM:
		return &tier_pool_shm_ops;
	case TIER_POOL_MEM:
		return &tier_pool_mem_ops;
	}
	return NULL;
}

/* ---- open and close ------------------------------------------------------- */

void tier_pool_close(struct tier_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	for (i = 0; i < pool->nr_servers; i++) {
		struct pool_server *s = &pool->servers[i];

		if (s->conn)
			s->ops->close(s->conn);
		free(s->used_bitmap);
		free(s->uri);
	}
	free(pool->servers);
	pthread_mutex_destroy(&pool->lock);
	pthread_mutex_destroy(&pool->err_lock);
	free(pool);
}

void tier_pool_abandon(struct tier_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	for (i = 0; i < pool->nr_servers; i++) {
		struct pool_server *s = &pool->servers[i];

		if (s->conn && s->ops->abandon)
			s->ops->abandon(s->conn);
		s->conn = NULL;
	}
	tier_pool_close(pool); /* with no connections left: frees memory only */
}

static int count_uris(const char *uris)
{
	int n = 1;

	for (; *uris; uris++)
		n += *uris == ',';
	return n;
}

int tier_pool_open(const char *uris, uint64_t want_bytes, struct tier_pool **poolp)
{
	struct tier_pool_uri parsed;
	struct tier_pool *pool;
	uint64_t want_slots, per_server;
	char *list, *tok, *save = NULL;
	int rc = 0, n;

	*poolp = NULL;
	tier_pool_clear_error();
	if (!uris) {
		tier_pool_set_error("no pool URI given: expected %s", uri_forms);
		return -EINVAL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_mutex_init(&pool->err_lock, NULL);
	n = count_uris(uris);
	pool->servers = calloc((size_t)n, sizeof(*pool->servers));
	list = strdup(uris);
	if (!pool->servers || !list) {
		free(list);
		tier_pool_close(pool);
		return -ENOMEM;
	}
	want_slots = want_bytes / TIER_PAGE_SIZE;
	if (want_slots == 0)
		want_slots = 1;
	per_server = (want_slots + (uint64_t)n - 1) / (uint64_t)n;

	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct pool_server *s = &pool->servers[pool->nr_servers];
		char err[384];
		uint64_t granted = 0;

		rc = tier_pool_parse_uri(tok, &parsed, err, sizeof(err));
		if (rc) {
			tier_pool_set_error("%s", err);
			goto fail;
		}
		s->ops = ops_for(parsed.scheme);
		s->uri = strdup(tok);
		if (!s->uri) {
			rc = -ENOMEM;
			goto fail;
		}
		pool->nr_servers++;
		tier_pool_clear_error();
		rc = s->ops->open(tok, per_server, &s->conn, &granted);
		if (rc) {
			char why[384];

			s->conn = NULL;
			snprintf(why, sizeof(why), "%s", tier_pool_thread_error());
			tier_pool_set_error("%s: %s", tok, *why ? why : strerror(-rc));
			goto fail;
		}
		if (granted == 0 || granted > per_server) {
			tier_pool_set_error("%s: server granted %llu slots for %llu asked", tok,
					    (unsigned long long)granted,
					    (unsigned long long)per_server);
			rc = -EPROTO;
			goto fail;
		}
		s->first_slot = pool->nr_slots;
		s->nr_slots = granted;
		s->nr_free = granted;
		s->used_bitmap = calloc((granted + 63) / 64, sizeof(uint64_t));
		if (!s->used_bitmap) {
			rc = -ENOMEM;
			goto fail;
		}
		pool->nr_slots += granted;
		pool->nr_free += granted;
	}
	if (pool->nr_servers == 0) {
		tier_pool_set_error("\"%s\": no pool URI in the list: expected %s", uris,
				    uri_forms);
		rc = -EINVAL;
		goto fail;
	}
	free(list);
	*poolp = pool;
	return 0;
fail:
	free(list);
	tier_pool_close(pool);
	return rc;
}

uint64_t tier_pool_nr_slots(const struct tier_pool *pool)
{
	return pool->nr_slots;
}

uint64_t tier_pool_nr_free_slots(const struct tier_pool *pool)
{
	struct tier_pool *p = (struct tier_pool *)pool;
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->nr_free;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* ---- slot allocator ------------------------------------------------------- */

static int server_alloc(struct pool_server *s, uint64_t *slot)
{
	uint64_t nr_words = (s->nr_slots + 63) / 64, w, i;

	for (i = 0; i < nr_words; i++) {
		w = (s->cursor_word + i) % nr_words;
		uint64_t word = s->used_bitmap[w];
		uint64_t bit, local;

		if (word == UINT64_MAX)
			continue;
		bit = (uint64_t)__builtin_ctzll(~word);
		local = w * 64 + bit;
		if (local >= s->nr_slots)
			continue; /* the tail bits of the last word */
		s->used_bitmap[w] |= 1ull << bit;
		s->cursor_word = w;
		s->nr_free--;
		*slot = s->first_slot + local;
		return 0;
	}
	return -ENOSPC;
}

int tier_pool_alloc_slot(struct tier_pool *pool, uint64_t *slot)
{
	unsigned int i;
	int rc = -ENOSPC;

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->nr_servers && pool->nr_free; i++) {
		struct pool_server *s = &pool->servers[(pool->next_server + i) % pool->nr_servers];

		if (!s->nr_free)
			continue;
		rc = server_alloc(s, slot);
		if (!rc) {
			pool->nr_free--;
			pool->next_server = (pool->next_server + i + 1) % pool->nr_servers;
			break;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	if (rc)
		pool_seterr(pool, "pool full: all %llu slots (%llu MiB) are in use",
			    (unsigned long long)pool->nr_slots,
			    (unsigned long long)(pool->nr_slots * TIER_PAGE_SIZE >> 20));
	return rc;
}

static struct pool_server *server_of(struct tier_pool *pool, uint64_t slot)
{
	unsigned int i;

	for (i = 0; i < pool->nr_servers; i++) {
		struct pool_server *s = &pool->servers[i];

		if (slot >= s->first_slot && slot - s->first_slot < s->nr_slots)
			return s;
	}
	return NULL;
}

void tier_pool_free_slot(struct tier_pool *pool, uint64_t slot)
{
	struct pool_server *s;
	uint64_t local, mask;

	pthread_mutex_lock(&pool->lock);
	s = server_of(pool, slot);
	if (s) {
		local = slot - s->first_slot;
		mask = 1ull << (local % 64);
		if (s->used_bitmap[local / 64] & mask) {
			s->used_bitmap[local / 64] &= ~mask;
			s->nr_free++;
			pool->nr_free++;
			s = NULL;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	if (s || slot >= pool->nr_slots)
		pool_seterr(pool, "free of slot %llu that is not allocated (a double free?)",
			    (unsigned long long)slot);
}

int tier_pool_reg_buf(struct tier_pool *pool, void *buf, size_t len)
{
	unsigned int i;
	int rc;

	for (i = 0; i < pool->nr_servers; i++) {
		struct pool_server *s = &pool->servers[i];

		if (!s->ops->reg_buf)
			continue;
		tier_pool_clear_error();
		rc = s->ops->reg_buf(s->conn, buf, len);
		if (rc) {
			pool_transport_err(pool, s->uri, "register buffer", rc);
			return rc;
		}
	}
	return 0;
}

/* ---- transfers ------------------------------------------------------------ */

#define SPLIT_BATCH 64

static int server_io(struct tier_pool *pool, struct pool_server *s, int is_write,
		     const struct tier_pool_iov *iov, unsigned int nr)
{
	int rc;

	tier_pool_clear_error();
	rc = is_write ? s->ops->write(s->conn, iov, nr) : s->ops->read(s->conn, iov, nr);
	if (rc)
		pool_transport_err(pool, s->uri, is_write ? "write" : "read", rc);
	return rc;
}

static int pool_io(struct tier_pool *pool, int is_write, const struct tier_pool_iov *iov,
		   unsigned int nr)
{
	struct tier_pool_iov local[SPLIT_BATCH];
	unsigned int i, j, n;
	int rc;

	for (i = 0; i < nr; i++) {
		if (iov[i].slot >= pool->nr_slots || !iov[i].buf) {
			pool_seterr(pool,
				    "%s of slot %llu: outside the pool's %llu slots or no buffer",
				    is_write ? "write" : "read", (unsigned long long)iov[i].slot,
				    (unsigned long long)pool->nr_slots);
			return -EINVAL;
		}
	}
	if (nr == 0)
		return 0;
	if (pool->nr_servers == 1) /* the first server's slots are global slots */
		return server_io(pool, &pool->servers[0], is_write, iov, nr);

	for (j = 0; j < pool->nr_servers; j++) {
		struct pool_server *s = &pool->servers[j];

		n = 0;
		for (i = 0; i < nr; i++) {
			if (iov[i].slot < s->first_slot ||
			    iov[i].slot - s->first_slot >= s->nr_slots)
				continue;
			local[n].slot = iov[i].slot - s->first_slot;
			local[n].buf = iov[i].buf;
			if (++n == SPLIT_BATCH) {
				rc = server_io(pool, s, is_write, local, n);
				if (rc)
					return rc;
				n = 0;
			}
		}
		if (n) {
			rc = server_io(pool, s, is_write, local, n);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tier_pool_read(struct tier_pool *pool, const struct tier_pool_iov *iov, unsigned int nr)
{
	return pool_io(pool, 0, iov, nr);
}

int tier_pool_write(struct tier_pool *pool, const struct tier_pool_iov *iov, unsigned int nr)
{
	return pool_io(pool, 1, iov, nr);
}

bool tier_pool_is_direct(const struct tier_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nr_servers; i++)
		if (!pool->servers[i].ops->direct)
			return false;
	return pool->nr_servers > 0;
}

void *tier_pool_direct(struct tier_pool *pool, uint64_t slot)
{
	unsigned int i;

	for (i = 0; i < pool->nr_servers; i++) {
		struct pool_server *s = &pool->servers[i];

		if (slot - s->first_slot < s->nr_slots)
			return s->ops->direct ? s->ops->direct(s->conn, slot - s->first_slot)
					      : NULL;
	}
	return NULL;
}

int tier_pool_debug_drop(struct tier_pool *pool)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < pool->nr_servers; i++)
		if (pool->servers[i].ops == &tier_pool_tcp_ops)
			n += tier_pool_tcp_debug_drop(pool->servers[i].conn);
	return n;
}

void *tier_pool_chan_take(void *chans, size_t chan_size, unsigned int max_chans,
			  unsigned int *nr_chans, unsigned int *next_chan,
			  pthread_mutex_t *grow_lock)
{
	unsigned int n = __atomic_load_n(nr_chans, __ATOMIC_ACQUIRE), i, start;
	pthread_mutex_t *lock;

#define CHAN_LOCK(idx) ((pthread_mutex_t *)((char *)chans + (size_t)(idx)*chan_size))
	start = __atomic_fetch_add(next_chan, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		lock = CHAN_LOCK((start + i) % n);
		if (!pthread_mutex_trylock(lock))
			return lock;
	}
	if (n < max_chans) {
		pthread_mutex_lock(grow_lock);
		n = *nr_chans;
		if (n < max_chans) {
			lock = CHAN_LOCK(n);
			pthread_mutex_lock(lock); /* the transport connects it lazily */
			__atomic_store_n(nr_chans, n + 1, __ATOMIC_RELEASE);
			pthread_mutex_unlock(grow_lock);
			return lock;
		}
		pthread_mutex_unlock(grow_lock);
	}
	lock = CHAN_LOCK(start % n);
	pthread_mutex_lock(lock);
	return lock;
#undef CHAN_LOCK
}

int tier_pool_copy_pages(uint8_t *region, uint64_t nr_slots, const struct tier_pool_iov *iov,
			 unsigned int nr, int to_pool)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (iov[i].slot >= nr_slots) {
			tier_pool_set_error("slot %llu outside the lease of %llu slots",
					    (unsigned long long)iov[i].slot,
					    (unsigned long long)nr_slots);
			return -ERANGE;
		}
	}
	for (i = 0; i < nr; i++) {
		uint8_t *page = region + iov[i].slot * TIER_PAGE_SIZE;

		if (to_pool)
			memcpy(page, iov[i].buf, TIER_PAGE_SIZE);
		else
			memcpy(iov[i].buf, page, TIER_PAGE_SIZE);
	}
	return 0;
}

int tier_pool_mark_lost(bool *lost, char *why, size_t why_len, pthread_mutex_t *lock)
{
	pthread_mutex_lock(lock);
	if (!*lost)
		snprintf(why, why_len,
			 "lease lost on reconnect (%s): the pool's pages on this server are gone",
			 tier_pool_thread_error());
	__atomic_store_n(lost, true, __ATOMIC_RELEASE);
	tier_pool_set_error("%s", why);
	pthread_mutex_unlock(lock);
	return -ECONNRESET;
}

int tier_pool_check_lost(const bool *lost, const char *why)
{
	if (!__atomic_load_n(lost, __ATOMIC_ACQUIRE))
		return 0;
	tier_pool_set_error("%s", why);
	return -ECONNRESET;
}

int tier_pool_retry_wait(uint64_t deadline_ms, unsigned int *backoff_ms, int rc)
{
	char why[384];

	if (tier_pool_now_ms() + *backoff_ms >= deadline_ms) {
		snprintf(why, sizeof(why), "%s", tier_pool_thread_error());
		tier_pool_set_error("%s; gave up after %d ms (TIERD_POOL_TIMEOUT_MS)", why,
				    tier_pool_timeout_ms());
		return rc == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET;
	}
	usleep(*backoff_ms * 1000);
	if (*backoff_ms < 500)
		*backoff_ms *= 2;
	return 0;
}
