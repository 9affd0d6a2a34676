#!/bin/bash
# pager_pool_full.sh — a pool too small for what must leave: 64 MiB through
# a 16 MiB limit into a 16 MiB pool over TCP. The pager cannot evict once
# every slot is taken; it must say so once, let resident memory go over the
# limit, and keep the program running with every page intact (it used to
# spin in its fault path waiting for space that never came).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
need_root
. "$(dirname "$0")/pager_common.inc"
make_tmpdir
pager_pool tcp 256M
MEMCHECK_TIMEOUT=60

MEMCHECK_POOL_SIZE=16M memcheck full 16 --size 64M --threads 2 --rounds 2
rc=$?
check "the program finished (exit $rc; 124: it hung) and every page verified" [ $rc = 0 ]
check "... 0 bad pages" grep -q " 0 bad pages, 0 mismatches" "$TEST_TMP/full.log"
check "the pager filled the pool first" grep -Eq "evicted [1-9][0-9]*" "$TEST_TMP/full.log"
check "it said why it went over the limit, once" \
	[ "$(grep -c 'pool full: .*resident memory goes over the local limit' "$TEST_TMP/full.log")" = 1 ]

# What fits in local memory and the pool together stays within the limit
# even when the pool fills up: pages that own a slot (fetched back from
# the pool) still go when those that would need a new one cannot (it used
# to give up at the first page without a slot and go over the limit).
MEMCHECK_POOL_SIZE=12M memcheck fits 16 --size 24M --threads 2 --rounds 3
rc=$?
check "24 MiB through 16 MiB into 12 MiB: finished, every page verified" [ $rc = 0 ]
check "... the pool was full at times" grep -q "pool full: .*those with one still go" "$TEST_TMP/fits.log"
check "... RssAnon within the limit + 6 MiB" rss_anon_within fits 22
