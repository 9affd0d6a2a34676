#!/bin/bash
# timeout: 420
# tier_converge — the tiering loop, DRAM (node 0) <-> CXL (node 1), in the
# two-node guest: a 512 MiB workload whose 64 MiB hot set gets 90% of the
# accesses starts with every page on node 1, in a cgroup attached with a
# 96 MiB DRAM budget. Within a minute >= 90% of the hot pages must be on
# node 0 while the cgroup's anonymous memory on node 0 stays within the
# budget; after the hot set moves, the same again; the workload's data
# must be intact at the end, and tierd must give its kdamond back.
# Heat for resident pages comes from DAMON vaddr (tierd's own kdamond):
# page faults alone do not see accesses to pages already mapped.
. "$(dirname "$0")/../lib.sh"

CONVERGE_S=${TIER_CONVERGE_S:-60}
BUDGET_MB=96
need_root
need_cmd jq
in_vm || skip "runs inside the tools/vmtest guest"
[ -d /sys/devices/system/node/node1 ] || skip "needs NUMA node 1"
[ -e /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds ] ||
	skip "no DAMON sysfs in this kernel ($(uname -r)): the loop needs DAMON vaddr to see accesses to resident pages (Debian's 6.1 is built without CONFIG_DAMON)"
[ "$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" = 0 ] ||
	skip "a kdamond already exists; tierd does not take someone else's"
need_bin tierd tierctl wl-hotset
make_tmpdir
CG=$(make_cgroup "tierd-converge.$$") || exit $?
grep -qw memory "$CG/cgroup.controllers" ||
	skip "the memory controller is not enabled for $CG"

# The kernel's NUMA balancing (on by default on NUMA machines) pulls pages
# toward node 0's CPUs by itself and pushes the footprint over the budget:
# tierd must be the only mover here.
no_numa_balancing

# TCG runs maybe 50x slower than hardware: rounds every 2 s, heat halves
# in 4 s, DAMON samples every 20 ms (tierd's own choice for its kdamond).
# Hysteresis: the default (25%, and at least one access). DAMON gives a
# whole region one access count, so cold regions flicker between 0 and 2
# accesses; before the one-access floor the spare DRAM (budget minus hot
# set) churned among them: 115k promotions to converge instead of 25k.
cat >"$TEST_TMP/policy.json" <<JSON
{
  // tier_converge: slow rounds for the emulated guest
  "heat": { "half_life_ms": 4000 },
  "moves": { "interval_ms": 2000, "cooldown_ms": 500, "max_promote_mb_s": 128,
             "max_demote_mb_s": 256 }
}
JSON
start_tierd --policy "$TEST_TMP/policy.json"
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-hotset" --size-mb 512 --hot-mb 64 --hot-pct 90 --node 1' _ \
	"$CG" "$TIERD_BIN" >"$TEST_TMP/wl.out" 2>&1 &
WL_PID=$!
on_exit "stop_pid $WL_PID"
wait_for 120 grep -q '^ready' "$TEST_TMP/wl.out" || die "workload not ready: $(cat "$TEST_TMP/wl.out")"
log "$(head -1 "$TEST_TMP/wl.out")"

# report: "hot0 hot_pages all0 pages errors" from the workload's own
# move_pages(2) query; node-0 anon bytes of the cgroup from memory.numa_stat
report() {
	local n
	n=$(grep -c '^report' "$TEST_TMP/wl.out")
	kill -USR2 "$WL_PID"
	wait_for 30 bash -c "[ \$(grep -c '^report' '$TEST_TMP/wl.out') -gt $n ]" || return 1
	grep '^report' "$TEST_TMP/wl.out" | tail -1 |
		sed -E 's/.*hot_on_node0=([0-9]+) hot_pages=([0-9]+) all_on_node0=([0-9]+) present=[0-9]+ pages=([0-9]+).*errors=([0-9]+).*/\1 \2 \3 \4 \5/'
}
anon_n0_bytes() { awk '$1 == "anon" { for (i = 2; i <= NF; i++) if ($i ~ /^N0=/) { sub("N0=", "", $i); print $i } }' "$CG/memory.numa_stat"; }

r=$(report) || die "no report from the workload"
read -r hot0 hotn all0 pages errors <<<"$r"
log "start: hot on node 0: $hot0/$hotn, all on node 0: $all0/$pages"
check "the workload starts on node 1 (<= 1% on node 0)" [ "$all0" -le $((pages / 100)) ]
# managed from now on: the clock of the first convergence starts here
ctl attach "$CG" --dram ${BUDGET_MB}M || die "attach --dram failed"

# converge PHASE: poll until >= 90% of the hot set is on node 0 and the
# node-0 footprint is within budget; prints the seconds it took.
converge() {
	local phase=$1 t0=$SECONDS hot0 hotn all0 pages errors n0
	while [ $((SECONDS - t0)) -le "$CONVERGE_S" ]; do
		sleep 3
		r=$(report) || continue
		read -r hot0 hotn all0 pages errors <<<"$r"
		n0=$(anon_n0_bytes)
		log "$phase +$((SECONDS - t0))s: hot on node 0 $hot0/$hotn, workload pages on node 0 $all0 ($((all0 * 4 / 1024)) MiB), cgroup anon N0 $((n0 >> 20)) MiB"
		if [ $((hot0 * 10)) -ge $((hotn * 9)) ] && [ $((all0 * 4096)) -le $((BUDGET_MB << 20)) ] &&
			[ "$n0" -le $(((BUDGET_MB + 2) << 20)) ]; then
			echo "$((SECONDS - t0))" >"$TEST_TMP/$phase.s"
			return 0
		fi
	done
	return 1
}
check "converges within ${CONVERGE_S}s" converge first
[ -e "$TEST_TMP/first.s" ] && log "converged in $(cat "$TEST_TMP/first.s") s"
ctl status

kill -USR1 "$WL_PID"
wait_for 30 grep -q '^shifted' "$TEST_TMP/wl.out" || die "the workload did not shift its hot set"
log "$(grep '^shifted' "$TEST_TMP/wl.out")"
check "re-converges within ${CONVERGE_S}s after the hot set moved" converge second
[ -e "$TEST_TMP/second.s" ] && log "re-converged in $(cat "$TEST_TMP/second.s") s"

ctl -j status >"$TEST_TMP/status.json"
ctl status
tg() { jq -r --arg p "$CG" ".cgroups[] | select(.path == \$p) | .tiering.$1" "$TEST_TMP/status.json"; }
check "status: sampler is damon" [ "$(tg sampler)" = damon ]
check "status: pages were promoted and demoted by tierd" [ "$(tg promoted_pages)" -gt 0 -a "$(tg demoted_pages)" -gt 0 ]
check "status: DRAM bytes within the budget" [ "$(tg bytes.dram)" -le $((BUDGET_MB << 20)) ]
check "status: budget shown" [ "$(tg budget.dram)" = ${BUDGET_MB}M ]
check "status: the kernel saw the promotions" [ "$(jq -r --arg p "$CG" '.cgroups[] | select(.path == $p) | .promotions' "$TEST_TMP/status.json")" -gt 0 ]
check "tierd logged its moving rounds with reasons" grep -q "round $CG: promote [0-9]* page(s) to DRAM (hot: heat >=" "$TEST_TMP/tierd.log"

kill -TERM "$WL_PID"
wait_for 120 grep -q '^verify' "$TEST_TMP/wl.out"
log "$(grep '^verify' "$TEST_TMP/wl.out")"
check "the workload's data is intact" grep -q '^verify ok' "$TEST_TMP/wl.out"
stop_pid "$TIERD_PID"
check "tierd gave its kdamond back" [ "$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" = 0 ]
echo "--- tierd log (last 30 lines):"
tail -n 30 "$TIERD_LOG"
