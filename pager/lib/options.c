// SPDX-License-Identifier: GPL-2.0
/*
 * options.c — libtierpager's options: defaults, the TIERD_* environment
 * that `tierctl run` sets, and size parsing. Pure (getenv only), so the
 * unit tests cover every bad value and its message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tierd/pager.h"

void tier_pager_opts_init(struct tier_pager_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->node = TIER_PAGER_NODE_DEFAULT;
}

int tier_pager_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !*s) {
		snprintf(err, errlen, "empty size: give bytes or a number with K, M, G or T");
		return -EINVAL;
	}
	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "bad size '%s': it must start with a digit", s);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "size '%s' is too large", s);
		return -ERANGE;
	}
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	else if (!shift && !strcmp(end, "B"))
		end++;
	if (*end) {
		snprintf(err, errlen,
			 "bad size '%s': use a number with an optional K, M, G or T suffix", s);
		return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift)) {
		snprintf(err, errlen, "size '%s' is too large", s);
		return -ERANGE;
	}
	*bytes = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *name, const char *s, unsigned long max, unsigned long *out,
		      char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || *s == '-') {
		snprintf(err, errlen, "%s='%s': expected a whole number up to %lu", name, s, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int tier_pager_opts_from_env(struct tier_pager_opts *o, char *err, size_t errlen)
{
	const char *s;
	unsigned long v;
	int rc;

	tier_pager_opts_init(o);
	o->scan_maps = true;
	s = getenv("TIERD_POOL");
	if (!s || !*s) {
		snprintf(err, errlen, "TIERD_POOL is not set: no pool to page to");
		return -ENOENT;
	}
	o->pool_uris = s;
	s = getenv("TIERD_POOL_SIZE");
	if (s && *s) {
		rc = tier_pager_parse_size(s, &o->pool_bytes, err, errlen);
		if (rc)
			return rc;
	}
	s = getenv("TIERD_LOCAL_LIMIT");
	if (s && *s) {
		rc = tier_pager_parse_size(s, &o->local_limit_bytes, err, errlen);
		if (rc)
			return rc;
		if (o->local_limit_bytes && o->local_limit_bytes < (1u << 20)) {
			snprintf(err, errlen,
				 "TIERD_LOCAL_LIMIT=%s: the local limit must be at least 1M", s);
			return -EINVAL;
		}
	}
	s = getenv("TIERD_NODE");
	if (s && *s) {
		if (!strcmp(s, "local")) {
			o->node = TIER_PAGER_NODE_LOCAL;
		} else if (!strcmp(s, "auto")) {
			o->node = TIER_PAGER_NODE_DEFAULT;
		} else {
			rc = parse_uint("TIERD_NODE", s, 1023, &v, err, errlen);
			if (rc)
				return rc;
			o->node = (int)v;
		}
	}
	s = getenv("TIERD_HANDLERS");
	if (s && *s) {
		rc = parse_uint("TIERD_HANDLERS", s, 16, &v, err, errlen);
		if (rc)
			return rc;
		o->nr_handlers = (unsigned int)v;
	}
	s = getenv("TIERD_SPIN_US");
	if (s && *s) {
		rc = parse_uint("TIERD_SPIN_US", s, 1000000, &v, err, errlen);
		if (rc)
			return rc;
		o->spin_us = (unsigned int)v;
	}
	s = getenv("TIERD_VERBOSE");
	if (s && *s) {
		rc = parse_uint("TIERD_VERBOSE", s, 9, &v, err, errlen);
		if (rc)
			return rc;
		o->verbose = (unsigned int)v;
	}
	s = getenv("TIERD_PREFETCH");
	if (s && *s) {
		rc = parse_uint("TIERD_PREFETCH", s, 1, &v, err, errlen);
		if (rc)
			return rc;
		o->no_prefetch = v == 0;
	}
	s = getenv("TIERD_IDLE_POLL");
	if (s && *s) {
		rc = parse_uint("TIERD_IDLE_POLL", s, 1, &v, err, errlen);
		if (rc)
			return rc;
		o->idle_poll = v == 1;
	}
	return 0;
}
