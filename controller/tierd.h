/* SPDX-License-Identifier: GPL-2.0 */
/* tierd.h — the daemon's state, shared by main.c and ctl.c. */
#ifndef TIERD_TIERD_H
#define TIERD_TIERD_H

#ifdef __BPF__
#error "tierd.h is user-space only"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "observer.h"
#include "topology.h"

#define TIERD_MAX_WATCHED 1024
#define TIERD_MAX_CLIENTS 64

struct watched {
	uint64_t id;
	char path[PATH_MAX];
	bool from_policy;
	/* fault rate over the last rate interval */
	uint64_t prev_faults;
	double fault_rate;
};

struct client {
	int fd;
	char in[8192];
	size_t in_len;
	bool subscriber;
	uint64_t filter_id; /* 0: all */
	char *out;
	size_t out_len, out_cap;
	uint64_t lost;
};

struct tiering;

struct tierd {
	struct tierd_observer *ob;
	struct tiering *tiering; /* tiering.c: managed cgroups, rounds */
	struct node_ranks ranks;
	int epfd;
	int listen_fd;
	const char *socket_path;
	uint32_t sample_every;
	bool dry_run;
	uint64_t start_ns;
	uint64_t last_rate_ns;
	struct watched watched[TIERD_MAX_WATCHED];
	int nr_watched;
	struct client *clients[TIERD_MAX_CLIENTS];
};

/* ctl.c */
/* -EADDRINUSE (logged) if a tierd already answers on path. */
int ctl_check_free(const char *path);
int ctl_listen(struct tierd *t, const char *path);
void ctl_close(struct tierd *t);
void ctl_accept(struct tierd *t);
void ctl_client_event(struct tierd *t, struct client *c, uint32_t events);
void ctl_publish(struct tierd *t, const struct tierd_rec_hdr *rec, size_t size);
void ctl_flush(struct tierd *t);

/* main.c */
int tierd_attach(struct tierd *t, const char *path, bool from_policy, char *err, size_t err_size,
		 struct watched **out);
int tierd_detach(struct tierd *t, const char *path, char *err, size_t err_size, uint64_t *id);
uint64_t now_ns(void);

#endif /* TIERD_TIERD_H */
