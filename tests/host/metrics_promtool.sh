#!/bin/bash
# timeout: 120
# metrics_promtool — tierd --metrics ADDR:PORT serves Prometheus text that
# `promtool check metrics` accepts; the faults counter of an attached cgroup
# covers the faults a workload made there, and the perf_event sampler's
# (software test lane) samples counter too; bad requests get 400/404/405
# and tierd keeps serving (the endpoint lives in tierd's own loop).
. "$(dirname "$0")/../lib.sh"

N=3000 # pages the workload touches: one first-touch fault each
need_root
need_cmd curl jq
command -v promtool >/dev/null 2>&1 ||
	skip "needs promtool (Debian package prometheus; tools/deps.sh installs it)"
need_bin tierd tierctl wl-first-touch
make_tmpdir
no_perf_throttle
A=$(make_cgroup "tierd-metrics.$$") || exit $?

# A free port: the kernel picks one (bash has no bind; python3 may be absent).
PORT=
for p in $(shuf -i 20000-60000 -n 20); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || die "no free TCP port found"
URL=http://127.0.0.1:$PORT/metrics

# the perf_event sampler on its software lane, so its counters have samples
start_tierd --metrics "127.0.0.1:$PORT" --sampler-event sw-page-faults
wait_for 10 curl -sf -o /dev/null "$URL" || die "no answer on $URL"

attach_cgroup "$A"
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-first-touch" --pages "$3"' _ \
	"$A" "$TIERD_BIN" "$N" >/dev/null || die "workload failed"

# The counters reach the map every 25 ms tick: poll, do not sleep-and-hope.
faults_of() { # the sample of $A in the exposition in $1
	awk -v want="tierd_cgroup_faults_total{cgroup=\"$A\"}" '$1 == want { print $2 }' "$1"
}
scraped() {
	curl -sf -o "$TEST_TMP/m.txt" -D "$TEST_TMP/m.hdr" "$URL" &&
		[ "$(faults_of "$TEST_TMP/m.txt")" -ge $N ] 2>/dev/null
}
wait_for 20 scraped
f=$(faults_of "$TEST_TMP/m.txt")
log "faults of $A in the exposition: ${f:-none} (workload: $N pages); status says $(ctl -j status | jq '.cgroups[0].faults')"
check "faults counter of the cgroup >= $N" [ "${f:-0}" -ge $N ]
# the sampler's counters are read at tierd's drain tick (every 25 ms): poll
samples_of() { awk '$1 == "tierd_sampler_samples_total" { print $2 }' "$1"; }
sampled() {
	curl -sf -o "$TEST_TMP/m.txt" -D "$TEST_TMP/m.hdr" "$URL" &&
		[ "$(samples_of "$TEST_TMP/m.txt")" -ge $N ] 2>/dev/null
}
wait_for 10 sampled
smp=$(samples_of "$TEST_TMP/m.txt")
check "the sampler is running" grep -q '^tierd_sampler_running 1$' "$TEST_TMP/m.txt"
check "its samples counter covers the workload's faults (${smp:-none} >= $N)" [ "${smp:-0}" -ge $N ]
check "Content-Type is the text exposition 0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$TEST_TMP/m.hdr"
promtool check metrics <"$TEST_TMP/m.txt" >"$TEST_TMP/promtool.out" 2>&1
rc=$?
cat "$TEST_TMP/promtool.out"
check "promtool check metrics passes (lint included)" [ $rc = 0 ]
for fam in tierd_build_info tierd_records_received_total tierd_ring_records_dropped_total \
	tierd_cgroup_records_dropped_total tierd_cgroup_promotions_total \
	tierd_cgroup_demotions_total tierd_cgroup_migrate_failed_total \
	tierd_sampler_running tierd_sampler_samples_total tierd_sampler_records_dropped_total; do
	check "family $fam has HELP and TYPE" bash -c \
		"grep -q '^# HELP $fam ' '$TEST_TMP/m.txt' && grep -q '^# TYPE $fam ' '$TEST_TMP/m.txt'"
done

# Managed (budgets): the tiering loop's figures appear, still lint-clean.
attach_cgroup "$A" --dram 64M
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-first-touch" --pages "$3" --hold 3' _ \
	"$A" "$TIERD_BIN" "$N" >/dev/null &
WL_PID=$!
on_exit "kill $WL_PID"
managed_scraped() {
	curl -sf -o "$TEST_TMP/m2.txt" "$URL" &&
		grep -q "^tierd_cgroup_budget_bytes{cgroup=\"$A\",tier=\"dram\"} 67108864\$" "$TEST_TMP/m2.txt"
}
wait_for 20 managed_scraped
check "a managed cgroup has its DRAM budget in bytes" managed_scraped
check "... and bytes per tier" grep -q "^tierd_cgroup_memory_bytes{cgroup=\"$A\",tier=\"dram\"} " "$TEST_TMP/m2.txt"
check "... and promtool still passes" bash -c "promtool check metrics <'$TEST_TMP/m2.txt'"
wait $WL_PID

# Bad requests: an answer, not a hang, and tierd goes on serving.
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "GET /nope is 404" [ "$(code "http://127.0.0.1:$PORT/nope")" = 404 ]
check "POST /metrics is 405" [ "$(code -X POST "$URL")" = 405 ]
raw() { # send $1 raw, print the status line
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf '%b' "$1" >&3
	timeout 10 head -1 <&3 | tr -d '\r'
	exec 3<&-
}
st=$(raw 'garbage\r\n\r\n')
check "garbage gets 400 ($st)" grep -q '^HTTP/1.0 400 ' <<<"$st"
st=$(raw "GET /metrics HTTP/1.1\r\n$(head -c 5000 /dev/zero | tr '\0' a)")
check "an endless request head gets 400 ($st)" grep -q '^HTTP/1.0 400 ' <<<"$st"
# An idle connection that never sends must not stop the loop.
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
check "tierd serves while a client idles" [ "$(code "$URL")" = 200 ]
check "tierctl status works meanwhile" eval 'ctl status >/dev/null'
exec 4<&-
check "tierd is still running" kill -0 $TIERD_PID
exit 0
