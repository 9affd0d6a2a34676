#!/bin/bash
# pager_pool_lost.sh — when the pool goes away, an access to a page that
# lives there fails loudly, never as a zero page: tier-memcheck writes
# 64 MiB through a 16 MiB limit (TCP pool), then the server is killed; the
# verification reads pages from the pool, the transport gives up after
# TIERD_POOL_TIMEOUT_MS, and the pager logs the failure and poisons the page
# (SIGBUS) or aborts — the process must die by a signal, not report data.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
need_root
. "$(dirname "$0")/pager_common.inc"
make_tmpdir
T=$TEST_TMP
pager_pool tcp 512M
SRV_PID=$POOL_PID

TIERD_POOL_TIMEOUT_MS=2000 "$TIERCTL" run --pool "$POOL" --pool-size 256M --local-limit 16M -v -- \
	"$MEMCHECK" --size 64M --threads 2 --rounds 1 --wait-file "$T/go" >"$T/mc.log" 2>&1 &
MC=$!
on_exit "stop_pid $MC"
check "memcheck wrote its data" wait_for 120 test -e "$T/go.ready"
check "the pager evicted to the pool" grep -q "tierd-pager.*started" "$T/mc.log"
kill -KILL "$SRV_PID"
touch "$T/go"
wait $MC
rc=$?
cat "$T/mc.log"
check "the process died by a signal (SIGBUS or SIGABRT), exit $rc" [ $rc = 135 -o $rc = 134 ]
check "the failure is logged with its reason" grep -q "pool read for page .* failed" "$T/mc.log"
check "no verification result was reported" bash -c "! grep -q 'bad pages' '$T/mc.log'"
