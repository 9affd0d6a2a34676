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
	while IFS= read -r cmd; do
		eval "$cmd" >/dev/null 2>&1 || true
	done <<<"$(tac "$_cleanup_file" 2>/dev/null)" # no <(...): the guest has no /dev/fd
	rm -f "$_cleanup_file"
	if [ ${#_checks_failed[@]} -gt 0 ]; then
		echo "FAILED CHECKS:"
		printf '  %s\n' "${_checks_failed[@]}"
		[ $rc = 0 ] && rc=1
	fi
	exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*"; }
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

# in_vm: true inside the tools/vmtest guest.
in_vm() { [ -e /run/tierd-vmtest ]; }
