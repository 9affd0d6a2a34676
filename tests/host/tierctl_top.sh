#!/bin/bash
# timeout: 60
# tierctl_top — tierctl top --count N prints N frames and exits; not on a
# tty the frames are plain text; rates come from counter differences
# (faults/s > 0 while a workload faults); -j prints one JSON object a frame.
. "$(dirname "$0")/../lib.sh"

need_root
need_cmd jq
need_bin tierd tierctl wl-phases
make_tmpdir
A=$(make_cgroup "tierd-top.$$") || exit $?
start_tierd
attach_cgroup "$A"

# A workload that faults for 12 s (stopped early) while top takes its frames.
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-phases" --pages 64 --phase-ms 6000' _ \
	"$A" "$TIERD_BIN" >/dev/null &
WL_PID=$!
on_exit "kill $WL_PID"
ctl top --count 3 --interval 0.5 >"$TEST_TMP/top.txt" 2>&1
rc=$?
cat "$TEST_TMP/top.txt"
check "top --count 3 exits 0" [ $rc = 0 ]
check "three frames" [ "$(grep -c '^tierctl top' "$TEST_TMP/top.txt")" = 3 ]
check "no terminal escapes when not on a tty" bash -c "! grep -q $'\e' '$TEST_TMP/top.txt'"
check "the cgroup is listed in every frame" [ "$(grep -c "${A: -30}" "$TEST_TMP/top.txt")" = 3 ]
ctl -j top --count 2 --interval 0.5 >"$TEST_TMP/top.jsonl" 2>&1
rate=$(jq -s '.[1].cgroups[0].faults_per_s' "$TEST_TMP/top.jsonl")
log "faults/s in the second -j frame: $rate"
check "-j: two JSON frames" [ "$(jq -s length "$TEST_TMP/top.jsonl")" = 2 ]
check "-j: faults/s > 0 while the workload faults" awk -v r="$rate" 'BEGIN { exit !(r > 0) }'
check "-j: promotions/s is a number from the second frame on" \
	jq -se '.[1].cgroups[0].promotions_per_s | type == "number"' "$TEST_TMP/top.jsonl"
kill $WL_PID; wait $WL_PID 2>/dev/null
msg=$(ctl top --count 0 2>&1)
check "bad --count is refused ($msg)" grep -q "positive" <<<"$msg"
exit 0
