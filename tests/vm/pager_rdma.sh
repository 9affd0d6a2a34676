#!/bin/bash
# pager_rdma.sh — libtierpager over the RDMA pool (real verbs over
# Soft-RoCE): tier-memcheck under `tierctl run --pool rdma://...` writes
# versioned patterns from several threads to a region several times the
# local limit while eviction runs, then verifies every page; the same with
# mremap/munmap/madvise; the pager really evicted to and fetched from the
# pool, and no page came back wrong; then the same while tier-memsrv drops
# every connection every few seconds (--drop-every), so the pager's
# transport reconnects under load and reattaches to its lease. Skips on a
# kernel without rdma_rxe.
# timeout: 1000
. "$(dirname "$0")/../lib.sh"

in_vm || skip "runs only inside the tools/vmtest guest (tests/run-tests.sh --lane vm)"
need_root
need_cmd ip rdma
. "$(dirname "$0")/../host/pager_common.inc"
make_tmpdir
setup_rxe pgr 10.199.1
export TIERD_POOL_TIMEOUT_MS=60000 # TCG is slow; generous

POOL=rdma://10.199.1.1:7471
"$MEMSRV" --listen "$POOL" --size 128M --lease-grace 1 -v >"$TEST_TMP/memsrv.log" 2>&1 &
srv=$!
on_exit "stop_pid $srv"
wait_for 60 grep -q lending "$TEST_TMP/memsrv.log" ||
	{ cat "$TEST_TMP/memsrv.log"; die "tier-memsrv did not start on $POOL"; }

# 2 threads, 24 MiB through a 6 MiB limit (4x), two versions of every
# page, then mremap (forced move), munmap of half, MADV_DONTNEED of a
# quarter; TCG makes every RDMA transfer slow, hence the small sizes
log "memcheck: --local-limit 6M --size 24M --threads 2 --rounds 2 --remap"
run_watched "${TIERD_TEST_WATCH_S:-450}" "$TEST_TMP/remap.log" "$TIERCTL" run --pool "$POOL" --pool-size 64M \
	--local-limit 6M -v -- "$MEMCHECK" --size 24M --threads 2 --rounds 2 --remap \
	--max-resident-mib 6
rc=$?
pager_digest remap $rc
sed 's/^/    /' "$TEST_TMP/remap.log"
check "rdma: threads, rounds, mremap, munmap, madvise: every page verified" [ $rc = 0 ]
check "rdma: the pager evicted to and fetched from the RDMA pool" pager_was_busy remap
check "rdma: RssAnon within limit + 8 MiB" rss_anon_within remap 14
check "rdma: the pager's pool space is freed after it exits" wait_for 60 grep -Eq \
	"released by the client|freed \(grace expired\)" "$TEST_TMP/memsrv.log"
log "server log:"
tail -n 20 "$TEST_TMP/memsrv.log"

# Reconnects under load: every few seconds the server drops the client's
# connections (its lease lingers); the transport redials with its lease
# token and resends. A reconnect allocates (CM id, QP) on a pager thread:
# this once deadlocked the evictor on its own write-protected page.
# The local limit is checked in the run above, not here: while the pool
# is unreachable nothing can be evicted, and malloc memory the scanner
# adopts meanwhile stays resident until the redial (seen: 11 MiB of a
# 6 MiB limit on 6.1, data intact).
POOL2=rdma://10.199.1.1:7472
"$MEMSRV" --listen "$POOL2" --size 128M --lease-grace 60 --drop-every 5 -v \
	>"$TEST_TMP/memsrv2.log" 2>&1 &
srv2=$!
on_exit "stop_pid $srv2"
wait_for 60 grep -q lending "$TEST_TMP/memsrv2.log" ||
	{ cat "$TEST_TMP/memsrv2.log"; die "tier-memsrv did not start on $POOL2"; }
log "memcheck with drops: --local-limit 6M --size 16M --threads 2 --rounds 2 --malloc"
run_watched "${TIERD_TEST_WATCH_S:-450}" "$TEST_TMP/drops.log" "$TIERCTL" run --pool "$POOL2" --pool-size 64M \
	--local-limit 6M -v -- "$MEMCHECK" --size 16M --threads 2 --rounds 2 --malloc
rc=$?
pager_digest drops $rc
sed 's/^/    /' "$TEST_TMP/drops.log"
check "rdma with drops: every page verified" [ $rc = 0 ]
check "rdma with drops: the pager evicted to and fetched from the pool" pager_was_busy drops
check "rdma with drops: the server dropped the pager's connections" \
	grep -Eq "dropped [1-9][0-9]* connection" "$TEST_TMP/memsrv2.log"
check "rdma with drops: the pager reattached to its lease" \
	grep -Eq "(reclaimed|joined) by" "$TEST_TMP/memsrv2.log"
log "server log (drops):"
tail -n 20 "$TEST_TMP/memsrv2.log"
