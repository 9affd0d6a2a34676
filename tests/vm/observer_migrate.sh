#!/bin/bash
# timeout: 240
# observer_migrate — in the two-node guest (node 1: CPU-less, lower tier),
# moving 1000 pages of a process in an attached cgroup from node 1 to node 0
# with move_pages(2) shows 1000 promotions for that cgroup, and moving them
# back shows 1000 demotions; the migration records carry the direction.
. "$(dirname "$0")/../lib.sh"

N=1000
need_root
need_cmd jq
in_vm || skip "runs inside the tools/vmtest guest"
[ -d /sys/devices/system/node/node1 ] || skip "needs NUMA node 1"
need_bin tierd tierctl wl-move-pages
make_tmpdir
CG=$(make_cgroup "tierd-obs-mig.$$") || exit $?
grep -qw memory "$CG/cgroup.controllers" ||
	skip "the memory controller is not enabled for $CG (folios are charged to the root)"

start_tierd
ctl status
att=$(ctl -j status | jq -r '.programs[] | select(.name == "tierd_migrate") | .attached')
[ "$att" = true ] || die "tierd_migrate (fentry on folio_migrate_flags) is not attached"
attach_cgroup "$CG"

ctl -j events --cgroup "$CG" --timeout 120 >"$TEST_TMP/events.jsonl" &
EV_PID=$!
on_exit "kill $EV_PID"
wait_event_readers 30 1 || die "tierctl events did not connect"

mkfifo "$TEST_TMP/cmd"
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-move-pages" --pages "$3" --node 1' _ \
	"$CG" "$TIERD_BIN" $N <"$TEST_TMP/cmd" >"$TEST_TMP/wl.out" 2>&1 &
WL_PID=$!
exec 3>"$TEST_TMP/cmd"
on_exit "exec 3>&-; stop_pid $WL_PID"
wait_for 60 grep -q '^ready' "$TEST_TMP/wl.out" || die "workload not ready: $(cat "$TEST_TMP/wl.out")"
grep -q "^ready $N on_node 1 $N\$" "$TEST_TMP/wl.out" ||
	die "pages not placed on node 1: $(cat "$TEST_TMP/wl.out")"

stat_of() { ctl -j status | jq -r --arg p "$CG" ".cgroups[] | select(.path == \$p) | .$1"; }

echo "to 0" >&3
wait_for 60 grep -q '^moved' "$TEST_TMP/wl.out" || die "no answer to 'to 0'"
cat "$TEST_TMP/wl.out"
check "move_pages moved all $N pages to node 0" grep -q "^moved $N failed 0 on_node $N\$" "$TEST_TMP/wl.out"
sleep 0.5
ctl status
check "$N promotions" [ "$(stat_of promotions)" = $N ]
check "no demotions yet" [ "$(stat_of demotions)" = 0 ]

echo "to 1" >&3
wait_for 60 bash -c "[ \$(grep -c '^moved' '$TEST_TMP/wl.out') = 2 ]" || die "no answer to 'to 1'"
cat "$TEST_TMP/wl.out"
check "move_pages moved all $N pages back to node 1" \
	bash -c "grep '^moved' '$TEST_TMP/wl.out' | tail -n 1 | grep -q '^moved $N failed 0 on_node $N\$'"
sleep 0.5
ctl status
check "$N demotions" [ "$(stat_of demotions)" = $N ]
check "still $N promotions" [ "$(stat_of promotions)" = $N ]
check "the cgroup's own task moved $((2 * N)) pages" [ "$(stat_of migrate_ctx_succeeded)" = $((2 * N)) ]
check "no failed migrations" [ "$(stat_of migrate_failed)" = 0 ]
check "the workload's $N first touches were counted" [ "$(stat_of faults)" -ge $N ]

echo quit >&3
sleep 0.5
kill "$EV_PID" 2>/dev/null
wait "$EV_PID" 2>/dev/null
pro=$(jq -s '[.[] | select(.type == "migrate" and .direction == "promote" and .src_nid == 1 and .dst_nid == 0) | .nr_pages] | add // 0' "$TEST_TMP/events.jsonl")
dem=$(jq -s '[.[] | select(.type == "migrate" and .direction == "demote" and .src_nid == 0 and .dst_nid == 1) | .nr_pages] | add // 0' "$TEST_TMP/events.jsonl")
log "migration records: $pro pages promoted 1->0, $dem demoted 0->1"
check "records: $N pages promoted node 1 -> 0" [ "$pro" = $N ]
check "records: $N pages demoted node 0 -> 1" [ "$dem" = $N ]
# Fault records leave the kernel in per-CPU batches that tierd flushes on
# every tick: all of them must arrive.
nf=$(jq -s '[.[] | select(.type == "fault")] | length' "$TEST_TMP/events.jsonl")
log "fault records: $nf"
check "all fault records arrived ($nf >= $N)" [ "$nf" -ge $N ]
exit 0
