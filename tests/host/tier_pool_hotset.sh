#!/bin/bash
# timeout: 150
# tier_pool_hotset — the pool tier driven by tierd: a 128 MiB workload with
# a 16 MiB hot set that takes every access after the fill (with 10% spread
# over 128 MiB at memory speed every page is touched several times a
# second: nothing would be cold) runs under the pager (`tierctl run
# --pool`, no --local-limit: every eviction is tierd's decision) in a
# cgroup attached with `--dram 32M --pool` (one NUMA node: DRAM + pool).
# Within a bounded time most cold pages are in the pool (the pager's own
# report through tierd), the hot set stays resident (the workload's
# move_pages report), the resident footprint respects the budget (+ slack),
# tierd saw the pool (status: bytes.pool, pager stats, hint faults), and
# at the end every page verifies. Then tierd goes away: the workload keeps
# running; tierd comes back: the pager re-registers.
. "$(dirname "$0")/../lib.sh"

need_root
need_cmd jq
need_bin tierd tierctl tier-memsrv wl-hotset
[ -r "$TIERD_LIB/libtierpager.so" ] || die "build first: make build/lib/libtierpager.so"
make_tmpdir
CG=$(make_cgroup "tier-pool-hotset.$$") || exit $?

status() { ctl -j status >"$TEST_TMP/status.json" 2>/dev/null && jq -r "$1" "$TEST_TMP/status.json"; }
cg() { status ".cgroups[] | select(.path == \"$CG\") | $1"; }

# the pool: tier-memsrv over shared memory
f=/dev/shm/tier-pool-hotset-$$
on_exit "rm -f $f $f.sock"
"$TIERD_BIN/tier-memsrv" --listen "shm:$f" --size 256M --lease-grace 1 >"$TEST_TMP/memsrv.log" 2>&1 &
MEMSRV_PID=$!
on_exit "stop_pid $MEMSRV_PID"
wait_for 30 grep -q lending "$TEST_TMP/memsrv.log" || { cat "$TEST_TMP/memsrv.log"; die "tier-memsrv did not start"; }

P=$TEST_TMP/policy.json
cat >"$P" <<JSON
{ "moves": { "interval_ms": 500 } }
JSON
start_tierd --policy "$P"
attach_cgroup "$CG" --dram 32M --pool

# the workload: its pager dials tierd's socket (TIERD_SOCKET)
TIERD_SOCKET=$TIERD_SOCK bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/tierctl" run --pool "$3" --pool-size 256M -v -- "$2/wl-hotset" --size-mb 128 --hot-mb 16 --hot-pct 100 --duration 300' \
	_ "$CG" "$TIERD_BIN" "shm:$f" >"$TEST_TMP/wl.out" 2>"$TEST_TMP/wl.err" &
WL_PID=$!
on_exit "stop_pid $WL_PID"
wait_for 30 grep -q '^ready' "$TEST_TMP/wl.out" ||
	{ _show_threads "$WL_PID"; die "workload not ready: $(cat "$TEST_TMP/wl.out" "$TEST_TMP/wl.err")"; }
check "the pager registered with tierd" wait_for 20 grep -q "pager of pid $WL_PID registered" "$TIERD_LOG"

pool_mib() { echo $(($(cg '.tiering.pager.pool_bytes // 0') >> 20)); }
# 128 MiB - 32 MiB budget: about 96 MiB must go; 80 is "most of the cold pages"
cold_in_pool() { [ "$(pool_mib)" -ge 80 ]; }
t0=$SECONDS
check "most cold pages are in the pool (>= 80 MiB)" wait_for 60 cold_in_pool
log "pool: $(pool_mib) MiB after $((SECONDS - t0)) s"
sleep 5 # steady state: a few more rounds with the hot set in use

kill -USR2 "$WL_PID"
wait_for 10 grep -q '^report' "$TEST_TMP/wl.out" || die "no report from the workload"
r=$(grep '^report' "$TEST_TMP/wl.out" | tail -n 1)
log "workload: $r"
hot=$(sed 's/.*hot_on_node0=\([0-9]*\).*/\1/' <<<"$r")
hotn=$(sed 's/.*hot_pages=\([0-9]*\).*/\1/' <<<"$r")
present=$(sed 's/.*present=\([0-9]*\).*/\1/' <<<"$r")
check "the hot set stays resident (>= 90%: $hot of $hotn pages)" [ $((hot * 100)) -ge $((hotn * 90)) ]
# budget 32 MiB = 8192 pages; slack: one round's fetches + hint samples in flight
check "resident pages within the DRAM budget + 25% ($present pages)" [ "$present" -le 10240 ]
check "status: bytes.pool is the pool (>= 80 MiB)" [ $(($(cg .tiering.bytes.pool) >> 20)) -ge 80 ]
check "status: the pool is on" [ "$(cg .tiering.pool)" = "on (pager connected)" ]
check "status: evict commands were sent" [ "$(cg .tiering.pager.evict_cmd_pages)" -gt 0 ]
check "status: hint faults were armed" [ "$(cg .tiering.pager.hints)" -gt 0 ]
log "pager: $(cg .tiering.pager | jq -c .)"
ctl status >"$TEST_TMP/status.txt"

# tierd goes away: the workload keeps running; it comes back: re-registered
stop_pid "$TIERD_PID"
sleep 3
kill -0 "$WL_PID" 2>/dev/null || die "the workload died with tierd"
check "the pager noticed and runs on its own" grep -q "tierd channel closed" "$TEST_TMP/wl.err"
start_tierd --policy "$P"
attach_cgroup "$CG" --dram 32M --pool
reregistered() { [ "$(grep -c "registered with tierd" "$TEST_TMP/wl.err")" -ge 2 ]; }
check "the pager re-registered with the new tierd" wait_for 20 reregistered

kill -TERM "$WL_PID"
wait "$WL_PID"
rc=$?
tail -n 2 "$TEST_TMP/wl.out"
check "every page verifies" [ $rc = 0 ]
check "the workload says verify ok" grep -q '^verify ok' "$TEST_TMP/wl.out"
grep "round $CG" "$TIERD_LOG" | tail -n 2
if [ ${#_checks_failed[@]} -gt 0 ]; then # (lib.sh shows tierd's log)
	echo "--- workload stderr:"
	tail -20 "$TEST_TMP/wl.err"
fi
