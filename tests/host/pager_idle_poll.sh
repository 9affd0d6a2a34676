#!/bin/bash
# pager_idle_poll.sh — `tierctl run --idle-poll`: while faults come in, the
# pager holds a CPU-latency request of 0 (/dev/cpu_dma_latency), so idle
# CPUs poll instead of halting, and it withdraws it once faults stop.
# Observed through cpuidle's own accounting: the time CPUs spent in the
# POLL state during a burst of pool faults, with and without the option,
# and while the program sits idle afterwards (still running).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
need_root
. "$(dirname "$0")/pager_common.inc"
idle=/sys/devices/system/cpu/cpuidle
[ "$(cat /sys/devices/system/cpu/cpu0/cpuidle/state0/name 2>/dev/null)" = POLL ] ||
	skip "no cpuidle polling state here (driver: $(cat $idle/current_driver 2>/dev/null || echo none)): nothing to observe"
[ -w /dev/cpu_dma_latency ] || skip "no /dev/cpu_dma_latency (PM QoS)"
make_tmpdir
T=$TEST_TMP

poll_us() { cat /sys/devices/system/cpu/cpu*/cpuidle/state0/time | awk '{ s += $1 } END { print s }'; }

# run NAME ARGS...: tier-memcheck under the pager (mem pool), holding idle
# at the end (--wait-file) for 1.5 s; POLL time of the burst and of the
# idle spell are left in $T/NAME.burst and $T/NAME.idle (us)
run() {
	local name=$1 p0 p1 p2 pid
	shift
	rm -f "$T/go" "$T/go.ready"
	p0=$(poll_us)
	"$TIERCTL" run --pool mem:256M --local-limit 8M -v "$@" -- \
		"$MEMCHECK" --size 64M --threads 1 --rounds 2 --wait-file "$T/go" >"$T/$name.log" 2>&1 &
	pid=$!
	on_exit "stop_pid $pid"
	wait_for 60 test -e "$T/go.ready" || { cat "$T/$name.log"; die "$name: memcheck did not finish writing"; }
	sleep 0.3 # past the pager's 50 ms hold
	p1=$(poll_us)
	sleep 1.5
	p2=$(poll_us)
	touch "$T/go"
	wait $pid || { cat "$T/$name.log"; die "$name: memcheck failed"; }
	echo $((p1 - p0)) >"$T/$name.burst"
	echo $((p2 - p1)) >"$T/$name.idle"
	log "$name: POLL time during the run $((p1 - p0)) us, in 1.5 s idle after it $((p2 - p1)) us"
}

run off
run on --idle-poll
check "--idle-poll: the pager says it polls" grep -q "started: .*idle polling" "$T/on.log"
check "without it: it does not" bash -c "! grep -q 'idle polling' '$T/off.log'"
check "--idle-poll: CPUs polled while faults came in (>= 4x the time without)" \
	[ "$(cat "$T/on.burst")" -ge $(($(cat "$T/off.burst") * 4 + 20000)) ]
check "--idle-poll: withdrawn while the program is idle (< 10% of 1.5 s per CPU)" \
	[ "$(cat "$T/on.idle")" -lt $((150000 * $(nproc))) ]
