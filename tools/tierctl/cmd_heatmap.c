// SPDX-License-Identifier: GPL-2.0
/*
 * tierctl heatmap: access heat of one cgroup over address x time, as a
 * data matrix and a PNG (gnuplot).
 *
 * The records come from tierd's event stream (the request `tierctl events`
 * makes): the cgroup's user page faults, and with --damon the DAMON region
 * reports of tierd's kdamond. Or, with --input, from a file of records as
 * `tierctl -j events` prints them, so a picture can be redrawn and the
 * binning tested without a daemon.
 *
 * Why the address axis is compressed: a process's address space is sparse
 * (heap near the bottom, mappings and stack near the top, terabytes apart);
 * drawn linearly, every touched range collapses into a line. So the
 * touched intervals are merged (gaps up to --gap bytes are kept, larger
 * ones removed), laid end to end, and split into --bins equal bins; each
 * range is labelled with its real start address and a line marks where a
 * gap was cut out. Time is split into --time-bins equal bins over the
 * collection window. A cell holds the faults (or DAMON accesses x pages)
 * in that address bin and time bin.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "../../controller/cgroup.h"
#include "tierctl_client.h"

extern char **environ;

static const char heatmap_help[] =
    "usage: tierctl heatmap --cgroup PATH -o FILE.png [--seconds S] [--bins N]\n"
    "                       [--time-bins T] [--gap BYTES] [--data FILE] [--damon]\n"
    "       tierctl heatmap --input RECORDS.jsonl [--cgroup PATH] ...\n"
    "Collect the cgroup's page-fault records from tierd for S seconds (default 10)\n"
    "and draw their heat over address x time with gnuplot (package gnuplot-nox).\n"
    "The address axis holds only the ranges actually touched: gaps larger than\n"
    "--gap (default 1M) are cut out and marked; each range is labelled with its\n"
    "start address.\n"
    "  --bins N        address bins (default 64)\n"
    "  --time-bins T   time bins (default 40)\n"
    "  --data FILE     also write the matrix as text (rows: address bins, low\n"
    "                  first; columns: time bins; '#' lines describe the bins);\n"
    "                  with --data, -o is optional\n"
    "  --damon         also count DAMON region reports (all of tierd's DAMON\n"
    "                  targets: meaningful when this is the only managed cgroup)\n"
    "  --input FILE    read records (JSON Lines, as tierctl -j events prints)\n"
    "                  instead of asking tierd\n";

struct sample {
	uint64_t ts_ns, start, end; /* [start, end), page-aligned */
	uint32_t weight; /* per page */
};

struct samples {
	struct sample *v;
	size_t nr, cap;
	uint64_t nr_faults, nr_damon;
	uint64_t nr_lost; /* records tierd dropped for this (slow) reader */
};

struct segment {
	uint64_t start, end; /* real addresses */
	uint64_t coff; /* offset on the compressed axis */
};

#define PAGE 4096ull

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (uint64_t)json_object_get_uint64(v) : 0;
}

static int add_sample(struct samples *s, uint64_t ts, uint64_t start, uint64_t end, uint32_t w)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		struct sample *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->nr++] =
	    (struct sample){ ts, start & ~(PAGE - 1), (end + PAGE - 1) & ~(PAGE - 1), w };
	return 0;
}

/* One JSON record line -> a sample, if it is ours. */
static int take_record(struct samples *s, const char *line, uint64_t cgroup_id, bool damon)
{
	struct json_object *r = json_tokener_parse(line), *v;
	const char *type;
	int ret = 0;

	if (!r)
		return 0;
	type = json_object_object_get_ex(r, "type", &v) ? json_object_get_string(v) : "";
	if (!strcmp(type, "fault") && (!cgroup_id || ju64(r, "cgroup_id") == cgroup_id)) {
		uint64_t a = ju64(r, "address");

		ret = add_sample(s, ju64(r, "ts_ns"), a, a + 1, 1);
		s->nr_faults++;
	} else if (!strcmp(type, "lost")) {
		s->nr_lost += ju64(r, "records");
	} else if (!strcmp(type, "damon") && damon && ju64(r, "end") > ju64(r, "start") &&
		   ju64(r, "nr_accesses")) {
		ret = add_sample(s, ju64(r, "ts_ns"), ju64(r, "start"), ju64(r, "end"),
				 ju64(r, "nr_accesses"));
		s->nr_damon++;
	}
	json_object_put(r);
	return ret;
}

static int cmp_start(const void *a, const void *b)
{
	const struct sample *x = *(const struct sample *const *)a,
			    *y = *(const struct sample *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Merge the touched intervals into segments; returns how many, or -ENOMEM. */
static long build_segments(const struct samples *s, uint64_t gap_bytes, struct segment **out)
{
	const struct sample **by = malloc(s->nr * sizeof(*by));
	struct segment *seg = malloc(s->nr * sizeof(*seg));
	size_t i;
	long n = 0;
	uint64_t coff = 0;

	if (!by || !seg) {
		free(by);
		free(seg);
		return -ENOMEM;
	}
	for (i = 0; i < s->nr; i++)
		by[i] = &s->v[i];
	qsort(by, s->nr, sizeof(*by), cmp_start);
	for (i = 0; i < s->nr; i++) {
		if (n && by[i]->start <= seg[n - 1].end + gap_bytes) {
			if (by[i]->end > seg[n - 1].end)
				seg[n - 1].end = by[i]->end;
			continue;
		}
		seg[n++] = (struct segment){ by[i]->start, by[i]->end, 0 };
	}
	for (i = 0; i < (size_t)n; i++) {
		seg[i].coff = coff;
		coff += seg[i].end - seg[i].start;
	}
	free(by);
	*out = seg;
	return n;
}

/* The segment holding ADDR (binary search; ADDR is inside one). */
static const struct segment *find_segment(const struct segment *seg, long n, uint64_t addr)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		long mid = (lo + hi + 1) / 2;

		if (seg[mid].start <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &seg[lo];
}

struct heat {
	unsigned nr_abins, nr_tbins;
	uint64_t bin_bytes; /* compressed bytes per address bin */
	uint64_t t0_ns, t1_ns;
	double *cell; /* [abin * nr_tbins + tbin] */
	struct segment *seg;
	long nr_seg;
	uint64_t total_bytes;
};

static int bin_samples(const struct samples *s, uint64_t gap, uint64_t t0, uint64_t t1,
		       struct heat *h)
{
	size_t i;
	long n;

	n = build_segments(s, gap, &h->seg);
	if (n < 0)
		return n;
	h->nr_seg = n;
	h->total_bytes = n ? h->seg[n - 1].coff + (h->seg[n - 1].end - h->seg[n - 1].start) : 0;
	h->bin_bytes = (h->total_bytes + h->nr_abins - 1) / h->nr_abins;
	h->bin_bytes = (h->bin_bytes + PAGE - 1) & ~(PAGE - 1);
	if (!h->bin_bytes)
		h->bin_bytes = PAGE;
	h->t0_ns = t0;
	h->t1_ns = t1 > t0 ? t1 : t0 + 1;
	h->cell = calloc((size_t)h->nr_abins * h->nr_tbins, sizeof(*h->cell));
	if (!h->cell)
		return -ENOMEM;
	for (i = 0; i < s->nr; i++) {
		const struct sample *x = &s->v[i];
		const struct segment *sg = find_segment(h->seg, n, x->start);
		uint64_t tb, b;

		if (x->ts_ns < h->t0_ns || x->ts_ns > h->t1_ns)
			continue;
		tb = (x->ts_ns - h->t0_ns) * h->nr_tbins / (h->t1_ns - h->t0_ns + 1);
		/* A DAMON region may span segments: each overlap in turn. */
		for (; sg < h->seg + n && sg->start < x->end; sg++) {
			uint64_t lo = x->start > sg->start ? x->start : sg->start;
			uint64_t hi = x->end < sg->end ? x->end : sg->end;
			uint64_t c0 = sg->coff + (lo - sg->start), c1 = sg->coff + (hi - sg->start);

			for (b = c0 / h->bin_bytes; b < h->nr_abins && b * h->bin_bytes < c1; b++) {
				uint64_t b0 = b * h->bin_bytes > c0 ? b * h->bin_bytes : c0;
				uint64_t b1 =
				    (b + 1) * h->bin_bytes < c1 ? (b + 1) * h->bin_bytes : c1;

				h->cell[b * h->nr_tbins + tb] +=
				    (double)x->weight * (b1 - b0) / PAGE;
			}
		}
	}
	return 0;
}

/* The real address at compressed offset C. */
static uint64_t real_addr(const struct heat *h, uint64_t c)
{
	long i;

	for (i = h->nr_seg - 1; i > 0 && h->seg[i].coff > c; i--)
		;
	return h->nr_seg ? h->seg[i].start + (c - h->seg[i].coff) : 0;
}

static int write_data(const struct heat *h, const char *file, const char *what,
		      const struct samples *s)
{
	FILE *f = fopen(file, "w");
	double tbin_s = (h->t1_ns - h->t0_ns) / 1e9 / h->nr_tbins;
	unsigned a, t;
	long i;

	if (!f)
		return -errno;
	fprintf(f, "# tierd heatmap: %s; %llu fault records, %llu DAMON records\n", what,
		(unsigned long long)s->nr_faults, (unsigned long long)s->nr_damon);
	fprintf(f, "# lost_records %llu\n", (unsigned long long)s->nr_lost);
	fprintf(f, "# time_bins %u bin_s %.6f t0_ns %llu\n", h->nr_tbins, tbin_s,
		(unsigned long long)h->t0_ns);
	fprintf(f, "# addr_bins %u bin_bytes %llu touched_bytes %llu segments %ld\n", h->nr_abins,
		(unsigned long long)h->bin_bytes, (unsigned long long)h->total_bytes, h->nr_seg);
	for (i = 0; i < h->nr_seg; i++)
		fprintf(f, "# segment %ld 0x%llx 0x%llx first_bin %llu\n", i,
			(unsigned long long)h->seg[i].start, (unsigned long long)h->seg[i].end,
			(unsigned long long)(h->seg[i].coff / h->bin_bytes));
	for (a = 0; a < h->nr_abins; a++) {
		uint64_t c0 = (uint64_t)a * h->bin_bytes, c1;

		if (c0 >= h->total_bytes)
			break;
		c1 = c0 + h->bin_bytes < h->total_bytes ? c0 + h->bin_bytes : h->total_bytes;
		/* A bin across a cut spans two ranges: its end is in the second. */
		fprintf(f, "# bin %u 0x%llx 0x%llx\n", a, (unsigned long long)real_addr(h, c0),
			(unsigned long long)real_addr(h, c1 - 1) + 1);
	}
	fprintf(f, "# rows: address bins (low addresses first); columns: time bins (early "
		   "first); values: faults (+ DAMON accesses x pages)\n");
	for (a = 0; a < h->nr_abins; a++) {
		for (t = 0; t < h->nr_tbins; t++)
			fprintf(f, "%s%g", t ? " " : "", h->cell[a * h->nr_tbins + t]);
		fprintf(f, "\n");
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* gnuplot strings are '...' with '' for a quote. */
static void gp_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static int render_png(const struct tierctl_opts *o, const struct heat *h, const char *data,
		      const char *png, const char *title)
{
	char script[] = "/tmp/tierctl-heatmap.XXXXXX";
	double tbin_s = (h->t1_ns - h->t0_ns) / 1e9 / h->nr_tbins;
	char *args[] = { "gnuplot", script, NULL };
	int fd, status, ret, nr_labels;
	double last_y;
	pid_t pid;
	FILE *f;
	long i;

	fd = mkstemp(script);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		tierctl_err(o, "heatmap: cannot write a gnuplot script: %s", strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	fprintf(f, "set terminal pngcairo size 1100,750 noenhanced font ',10'\nset output ");
	gp_quote(f, png);
	fprintf(f, "\nset title ");
	gp_quote(f, title);
	fprintf(f, "\nset xlabel 'time (s)'\n"
		   "set ylabel 'address: touched ranges only (gaps cut out at the lines)'\n"
		   "set cblabel 'faults per bin'\n"
		   "set palette defined (0 '#000020', 1 '#3050c0', 2 '#c03030', 3 '#ffd000', "
		   "4 '#ffffff')\n"
		   "set cbrange [0:*]\nset tics out\nset key off\n");
	fprintf(f, "set xrange [0:%g]\nset yrange [-0.5:%u-0.5]\n", tbin_s * h->nr_tbins,
		h->nr_abins);
	fprintf(f, "set ytics (");
	for (i = 0, last_y = -1e9, nr_labels = 0; i < h->nr_seg; i++) {
		double y = (double)h->seg[i].coff / h->bin_bytes - 0.5;
		double next = i + 1 < h->nr_seg ? (double)h->seg[i + 1].coff / h->bin_bytes - 0.5
						: h->nr_abins - 0.5;

		/* Label the ranges tall enough for a label, not too close together. */
		if ((next - y < 1 || y - last_y < 1.5) && !(i == h->nr_seg - 1 && !nr_labels))
			continue;
		fprintf(f, "%s'0x%llx' %g", nr_labels++ ? ", " : "",
			(unsigned long long)h->seg[i].start, y);
		last_y = y;
	}
	fprintf(f, ")\n");
	for (i = 1; i < h->nr_seg; i++)
		fprintf(f,
			"set arrow from graph 0, first %g to graph 1, first %g nohead lc rgb "
			"'#80ffffff' dt 2 front\n",
			(double)h->seg[i].coff / h->bin_bytes - 0.5,
			(double)h->seg[i].coff / h->bin_bytes - 0.5);
	fprintf(f, "plot ");
	gp_quote(f, data);
	fprintf(f, " matrix using (($1 + 0.5) * %g):2:3 with image\n", tbin_s);
	if (fclose(f) != 0) {
		ret = -errno;
		unlink(script);
		return ret;
	}
	ret = posix_spawnp(&pid, "gnuplot", NULL, NULL, args, environ);
	if (ret) {
		unlink(script);
		tierctl_err(o,
			    "heatmap: cannot run gnuplot (%s): install it (Debian: gnuplot-nox; "
			    "tools/deps.sh); --data FILE writes the matrix without it",
			    strerror(ret));
		return -ret;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	unlink(script);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tierctl_err(o, "heatmap: gnuplot failed (its messages are above)");
		return -EIO;
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Read the cgroup's records from tierd for SECONDS. */
static int collect_live(const struct tierctl_opts *o, uint64_t id, bool damon, double seconds,
			struct samples *s, uint64_t *t0, uint64_t *t1)
{
	struct json_object *req, *resp;
	size_t cap = 0, len = 0;
	char *buf = NULL, *line;
	uint64_t end;
	int fd, n, ret = 0;

	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("events"));
	if (!damon) /* DAMON records carry no cgroup: they need the whole stream */
		json_object_object_add(req, "cgroup_id", json_object_new_uint64(id));
	fd = ctl_connect(o, req);
	json_object_put(req);
	if (fd < 0)
		return fd;
	n = ctl_read_line(fd, &buf, &cap, &len, &line);
	resp = n > 0 ? json_tokener_parse(line) : NULL;
	if (!resp || json_object_object_get_ex(resp, "error", NULL)) {
		tierctl_err(o, "heatmap: tierd refused the event stream: %s",
			    resp ? json_object_to_json_string(resp) : "no answer");
		json_object_put(resp);
		ret = -EIO;
		goto out;
	}
	json_object_put(resp);
	ctl_consume(buf, &len, n);
	*t0 = mono_ns();
	end = *t0 + (uint64_t)(seconds * 1e9);
	if (!o->json)
		fprintf(stderr, "tierctl: collecting for %g s...\n", seconds);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ns();

		if (len && memchr(buf, '\n', len)) {
			n = ctl_read_line(fd, &buf, &cap, &len, &line);
			ret = take_record(s, line, id, damon);
			ctl_consume(buf, &len, n);
			if (ret < 0)
				break;
			continue;
		}
		if (now >= end)
			break;
		n = poll(&pfd, 1, (int)((end - now) / 1000000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		n = ctl_read_line(fd, &buf, &cap, &len, &line);
		if (n <= 0) {
			tierctl_err(o, "heatmap: tierd closed the event stream");
			ret = n < 0 ? n : -EPIPE;
			break;
		}
		ret = take_record(s, line, id, damon);
		ctl_consume(buf, &len, n);
		if (ret < 0)
			break;
	}
	*t1 = mono_ns();
out:
	free(buf);
	close(fd);
	return ret;
}

static int collect_file(const struct tierctl_opts *o, const char *file, uint64_t id, bool damon,
			struct samples *s, uint64_t *t0, uint64_t *t1)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, i;
	int ret = 0;

	if (!f) {
		ret = -errno;
		tierctl_err(o, "heatmap: cannot read %s: %s", file, strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, f) > 0 && ret == 0)
		ret = take_record(s, line, id, damon);
	free(line);
	fclose(f);
	*t0 = UINT64_MAX;
	*t1 = 0;
	for (i = 0; i < s->nr; i++) {
		if (s->v[i].ts_ns < *t0)
			*t0 = s->v[i].ts_ns;
		if (s->v[i].ts_ns > *t1)
			*t1 = s->v[i].ts_ns;
	}
	return ret;
}

static int parse_bytes(const char *arg, uint64_t *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		v *= 1024;
		end++;
		break;
	case 'M':
	case 'm':
		v *= 1 << 20;
		end++;
		break;
	case 'G':
	case 'g':
		v *= 1 << 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int cmd_heatmap(int argc, char **argv, const struct tierctl_opts *o)
{
	static const struct option lopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "bins", required_argument, NULL, 'b' },
		{ "time-bins", required_argument, NULL, 't' },
		{ "gap", required_argument, NULL, 'g' },
		{ "data", required_argument, NULL, 'd' },
		{ "input", required_argument, NULL, 'i' },
		{ "damon", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char abs_path[PATH_MAX], err[PATH_MAX + 128], title[PATH_MAX + 256];
	char data_tmp[] = "/tmp/tierctl-heatmap-data.XXXXXX";
	const char *png = NULL, *data = NULL, *input = NULL, *cgroup = NULL;
	struct heat h = { .nr_abins = 64, .nr_tbins = 40 };
	struct samples s = { 0 };
	double seconds = 10;
	uint64_t id = 0, gap = 1 << 20, t0 = 0, t1 = 0;
	bool damon = false;
	long v;
	int c, ret;

	if (wants_help(argc, argv)) {
		fputs(heatmap_help, stdout);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "c:o:s:b:t:g:d:i:Dh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cgroup = optarg;
			break;
		case 'o':
			png = optarg;
			break;
		case 's':
			if (opt_seconds(o, "seconds", optarg, 0, 86400, &seconds))
				return -EINVAL;
			break;
		case 'b':
		case 't':
			if (opt_number(o, c == 'b' ? "bins" : "time-bins", optarg, 2, 4096, &v))
				return -EINVAL;
			*(c == 'b' ? &h.nr_abins : &h.nr_tbins) = v;
			break;
		case 'g':
			if (parse_bytes(optarg, &gap) < 0) {
				tierctl_err(o, "--gap wants a size like 4096, 64K or 1M");
				return -EINVAL;
			}
			break;
		case 'd':
			data = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'D':
			damon = true;
			break;
		default:
			return opt_bad(o, "heatmap");
		}
	}
	if (opt_no_more(o, "heatmap", argc, argv))
		return -EINVAL;
	if (!png && !data) {
		tierctl_err(o, "heatmap: say where the picture goes (-o FILE.png) or the data "
			       "(--data FILE)");
		return -EINVAL;
	}
	if (!cgroup && !input) {
		tierctl_err(o, "heatmap: --cgroup PATH is needed (the attached cgroup to draw)");
		return -EINVAL;
	}
	if (cgroup &&
	    cgroup_resolve(cgroup, abs_path, sizeof(abs_path), &id, err, sizeof(err)) < 0) {
		tierctl_err(o, "%s", err);
		return -ENOENT;
	}
	if (input)
		ret = collect_file(o, input, id, damon, &s, &t0, &t1);
	else
		ret = collect_live(o, id, damon, seconds, &s, &t0, &t1);
	if (ret < 0)
		goto out;
	if (s.nr_lost)
		fprintf(stderr,
			"tierctl: warning: tierd dropped %llu records for this reader (it fell "
			"behind); "
			"the picture undercounts\n",
			(unsigned long long)s.nr_lost);
	if (!s.nr) {
		tierctl_err(o,
			    "heatmap: no records for %s in %s (is the cgroup attached: tierctl "
			    "attach %s? did it fault?)",
			    cgroup ? abs_path : "any cgroup", input ? input : "the collection time",
			    cgroup ? abs_path : "PATH");
		ret = -ENODATA;
		goto out;
	}
	ret = bin_samples(&s, gap, t0, t1, &h);
	if (ret < 0)
		goto out;
	snprintf(title, sizeof(title), "%s: %llu faults%s over %.1f s", cgroup ? abs_path : input,
		 (unsigned long long)s.nr_faults, s.nr_damon ? " + DAMON regions" : "",
		 (t1 - t0) / 1e9);
	if (!data) {
		int fd = mkstemp(data_tmp);

		if (fd < 0) {
			ret = -errno;
			tierctl_err(o, "heatmap: cannot create a temporary file: %s",
				    strerror(-ret));
			goto out;
		}
		close(fd);
		data = data_tmp;
	}
	ret = write_data(&h, data, title, &s);
	if (ret < 0) {
		tierctl_err(o, "heatmap: cannot write %s: %s", data, strerror(-ret));
		goto out_tmp;
	}
	if (png)
		ret = render_png(o, &h, data, png, title);
	if (ret == 0 && !o->json)
		printf("%s%s%s%s (%llu faults, %llu DAMON records, %ld address ranges)\n",
		       png ? png : "", png && data != data_tmp ? " and " : "",
		       data != data_tmp ? data : "", "", (unsigned long long)s.nr_faults,
		       (unsigned long long)s.nr_damon, h.nr_seg);
out_tmp:
	if (data == data_tmp)
		unlink(data_tmp);
out:
	free(s.v);
	free(h.cell);
	free(h.seg);
	return ret;
}
