#!/bin/bash
# tools/demo.sh — `make demo`, first form: the observer at work.
#
# Installs what is missing (tools/deps.sh), builds tierd, tierctl and the
# workloads, starts tierd, makes a cgroup2 directory, attaches it, runs a
# real workload in it — redis-server, loaded by redis-benchmark from
# outside the cgroup, plus a first-touch fault storm — and shows
# `tierctl status` live for about DEMO_SECONDS (default 20), then what
# bpftool sees of tierd's pinned maps and programs and a few decoded
# records. Everything it started is stopped by pid and cleaned up.
# The controller issue grows this into the full system (DRAM/CXL/pool).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
BIN=$SRC/build/bin
DEMO_SECONDS=${DEMO_SECONDS:-20}
PORT=${DEMO_REDIS_PORT:-6399}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (tierd loads BPF programs)" >&2; exit 1; }

say "installing missing packages (tools/deps.sh)"
tools/deps.sh || exit 1
say "building tierd, tierctl and the workloads"
make --no-print-directory -j2 build/bin/tierd build/bin/tierctl build/bin/wl-first-touch || exit 1

tmp=$(mktemp -d /tmp/tierd-demo.XXXXXX)
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cgroot" ] || { echo "demo: no cgroup2 mount" >&2; exit 1; }
CG=$cgroot/tierd-demo.$$
SOCK=$tmp/tierd.sock
PINS=/sys/fs/bpf/tierd
pids=()
tierd_pid=

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$tierd_pid" ]; then
		kill -TERM "$tierd_pid" 2>/dev/null
		wait "$tierd_pid" 2>/dev/null
		echo "demo: tierd stopped (its log: the lines prefixed 'tierd:' above)"
	fi
	local d
	for d in "$CG/storm" "$CG"; do
		[ -d "$d" ] || continue
		while read -r p; do echo "$p" >"$cgroot/cgroup.procs"; done <"$d/cgroup.procs"
		rmdir "$d"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$BIN/tierctl" --socket "$SOCK" "$@"; }

say "starting tierd (pins in $PINS, control socket $SOCK)"
"$BIN/tierd" --pin-root "$PINS" --socket "$SOCK" &
tierd_pid=$!
for i in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status >/dev/null || { echo "demo: tierd did not start" >&2; exit 1; }

say "making the cgroup $CG and attaching it"
mkdir "$CG" || exit 1
echo "\$ tierctl attach $CG"
ctl attach "$CG" || exit 1

say "running redis-server in the cgroup, redis-benchmark against it from outside"
bash -c 'echo $$ > "$1/cgroup.procs" && exec redis-server --port "$2" --save "" --appendonly no --daemonize no --loglevel warning' \
	_ "$CG" "$PORT" >"$tmp/redis.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-benchmark -p "$PORT" -q -l -r 200000 -d 4096 -t set,get >"$tmp/bench.log" 2>&1 &
pids+=($!)
# A fault storm every few seconds, in a child cgroup: descendants count too.
mkdir "$CG/storm"
(
	while :; do
		bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --pages 50000' _ "$CG/storm" "$BIN/wl-first-touch" >/dev/null
		sleep 3
	done
) &
pids+=($!)

say "tierctl status, live for ${DEMO_SECONDS}s"
end=$((SECONDS + DEMO_SECONDS))
while [ $SECONDS -lt $end ]; do
	sleep 2
	echo "--- $(date +%T) \$ tierctl status"
	ctl status
done

say "a few decoded records: tierctl events --cgroup $CG --count 5"
ctl events --cgroup "$CG" --count 5 --timeout 10
say "what bpftool sees"
echo "\$ bpftool prog show | grep tierd_"
bpftool prog show | grep -A1 'name tierd_' | grep -v -- '^--'
echo "\$ bpftool map dump pinned $PINS/cgroup_stats"
bpftool map dump pinned "$PINS/cgroup_stats"
echo "redis-benchmark: $(tr '\r' '\n' <"$tmp/bench.log" | grep -a 'requests per second' | tail -n 2 | tr '\n' ' ')"
say "stopping everything"
exit 0
