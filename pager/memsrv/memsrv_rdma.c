// SPDX-License-Identifier: GPL-2.0
/*
 * memsrv_rdma.c — tier-memsrv's RDMA CM listener.
 *
 * Why it is shaped this way: clients move pages with one-sided RDMA READ
 * and WRITE, so the server's only work is the handshake. The HELLO arrives
 * in the connect request's private data and the lease (address, rkey,
 * slots, token) goes back in the accept's; a refusal travels in the
 * reject's private data with a message. Each connection gets its own
 * protection domain with one memory region covering exactly its lease, so
 * its rkey cannot touch another client's pages even if guessed. All CM
 * events are handled on the main thread (the event channel's fd is in its
 * poll set); on disconnect the QP and registration go, and the lease
 * lingers for the grace period like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "memsrv.h"
#include "../pool/pool_internal.h"

struct rdma_client {
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	struct lease_ref ref;
	char peer[64];
	struct rdma_client *next;
};

static struct rdma_event_channel *ec;
static struct rdma_cm_id *listen_id;
static struct rdma_client *clients;

int memsrv_rdma_listen(const char *host, const char *port, int *fd)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int rc, flags;

	if (ec) {
		tier_pool_set_error("only one rdma:// listener per server");
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		tier_pool_set_error("cannot resolve %s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	ec = rdma_create_event_channel();
	if (!ec) {
		rc = errno ? -errno : -ENODEV;
		tier_pool_set_error("rdma_create_event_channel: %s (no RDMA support: is rdma_ucm "
				    "loaded and a device up? rdma link show)",
				    strerror(-rc));
		goto out_free_addr;
	}
	if (rdma_create_id(ec, &listen_id, NULL, RDMA_PS_TCP)) {
		rc = -errno;
		tier_pool_set_error("rdma_create_id: %s", strerror(errno));
		goto out_destroy_channel;
	}
	if (rdma_bind_addr(listen_id, res->ai_addr)) {
		rc = -errno;
		tier_pool_set_error("rdma_bind_addr %s:%s: %s (no RDMA device with this address?)",
				    host, port, strerror(errno));
		goto out_destroy_id;
	}
	if (rdma_listen(listen_id, 64)) {
		rc = -errno;
		tier_pool_set_error("rdma_listen: %s", strerror(errno));
		goto out_destroy_id;
	}
	flags = fcntl(ec->fd, F_GETFL);
	fcntl(ec->fd, F_SETFL, flags | O_NONBLOCK);
	*fd = ec->fd;
	freeaddrinfo(res);
	return 0;

out_destroy_id:
	rdma_destroy_id(listen_id);
	listen_id = NULL;
out_destroy_channel:
	rdma_destroy_event_channel(ec);
	ec = NULL;
out_free_addr:
	freeaddrinfo(res);
	return rc;
}

static void reply_header(struct tier_proto_rdma_reply *r, int err, const char *msg)
{
	memset(r, 0, sizeof(*r));
	r->magic = tier_proto_le32(TIER_PROTO_MAGIC);
	r->version = tier_proto_le16(TIER_PROTO_VERSION);
	r->err = (int32_t)tier_proto_le32((uint32_t)err);
	if (msg)
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void reject(struct rdma_cm_id *id, int err, const char *msg, const char *peer)
{
	struct tier_proto_rdma_reply r;

	reply_header(&r, err, msg);
	memsrv_vlog("%s: %s: %s", peer, err ? "refused" : "answered", msg);
	rdma_reject(id, &r, sizeof(r));
}

/* Undo what handle_connect set up, in reverse. */
static void client_free(struct rdma_client *cl)
{
	if (cl->id && cl->id->qp)
		rdma_destroy_qp(cl->id);
	if (cl->cq)
		ibv_destroy_cq(cl->cq);
	if (cl->mr)
		ibv_dereg_mr(cl->mr);
	if (cl->pd)
		ibv_dealloc_pd(cl->pd);
	lease_detach(&cl->ref);
	free(cl);
}

static void handle_connect(struct rdma_cm_event *ev)
{
	const struct tier_proto_rdma_hello *h = ev->param.conn.private_data;
	struct rdma_cm_id *id = ev->id;
	struct tier_proto_hello_reply hr;
	struct tier_proto_rdma_reply r;
	struct ibv_qp_init_attr qa;
	struct rdma_conn_param cp;
	struct ibv_device_attr da;
	struct rdma_client *cl;
	const char *why;
	char host[NI_MAXHOST] = "?";
	int rc;

	getnameinfo(rdma_get_peer_addr(id), sizeof(struct sockaddr_storage), host, sizeof(host),
		    NULL, 0, NI_NUMERICHOST);
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		reject(id, ENOMEM, "server out of memory", host);
		rdma_destroy_id(id);
		return;
	}
	cl->ref.idx = -1;
	snprintf(cl->peer, sizeof(cl->peer), "rdma:%.48s", host);
	if (!h || ev->param.conn.private_data_len < sizeof(*h) ||
	    tier_proto_from_le32(h->magic) != TIER_PROTO_MAGIC) {
		reject(id, EPROTO, "no tierd HELLO in the connect request", cl->peer);
		goto out_destroy_id;
	}
	if (tier_proto_from_le16(h->version) != TIER_PROTO_VERSION) {
		reject(id, EPROTONOSUPPORT, "protocol version mismatch", cl->peer);
		goto out_destroy_id;
	}
	if (tier_proto_from_le16(h->flags) & TIER_PROTO_RDMA_RELEASE) {
		rc = lease_release_token(h->lease_token);
		reject(id, rc ? -rc : 0, rc ? "unknown lease token" : "released", cl->peer);
		goto out_destroy_id;
	}
	rc = lease_hello(&cl->ref, h->lease_token, tier_proto_from_le64(h->want_slots), cl->peer,
			 &hr, &why);
	if (rc) {
		reject(id, -rc, why, cl->peer);
		goto out_destroy_id;
	}
	cl->pd = ibv_alloc_pd(id->verbs);
	if (!cl->pd) {
		reject(id, ENOMEM, "ibv_alloc_pd failed", cl->peer);
		goto out_free_client;
	}
	/* only the lease: the rkey reaches nothing else */
	cl->mr =
	    ibv_reg_mr(cl->pd, memsrv_region + hr.lease_base_slot * TIER_PROTO_PAGE_SIZE,
		       hr.granted_slots * TIER_PROTO_PAGE_SIZE,
		       IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (!cl->mr) {
		memsrv_log("ibv_reg_mr of a lease: %s", strerror(errno));
		reject(id, ENOMEM, "server cannot register memory", cl->peer);
		goto out_free_client;
	}
	cl->cq = ibv_create_cq(id->verbs, 2, NULL, NULL, 0);
	if (!cl->cq) {
		reject(id, ENOMEM, "ibv_create_cq failed", cl->peer);
		goto out_free_client;
	}
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = cl->cq;
	qa.recv_cq = cl->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 1;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, cl->pd, &qa)) {
		memsrv_log("rdma_create_qp: %s", strerror(errno));
		reject(id, ENOMEM, "rdma_create_qp failed", cl->peer);
		goto out_free_client;
	}
	reply_header(&r, 0, NULL);
	r.hello.granted_slots = tier_proto_le64(hr.granted_slots);
	r.hello.lease_base_slot = tier_proto_le64(hr.lease_base_slot);
	r.hello.region_bytes = tier_proto_le64(hr.region_bytes);
	memcpy(r.hello.lease_token, hr.lease_token, sizeof(hr.lease_token));
	r.hello.rdma_addr = tier_proto_le64((uint64_t)(uintptr_t)cl->mr->addr);
	r.hello.rdma_rkey = tier_proto_le32(cl->mr->rkey);
	r.hello.reattached = tier_proto_le32(hr.reattached);
	memset(&cp, 0, sizeof(cp));
	cp.private_data = &r;
	cp.private_data_len = sizeof(r);
	/* the event's fields are already from our side: the client's initiator depth */
	cp.responder_resources = ev->param.conn.responder_resources;
	if (!ibv_query_device(id->verbs, &da) && cp.responder_resources > da.max_qp_rd_atom)
		cp.responder_resources = (uint8_t)da.max_qp_rd_atom;
	cp.initiator_depth = 0;
	cp.rnr_retry_count = 7;
	if (rdma_accept(id, &cp)) {
		memsrv_log("rdma_accept: %s", strerror(errno));
		goto out_free_client;
	}
	cl->id = id;
	id->context = cl;
	cl->next = clients;
	clients = cl;
	return;

out_free_client:
	if (id->qp)
		rdma_destroy_qp(id);
	cl->id = NULL;
	client_free(cl);
	rdma_destroy_id(id);
	return;
out_destroy_id:
	free(cl);
	rdma_destroy_id(id);
}

static void client_gone(struct rdma_cm_id *id)
{
	struct rdma_client *cl = id->context, **pp;

	if (!cl)
		return;
	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	memsrv_vlog("%s disconnected", cl->peer);
	id->context = NULL;
	client_free(cl);
}

void memsrv_rdma_handle(void)
{
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id;
	enum rdma_cm_event_type type;

	while (!rdma_get_cm_event(ec, &ev)) {
		type = ev->event;
		id = ev->id;
		switch (type) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			handle_connect(ev);
			rdma_ack_cm_event(ev);
			continue;
		case RDMA_CM_EVENT_ESTABLISHED:
			if (id->context)
				memsrv_vlog("%s connected",
					    ((struct rdma_client *)id->context)->peer);
			rdma_ack_cm_event(ev);
			continue;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			rdma_ack_cm_event(ev);
			if (id != listen_id && id->context) {
				client_gone(id);
				rdma_destroy_id(id);
			}
			continue;
		default:
			rdma_ack_cm_event(ev);
		}
	}
}

int memsrv_rdma_drop_all(void)
{
	struct rdma_client *cl;
	int n = 0;

	/* the DISCONNECTED events that follow free them (client_gone) */
	for (cl = clients; cl; cl = cl->next, n++)
		rdma_disconnect(cl->id);
	return n;
}

void memsrv_rdma_shutdown(void)
{
	struct rdma_client *cl;

	while ((cl = clients)) {
		struct rdma_cm_id *id = cl->id;

		clients = cl->next;
		rdma_disconnect(id);
		id->context = NULL;
		client_free(cl);
		rdma_destroy_id(id);
	}
	if (listen_id)
		rdma_destroy_id(listen_id);
	if (ec)
		rdma_destroy_event_channel(ec);
	listen_id = NULL;
	ec = NULL;
}
