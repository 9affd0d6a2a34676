// SPDX-License-Identifier: GPL-2.0
/*
 * memsrv_lease.c — tier-memsrv's lease table: which client holds which run
 * of the lent region, and for how long after it left.
 *
 * Separate from the server's I/O so that it can be unit-tested with a fake
 * clock (lease_now_ms). Leases are contiguous runs of slots taken first-fit
 * from a sorted list of free extents, coalesced on free; see memsrv.c for
 * why. One mutex guards it all: leases change at connect and disconnect,
 * not per page. Each page transfer pins its lease (lease_begin_io /
 * lease_end_io) so that a lease is never freed under a copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "memsrv.h"

#define MAX_LEASES 4096

unsigned char *memsrv_region;
uint64_t memsrv_region_slots;
bool memsrv_verbose;

static unsigned int lease_grace_s = 30;

void memsrv_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tier-memsrv: %s\n", buf);
}

void memsrv_vlog(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!memsrv_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tier-memsrv: %s\n", buf);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t (*lease_now_ms)(void) = monotonic_ms;

/* ---- free extents ----------------------------------------------------------- */

struct extent {
	uint64_t start, len;
};

static struct extent free_ext[MAX_LEASES + 1];
static unsigned int nr_free_ext;
static uint64_t nr_free_slots;

/* First fit for @want; else the largest extent whole. 0 if nothing is free. */
static uint64_t ext_alloc(uint64_t want, uint64_t *start)
{
	unsigned int i, best = 0;
	uint64_t got;

	if (!nr_free_ext)
		return 0;
	for (i = 0; i < nr_free_ext; i++) {
		if (free_ext[i].len >= want) {
			best = i;
			break;
		}
		if (free_ext[i].len > free_ext[best].len)
			best = i;
	}
	got = free_ext[best].len < want ? free_ext[best].len : want;
	*start = free_ext[best].start;
	free_ext[best].start += got;
	free_ext[best].len -= got;
	if (!free_ext[best].len) {
		memmove(&free_ext[best], &free_ext[best + 1],
			(nr_free_ext - best - 1) * sizeof(free_ext[0]));
		nr_free_ext--;
	}
	nr_free_slots -= got;
	return got;
}

static void ext_free(uint64_t start, uint64_t len)
{
	unsigned int i = 0;

	while (i < nr_free_ext && free_ext[i].start < start)
		i++;
	/* merge with the previous and/or the next */
	if (i > 0 && free_ext[i - 1].start + free_ext[i - 1].len == start) {
		free_ext[i - 1].len += len;
		if (i < nr_free_ext && start + len == free_ext[i].start) {
			free_ext[i - 1].len += free_ext[i].len;
			memmove(&free_ext[i], &free_ext[i + 1],
				(nr_free_ext - i - 1) * sizeof(free_ext[0]));
			nr_free_ext--;
		}
	} else if (i < nr_free_ext && start + len == free_ext[i].start) {
		free_ext[i].start = start;
		free_ext[i].len += len;
	} else {
		memmove(&free_ext[i + 1], &free_ext[i], (nr_free_ext - i) * sizeof(free_ext[0]));
		free_ext[i].start = start;
		free_ext[i].len = len;
		nr_free_ext++;
	}
	nr_free_slots += len;
}

/* ---- leases ------------------------------------------------------------------ */

struct lease {
	bool used;
	unsigned int nr_attached; /* connections holding it (a client may use several) */
	bool released;
	unsigned int inflight;
	uint8_t token[TIER_PROTO_TOKEN_BYTES];
	uint64_t base, nr;
	uint64_t gen; /* unique per lease: a ref to a freed and reused entry is stale */
	uint64_t left_ms;
	char peer[64];
};

static pthread_mutex_t lease_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lease leases[MAX_LEASES];
static uint64_t next_gen = 1;

static bool ref_valid(const struct lease_ref *ref)
{
	return ref->idx >= 0 && leases[ref->idx].used && leases[ref->idx].gen == ref->gen &&
	       !leases[ref->idx].released;
}

static void lease_free_locked(struct lease *l, const char *why)
{
	memsrv_vlog("lease %llu+%llu of %s freed (%s); %llu slots free",
		    (unsigned long long)l->base, (unsigned long long)l->nr, l->peer, why,
		    (unsigned long long)(nr_free_slots + l->nr));
	ext_free(l->base, l->nr);
	memset(l, 0, sizeof(*l));
}

int lease_hello(struct lease_ref *ref, const uint8_t *token, uint64_t want_slots, const char *peer,
		struct tier_proto_hello_reply *reply, const char **why)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	struct lease *l = NULL;
	int i, rc = 0;

	memset(reply, 0, sizeof(*reply));
	pthread_mutex_lock(&lease_lock);
	if (ref_valid(ref)) {
		*why = "this connection already holds a lease";
		rc = -EALREADY;
		goto out;
	}
	if (memcmp(token, zero, sizeof(zero))) {
		for (i = 0; i < MAX_LEASES; i++)
			if (leases[i].used && !leases[i].released &&
			    !memcmp(leases[i].token, token, sizeof(zero)))
				break;
		if (i == MAX_LEASES) {
			*why =
			    "unknown lease token: the lease expired after the grace period or the "
			    "server restarted; its pages are gone";
			rc = -ESTALE;
			goto out;
		}
		l = &leases[i];
		memsrv_vlog("lease %llu+%llu %s by %s", (unsigned long long)l->base,
			    (unsigned long long)l->nr, l->nr_attached ? "joined" : "reclaimed",
			    peer);
		reply->reattached = 1;
	} else {
		uint64_t start, got;

		for (i = 0; i < MAX_LEASES; i++)
			if (!leases[i].used)
				break;
		if (i == MAX_LEASES) {
			*why = "too many leases";
			rc = -ENOSPC;
			goto out;
		}
		if (want_slots == 0) {
			*why = "HELLO asked for 0 slots";
			rc = -EINVAL;
			goto out;
		}
		got = ext_alloc(want_slots, &start);
		if (!got) {
			*why = "server full: no free slots";
			rc = -ENOSPC;
			goto out;
		}
		l = &leases[i];
		memset(l, 0, sizeof(*l));
		l->used = true;
		l->base = start;
		l->nr = got;
		l->gen = next_gen++;
		if (getrandom(l->token, sizeof(l->token), 0) != sizeof(l->token)) {
			/* getrandom of 16 bytes does not fail short; belt and braces */
			uint64_t t = lease_now_ms() ^ ((uint64_t)i << 32) ^ (uint64_t)getpid();

			memcpy(l->token, &t, sizeof(t));
		}
		memsrv_vlog("lease %llu+%llu to %s (asked %llu); %llu slots free",
			    (unsigned long long)start, (unsigned long long)got, peer,
			    (unsigned long long)want_slots, (unsigned long long)nr_free_slots);
	}
	l->nr_attached++;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	ref->idx = (int)(l - leases);
	ref->gen = l->gen;
	reply->granted_slots = l->nr;
	reply->lease_base_slot = l->base;
	reply->region_bytes = memsrv_region_slots * TIER_PROTO_PAGE_SIZE;
	memcpy(reply->lease_token, l->token, sizeof(l->token));
	*why = NULL;
out:
	pthread_mutex_unlock(&lease_lock);
	return rc;
}

int lease_begin_io(const struct lease_ref *ref, uint64_t *base_slot, uint64_t *nr_slots)
{
	int rc = -ESTALE;

	pthread_mutex_lock(&lease_lock);
	if (ref_valid(ref)) {
		leases[ref->idx].inflight++;
		*base_slot = leases[ref->idx].base;
		*nr_slots = leases[ref->idx].nr;
		rc = 0;
	}
	pthread_mutex_unlock(&lease_lock);
	return rc;
}

void lease_end_io(const struct lease_ref *ref)
{
	struct lease *l = &leases[ref->idx];

	pthread_mutex_lock(&lease_lock);
	l->inflight--;
	if (!l->inflight && l->released)
		lease_free_locked(l, "released");
	pthread_mutex_unlock(&lease_lock);
}

void lease_release(struct lease_ref *ref)
{
	struct lease *l;

	pthread_mutex_lock(&lease_lock);
	if (ref_valid(ref)) {
		l = &leases[ref->idx];
		l->released = true;
		l->nr_attached = 0;
		if (!l->inflight)
			lease_free_locked(l, "released by the client");
	}
	ref->idx = -1;
	pthread_mutex_unlock(&lease_lock);
}

int lease_release_token(const uint8_t *token)
{
	static const uint8_t zero[TIER_PROTO_TOKEN_BYTES];
	int i, rc = -ESTALE;

	if (!memcmp(token, zero, sizeof(zero)))
		return -ESTALE;
	pthread_mutex_lock(&lease_lock);
	for (i = 0; i < MAX_LEASES; i++) {
		struct lease *l = &leases[i];

		if (l->used && !l->released && !memcmp(l->token, token, sizeof(zero))) {
			l->released = true;
			l->nr_attached = 0;
			if (!l->inflight)
				lease_free_locked(l, "released by the client");
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&lease_lock);
	return rc;
}

void lease_detach(struct lease_ref *ref)
{
	struct lease *l;

	pthread_mutex_lock(&lease_lock);
	if (ref_valid(ref)) {
		l = &leases[ref->idx];
		if (l->nr_attached)
			l->nr_attached--;
		if (!l->nr_attached) {
			l->left_ms = lease_now_ms();
			memsrv_vlog("%s left; its lease %llu+%llu is kept for %u s", l->peer,
				    (unsigned long long)l->base, (unsigned long long)l->nr,
				    lease_grace_s);
		}
	}
	ref->idx = -1;
	pthread_mutex_unlock(&lease_lock);
}

void lease_reap(uint64_t now)
{
	int i;

	pthread_mutex_lock(&lease_lock);
	for (i = 0; i < MAX_LEASES; i++) {
		struct lease *l = &leases[i];

		if (l->used && !l->nr_attached && !l->released && !l->inflight &&
		    now - l->left_ms >= (uint64_t)lease_grace_s * 1000)
			lease_free_locked(l, "grace expired");
	}
	pthread_mutex_unlock(&lease_lock);
}

void lease_stat(struct tier_proto_stat_reply *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&lease_lock);
	out->total_slots = memsrv_region_slots;
	out->free_slots = nr_free_slots;
	for (i = 0; i < MAX_LEASES; i++) {
		if (!leases[i].used)
			continue;
		out->nr_leases++;
		if (leases[i].nr_attached)
			out->nr_clients++;
		else if (!leases[i].released)
			out->nr_lingering++;
	}
	pthread_mutex_unlock(&lease_lock);
}

void lease_init(uint64_t nr_slots, unsigned int grace_s)
{
	pthread_mutex_lock(&lease_lock);
	memset(leases, 0, sizeof(leases));
	free_ext[0].start = 0;
	free_ext[0].len = nr_slots;
	nr_free_ext = nr_slots ? 1 : 0;
	nr_free_slots = nr_slots;
	lease_grace_s = grace_s;
	memsrv_region_slots = nr_slots;
	pthread_mutex_unlock(&lease_lock);
}
