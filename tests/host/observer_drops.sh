#!/bin/bash
# timeout: 120
# observer_drops — when tierd does not drain (stopped), the ring fills and
# fault records are lost; the loss is counted exactly, never silent:
# faults = fault records received + records dropped, for the one attached
# cgroup, and both tierctl status and cgroup_stats show the drops.
. "$(dirname "$0")/../lib.sh"

N=120000 # pages: more fault records than the 4 MiB ring holds (~74000)
need_root
need_cmd jq bpftool
need_bin tierd tierctl wl-first-touch
make_tmpdir
A=$(make_cgroup "tierd-obs-drop.$$") || exit $?

start_tierd
attach_cgroup "$A"

before=$(ctl -j status | jq .global.fault_records_received)
kill -STOP $TIERD_PID
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-first-touch" --pages "$3"' _ \
	"$A" "$TIERD_BIN" $N >/dev/null || die "workload failed"
kill -CONT $TIERD_PID
sleep 0.5 # a few ticks: drain, flush the partial batches, publish counts

st=$(ctl -j status)
faults=$(jq '.cgroups[0].faults' <<<"$st")
dropped=$(jq '.cgroups[0].records_dropped' <<<"$st")
gdropped=$(jq '.global.records_dropped' <<<"$st")
received=$(($(jq '.global.fault_records_received' <<<"$st") - before))
log "faults $faults, fault records received $received, dropped $dropped (global $gdropped)"
check "the storm was counted (faults >= $N)" [ "$faults" -ge $N ]
check "records were dropped while tierd was stopped" [ "$dropped" -gt 0 ]
check "faults = records received + records dropped" [ "$faults" = $((received + dropped)) ]
# (the global count also holds other records lost meanwhile, e.g. DAMON's)
check "the global drop count includes them" [ "$gdropped" -ge "$dropped" ]
bd=$(bpftool map dump pinned "$TIERD_PINS/cgroup_stats" | jq '.[0].value.records_dropped')
check "cgroup_stats shows records_dropped ($bd)" [ "$bd" = "$dropped" ]
check "tierctl status says so" grep -q "records dropped $dropped" <<<"$(ctl status)"
exit 0
