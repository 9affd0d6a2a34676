/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pager_link.h — tierd's side of the pager channel (include/tierd/pager_ctl.h).
 *
 * ctl.c hands a connection that says "pager_hello" to pager_link; from then
 * on pager_link reads its report lines and writes its commands. The
 * tiering loop reaches the pagers through tiering_pool_hooks, a table that
 * is NULL unless pager_link.c is linked in (tierd sets it; the tiering
 * unit tests run without pagers), so tiering.c keeps no link dependency.
 */
#ifndef TIERD_PAGER_LINK_H
#define TIERD_PAGER_LINK_H

#ifdef __BPF__
#error "pager_link.h is user-space only"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How long a round waits for a pager to report its pool moves done. The
 * pager makes commands and reports on one thread, so a big batch is
 * reported only when all of it is made: 20k evictions took more than
 * 15 s in the emulated guest. Only a lost command should end the wait.
 */
#define TIERD_PAGER_BEHIND_MS 60000

struct json_object;
struct tierd;
struct client;

struct tiering_pool_hooks {
	/* a pager of PID is connected (its pages can go to the pool) */
	bool (*connected)(uint32_t pid);
	/* the pager is still making earlier pool moves (or has not reported
	 * yet): its pages' places are not known; plan after its next report */
	bool (*busy)(uint32_t pid);
	/* the pager reported the page at ADDR as in the pool */
	bool (*in_pool)(uint32_t pid, uint64_t addr);
	/* commands; 0 or -errno (-ENOTCONN, -EAGAIN: not sent). NODE: the
	 * NUMA node the fetched pages land on (-1: the pager's default) */
	int (*evict)(uint32_t pid, uint64_t addr, uint64_t len);
	int (*fetch)(uint32_t pid, uint64_t addr, uint64_t len, int node);
	void (*hint)(uint32_t pid, uint32_t pages_per_s);
	/* the pagers' numbers summed over PIDS: a new "pager" object, or NULL */
	struct json_object *(*cg_json)(const uint32_t *pids, unsigned nr);
};

/* Defined in tiering.c (NULL: no pagers); pager_link.c fills it at start. */
extern const struct tiering_pool_hooks *tiering_pool_hooks;

/* ctl.c */
/* "pager_hello": true if C is now a pager connection; else ERR says why. */
bool pager_link_hello(struct client *c, struct json_object *req, char *err, size_t err_size);
bool pager_link_owns(const struct client *c);
/* New bytes are in C->in (C->in_len): take the complete lines. */
void pager_link_input(struct client *c);
void pager_link_gone(const struct client *c);

#endif /* TIERD_PAGER_LINK_H */
