// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c — parse and check tierd's policy file (format: tierd-policy(5)).
 *
 * Shape: json-c builds the object tree (and checks the syntax, accepting
 * comments); a small scanner of our own walks the same text once to learn
 * the line of every key, because json-c keeps no positions and an error
 * without a line is half an error. Each section is then checked against a
 * table of known keys, so a typo ("half_life" for "half_life_ms") is an
 * error that lists what was meant, never a silently ignored setting.
 * All errors are collected (up to POLICY_MAX_ERRORS), not just the first:
 * `tierctl policy check` should show everything wrong in one go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "policy.h"

/* --- key -> line map ------------------------------------------------------ */

struct keyline {
	char *path;
	unsigned line;
	bool duplicate; /* the same key appeared earlier in the same object */
};

struct keymap {
	const char *text;
	size_t len, pos;
	unsigned line;
	unsigned depth;
	struct keyline *v;
	unsigned n, cap;
	bool nomem;
};

static void km_add(struct keymap *km, const char *path, unsigned line)
{
	bool dup = false;

	for (unsigned i = 0; i < km->n; i++) {
		if (!strcmp(km->v[i].path, path)) {
			dup = true;
			break;
		}
	}
	if (km->n == km->cap) {
		unsigned cap = km->cap ? km->cap * 2 : 64;
		struct keyline *v = realloc(km->v, cap * sizeof(*v));

		if (!v) {
			km->nomem = true;
			return;
		}
		km->v = v;
		km->cap = cap;
	}
	km->v[km->n].path = strdup(path);
	if (!km->v[km->n].path) {
		km->nomem = true;
		return;
	}
	km->v[km->n].line = line;
	km->v[km->n].duplicate = dup;
	km->n++;
}

static void km_free(struct keymap *km)
{
	for (unsigned i = 0; i < km->n; i++)
		free(km->v[i].path);
	free(km->v);
	km->v = NULL;
	km->n = km->cap = 0;
}

static int km_peek(struct keymap *km)
{
	return km->pos < km->len ? (unsigned char)km->text[km->pos] : -1;
}

static void km_next(struct keymap *km)
{
	if (km->pos < km->len) {
		if (km->text[km->pos] == '\n')
			km->line++;
		km->pos++;
	}
}

/* Skip white space and both comment styles json-c accepts. */
static void km_skip(struct keymap *km)
{
	for (;;) {
		int c = km_peek(km);

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			km_next(km);
		} else if (c == '/' && km->pos + 1 < km->len && km->text[km->pos + 1] == '/') {
			while (km_peek(km) != -1 && km_peek(km) != '\n')
				km_next(km);
		} else if (c == '/' && km->pos + 1 < km->len && km->text[km->pos + 1] == '*') {
			km_next(km);
			km_next(km);
			while (km_peek(km) != -1 && !(km_peek(km) == '*' && km->pos + 1 < km->len &&
						      km->text[km->pos + 1] == '/'))
				km_next(km);
			km_next(km);
			km_next(km);
		} else {
			return;
		}
	}
}

/* A quoted string ("..." or '...'); its content, unescaped loosely, into OUT. */
static void km_string(struct keymap *km, char *out, size_t outlen)
{
	int quote = km_peek(km);
	size_t o = 0;

	km_next(km);
	while (km_peek(km) != -1 && km_peek(km) != quote) {
		int c = km_peek(km);

		if (c == '\\') {
			km_next(km);
			c = km_peek(km);
		}
		if (out && o + 1 < outlen)
			out[o++] = (char)c;
		km_next(km);
	}
	km_next(km);
	if (out)
		out[o] = '\0';
}

static void km_value(struct keymap *km, char *path, size_t pathlen);

static void km_object(struct keymap *km, char *path, size_t pathlen)
{
	size_t base = strlen(path);
	char key[96];

	km_next(km); /* { */
	for (;;) {
		km_skip(km);
		int c = km_peek(km);

		if (c == '}' || c == -1) {
			km_next(km);
			break;
		}
		if (c == ',') {
			km_next(km);
			continue;
		}
		unsigned line = km->line;

		if (c == '"' || c == '\'') {
			km_string(km, key, sizeof(key));
		} else { /* json-c does not take bare keys; be safe anyway */
			km_next(km);
			continue;
		}
		snprintf(path + base, pathlen - base, "%s%s", base ? "." : "", key);
		km_add(km, path, line);
		km_skip(km);
		if (km_peek(km) == ':')
			km_next(km);
		km_value(km, path, pathlen);
		path[base] = '\0';
	}
}

static void km_array(struct keymap *km, char *path, size_t pathlen)
{
	size_t base = strlen(path);
	unsigned idx = 0;

	km_next(km); /* [ */
	for (;;) {
		km_skip(km);
		int c = km_peek(km);

		if (c == ']' || c == -1) {
			km_next(km);
			break;
		}
		if (c == ',') {
			km_next(km);
			continue;
		}
		snprintf(path + base, pathlen - base, "[%u]", idx++);
		km_add(km, path, km->line);
		km_value(km, path, pathlen);
		path[base] = '\0';
	}
}

static void km_value(struct keymap *km, char *path, size_t pathlen)
{
	km_skip(km);
	int c = km_peek(km);

	if (km->depth > 64) {
		km_next(km); /* json-c refuses such depth first; still, always make progress */
		return;
	}
	km->depth++;
	if (c == '{') {
		km_object(km, path, pathlen);
	} else if (c == '[') {
		km_array(km, path, pathlen);
	} else if (c == '"' || c == '\'') {
		km_string(km, NULL, 0);
	} else {
		/* number, true, false, null, NaN...: up to a delimiter */
		while ((c = km_peek(km)) != -1 && !strchr(",]} \t\r\n/", c))
			km_next(km);
	}
	km->depth--;
}

/* Line of PATH, or of its closest enclosing key that has one. */
static unsigned km_line(const struct keymap *km, const char *path)
{
	char p[256];

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		for (unsigned i = 0; i < km->n; i++)
			if (!strcmp(km->v[i].path, p))
				return km->v[i].line;
		char *dot = strrchr(p, '.');
		char *br = strrchr(p, '[');
		char *cut = dot > br ? dot : br;

		if (!cut)
			return 1;
		*cut = '\0';
	}
}

static unsigned offset_line(const char *text, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* --- diagnostics ---------------------------------------------------------- */

struct pctx {
	struct keymap km;
	struct policy_diag *diag;
};

static void diag_add(struct policy_diag *d, unsigned line, const char *key, const char *fmt,
		     va_list ap)
{
	if (d->nr == POLICY_MAX_ERRORS) {
		d->nr_lost++;
		return;
	}
	struct policy_error *e = &d->errs[d->nr++];

	e->line = line;
	snprintf(e->key, sizeof(e->key), "%s", key ? key : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

static void diag_line(struct policy_diag *d, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void diag_line(struct policy_diag *d, unsigned line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, line, key, fmt, ap);
	va_end(ap);
}

static void perr(struct pctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct pctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(c->diag, km_line(&c->km, key), key, fmt, ap);
	va_end(ap);
}

char *policy_error_format(const struct policy_diag *diag, unsigned i, char *buf, size_t len)
{
	const struct policy_error *e = &diag->errs[i];
	char where[32] = "";

	if (e->line)
		snprintf(where, sizeof(where), ":%u", e->line);
	snprintf(buf, len, "%s%s: %s%s%s", diag->file, where, e->key, e->key[0] ? ": " : "",
		 e->msg);
	return buf;
}

/* A short rendering of a JSON value for "got ..." in messages. */
static const char *got(json_object *v, char *buf, size_t len)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);

	if (strlen(s) > 48)
		snprintf(buf, len, "%.45s...", s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

static const char *type_word(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number with a fraction";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "?";
}

/* --- sizes ---------------------------------------------------------------- */

int policy_size_parse(const char *s, struct policy_size *out)
{
	uint64_t whole = 0, frac = 0, frac_div = 1;
	const char *p = s;

	if (!strcmp(s, "max") || !strcmp(s, "unlimited")) {
		*out = (struct policy_size){ .kind = POLICY_SIZE_MAX };
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (whole > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (frac_div < 1000000000ull) { /* 9 digits are plenty */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
			p++;
		}
	}
	if (*p == '%') {
		if (p[1] || whole > 100 || frac_div > 100)
			return -EINVAL; /* at most two decimals: basis points */
		uint64_t bp = whole * 100 + frac * (100 / frac_div);

		if (bp > 10000)
			return -EINVAL;
		*out = (struct policy_size){ .kind = POLICY_SIZE_PCT, .pct_bp = (uint32_t)bp };
		return 0;
	}
	unsigned shift = 0;

	switch (*p) {
	case 'k':
	case 'K':
		shift = 10;
		p++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		p++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		p++;
		break;
	case 't':
	case 'T':
		shift = 40;
		p++;
		break;
	}
	if (shift && *p == 'i')
		p++;
	if (*p == 'B' || (*p == 'b' && shift))
		p++;
	if (*p)
		return -EINVAL;
	if (whole > (UINT64_MAX >> (shift + 1)))
		return -EINVAL;
	uint64_t bytes = (whole << shift) + ((frac << shift) / frac_div);

	*out = (struct policy_size){ .kind = POLICY_SIZE_BYTES, .bytes = bytes };
	return 0;
}

uint64_t policy_size_resolve(const struct policy_size *s, uint64_t usage_bytes)
{
	switch (s->kind) {
	case POLICY_SIZE_BYTES:
		return s->bytes;
	case POLICY_SIZE_PCT:
		/* usage / 10000 * bp without overflow for any usage */
		return usage_bytes / 10000 * s->pct_bp + usage_bytes % 10000 * s->pct_bp / 10000;
	case POLICY_SIZE_MAX:
		break;
	}
	return UINT64_MAX;
}

char *policy_size_format(const struct policy_size *s, char *buf, size_t len)
{
	static const char units[] = "KMGT";

	if (s->kind == POLICY_SIZE_MAX) {
		snprintf(buf, len, "max");
	} else if (s->kind == POLICY_SIZE_PCT) {
		if (s->pct_bp % 100)
			snprintf(buf, len, "%u.%02u%%", s->pct_bp / 100, s->pct_bp % 100);
		else
			snprintf(buf, len, "%u%%", s->pct_bp / 100);
	} else {
		int u = -1;
		uint64_t v = s->bytes;

		while (u < 3 && v && v % 1024 == 0) {
			v /= 1024;
			u++;
		}
		if (u < 0)
			snprintf(buf, len, "%llu", (unsigned long long)v);
		else
			snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
	}
	return buf;
}

uint64_t policy_round_pages(uint32_t mb_per_s, uint32_t interval_ms)
{
	uint64_t pages = (uint64_t)mb_per_s * (1u << 20) / POLICY_PAGE_SIZE * interval_ms / 1000;

	return (mb_per_s && !pages) ? 1 : pages;
}

const char *policy_sampler_name(enum policy_sampler s)
{
	static const char *const names[] = { "auto", "pebs", "damon", "hint", "faults" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const struct policy_cgroup *policy_find_cgroup(const struct policy *p, const char *path)
{
	for (unsigned i = 0; i < p->nr_cgroups; i++)
		if (!strcmp(p->cgroups[i].path, path))
			return &p->cgroups[i];
	return NULL;
}

/* --- defaults ------------------------------------------------------------- */

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->heat.sampler = POLICY_SAMPLER_AUTO;
	p->heat.half_life_ms = 2000;
	p->heat.hint_pages_per_s = 1000;
	p->heat.fault_sample_every = 1;
	p->moves.interval_ms = 1000;
	p->moves.max_promote_mb_s = 256;
	p->moves.max_demote_mb_s = 512;
	p->moves.cooldown_ms = 200;
	p->moves.hysteresis_pct = 25;
}

void policy_free(struct policy *p)
{
	for (unsigned i = 0; i < p->tiers.nr_pool_uris; i++)
		free(p->tiers.pool_uris[i]);
	for (unsigned i = 0; i < p->nr_cgroups; i++)
		free(p->cgroups[i].path);
	free(p->cgroups);
	policy_init(p);
}

/* --- sections ------------------------------------------------------------- */

/* Reject keys of OBJ (at PATH) not in KNOWN (NULL-terminated). */
static void check_keys(struct pctx *c, json_object *obj, const char *path, const char *const *known)
{
	char list[256] = "", key[160];
	size_t o = 0;

	for (unsigned i = 0; known[i]; i++)
		o += (size_t)snprintf(list + o, o < sizeof(list) ? sizeof(list) - o : 0, "%s%s",
				      i ? ", " : "", known[i]);
	json_object_object_foreach(obj, k, v)
	{
		(void)v;
		unsigned i;

		for (i = 0; known[i]; i++)
			if (!strcmp(k, known[i]))
				break;
		if (known[i])
			continue;
		snprintf(key, sizeof(key), "%s%s%s", path, path[0] ? "." : "", k);
		perr(c, key, "unknown key (known keys here: %s)", list);
	}
}

static void join(char *out, size_t len, const char *path, const char *key)
{
	snprintf(out, len, "%s%s%s", path, path[0] ? "." : "", key);
}

/* If OBJ has KEY, check it is an integer in [MIN, MAX] and store it. */
static void get_u32(struct pctx *c, json_object *obj, const char *path, const char *key,
		    uint32_t min, uint32_t max, const char *unit, uint32_t *out)
{
	json_object *v;
	char k[160], g[64];

	if (!json_object_object_get_ex(obj, key, &v))
		return;
	join(k, sizeof(k), path, key);
	int64_t n = json_object_get_int64(v);

	if (!json_object_is_type(v, json_type_int)) {
		perr(c, k, "expected an integer from %u to %u (%s), got %s (%s)", min, max, unit,
		     got(v, g, sizeof(g)), type_word(v));
		return;
	}
	if (n < min || n > max) {
		perr(c, k, "expected an integer from %u to %u (%s), got %s", min, max, unit,
		     got(v, g, sizeof(g)));
		return;
	}
	*out = (uint32_t)n;
}

static void get_size(struct pctx *c, json_object *obj, const char *path, const char *key,
		     struct policy_size *out)
{
	json_object *v;
	char k[160], g[64];

	if (!json_object_object_get_ex(obj, key, &v))
		return;
	join(k, sizeof(k), path, key);
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		*out = (struct policy_size){ .kind = POLICY_SIZE_BYTES,
					     .bytes = (uint64_t)json_object_get_int64(v) };
		return;
	}
	if (json_object_is_type(v, json_type_string) &&
	    policy_size_parse(json_object_get_string(v), out) == 0)
		return;
	perr(c, k, "expected a size like 512M or 25%%, got %s", got(v, g, sizeof(g)));
}

static void get_nodes(struct pctx *c, json_object *tiers, const char *key, int *nodes, unsigned *nr,
		      bool *given)
{
	json_object *arr;
	char k[160], g[64];

	if (!json_object_object_get_ex(tiers, key, &arr))
		return;
	*given = true;
	join(k, sizeof(k), "tiers", key);
	if (!json_object_is_type(arr, json_type_array)) {
		perr(c, k, "expected an array of NUMA node numbers like [0], got %s",
		     got(arr, g, sizeof(g)));
		return;
	}
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char ki[200];
		int64_t node = json_object_get_int64(v);

		snprintf(ki, sizeof(ki), "%s[%zu]", k, i);
		if (!json_object_is_type(v, json_type_int) || node < 0 || node > 1023) {
			perr(c, ki, "expected a NUMA node number from 0 to 1023, got %s",
			     got(v, g, sizeof(g)));
			continue;
		}
		bool dup = false;

		for (unsigned j = 0; j < *nr; j++)
			dup |= nodes[j] == node;
		if (dup) {
			perr(c, ki, "node %d is listed twice", (int)node);
			continue;
		}
		if (*nr == POLICY_MAX_NODES) {
			perr(c, ki, "too many nodes (at most %d)", POLICY_MAX_NODES);
			break;
		}
		nodes[(*nr)++] = (int)node;
	}
}

static bool pool_uri_ok(const char *s)
{
	const char *rest = NULL;

	if (!strncmp(s, "shm:", 4))
		return s[4] == '/' && s[5];
	if (!strncmp(s, "tcp://", 6))
		rest = s + 6;
	else if (!strncmp(s, "rdma://", 7))
		rest = s + 7;
	if (!rest)
		return false;
	const char *colon = strrchr(rest, ':');

	if (!colon || colon == rest)
		return false;
	char *end;
	long port = strtol(colon + 1, &end, 10);

	return colon[1] && !*end && port > 0 && port < 65536;
}

static void parse_tiers(struct pctx *c, json_object *t, struct policy *p)
{
	static const char *const known[] = { "dram", "cxl", "pool", NULL };
	struct policy_tiers *tr = &p->tiers;
	json_object *arr;
	char g[64];

	if (!json_object_is_type(t, json_type_object)) {
		perr(c, "tiers", "expected an object like {\"dram\": [0], \"cxl\": [1]}, got %s",
		     got(t, g, sizeof(g)));
		return;
	}
	check_keys(c, t, "tiers", known);
	get_nodes(c, t, "dram", tr->dram_nodes, &tr->nr_dram_nodes, &tr->dram_given);
	get_nodes(c, t, "cxl", tr->cxl_nodes, &tr->nr_cxl_nodes, &tr->cxl_given);
	for (unsigned i = 0; i < tr->nr_cxl_nodes; i++) {
		for (unsigned j = 0; j < tr->nr_dram_nodes; j++) {
			if (tr->cxl_nodes[i] != tr->dram_nodes[j])
				continue;
			char k[48];

			snprintf(k, sizeof(k), "tiers.cxl[%u]", i);
			perr(c, k, "node %d is already a DRAM node: a node belongs to one tier",
			     tr->cxl_nodes[i]);
		}
	}
	if (json_object_object_get_ex(t, "dram", &arr) &&
	    json_object_is_type(arr, json_type_array) && !json_object_array_length(arr))
		perr(c, "tiers.dram", "expected at least one DRAM node, got []");

	if (!json_object_object_get_ex(t, "pool", &arr))
		return;
	if (!json_object_is_type(arr, json_type_array)) {
		perr(c, "tiers.pool",
		     "expected an array of pool URIs like [\"tcp://10.0.0.2:7471\"], got %s",
		     got(arr, g, sizeof(g)));
		return;
	}
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char k[48];

		snprintf(k, sizeof(k), "tiers.pool[%zu]", i);
		if (!json_object_is_type(v, json_type_string) ||
		    !pool_uri_ok(json_object_get_string(v))) {
			perr(c, k,
			     "expected a pool URI like tcp://HOST:PORT, rdma://HOST:PORT or "
			     "shm:/PATH, got %s",
			     got(v, g, sizeof(g)));
			continue;
		}
		if (tr->nr_pool_uris == POLICY_MAX_POOL_URIS) {
			perr(c, k, "too many pool URIs (at most %d)", POLICY_MAX_POOL_URIS);
			break;
		}
		tr->pool_uris[tr->nr_pool_uris] = strdup(json_object_get_string(v));
		if (tr->pool_uris[tr->nr_pool_uris])
			tr->nr_pool_uris++;
	}
}

static void parse_heat(struct pctx *c, json_object *h, struct policy *p)
{
	static const char *const known[] = { "sampler", "half_life_ms", "hint_pages_per_s",
					     "fault_sample_every", NULL };
	json_object *v;
	char g[64];

	if (!json_object_is_type(h, json_type_object)) {
		perr(c, "heat", "expected an object like {\"sampler\": \"auto\"}, got %s",
		     got(h, g, sizeof(g)));
		return;
	}
	check_keys(c, h, "heat", known);
	if (json_object_object_get_ex(h, "sampler", &v)) {
		const char *s = json_object_get_string(v);
		int found = -1;

		for (int i = POLICY_SAMPLER_AUTO; i <= POLICY_SAMPLER_FAULTS; i++)
			if (json_object_is_type(v, json_type_string) &&
			    !strcmp(s, policy_sampler_name(i)))
				found = i;
		if (found < 0)
			perr(c, "heat.sampler",
			     "expected one of \"auto\", \"pebs\", \"damon\", \"hint\", \"faults\", "
			     "got %s",
			     got(v, g, sizeof(g)));
		else
			p->heat.sampler = found;
	}
	get_u32(c, h, "heat", "half_life_ms", 10, 3600000, "milliseconds", &p->heat.half_life_ms);
	get_u32(c, h, "heat", "hint_pages_per_s", 0, 1000000, "pages per second",
		&p->heat.hint_pages_per_s);
	get_u32(c, h, "heat", "fault_sample_every", 1, 65536, "keep 1 in N fault records",
		&p->heat.fault_sample_every);
}

static void parse_moves(struct pctx *c, json_object *m, struct policy *p)
{
	static const char *const known[] = { "interval_ms", "max_promote_mb_s", "max_demote_mb_s",
					     "cooldown_ms", "hysteresis_pct",	NULL };
	char g[64];

	if (!json_object_is_type(m, json_type_object)) {
		perr(c, "moves", "expected an object like {\"max_promote_mb_s\": 256}, got %s",
		     got(m, g, sizeof(g)));
		return;
	}
	check_keys(c, m, "moves", known);
	get_u32(c, m, "moves", "interval_ms", 10, 3600000, "milliseconds", &p->moves.interval_ms);
	get_u32(c, m, "moves", "max_promote_mb_s", 0, 1000000, "MiB per second, 0 = no promotions",
		&p->moves.max_promote_mb_s);
	get_u32(c, m, "moves", "max_demote_mb_s", 0, 1000000, "MiB per second, 0 = no demotions",
		&p->moves.max_demote_mb_s);
	get_u32(c, m, "moves", "cooldown_ms", 0, 3600000, "milliseconds", &p->moves.cooldown_ms);
	get_u32(c, m, "moves", "hysteresis_pct", 0, 1000, "percent", &p->moves.hysteresis_pct);
}

static void parse_cgroup(struct pctx *c, json_object *o, const char *path, struct policy *p)
{
	static const char *const known[] = { "path", "dram", "cxl", "pool", NULL };
	struct policy_cgroup *cg = &p->cgroups[p->nr_cgroups];
	json_object *v;
	char k[160], g[64];

	if (!json_object_is_type(o, json_type_object)) {
		perr(c, path,
		     "expected an object like {\"path\": \"/sys/fs/cgroup/fn-a\", \"dram\": "
		     "\"512M\"}, got %s",
		     got(o, g, sizeof(g)));
		return;
	}
	check_keys(c, o, path, known);
	join(k, sizeof(k), path, "path");
	if (!json_object_object_get_ex(o, "path", &v)) {
		perr(c, path,
		     "missing key \"path\": the cgroup2 directory, like \"/sys/fs/cgroup/fn-a\"");
		return;
	}
	const char *s = json_object_get_string(v);

	if (!json_object_is_type(v, json_type_string) || s[0] != '/' || strstr(s, "/../") ||
	    strlen(s) >= 4096) {
		perr(c, k,
		     "expected an absolute cgroup2 directory like \"/sys/fs/cgroup/fn-a\", got %s",
		     got(v, g, sizeof(g)));
		return;
	}
	if (policy_find_cgroup(p, s)) {
		perr(c, k, "cgroup %s is listed twice", s);
		return;
	}
	memset(cg, 0, sizeof(*cg));
	get_size(c, o, path, "dram", &cg->dram);
	get_size(c, o, path, "cxl", &cg->cxl);
	if (json_object_object_get_ex(o, "pool", &v)) {
		join(k, sizeof(k), path, "pool");
		if (json_object_is_type(v, json_type_boolean))
			cg->pool = json_object_get_boolean(v);
		else
			perr(c, k, "expected true or false, got %s", got(v, g, sizeof(g)));
	}
	cg->path = strdup(s);
	if (cg->path)
		p->nr_cgroups++;
}

static void parse_cgroups(struct pctx *c, json_object *a, struct policy *p)
{
	char g[64], path[48];

	if (!json_object_is_type(a, json_type_array)) {
		perr(c, "cgroups",
		     "expected an array of cgroup entries like [{\"path\": ...}], got %s",
		     got(a, g, sizeof(g)));
		return;
	}
	size_t n = json_object_array_length(a);

	p->cgroups = calloc(n ? n : 1, sizeof(*p->cgroups));
	if (!p->cgroups) {
		c->km.nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "cgroups[%zu]", i);
		parse_cgroup(c, json_object_array_get_idx(a, i), path, p);
	}
}

/* --- tiers and JSON -------------------------------------------------------- */

static bool has_node(const int *nodes, unsigned nr, int node)
{
	for (unsigned i = 0; i < nr; i++)
		if (nodes[i] == node)
			return true;
	return false;
}

int policy_tier_nodes(const struct policy_tiers *t, const uint32_t *rank, unsigned nr_nodes,
		      struct policy_tier_nodes *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < t->nr_dram_nodes + t->nr_cxl_nodes; i++) {
		int n =
		    i < t->nr_dram_nodes ? t->dram_nodes[i] : t->cxl_nodes[i - t->nr_dram_nodes];

		if ((unsigned)n >= nr_nodes || rank[n] == UINT32_MAX) {
			snprintf(out->how, sizeof(out->how),
				 "the policy names node %d, which this machine does not have", n);
			return -ENOENT;
		}
	}
	if (t->dram_given) {
		memcpy(out->dram, t->dram_nodes, sizeof(out->dram));
		out->nr_dram = t->nr_dram_nodes;
	}
	if (t->cxl_given) {
		memcpy(out->cxl, t->cxl_nodes, sizeof(out->cxl));
		out->nr_cxl = t->nr_cxl_nodes;
	}
	for (unsigned n = 0; n < nr_nodes; n++) {
		if (rank[n] == UINT32_MAX || has_node(t->dram_nodes, t->nr_dram_nodes, (int)n) ||
		    has_node(t->cxl_nodes, t->nr_cxl_nodes, (int)n))
			continue;
		if (rank[n] == 0 && !t->dram_given && out->nr_dram < POLICY_MAX_NODES)
			out->dram[out->nr_dram++] = (int)n;
		else if (rank[n] > 0 && !t->cxl_given && out->nr_cxl < POLICY_MAX_NODES)
			out->cxl[out->nr_cxl++] = (int)n;
	}
	snprintf(out->how, sizeof(out->how), "DRAM nodes %s, CXL nodes %s",
		 t->dram_given ? "from the policy" : "discovered (fastest memory tier)",
		 t->cxl_given ? "from the policy" : "discovered (slower memory tiers)");
	if (!out->nr_dram) {
		snprintf(out->how, sizeof(out->how), "no DRAM node: %s",
			 t->dram_given ? "the policy lists none"
				       : "no node is in the fastest memory tier");
		return -ENODEV;
	}
	return 0;
}

static json_object *nodes_json(const int *nodes, unsigned nr)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < nr; i++)
		json_object_array_add(a, json_object_new_int(nodes[i]));
	return a;
}

static json_object *size_json(const struct policy_size *s)
{
	char buf[32];

	return json_object_new_string(policy_size_format(s, buf, sizeof(buf)));
}

/* json-c's adders take ownership and cope with NULL values; a NULL object
 * anywhere is found by the final check of the root. */
struct json_object *policy_to_json(const struct policy *p)
{
	json_object *root = json_object_new_object();
	json_object *tiers = json_object_new_object();
	json_object *heat = json_object_new_object();
	json_object *moves = json_object_new_object();
	json_object *cgroups = json_object_new_array();
	json_object *pool = json_object_new_array();

	if (!root || !tiers || !heat || !moves || !cgroups || !pool) {
		json_object_put(root);
		json_object_put(tiers);
		json_object_put(heat);
		json_object_put(moves);
		json_object_put(cgroups);
		json_object_put(pool);
		return NULL;
	}
	if (p->tiers.dram_given)
		json_object_object_add(tiers, "dram",
				       nodes_json(p->tiers.dram_nodes, p->tiers.nr_dram_nodes));
	if (p->tiers.cxl_given)
		json_object_object_add(tiers, "cxl",
				       nodes_json(p->tiers.cxl_nodes, p->tiers.nr_cxl_nodes));
	for (unsigned i = 0; i < p->tiers.nr_pool_uris; i++)
		json_object_array_add(pool, json_object_new_string(p->tiers.pool_uris[i]));
	json_object_object_add(tiers, "pool", pool);
	json_object_object_add(root, "tiers", tiers);

	json_object_object_add(heat, "sampler",
			       json_object_new_string(policy_sampler_name(p->heat.sampler)));
	json_object_object_add(heat, "half_life_ms", json_object_new_int64(p->heat.half_life_ms));
	json_object_object_add(heat, "hint_pages_per_s",
			       json_object_new_int64(p->heat.hint_pages_per_s));
	json_object_object_add(heat, "fault_sample_every",
			       json_object_new_int64(p->heat.fault_sample_every));
	json_object_object_add(root, "heat", heat);

	json_object_object_add(moves, "interval_ms", json_object_new_int64(p->moves.interval_ms));
	json_object_object_add(moves, "max_promote_mb_s",
			       json_object_new_int64(p->moves.max_promote_mb_s));
	json_object_object_add(moves, "max_demote_mb_s",
			       json_object_new_int64(p->moves.max_demote_mb_s));
	json_object_object_add(moves, "cooldown_ms", json_object_new_int64(p->moves.cooldown_ms));
	json_object_object_add(moves, "hysteresis_pct",
			       json_object_new_int64(p->moves.hysteresis_pct));
	json_object_object_add(root, "moves", moves);

	for (unsigned i = 0; i < p->nr_cgroups; i++) {
		json_object *cg = json_object_new_object();

		if (!cg)
			continue;
		json_object_object_add(cg, "path", json_object_new_string(p->cgroups[i].path));
		json_object_object_add(cg, "dram", size_json(&p->cgroups[i].dram));
		json_object_object_add(cg, "cxl", size_json(&p->cgroups[i].cxl));
		json_object_object_add(cg, "pool", json_object_new_boolean(p->cgroups[i].pool));
		json_object_array_add(cgroups, cg);
	}
	json_object_object_add(root, "cgroups", cgroups);
	return root;
}

/* --- entry points ---------------------------------------------------------- */

int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_diag *diag)
{
	static const char *const known[] = { "tiers", "heat", "moves", "cgroups", NULL };
	struct pctx c = { .diag = diag };
	struct json_tokener *tok;
	json_object *root, *v;
	char path[256] = "", g[64];
	int ret = 0;

	memset(diag, 0, sizeof(*diag));
	snprintf(diag->file, sizeof(diag->file), "%s", file);
	policy_init(out);

	/* json-c needs the terminating NUL to finish a top-level scalar */
	char *copy = malloc(len + 1);

	tok = json_tokener_new();
	if (!tok || !copy) {
		if (tok)
			json_tokener_free(tok);
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = json_tokener_parse_ex(tok, copy, (int)len + 1);
	free(copy);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);

	json_tokener_free(tok);
	if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof ||
	    (!root && jerr == json_tokener_success)) {
		diag_line(diag, offset_line(text, len), "",
			  "unexpected end of file: an object or array is not closed");
		json_object_put(root);
		return -EINVAL;
	}
	if (jerr != json_tokener_success) {
		diag_line(diag, offset_line(text, end), "", "syntax error: %s",
			  json_tokener_error_desc(jerr));
		return -EINVAL;
	}

	c.km = (struct keymap){ .text = text, .len = len, .pos = 0, .line = 1 };
	km_skip(&c.km);
	km_add(&c.km, "", c.km.line);
	km_value(&c.km, path, sizeof(path));
	km_skip(&c.km);
	if (c.km.pos < len) {
		diag_line(diag, c.km.line, "",
			  "unexpected text after the policy object: a policy is one JSON object");
		goto out;
	}
	if (c.km.nomem) {
		ret = -ENOMEM;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		perr(&c, "", "expected a JSON object like {\"cgroups\": [...]}, got %s",
		     got(root, g, sizeof(g)));
		goto out;
	}
	for (unsigned i = 0; i < c.km.n; i++)
		if (c.km.v[i].duplicate)
			diag_line(diag, c.km.v[i].line, c.km.v[i].path,
				  "duplicate key: each key may appear once in its object");
	check_keys(&c, root, "", known);
	if (json_object_object_get_ex(root, "tiers", &v))
		parse_tiers(&c, v, out);
	if (json_object_object_get_ex(root, "heat", &v))
		parse_heat(&c, v, out);
	if (json_object_object_get_ex(root, "moves", &v))
		parse_moves(&c, v, out);
	if (json_object_object_get_ex(root, "cgroups", &v))
		parse_cgroups(&c, v, out);
	if (c.km.nomem)
		ret = -ENOMEM;
out:
	km_free(&c.km);
	json_object_put(root);
	/* in file order, as a person fixes them (insertion sort: stable, tiny) */
	for (unsigned i = 1; i < diag->nr; i++) {
		struct policy_error e = diag->errs[i];
		unsigned j = i;

		for (; j > 0 && diag->errs[j - 1].line > e.line; j--)
			diag->errs[j] = diag->errs[j - 1];
		diag->errs[j] = e;
	}
	if (!ret && diag->nr)
		ret = -EINVAL;
	if (ret)
		policy_free(out);
	return ret;
}

int policy_load_file(const char *path, struct policy *out, struct policy_diag *diag)
{
	char *buf;
	size_t len = 0;
	int fd, ret = 0;

	memset(diag, 0, sizeof(*diag));
	snprintf(diag->file, sizeof(diag->file), "%s", path);
	policy_init(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		diag_line(diag, 0, "", "cannot open: %s", strerror(-ret));
		return ret;
	}
	buf = malloc(POLICY_MAX_FILE_BYTES + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, POLICY_MAX_FILE_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			diag_line(diag, 0, "", "cannot read: %s", strerror(-ret));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_MAX_FILE_BYTES) {
			ret = -EFBIG;
			diag_line(diag, 0, "", "larger than %u bytes: not a policy file",
				  POLICY_MAX_FILE_BYTES);
			break;
		}
	}
	close(fd);
	if (!ret)
		ret = policy_parse(path, buf, len, out, diag);
	free(buf);
	return ret;
}
