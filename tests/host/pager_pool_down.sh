#!/bin/bash
# pager_pool_down.sh — a pool that takes no writes for a while (the server
# stopped: connections hang, every write times out) must not stop the
# program: the pager lets resident memory go over the local limit, says so
# once, and the program keeps writing new memory; when the server is back
# every page reads back intact. tier-memcheck writes 32 MiB through a
# 16 MiB limit (TCP pool), the server is stopped (SIGSTOP), the program
# maps and writes 24 MiB more, the server continues, everything is verified.
# (The pager used to retry the eviction in its fault path for ever.)
# timeout: 180
. "$(dirname "$0")/../lib.sh"
need_root
. "$(dirname "$0")/pager_common.inc"
make_tmpdir
T=$TEST_TMP

# a lease that outlives the outage: the pages in the pool must come back
POOL_GRACE=120 pager_pool tcp 256M
SRV=$POOL_PID
on_exit "kill -CONT $SRV 2>/dev/null"

TIERD_POOL_TIMEOUT_MS=2000 "$TIERCTL" run --pool "$POOL" --pool-size 128M \
	--local-limit 16M -v -- "$MEMCHECK" --size 32M --threads 2 --rounds 1 \
	--wait-file "$T/go" --grow 24M >"$T/mc.log" 2>&1 &
MC=$!
on_exit "stop_pid $MC"
check "memcheck wrote its data through the pool" wait_for 120 test -e "$T/go.ready"
kill -STOP "$SRV"
touch "$T/go"
check "with the server stopped, 24 MiB of new memory was written" wait_for 60 test -e "$T/go.grown"
kill -CONT "$SRV"
touch "$T/go.verify"
wait $MC
rc=$?
sed 's/^/    /' "$T/mc.log"
check "the program finished (exit $rc) and every page verified" [ $rc = 0 ]
check "... the old region: 0 bad pages" grep -q " 0 bad pages, 0 mismatches" "$T/mc.log"
check "... the new region: 0 bad pages" grep -q "grown region: 0 bad pages" "$T/mc.log"
check "the pager said why it went over the limit, once" \
	[ "$(grep -c 'the pool takes no writes' "$T/mc.log")" = 1 ]
