// SPDX-License-Identifier: GPL-2.0
/*
 * tier-memsrv — lend a region of this machine's RAM to tierd's memory pool.
 *
 *   tier-memsrv --listen URI... --size SIZE [--lease-grace SECS] [--drop-every SECS] [-v]
 *   URI: tcp://HOST:PORT, rdma://HOST:PORT, shm:/PATH (one of each at most
 *   per kind is typical; all listeners share the one region)
 *
 * Why it is shaped this way:
 * - The region is allocated and locked up front (mlock; a warning if
 *   RLIMIT_MEMLOCK refuses): lent memory that the server's own kernel could
 *   swap out would make the pool slower than the disk it replaces.
 * - Space is handed out as leases: a contiguous run of page slots per
 *   client, found first-fit in a sorted list of free extents. Contiguous
 *   leases make every bounds check one comparison, and let the RDMA and shm
 *   transports expose exactly the lease's bytes (an RDMA memory region, or
 *   the mapped file range) and nothing else.
 * - A lease outlives its connection by a grace period (default 30 s): a
 *   client whose request timed out reconnects with its lease token and finds
 *   its pages. (An earlier design freed the lease on disconnect and lost a
 *   slow client's data.) A RELEASE frees it at once.
 * - TCP and the shm control socket (PATH.sock) are served by one thread per
 *   connection with blocking I/O: simple, and the page copy dominates. The
 *   main thread accepts, handles RDMA CM events (RDMA moves data without the
 *   server's CPU), and reaps leases whose grace has expired.
 * - Every request is checked by pool_proto.c's pure functions before it
 *   touches the region; what cannot be framed closes the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "memsrv.h"
#include "../pool/pool_internal.h"

#define MAX_LISTENERS 8

/* ---- stream connections (TCP and the shm control socket) --------------------- */

struct stream_conn {
	int fd;
	char peer[64];
	bool is_shm; /* a shm client moves data itself: no READ/WRITE here */
	struct lease_ref ref;
	unsigned char *body;
};

/*
 * The open TCP connections, for --drop-every (fault injection: a test
 * drops every client's connection to exercise its reconnect path; the
 * leases linger for the grace period, so the clients reattach).
 */
#define MAX_STREAMS 1024
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream_conn *streams[MAX_STREAMS];

static void stream_track(struct stream_conn *c, bool add)
{
	int i;

	pthread_mutex_lock(&streams_lock);
	for (i = 0; i < MAX_STREAMS; i++) {
		if (streams[i] == (add ? NULL : c)) {
			streams[i] = add ? c : NULL;
			break;
		}
	}
	pthread_mutex_unlock(&streams_lock);
}

static int drop_streams(void)
{
	int i, n = 0;

	pthread_mutex_lock(&streams_lock);
	for (i = 0; i < MAX_STREAMS; i++) {
		if (streams[i] && !streams[i]->is_shm) {
			shutdown(streams[i]->fd, SHUT_RDWR); /* its thread sees EOF and ends */
			n++;
		}
	}
	pthread_mutex_unlock(&streams_lock);
	return n;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return done ? -EPIPE : -ENODATA; /* ENODATA: clean EOF between requests */
		done += (size_t)n;
	}
	return 0;
}

static int write_iov(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt > 0) {
		n = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int send_reply(struct stream_conn *c, uint16_t type, uint32_t seq, const void *body,
		      size_t len)
{
	struct tier_proto_hdr hdr;
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)body, len } };

	tier_proto_encode_hdr(&hdr, type, seq, (uint32_t)len);
	return write_iov(c->fd, iov, len ? 2 : 1);
}

static int send_error(struct stream_conn *c, uint32_t seq, int err, const char *msg)
{
	struct {
		struct tier_proto_error e;
		char msg[TIER_PROTO_MAX_MSG];
	} b;
	size_t len = strnlen(msg, TIER_PROTO_MAX_MSG);

	b.e.err = (int32_t)tier_proto_le32((uint32_t)err);
	b.e.msg_bytes = tier_proto_le32((uint32_t)len);
	memcpy(b.msg, msg, len);
	memsrv_vlog("%s: error reply: %s", c->peer, msg);
	return send_reply(c, TIER_PROTO_ERROR, seq, &b, sizeof(b.e) + len);
}

static int handle_hello(struct stream_conn *c, const struct tier_proto_hdr *h)
{
	struct tier_proto_hello hello;
	struct tier_proto_hello_reply r, w;
	const char *why;
	int rc;

	memcpy(&hello, c->body, sizeof(hello));
	rc = lease_hello(&c->ref, hello.lease_token, tier_proto_from_le64(hello.want_slots),
			 c->peer, &r, &why);
	if (rc)
		return send_error(c, h->seq, -rc, why);
	w = r;
	w.granted_slots = tier_proto_le64(r.granted_slots);
	w.lease_base_slot = tier_proto_le64(r.lease_base_slot);
	w.region_bytes = tier_proto_le64(r.region_bytes);
	w.reattached = tier_proto_le32(r.reattached);
	return send_reply(c, TIER_PROTO_HELLO_REPLY, h->seq, &w, sizeof(w));
}

static int handle_io(struct stream_conn *c, const struct tier_proto_hdr *h)
{
	struct tier_proto_status st;
	struct iovec iov[1 + TIER_PROTO_MAX_BATCH + 1];
	uint64_t base, nr_slots = 0;
	const unsigned char *data;
	const char *why;
	uint32_t nr, i;
	int rc;

	if (lease_begin_io(&c->ref, &base, &nr_slots))
		nr_slots = 0; /* tier_proto_check_io says "no lease" */
	rc = tier_proto_check_io(h->type, c->body, h->body_bytes, nr_slots, &nr, &why);
	if (rc) {
		if (nr_slots)
			lease_end_io(&c->ref);
		return send_error(c, h->seq, -rc, why);
	}
	if (c->is_shm) {
		lease_end_io(&c->ref);
		return send_error(c, h->seq, EINVAL, "shm clients move pages through the mapping");
	}
	st.status = 0;
	st.nr_pages = tier_proto_le32(nr);
	if (h->type == TIER_PROTO_WRITE) {
		data = tier_proto_io_data(c->body, nr);
		for (i = 0; i < nr; i++)
			memcpy(memsrv_region +
				   (base + tier_proto_io_slot(c->body, i)) * TIER_PROTO_PAGE_SIZE,
			       data + (size_t)i * TIER_PROTO_PAGE_SIZE, TIER_PROTO_PAGE_SIZE);
		lease_end_io(&c->ref);
		return send_reply(c, TIER_PROTO_WRITE_REPLY, h->seq, &st, sizeof(st));
	}
	{
		struct tier_proto_hdr hdr;

		tier_proto_encode_hdr(&hdr, TIER_PROTO_READ_REPLY, h->seq,
				      (uint32_t)(sizeof(st) + (size_t)nr * TIER_PROTO_PAGE_SIZE));
		iov[0].iov_base = &hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = &st;
		iov[1].iov_len = sizeof(st);
		for (i = 0; i < nr; i++) {
			iov[2 + i].iov_base =
			    memsrv_region +
			    (base + tier_proto_io_slot(c->body, i)) * TIER_PROTO_PAGE_SIZE;
			iov[2 + i].iov_len = TIER_PROTO_PAGE_SIZE;
		}
		rc = write_iov(c->fd, iov, (int)nr + 2);
	}
	lease_end_io(&c->ref);
	return rc;
}

static void *stream_thread(void *arg)
{
	struct stream_conn *c = arg;
	struct tier_proto_hdr wire, h;
	struct tier_proto_stat_reply s, w;
	struct tier_proto_status st = { 0, 0 };
	const char *why;
	int rc;

	memsrv_vlog("%s connected", c->peer);
	for (;;) {
		rc = read_full(c->fd, &wire, sizeof(wire));
		if (rc)
			break;
		rc = tier_proto_check_hdr(&wire, &h, &why);
		if (rc) {
			/* cannot be framed: say why (best effort), then close */
			send_error(c, tier_proto_from_le32(wire.seq), -rc, why);
			memsrv_log("%s: closing the connection: %s", c->peer, why);
			break;
		}
		if (h.body_bytes) {
			rc = read_full(c->fd, c->body, h.body_bytes);
			if (rc) {
				memsrv_log(
				    "%s: truncated request (%u body bytes announced): closing",
				    c->peer, h.body_bytes);
				break;
			}
		}
		switch (h.type) {
		case TIER_PROTO_HELLO:
			rc = handle_hello(c, &h);
			break;
		case TIER_PROTO_READ:
		case TIER_PROTO_WRITE:
			rc = handle_io(c, &h);
			break;
		case TIER_PROTO_STAT:
			lease_stat(&s);
			w.total_slots = tier_proto_le64(s.total_slots);
			w.free_slots = tier_proto_le64(s.free_slots);
			w.nr_leases = tier_proto_le64(s.nr_leases);
			w.nr_clients = tier_proto_le64(s.nr_clients);
			w.nr_lingering = tier_proto_le64(s.nr_lingering);
			rc = send_reply(c, TIER_PROTO_STAT_REPLY, h.seq, &w, sizeof(w));
			break;
		case TIER_PROTO_RELEASE:
			lease_release(&c->ref);
			rc = send_reply(c, TIER_PROTO_RELEASE_REPLY, h.seq, &st, sizeof(st));
			break;
		}
		if (rc)
			break;
	}
	lease_detach(&c->ref);
	memsrv_vlog("%s disconnected", c->peer);
	stream_track(c, false);
	close(c->fd);
	free(c->body);
	free(c);
	return NULL;
}

static void start_stream(int fd, const char *peer, bool is_shm)
{
	struct stream_conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int one = 1;

	if (c)
		c->body = malloc(TIER_PROTO_MAX_BODY);
	if (!c || !c->body) {
		memsrv_log("out of memory for a connection from %s", peer);
		if (c)
			free(c);
		close(fd);
		return;
	}
	if (!is_shm) {
		/* a client that vanished without a FIN (crash, partition) must still
		 * let its lease go: keepalive notices within about a minute */
		int idle_s = 30, intvl_s = 5, cnt = 4;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl_s, sizeof(intvl_s));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	c->fd = fd;
	c->is_shm = is_shm;
	c->ref.idx = -1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	stream_track(c, true);
	if (pthread_create(&t, &attr, stream_thread, c)) {
		memsrv_log("cannot start a thread for %s", peer);
		stream_track(c, false);
		close(fd);
		free(c->body);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

/* ---- listeners -------------------------------------------------------------- */

enum listener_kind { L_TCP, L_UNIX, L_RDMA };

struct listener {
	enum listener_kind kind;
	int fd;
	char name[PATH_MAX + 16];
};

static struct listener listeners[MAX_LISTENERS];
static int nr_listeners;
static char shm_path[PATH_MAX], shm_sock_path[PATH_MAX + 8];
static bool shm_created, sock_created;

static int listen_tcp(const struct tier_pool_uri *u, const char *uri)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, rc;

	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc) {
		memsrv_log("%s: cannot resolve %s: %s", uri, u->host, gai_strerror(rc));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 64))
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		memsrv_log("%s: cannot listen: %s", uri, strerror(rc ? -rc : EADDRNOTAVAIL));
		return rc ? rc : -EADDRNOTAVAIL;
	}
	listeners[nr_listeners].kind = L_TCP;
	listeners[nr_listeners].fd = fd;
	snprintf(listeners[nr_listeners].name, sizeof(listeners[0].name), "%s", uri);
	nr_listeners++;
	return 0;
}

static int listen_unix(const char *path, const char *uri)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		memsrv_log("%s: socket path %s is too long (max %zu bytes)", uri, path,
			   sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		int rc = -errno;

		memsrv_log("%s: cannot listen on %s: %s", uri, path, strerror(errno));
		close(fd);
		return rc;
	}
	sock_created = true;
	listeners[nr_listeners].kind = L_UNIX;
	listeners[nr_listeners].fd = fd;
	snprintf(listeners[nr_listeners].name, sizeof(listeners[0].name), "%s", uri);
	nr_listeners++;
	return 0;
}

/* Is another server serving this control socket? (A stale one is replaced.) */
static bool socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static void lock_region(uint64_t bytes)
{
	if (mlock(memsrv_region, bytes)) {
		struct rlimit rl = { 0, 0 };

		getrlimit(RLIMIT_MEMLOCK, &rl);
		memsrv_log("warning: cannot lock the %llu MiB region in memory (%s; RLIMIT_MEMLOCK "
			   "is %llu KiB): it may be swapped out. Raise it with ulimit -l or run as "
			   "root",
			   (unsigned long long)(bytes >> 20), strerror(errno),
			   (unsigned long long)(rl.rlim_cur >> 10));
	}
}

/* The region: the shm file if there is a shm: listener, else anonymous memory. */
static int make_region(uint64_t bytes, const char *shm)
{
	int fd;

	if (!shm) {
		memsrv_region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (memsrv_region == MAP_FAILED) {
			memsrv_log("cannot allocate %llu MiB: %s",
				   (unsigned long long)(bytes >> 20), strerror(errno));
			return -ENOMEM;
		}
		lock_region(bytes);
		return 0;
	}
	snprintf(shm_path, sizeof(shm_path), "%s", shm);
	snprintf(shm_sock_path, sizeof(shm_sock_path), "%s.sock", shm);
	if (socket_in_use(shm_sock_path)) {
		memsrv_log("shm:%s: another tier-memsrv serves it (%s answers)", shm,
			   shm_sock_path);
		return -EADDRINUSE;
	}
	unlink(shm_sock_path); /* stale, from a server that died */
	unlink(shm_path);
	fd = open(shm_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int rc = -errno;

		memsrv_log("shm:%s: cannot create the pool file: %s", shm, strerror(errno));
		return rc;
	}
	shm_created = true;
	if (ftruncate(fd, (off_t)bytes)) {
		int rc = -errno;

		memsrv_log("shm:%s: cannot size the pool file to %llu bytes: %s", shm,
			   (unsigned long long)bytes, strerror(errno));
		close(fd);
		return rc;
	}
	memsrv_region = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (memsrv_region == MAP_FAILED) {
		int rc = -errno;

		memsrv_log("shm:%s: cannot map the pool file: %s (is it on tmpfs or DAX with room "
			   "for %llu MiB?)",
			   shm, strerror(errno), (unsigned long long)(bytes >> 20));
		return rc;
	}
	lock_region(bytes);
	return 0;
}

static void cleanup(void)
{
	int i;

	memsrv_rdma_shutdown();
	for (i = 0; i < nr_listeners; i++)
		if (listeners[i].kind != L_RDMA)
			close(listeners[i].fd);
	if (sock_created)
		unlink(shm_sock_path);
	if (shm_created)
		unlink(shm_path);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tier-memsrv --listen URI... --size SIZE [--lease-grace SECS]\n"
		   "                   [--drop-every SECS] [-v]\n"
		   "  URI: tcp://HOST:PORT, rdma://HOST:PORT or shm:/PATH (PATH on tmpfs or DAX;\n"
		   "       clients get leases over the unix socket PATH.sock)\n"
		   "  SIZE: bytes lent to the pool, e.g. 512M or 8G (allocated and locked now)\n"
		   "  --lease-grace SECS: keep a disconnected client's pages this long for it\n"
		   "       to reconnect (default 30)\n"
		   "  --drop-every SECS: fault injection for tests: disconnect every tcp:// and\n"
		   "       rdma:// client every SECS seconds (they must reconnect and reattach)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "size", required_argument, NULL, 's' },
		{ "lease-grace", required_argument, NULL, 'g' },
		{ "drop-every", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uris[MAX_LISTENERS];
	struct tier_pool_uri parsed[MAX_LISTENERS];
	const char *shm = NULL;
	struct pollfd pfd[MAX_LISTENERS + 1];
	uint64_t size_bytes = 0;
	unsigned int grace_s = 30, drop_every_s = 0;
	uint64_t next_drop_ms = 0;
	int last_dropped = -1; /* -1: say the first zero too */
	int nr_uris = 0, i, o, rc, sfd;
	char err[512], *end;
	sigset_t mask;
	long v;

	while ((o = getopt_long(argc, argv, "l:s:g:D:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			if (nr_uris == MAX_LISTENERS) {
				memsrv_log("at most %d --listen URIs", MAX_LISTENERS);
				return 2;
			}
			uris[nr_uris++] = optarg;
			break;
		case 's':
			if (tier_parse_size(optarg, &size_bytes) ||
			    size_bytes < TIER_PROTO_PAGE_SIZE) {
				memsrv_log(
				    "bad --size \"%s\": expected bytes or a number with K, M, "
				    "G or T, at least 4096",
				    optarg);
				return 2;
			}
			break;
		case 'g':
			v = strtol(optarg, &end, 10);
			if (*end || !*optarg || v < 0 || v > 86400) {
				memsrv_log("bad --lease-grace \"%s\": expected seconds, 0-86400",
					   optarg);
				return 2;
			}
			grace_s = (unsigned int)v;
			break;
		case 'D':
			v = strtol(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > 86400) {
				memsrv_log("bad --drop-every \"%s\": expected seconds, 1-86400",
					   optarg);
				return 2;
			}
			drop_every_s = (unsigned int)v;
			break;
		case 'v':
			memsrv_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* trailing URIs after --listen URI: "--listen A B C" */
	for (; optind < argc; optind++) {
		if (nr_uris == MAX_LISTENERS) {
			memsrv_log("at most %d --listen URIs", MAX_LISTENERS);
			return 2;
		}
		uris[nr_uris++] = argv[optind];
	}
	if (!nr_uris || !size_bytes) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < nr_uris; i++) {
		if (tier_pool_parse_uri(uris[i], &parsed[i], err, sizeof(err))) {
			memsrv_log("%s", err);
			return 2;
		}
		if (parsed[i].scheme == TIER_POOL_MEM) {
			memsrv_log("%s: mem: is an in-process pool; a server listens on tcp://, "
				   "rdma:// or shm:",
				   uris[i]);
			return 2;
		}
		if (parsed[i].scheme == TIER_POOL_SHM) {
			if (shm) {
				memsrv_log(
				    "only one shm: listener per server (the region is its file)");
				return 2;
			}
			shm = parsed[i].path;
		}
	}
	size_bytes -= size_bytes % TIER_PROTO_PAGE_SIZE;

	/* signals through a signalfd: the main loop's poll() sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		memsrv_log("signalfd: %s", strerror(errno));
		return 1;
	}

	rc = make_region(size_bytes, shm);
	if (rc)
		goto out;
	memsrv_region_slots = size_bytes / TIER_PROTO_PAGE_SIZE;
	lease_init(memsrv_region_slots, grace_s);

	for (i = 0; i < nr_uris; i++) {
		switch (parsed[i].scheme) {
		case TIER_POOL_TCP:
			rc = listen_tcp(&parsed[i], uris[i]);
			break;
		case TIER_POOL_SHM:
			rc = listen_unix(shm_sock_path, uris[i]);
			break;
		case TIER_POOL_RDMA:
			rc = memsrv_rdma_listen(parsed[i].host, parsed[i].port,
						&listeners[nr_listeners].fd);
			if (!rc) {
				listeners[nr_listeners].kind = L_RDMA;
				snprintf(listeners[nr_listeners].name, sizeof(listeners[0].name),
					 "%s", uris[i]);
				nr_listeners++;
			} else {
				memsrv_log("%s: %s", uris[i], tier_pool_thread_error());
			}
			break;
		default:
			rc = -EINVAL;
		}
		if (rc)
			goto out;
	}
	for (i = 0; i < nr_listeners; i++)
		memsrv_log("listening on %s", listeners[i].name);
	memsrv_log("lending %llu MiB (%llu slots), lease grace %u s",
		   (unsigned long long)(size_bytes >> 20), (unsigned long long)memsrv_region_slots,
		   grace_s);

	for (;;) {
		for (i = 0; i < nr_listeners; i++) {
			pfd[i].fd = listeners[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[nr_listeners].fd = sfd;
		pfd[nr_listeners].events = POLLIN;
		rc = poll(pfd, (nfds_t)nr_listeners + 1, 200);
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			memsrv_log("poll: %s", strerror(errno));
			goto out;
		}
		lease_reap(lease_now_ms());
		if (drop_every_s && lease_now_ms() >= next_drop_ms) {
			if (next_drop_ms) {
				int n = drop_streams() + memsrv_rdma_drop_all();

				/* nothing to drop is said once, until there is again */
				if (n || last_dropped)
					memsrv_log("--drop-every: dropped %d connection(s)%s", n,
						   n ? "" : "; no client connected now");
				last_dropped = n;
			}
			next_drop_ms = lease_now_ms() + drop_every_s * 1000ull;
		}
		if (rc <= 0)
			continue;
		if (pfd[nr_listeners].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				memsrv_log("signal %u: exiting", si.ssi_signo);
			rc = 0;
			goto out;
		}
		for (i = 0; i < nr_listeners; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char host[NI_MAXHOST], serv[NI_MAXSERV], peer[64];
			int cfd;

			if (!pfd[i].revents)
				continue;
			if (listeners[i].kind == L_RDMA) {
				memsrv_rdma_handle();
				continue;
			}
			cfd = accept4(listeners[i].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
			if (cfd < 0)
				continue;
			if (listeners[i].kind == L_TCP &&
			    !getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
					 sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
				snprintf(peer, sizeof(peer), "tcp:%.40s:%.8s", host, serv);
			else
				snprintf(peer, sizeof(peer), "%.48s#%d", listeners[i].name, cfd);
			start_stream(cfd, peer, listeners[i].kind == L_UNIX);
		}
	}
out:
	cleanup();
	return rc ? 1 : 0;
}
