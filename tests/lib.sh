# tests/lib.sh — shared helpers for host and VM test scripts (bash).
#
#   . "$(dirname "$0")/../lib.sh"
#
# Conventions: a test exits 0 to pass, 77 to skip (skip "reason" prints the
# reason as its last line), anything else to fail. Everything a test makes
# (daemons, cgroups, pins, temp files) is undone by the EXIT trap set here,
# in reverse order, whether the test passed or not. Daemons are stopped by
# the pid this test started, never by name.

set -uo pipefail

TIERD_SRC=${TIERD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TIERD_BIN=${TIERD_BIN:-$TIERD_SRC/build/bin}
TIERD_LIB=${TIERD_LIB:-$TIERD_SRC/build/lib}
TIERD_BUILD=${TIERD_BUILD:-$TIERD_SRC/build}

_checks_failed=()

# Cleanup commands live in a file, not an array, so that helpers called in
# a command substitution ($(make_cgroup x)) can register theirs too.
_cleanup_file=$(mktemp /tmp/tierd-test-cleanup.XXXXXX)

# on_exit CMD...: run CMD (a string, eval'ed) when the test exits.
on_exit() { printf '%s\n' "$*" >>"$_cleanup_file"; }

_run_cleanups() {
	local rc=$? cmd
	trap - EXIT
	if [ $rc != 0 ] && [ $rc != 77 ] || [ ${#_checks_failed[@]} -gt 0 ]; then
		_show_tierd_log
	fi
	while IFS= read -r cmd; do
		eval "$cmd" >/dev/null 2>&1 || true
	done <<<"$(tac "$_cleanup_file" 2>/dev/null)" # no <(...): the guest has no /dev/fd
	rm -f "$_cleanup_file"
	if [ ${#_checks_failed[@]} -gt 0 ]; then
		echo "FAILED CHECKS:"
		printf '  %s\n' "${_checks_failed[@]}"
		printf 'DIGEST: check failed: %s\n' "${_checks_failed[@]}"
		[ $rc = 0 ] && rc=1
	fi
	exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*"; }
# digest TEXT: a line the runner repeats at the very end of `make check`
# if this test fails (CI shows only the end of the output)
digest() { echo "DIGEST: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }

# check DESCRIPTION CMD...: record a failed check and go on.
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "NOT OK: $what"
		_checks_failed+=("$what")
	fi
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
# need_bin NAME...: the project's programs in $TIERD_BIN, or fail (a test
# of a program that was not built must not pass as skipped).
need_bin() {
	local b
	for b in "$@"; do
		[ -x "$TIERD_BIN/$b" ] || die "$TIERD_BIN/$b not built (make)"
	done
}
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c (tools/deps.sh installs it)"
	done
}

# The temporary directory of this test, removed on exit.
make_tmpdir() {
	TEST_TMP=$(mktemp -d /tmp/tierd-test.XXXXXX)
	on_exit "_remove_tmpdir '$TEST_TMP'"
}

# Unmount what is mounted below DIR (tierd mounts bpffs on a --pin-root
# that has none, and a killed tierd cannot unmount it), then remove DIR.
_remove_tmpdir() {
	local dir=$1 m
	for m in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$dir"
}

# cgroup2_root: where cgroup2 is mounted (pure v2 or the hybrid layout's
# /sys/fs/cgroup/unified); skips if there is none.
cgroup2_root() {
	local m
	m=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$m" ] || skip "no cgroup2 mount"
	echo "$m"
}

# make_cgroup NAME: create a cgroup2 directory for this test, removed on exit
# (its processes are moved to the root first).
make_cgroup() {
	local root dir
	root=$(cgroup2_root) || exit 77
	dir=$root/$1
	mkdir -p "$dir" || die "cannot create cgroup $dir"
	on_exit "_remove_cgroup '$dir'"
	echo "$dir"
}

_remove_cgroup() {
	local dir=$1 root p sub
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	for sub in $(find "$dir" -mindepth 1 -type d 2>/dev/null | sort -r) "$dir"; do
		while read -r p; do
			echo "$p" >"$root/cgroup.procs" 2>/dev/null || true
		done <"$sub/cgroup.procs"
		rmdir "$sub" 2>/dev/null || true
	done
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local limit=$1 t0=$SECONDS
	shift
	until "$@"; do
		[ $((SECONDS - t0)) -ge "$limit" ] && return 1
		sleep 0.1
	done
}

# run_watched SECONDS LOG CMD...: run CMD with output to LOG; if it is
# still running after SECONDS, show where each of its threads is (kernel
# wait channel and stack; user stack with gdb where installed), as digest
# lines too, then kill it. Returns CMD's exit status, 124 after a kill.
run_watched() {
	local limit=$1 out=$2 pid t0=$SECONDS rc
	shift 2
	"$@" >"$out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt "$limit" ]; do
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "run_watched: still running after $limit s: $*"
		_show_threads "$pid"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
	rc=$?
	return $rc
}
_show_threads() {
	local pid=$1 t tid
	for t in /proc/"$pid"/task/*; do
		tid=${t##*/}
		echo "thread $tid $(cat "$t/comm" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null | head -n 8
	done
	command -v gdb >/dev/null || { digest "hung; no gdb for user stacks"; return 0; }
	gdb -batch -p "$pid" -ex "thread apply all bt 12" 2>/dev/null >"$TEST_TMP/gdb.$pid" || true
	grep -v '^\[New LWP\|^$' "$TEST_TMP/gdb.$pid" | head -n 200
	# one digest line per thread: its innermost frames' function names
	awk '/^Thread /{ if (line) print line; t = $6 " " $7; gsub(/[()":]/, "", t)
	                 line = "hung thread " t ":"; n = 0; next }
	     /^#[0-9]/ && n < 5 { for (i = 1; i <= NF; i++) if ($i == "in") { line = line " " $(i + 1); break }
	                         if ($0 !~ / in /) line = line " " $2; n++ }
	     END { if (line) print line }' "$TEST_TMP/gdb.$pid" | sed 's/^/DIGEST: /'
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s; waits for it if a child.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# no_numa_balancing: turn the kernel's automatic NUMA balancing off for this
# test (it moves pages by itself: a test of tierd's moves wants tierd to be
# the only mover); the old setting is restored on exit.
no_numa_balancing() {
	local nb=/proc/sys/kernel/numa_balancing
	[ -w $nb ] || return 0
	on_exit "echo $(cat $nb) > $nb"
	echo 0 >$nb
}

# no_perf_throttle: the software-event sampler lane samples every fault;
# perf throttles an event past perf_event_max_sample_rate / HZ samples per
# tick (400 at the default 100000 and HZ=250), and a first-touch loop
# faults far faster. Raise the limit for the test, restore it on exit.
no_perf_throttle() {
	local r=/proc/sys/kernel/perf_event_max_sample_rate
	[ -w $r ] || return 0
	on_exit "echo $(cat $r) > $r"
	echo 10000000 >$r 2>/dev/null || true
}

# in_vm: true inside the tools/vmtest guest.
in_vm() { [ -e /run/tierd-vmtest ]; }

# --- tierd for a test --------------------------------------------------------
# start_tierd [TIERD_OPTION...]: start tierd with this test's own control
# socket ($TIERD_SOCK) and pin root ($TIERD_PINS) in $TEST_TMP (call
# make_tmpdir first), its stderr appended to $TIERD_LOG, and wait (60 s)
# until it answers `tierctl status`. Sets TIERD_PID; tierd is stopped by
# that pid on exit (continued first, in case the test stopped it); a tierd
# that exits at start fails the test at once. Not in
# $(...): tierd must be this shell's child so that `wait $TIERD_PID` works.
# Call it again after stopping tierd to restart it (same socket, pins, log).
# When the test fails, the end of $TIERD_LOG is printed.
start_tierd() {
	[ -n "${TEST_TMP:-}" ] || die "start_tierd: call make_tmpdir first"
	TIERD_SOCK=$TEST_TMP/tierd.sock
	TIERD_PINS=$TEST_TMP/pins
	TIERD_LOG=$TEST_TMP/tierd.log
	"$TIERD_BIN/tierd" --pin-root "$TIERD_PINS" --socket "$TIERD_SOCK" "$@" 2>>"$TIERD_LOG" &
	TIERD_PID=$!
	on_exit "kill -CONT $TIERD_PID; stop_pid $TIERD_PID"
	local t0=$SECONDS
	until ctl status >/dev/null 2>&1; do
		kill -0 "$TIERD_PID" 2>/dev/null || die "tierd $* exited at start"
		[ $((SECONDS - t0)) -ge 60 ] && die "tierd $* did not answer on $TIERD_SOCK within 60 s"
		sleep 0.1
	done
}

# ctl ARG...: tierctl talking to the tierd of start_tierd.
ctl() { "$TIERD_BIN/tierctl" --socket "$TIERD_SOCK" "$@"; }

# attach_cgroup PATH [ATTACH_OPTION...]: `tierctl attach`, or fail the test.
attach_cgroup() { ctl attach "$@" >/dev/null || die "tierctl attach $* failed"; }

# wait_event_readers SECONDS N: wait until tierd has N event readers (a
# `tierctl events` or `heatmap` started in the background has connected).
wait_event_readers() { wait_for "$1" _event_readers_are "$2"; }
_event_readers_are() { [ "$(ctl -j status 2>/dev/null | jq .global.event_readers)" = "$1" ]; }

# The end of tierd's log, for a failed test (cleanups run silently).
_show_tierd_log() {
	[ -n "${TIERD_LOG:-}" ] && [ -s "$TIERD_LOG" ] || return 0
	echo "--- tierd log ($TIERD_LOG), last 40 lines:"
	tail -n 40 "$TIERD_LOG"
}

# --- Soft-RoCE ---------------------------------------------------------------
# setup_rxe NAME NET: two Soft-RoCE devices over a veth pair: v${NAME}<pid>a
# with NET.1/24 and v${NAME}<pid>b with NET.2/24 (NET like 10.199.0), an rxe
# device on each (rx${NAME}<pid>a, ...b); all removed on exit. A server
# listening on NET.1 is reached through the local route. Skips when the
# kernel has no rdma_rxe.
setup_rxe() {
	local name=$1 net=$2 v0=v$1$$a v1=v$1$$b
	need_cmd ip rdma
	modprobe rdma_rxe 2>/dev/null || skip "no rdma_rxe module in kernel $(uname -r): Soft-RoCE unavailable"
	on_exit "ip link del $v0"
	ip link add "$v0" type veth peer name "$v1" || die "cannot create a veth pair"
	ip addr add "$net.1/24" dev "$v0"
	ip addr add "$net.2/24" dev "$v1"
	ip link set "$v0" up
	ip link set "$v1" up
	on_exit "rdma link delete rx$name$$a"
	on_exit "rdma link delete rx$name$$b"
	rdma link add "rx$name$$a" type rxe netdev "$v0" || skip "rdma link add type rxe failed on $(uname -r)"
	rdma link add "rx$name$$b" type rxe netdev "$v1" || skip "rdma link add type rxe failed on $(uname -r)"
}
