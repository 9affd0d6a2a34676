#!/bin/bash
# timeout: 150
# sampler_pebs — the hardware-sample access source (bpf/sampler.bpf.c,
# controller/sampler.c):
#  (a) "sampler": "pebs" on a machine without a PMU: tierd refuses to
#      start, names the missing sysfs entries, and its log shows that the
#      kernel verified the program first (only the PMU is missing);
#  (b) the software lane (--sampler-event sw-page-faults) carries samples
#      of an attached cgroup through the same program, batches and ring
#      into tierd's heat, exactly counted; an unattached sibling gives none;
#  (c) "auto" on such a machine does not pick pebs and says why.
. "$(dirname "$0")/../lib.sh"

N=3000 # pages per workload run: one first-touch fault (one sample) each
need_root
need_cmd jq
for b in tierd tierctl wl-first-touch; do
	[ -x "$TIERD_BIN/$b" ] || die "$TIERD_BIN/$b not built (make)"
done
make_tmpdir
no_perf_throttle
A=$(make_cgroup "tierd-smp-a.$$") || exit $?
B=$(make_cgroup "tierd-smp-b.$$") || exit $?
on_exit "_remove_cgroup '$A'"
on_exit "_remove_cgroup '$B'"

PINS=$TEST_TMP/pins # start_tierd's (tests/lib.sh), used by (a) too
SOCK=$TEST_TMP/tierd.sock
TIERD_LOG=$TEST_TMP/tierd.log
stop() {
	kill -TERM "$TIERD_PID"
	wait "$TIERD_PID"
	check "tierd exits 0 on SIGTERM" [ $? = 0 ]
}
run_in() { # CGROUP: the workload, inside CGROUP
	bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-first-touch" --pages "$3"' _ \
		"$1" "$TIERD_BIN" "$N" >/dev/null
}
st() { ctl -j status; }
DEV=/sys/bus/event_source/devices
has_pmu() { [ -e $DEV/cpu/events/mem-loads ] || [ -e $DEV/cpu_core/events/mem-loads ] || [ -e $DEV/ibs_op/type ]; }

# (a) "pebs" without a PMU: refused, clearly, after the kernel verified
# the program.
echo '{ "heat": { "sampler": "pebs" } }' >"$TEST_TMP/pebs.json"
if has_pmu; then
	log "(a) this machine has a memory-sampling PMU: pebs must start"
	start_tierd --policy "$TEST_TMP/pebs.json"
	s=$(st)
	check "pebs is the sampler" [ "$(jq -r .tiering.sampler <<<"$s")" = pebs ]
	check "... on the hardware" [ "$(jq -r .tiering.perf_sampler.hardware <<<"$s")" = true ]
	stop
else
	log "(a) no PMU here: pebs must refuse"
	timeout 60 "$TIERD_BIN/tierd" --pin-root "$PINS" --socket "$SOCK" \
		--policy "$TEST_TMP/pebs.json" >"$TEST_TMP/a.log" 2>&1
	rc=$?
	cat "$TEST_TMP/a.log" >>"$TIERD_LOG"
	grep -E 'sampler|pebs' "$TEST_TMP/a.log"
	check "tierd with sampler pebs and no PMU exits 1 ($rc)" [ $rc = 1 ]
	check "... saying there is no hardware memory sampling PMU" \
		grep -q 'error: the policy asks for "sampler": "pebs", but: no hardware memory sampling PMU' "$TEST_TMP/a.log"
	check "... naming the sysfs entries that are missing" \
		grep -q "$DEV/cpu/events/mem-loads and $DEV/ibs_op are absent" "$TEST_TMP/a.log"
	check "... and what to do instead" grep -q 'use "sampler": "auto"' "$TEST_TMP/a.log"
	check "the kernel verified tierd_sample before the refusal" \
		grep -q 'sampler: program tierd_sample loaded: verified by the kernel (prog id [0-9]*, [0-9]* instructions)' "$TEST_TMP/a.log"
	check "... which was unloaded, not attached" grep -q 'tierd_sample unloaded: not attached' "$TEST_TMP/a.log"
	check "the refused tierd removed its pins" [ ! -e "$PINS/attached" ]
	check "... and its socket" [ ! -e "$SOCK" ]
fi

# (b) the software lane: samples of A's workload reach tierd's heat.
log "(b) --sampler-event sw-page-faults"
start_tierd --sampler-event sw-page-faults
ctl attach "$A" --dram 1G >/dev/null || die "attach $A failed"
s=$(st)
check "the sampler is pebs (software stand-in)" [ "$(jq -r .tiering.sampler <<<"$s")" = pebs ]
check "... attached to the software event" \
	[ "$(jq -r '.tiering.perf_sampler | "\(.running) \(.hardware) \(.cpus > 0)"' <<<"$s")" = "true false true" ]
check "... and status says so" grep -q "software stand-in" <<<"$(jq -r .tiering.sampler_why <<<"$s")"
check "bpftool lists tierd_sample" bash -c "! command -v bpftool >/dev/null || bpftool prog show | grep -q 'perf_event  name tierd_sample'"

a_samples() { st | jq '[.cgroups[] | select(.path == "'"$A"'") | .tiering.perf_samples] | .[0]'; }
run_in "$A" || die "workload in $A failed"
sleep 0.3 # tierd drains every 25 ms
s=$(st)
pa=$(jq '[.cgroups[] | select(.path == "'"$A"'") | .tiering.perf_samples] | .[0]' <<<"$s")
fa=$(jq '[.cgroups[] | select(.path == "'"$A"'") | .faults] | .[0]' <<<"$s")
read -r smp rec drop un < <(jq -r '.tiering.perf_sampler | "\(.samples) \(.records_received) \(.records_dropped) \(.unattached)"' <<<"$s")
log "A: $pa sample records, $fa faults; sampler: samples $smp received $rec dropped $drop unattached $un"
check "A's sample records reached tierd's heat (>= $N)" [ "$pa" -ge $N ]
check "... one per fault of A (the observer counted $fa)" [ "$pa" -le $((fa + 50)) ]
check "every sample is counted: samples = received + dropped" [ "$smp" = $((rec + drop)) ]
check "... and none were dropped" [ "$drop" = 0 ]

run_in "$B" || die "workload in $B failed"
sleep 0.3
s=$(st)
pa2=$(jq '[.cgroups[] | select(.path == "'"$A"'") | .tiering.perf_samples] | .[0]' <<<"$s")
read -r rec2 un2 < <(jq -r '.tiering.perf_sampler | "\(.records_received) \(.unattached)"' <<<"$s")
log "after a run in unattached B: A $pa2 sample records; received $rec2; unattached $un2"
check "the sibling B's run adds nothing to A" [ "$pa2" = "$pa" ]
check "... nor any record at all (only A is attached)" [ "$rec2" = "$rec" ]
check "... its samples are counted as unattached" [ "$un2" -ge $((un + N)) ]
# tierctl events decodes the sample records (type, cgroup, address)
ctl -j events --cgroup "$A" --timeout 4 >"$TEST_TMP/ev.json" 2>&1 &
evp=$!
wait_event_readers 10 1 || die "tierctl events did not subscribe"
run_in "$A"
wait $evp
sleep 0.3
check "A's next run counts again" [ "$(a_samples)" -ge $((pa + N)) ]
acg=$(jq -r '[.cgroups[] | select(.path == "'"$A"'") | .id] | .[0]' <<<"$s")
nsmp=$(jq -r 'select(.type == "sample" and .cgroup_id == '"${acg:-0}"' and .address > 0) | .type' \
	"$TEST_TMP/ev.json" 2>/dev/null | wc -l)
log "tierctl events: $nsmp sample records of A (cgroup id $acg)"
check "tierctl events shows A's sample records with addresses" [ "$nsmp" -ge $((N / 2)) ]
stop

# (c) "auto" (the default) without a PMU: not pebs, and why.
log "(c) sampler auto"
start_tierd
s=$(st)
jq '.tiering | {sampler, sampler_why}' <<<"$s"
if has_pmu; then
	check "auto picks pebs where a PMU exists" [ "$(jq -r .tiering.sampler <<<"$s")" = pebs ]
else
	check "auto does not pick pebs without a PMU" [ "$(jq -r .tiering.sampler <<<"$s")" != pebs ]
	check "... and says why in sampler_why" \
		grep -q "^not pebs: no hardware memory sampling PMU: $DEV/cpu/events/mem-loads" <<<"$(jq -r .tiering.sampler_why <<<"$s")"
	check "... with the program verified, not running" \
		[ "$(jq -r '.tiering.perf_sampler | "\(.verified) \(.running)"' <<<"$s")" = "true false" ]
	check "tierd's log says what it uses instead" grep -q "using DAMON/hint faults instead" "$TIERD_LOG"
fi
stop
exit 0
