#!/bin/bash
# timeout: 300
# pager_node — the pager decides the NUMA node of the pages it brings back:
# in the two-node guest (node 1: memory only, a lower tier — a CXL
# expander), a program under `tierctl run --local-limit 8M` writes 32 MiB
# (most goes to the pool), reads it all back, and move_pages(2) (status
# query) says where its present pages are: on node 1 with --node 1, on
# node 0 with --node 0, and on node 1 by default (the CXL node).
. "$(dirname "$0")/../lib.sh"
need_root
in_vm || skip "runs inside the tools/vmtest guest"
[ -d /sys/devices/system/node/node1 ] || skip "needs NUMA node 1"
for b in tierctl tier-nodecheck; do
	[ -x "$TIERD_BIN/$b" ] || die "$TIERD_BIN/$b not built (make)"
done
make_tmpdir

# nodecheck NAME NODE-ARGS...: run it; sets its output line in $TEST_TMP/NAME.out
# (one output file for both streams, as .out and .err; a run still going
# after 80 s has its threads shown: run_watched)
nodecheck() {
	local name=$1 rc
	shift
	run_watched 80 "$TEST_TMP/$name.out" "$TIERD_BIN/tierctl" run --pool mem:128M \
		--local-limit 8M -v "$@" -- "$TIERD_BIN/tier-nodecheck" --size 32M
	rc=$?
	cp "$TEST_TMP/$name.out" "$TEST_TMP/$name.err"
	cat "$TEST_TMP/$name.out"
	[ "$rc" = 0 ] || digest "pager_node $name: exit $rc"
	return $rc
}
val() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$TEST_TMP/$1.out"; }
# at least 90% of the present pages on node N, and the pager fetched pages
mostly_on() {
	local name=$1 node=$2 present on fetched
	present=$(val "$name" present)
	on=$(val "$name" "node$node")
	fetched=$(val "$name" fetched)
	[ -n "$present" ] && [ "$present" -gt 1000 ] && [ "${fetched:-0}" -gt 1000 ] &&
		[ $((on * 10)) -ge $((present * 9)) ]
}

check "--node 1: runs, data intact" nodecheck n1 --node 1
check "--node 1: the pager started" grep -q "tierd-pager.*started" "$TEST_TMP/n1.err"
check "--node 1: fetched pages are on node 1" mostly_on n1 1
check "--node 0: runs, data intact" nodecheck n0 --node 0
check "--node 0: fetched pages are on node 0" mostly_on n0 0
check "default: runs, data intact" nodecheck auto
check "default: the CXL node (1) is chosen" grep -q "node 1," "$TEST_TMP/auto.err"
check "default: fetched pages are on node 1" mostly_on auto 1
