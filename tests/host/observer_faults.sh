#!/bin/bash
# timeout: 180
# observer_faults — tierd counts and records the user page faults of an
# attached cgroup2 directory (descendants included) and of nothing else;
# detach stops counting and re-attach resumes, without restarting tierd;
# cgroup_stats is readable with bpftool by field name; bad paths fail
# clearly (JSON under -j); SIGTERM exits 0 and removes the pins.
. "$(dirname "$0")/../lib.sh"

N=4000 # pages per workload run: one first-touch fault each
need_root
need_cmd bpftool jq
need_bin tierd tierctl wl-first-touch
make_tmpdir
A=$(make_cgroup "tierd-obs-a.$$") || exit $?
B=$(make_cgroup "tierd-obs-b.$$") || exit $?
mkdir "$A/child" || die "cannot create $A/child"

start_tierd
PINS=$TIERD_PINS

out=$("$TIERD_BIN/tierd" --pin-root "$PINS" --socket "$TIERD_SOCK" 2>&1)
rc=$?
check "a second tierd on the same socket refuses to start ($rc)" [ $rc != 0 ]
check "... saying why" grep -q "another tierd is running" <<<"$out"
check "... and leaves the running one's pins alone" [ -e "$PINS/cgroup_stats" ]

# run_in CGROUP: run the workload inside CGROUP; prints its output.
run_in() {
	bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-first-touch" --pages "$3"' _ \
		"$1" "$TIERD_BIN" "$N"
}
faults_of() { # PATH -> its faults in tierctl status, or "none"
	ctl -j status | jq -r --arg p "$1" \
		'[.cgroups[] | select(.path == $p) | .faults] | if length == 0 then "none" else .[0] end'
}
ge() { [ "$1" != none ] && [ "$1" -ge "$2" ]; }
between() { [ "$1" != none ] && [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }

out=$(ctl -j attach "$A") || die "attach $A failed: $out"
A_ID=$(jq -r .id <<<"$out")
check "attach answers the cgroup id" [ "$A_ID" -gt 0 ]

# A live reader of A's records, registered before the workload runs.
ctl -j events --cgroup "$A" --timeout 60 >"$TEST_TMP/events.jsonl" &
EV_PID=$!
on_exit "kill $EV_PID"
wait_event_readers 10 1 || die "tierctl events did not connect"

run_in "$A" >"$TEST_TMP/a.out" || die "workload in $A failed"
run_in "$B" >"$TEST_TMP/b.out" || die "workload in $B failed"
sleep 0.3 # tierd drains every 25 ms
fa=$(faults_of "$A")
log "faults of A after one run in A and one in B: $fa"
# The workload itself faults a few dozen times besides its N pages; B's
# faults would add another N.
check "A counts >= $N faults" ge "$fa" $N
check "B's faults do not count toward A" between "$fa" $N $((2 * N))
check "unattached B is not listed" [ "$(faults_of "$B")" = none ]

read -r _ lo hi < <(grep '^range' "$TEST_TMP/a.out")
kill "$EV_PID" 2>/dev/null
wait "$EV_PID" 2>/dev/null
in_range=$(jq -s --argjson lo "$((lo))" --argjson hi "$((hi))" \
	'[.[] | select(.type == "fault" and .address >= $lo and .address < $hi)] | length' \
	"$TEST_TMP/events.jsonl")
foreign=$(jq -s --argjson id "$A_ID" '[.[] | select(.cgroup_id != $id)] | length' \
	"$TEST_TMP/events.jsonl")
log "fault records in the workload's range $lo-$hi: $in_range; records of other cgroups: $foreign"
check "$N recorded fault addresses lie in the workload's buffer" [ "$in_range" -ge $N ]
check "the filtered stream holds only A's records" [ "$foreign" = 0 ]

# The plain (not -j) output is what users read; with BTF it is JSON.
dump=$(bpftool map dump pinned "$PINS/cgroup_stats")
bf=$(jq --argjson id "$A_ID" '[.[] | select(.key == $id) | .value.faults] | .[0]' <<<"$dump")
check "bpftool map dump pinned cgroup_stats shows a faults field for A" ge "$bf" $N
check "bpftool prog show names tierd_fault" bash -c "bpftool prog show | grep -q 'name tierd_fault'"

# Descendants count toward their attached ancestor.
run_in "$A/child" >/dev/null || die "workload in $A/child failed"
sleep 0.3
fc=$(faults_of "$A")
check "faults in A/child count toward A" ge "$fc" $((fa + N))

# Detach stops counting; re-attach resumes (from zero), same tierd.
ctl detach "$A" >/dev/null || die "detach failed"
check "detached A is not listed" [ "$(faults_of "$A")" = none ]
run_in "$A" >/dev/null
ctl attach "$A" >/dev/null || die "re-attach failed"
check "nothing was counted while detached" [ "$(faults_of "$A")" -lt 10 ]
run_in "$A" >/dev/null
sleep 0.3
check "re-attach resumes counting" ge "$(faults_of "$A")" $N
ctl attach "$B" >/dev/null
run_in "$B" >/dev/null
sleep 0.3
check "B counts once attached" ge "$(faults_of "$B")" $N
check "tierd was never restarted" kill -0 $TIERD_PID

# Bad input: clear message, nonzero exit, JSON under -j.
msg=$(ctl attach /nonexistent/tierd-test 2>&1)
rc=$?
check "attaching a missing path fails" [ $rc != 0 ]
check "... saying so ($msg)" grep -q "no such cgroup" <<<"$msg"
msg=$(ctl attach "$TEST_TMP" 2>&1)
rc=$?
check "attaching a non-cgroup directory fails" [ $rc != 0 ]
check "... saying so ($msg)" grep -q "not a cgroup2 directory" <<<"$msg"
js=$(ctl -j attach "$TEST_TMP" 2>/dev/null)
check "-j errors are JSON ($js)" bash -c "jq -e '.error | test(\"cgroup2\")' <<<'$js' >/dev/null"
check "detaching what is not attached fails" eval '! ctl detach "$A/child" 2>/dev/null'

# Clean shutdown: exit 0, pins gone.
kill -TERM $TIERD_PID
wait $TIERD_PID
rc=$?
check "tierd exits 0 on SIGTERM" [ $rc = 0 ]
check "tierd removed its pins" [ ! -e "$PINS/cgroup_stats" ]
check "tierd removed its socket" [ ! -e "$TIERD_SOCK" ]

# --sample 4: one fault record in 4 reaches the ring, the count stays exact.
start_tierd --sample 4
attach_cgroup "$A"
run_in "$A" >/dev/null
sleep 0.3
st=$(ctl -j status)
f=$(jq '.cgroups[0].faults' <<<"$st")
so=$(jq '.cgroups[0].faults_sampled_out' <<<"$st")
rec=$(jq '.global.records_received' <<<"$st")
log "sampling 1 in 4: faults $f, sampled out $so, records $rec"
check "with --sample 4 every fault is still counted" between "$f" $N $((2 * N))
# (the 1-in-4 counter is per CPU: a task moving between CPUs shifts it a bit)
check "... about 3 in 4 are sampled out" between "$so" $((f * 3 / 4 - f / 20)) $((f * 3 / 4 + f / 20))
check "... and the rest are recorded" [ "$rec" -ge $((f - so)) ]
exit 0
