#!/bin/bash
# timeout: 480
# tier_pool3 — the three tiers together, in the two-node guest: DRAM
# (node 0), CXL (node 1) and the pool (tier-memsrv over TCP on 127.0.0.1).
# A 128 MiB workload with a 16 MiB hot set runs under the pager (`tierctl
# run --pool tcp://...`); its pager first-touches every page onto the CXL
# node. Then its cgroup is attached with a 24 MiB DRAM budget, a 32 MiB
# CXL budget and --pool: CXL is four times over its budget, DRAM empty.
# Within a bounded time (TCG is slow), at one sample:
#   - >= 90% of the hot pages are on node 0,
#   - the cgroup's anonymous memory on node 0 is within the DRAM budget
#     and the buffer's pages on node 1 within the CXL budget (+ slack:
#     pages the pager fetched on faults since the last round land on
#     node 1 first; the cgroup's other memory there gets OTHER_MB more),
#   - the pool holds the rest (>= 128 - 24 - 32 - slack MiB),
# and every page verifies at the end.
# The hot set takes every access after the fill (--hot-pct 100): a pool
# fault costs ~13 ms under TCG, so with 10% of the accesses spread over
# the buffer the workload is fault-bound at ~1,400 accesses/s and DAMON
# cannot tell the hot set from the rest (measured: stuck at 73% of the
# hot set on node 0). Heat for resident pages: DAMON vaddr (tierd's
# kdamond); on Debian's 6.1 (no DAMON) the test skips, see below.
. "$(dirname "$0")/../lib.sh"

CONVERGE_S=${TIER_POOL3_S:-150}
SIZE_MB=128
HOT_MB=16
DRAM_MB=24
CXL_MB=32
# pages fetched on faults between two rounds land on the CXL node before
# tierd sees them; one round of them is allowed over the budgets
SLACK_MB=${TIER_POOL3_SLACK_MB:-4}
# the cgroup's anonymous memory besides the buffer: on 6.12 about 1,700
# pages of it go to the pool every round and are back on the CXL node by
# the next (seen: buffer on node 1 31 MiB, cgroup 38 MiB; open, see the
# issue notes), so the cgroup-wide CXL check allows for them; the buffer
# itself is held to the budget + slack
OTHER_MB=${TIER_POOL3_OTHER_MB:-8}
need_root
need_cmd jq
in_vm || skip "runs inside the tools/vmtest guest"
[ -d /sys/devices/system/node/node1 ] || skip "needs NUMA node 1"
# 6.1: no DAMON, so heat for resident pages would be the pager's hint
# faults alone, and a hint fault is a pool round trip: a sampled hot page
# comes back through the pager's fault handler, which places it on the
# CXL node, against the plan (tierd moves it back a round later). The
# test would measure that sampler's churn, not the three tiers, so it
# skips; the tiering code is the same on both kernels.
[ -e /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds ] ||
	skip "no DAMON in this kernel ($(uname -r); Debian's 6.1 is built without CONFIG_DAMON): heat for resident pages would be the pager's hint faults alone, which bring sampled hot pages back onto the CXL node"
[ "$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" = 0 ] ||
	skip "a kdamond already exists; tierd does not take someone else's"
need_bin tierd tierctl tier-memsrv wl-hotset
. "$(dirname "$0")/../host/pager_common.inc"
make_tmpdir
CG=$(make_cgroup "tierd-pool3.$$") || exit $?
grep -qw memory "$CG/cgroup.controllers" ||
	skip "the memory controller is not enabled for $CG"
no_numa_balancing

# the pool: tier-memsrv on loopback TCP, outside the cgroup
pager_pool tcp 512M

# TCG: rounds every 2 s, heat halves in 4 s (as tier_converge)
cat >"$TEST_TMP/policy.json" <<JSON
{
  "heat": { "half_life_ms": 4000 },
  "moves": { "interval_ms": 2000, "cooldown_ms": 500, "max_promote_mb_s": 128,
             "max_demote_mb_s": 256 }
}
JSON
start_tierd --policy "$TEST_TMP/policy.json"

# report: "hot0 hot_pages all0 present pages errors" (the workload's own
# move_pages(2) query of its buffer)
report() {
	local n
	n=$(grep -c '^report' "$TEST_TMP/wl.out")
	kill -USR2 "$WL_PID"
	wait_for 30 bash -c "[ \$(grep -c '^report' '$TEST_TMP/wl.out') -gt $n ]" || return 1
	grep '^report' "$TEST_TMP/wl.out" | tail -1 |
		sed -E 's/.*hot_on_node0=([0-9]+) hot_pages=([0-9]+) all_on_node0=([0-9]+) present=([0-9]+) pages=([0-9]+).*errors=([0-9]+).*/\1 \2 \3 \4 \5 \6/'
}
# the cgroup's anonymous bytes on node N (memory.numa_stat)
anon_bytes() { awk -v n="N$1=" '$1 == "anon" { for (i = 2; i <= NF; i++) if (index($i, n) == 1) { sub(n, "", $i); print $i } }' "$CG/memory.numa_stat"; }
pool_bytes() {
	ctl -j status 2>/dev/null | jq -r --arg p "$CG" '.cgroups[] | select(.path == $p) | .tiering.pager.pool_bytes // 0'
}

TIERD_SOCKET=$TIERD_SOCK bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/tierctl" run --pool "$3" --pool-size 512M -v -- "$2/wl-hotset" --size-mb "$4" --hot-mb "$5" --hot-pct 100' \
	_ "$CG" "$TIERD_BIN" "$POOL" $SIZE_MB $HOT_MB >"$TEST_TMP/wl.out" 2>"$TEST_TMP/wl.err" &
WL_PID=$!
on_exit "stop_pid $WL_PID"
T_FILL=$SECONDS
wait_for 200 grep -q '^ready' "$TEST_TMP/wl.out" ||
	{ die "workload not ready: $(cat "$TEST_TMP/wl.out" "$TEST_TMP/wl.err")"; }
log "$(head -1 "$TEST_TMP/wl.out") (filled in $((SECONDS - T_FILL)) s)"
check "the pager registered with tierd" wait_for 30 grep -q "pager of pid $WL_PID registered" "$TIERD_LOG"
r=$(report) || die "no report from the workload"
read -r hot0 hotn all0 present pages errors <<<"$r"
start_line="start: buffer on node 0 $((all0 * 4 / 1024)) MiB, present $((present * 4 / 1024)) MiB of $((pages * 4 / 1024)) MiB"
log "$start_line"
check "the pager put the workload on node 1 (<= 5% on node 0)" [ "$all0" -le $((pages / 20)) ]
# managed from now on: the clock starts here
ctl attach "$CG" --dram ${DRAM_MB}M --cxl ${CXL_MB}M --pool >/dev/null || die "attach failed"

MiB=$((1 << 20))
converged() {
	local r hot0 hotn all0 present pages errors n0 n1 pool
	r=$(report) || return 1
	read -r hot0 hotn all0 present pages errors <<<"$r"
	n0=$(anon_bytes 0)
	n1=$(anon_bytes 1)
	pool=$(pool_bytes)
	log "+$((SECONDS - T0))s: hot on node 0 $hot0/$hotn; buffer: node 0 $((all0 * 4 / 1024)) MiB, node 1 $(((present - all0) * 4 / 1024)) MiB; cgroup anon N0 $((n0 / MiB)) MiB, N1 $((n1 / MiB)) MiB; pool $((pool / MiB)) MiB; errors $errors" | tee -a "$TEST_TMP/samples.log"
	[ $((hot0 * 10)) -ge $((hotn * 9)) ] &&
		[ "$n0" -le $(((DRAM_MB + SLACK_MB) * MiB)) ] &&
		[ $(((present - all0) * 4096)) -le $(((CXL_MB + SLACK_MB) * MiB)) ] &&
		[ "$n1" -le $(((CXL_MB + SLACK_MB + OTHER_MB) * MiB)) ] &&
		[ "$pool" -ge $(((SIZE_MB - DRAM_MB - CXL_MB - SLACK_MB) * MiB)) ] &&
		[ "$errors" = 0 ]
}
converge() {
	while [ $((SECONDS - T0)) -le "$CONVERGE_S" ]; do
		converged && { echo $((SECONDS - T0)) >"$TEST_TMP/converged.s"; return 0; }
		sleep 3
	done
	return 1
}
T0=$SECONDS
check "three tiers converge within ${CONVERGE_S}s (hot set in DRAM, DRAM <= ${DRAM_MB}+${SLACK_MB} MiB, buffer on CXL <= ${CXL_MB}+${SLACK_MB} MiB, cgroup on CXL <= +${OTHER_MB} more, pool >= $((SIZE_MB - DRAM_MB - CXL_MB - SLACK_MB)) MiB)" converge
[ -e "$TEST_TMP/converged.s" ] && log "converged in $(cat "$TEST_TMP/converged.s") s"
# and it stays so after a few more rounds: a sample taken while a round's
# pool moves are under way can catch a page counted on two tiers (seen
# once in CI), so the later state is sampled until it holds, up to 20 s
sleep 10
check "still so 10 s later" wait_for 20 converged

ctl -j status >"$TEST_TMP/status.json"
ctl status
tg() { jq -r --arg p "$CG" ".cgroups[] | select(.path == \$p) | .tiering.$1" "$TEST_TMP/status.json"; }
check "status: the pool is on" [ "$(tg pool)" = "on (pager connected)" ]
check "status: pages were evicted to the pool by tierd" [ "$(tg pager.evict_cmd_pages)" -gt 0 ]
check "status: pages were promoted to DRAM by tierd" [ "$(tg promoted_pages)" -gt 0 ]

kill -TERM "$WL_PID"
wait_for 180 grep -q '^verify' "$TEST_TMP/wl.out"
log "$(grep '^verify' "$TEST_TMP/wl.out")"
check "every page of the workload verifies" grep -q '^verify ok' "$TEST_TMP/wl.out"
grep "round $CG" "$TIERD_LOG" | if [ -n "${TIER_POOL3_VERBOSE:-}" ]; then cat; else tail -n 4; fi
if [ ${#_checks_failed[@]} -gt 0 ]; then
	echo "--- workload stderr:"
	tail -5 "$TEST_TMP/wl.err"
	echo "--- samples:"
	grep -E '^\[.*\] \+[0-9]+s:' "$TEST_TMP/samples.log" 2>/dev/null | tail -8
	# what CI shows of a failure: the start and the last samples
	digest "$start_line"
	grep -E '^\[.*\] \+[0-9]+s:' "$TEST_TMP/samples.log" 2>/dev/null | tail -n 3 | sed 's/^/DIGEST: /'
fi
exit 0
