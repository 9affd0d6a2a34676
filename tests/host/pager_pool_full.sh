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

timeout 60 "$TIERCTL" run --pool "$POOL" --pool-size 16M --local-limit 16M -v -- \
	"$MEMCHECK" --size 64M --threads 2 --rounds 2 >"$TEST_TMP/full.log" 2>&1
rc=$?
sed 's/^/    /' "$TEST_TMP/full.log"
check "the program finished (exit $rc; 124: it hung) and every page verified" [ $rc = 0 ]
check "... 0 bad pages" grep -q " 0 bad pages, 0 mismatches" "$TEST_TMP/full.log"
check "the pager filled the pool first" grep -Eq "evicted [1-9][0-9]*" "$TEST_TMP/full.log"
check "it said why it went over the limit, once" \
	[ "$(grep -c 'pool full: .*resident memory goes over the local limit' "$TEST_TMP/full.log")" = 1 ]
