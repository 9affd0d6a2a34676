#!/bin/bash
# tests/run-tests.sh — the runner behind `make check`.
#
# Lanes, in order:
#   unit  build/tests/test_* and build/tests/san/test_* (cmocka; the second
#         set is built with ASan+UBSan), and clang-format --dry-run -Werror
#         over every C file (the house style)
#   host  tests/host/*.sh on this machine: root, real BPF, real cgroups
#   vm    tests/vm/*.sh inside the QEMU guest (tools/vmtest), once per
#         kernel in TIERD_VM_KERNELS (default "6.12 6.1"), one boot each
#
# A test passes with exit 0, is skipped with exit 77 (its last output line
# says why) and fails otherwise. A script may set its time limit with a
# "# timeout: SECONDS" line (default 300). Logs go to build/test-logs/ (in
# the guest: /tmp/tierd-test-logs/, printed on failure). The last line is
# "N passed, N failed, N skipped"; the exit status is 1 if anything failed.
#
# usage: tests/run-tests.sh [--lane unit|host|vm]... [--in-guest] [NAME...]
#   NAME filters tests by substring (e.g. "observer").
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
export TIERD_SRC=$SRC
export TIERD_BUILD=$SRC/build
export TIERD_BIN=$SRC/build/bin
export TIERD_LIB=$SRC/build/lib

lanes=()
in_guest=0
filters=()
while [ $# -gt 0 ]; do
	case "$1" in
	--lane) lanes+=("$2"); shift 2 ;;
	--in-guest) in_guest=1; shift ;;
	-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-tests: unknown option $1" >&2; exit 2 ;;
	*) filters+=("$1"); shift ;;
	esac
done
[ ${#lanes[@]} -eq 0 ] && lanes=(unit host vm)

if [ $in_guest = 1 ]; then
	logdir=/tmp/tierd-test-logs
else
	logdir=$TIERD_BUILD/test-logs
fi
mkdir -p "$logdir"

passed=0 failed=0 skipped=0
failures=()
digest_lines=() # of failed tests: repeated before the summary (CI shows the end)

selected() {
	[ ${#filters[@]} -eq 0 ] && return 0
	local f
	for f in "${filters[@]}"; do
		case "$1" in *"$f"*) return 0 ;; esac
	done
	return 1
}

# record LANE NAME RC SECONDS LOG
record() {
	local lane=$1 name=$2 rc=$3 secs=$4 log=$5 line digest
	case $rc in
	0)
		passed=$((passed + 1))
		echo "result: PASS $lane/$name (${secs}s)"
		;;
	77)
		skipped=$((skipped + 1))
		echo "result: SKIP $lane/$name: $(tail -n 1 "$log" 2>/dev/null)"
		;;
	*)
		failed=$((failed + 1))
		failures+=("$lane/$name")
		echo "result: FAIL $lane/$name (exit $rc, ${secs}s; log $log)"
		echo "---- last 40 lines of $lane/$name ----"
		tail -n 40 "$log" | grep -v '^DIGEST: ' | sed 's/^/  | /'
		echo "----"
		# no <(...) here: the guest has no /dev/fd
		digest=$(grep '^DIGEST: ' "$log" | head -n 12 | sed "s|^DIGEST: |digest: $lane/$name: |"
			[ $rc = 124 ] && echo "digest: $lane/$name: timed out after ${secs}s")
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			echo "$line"
			digest_lines+=("$line")
		done <<<"$digest"
		;;
	esac
}

run_one() { # LANE NAME LOG TIMEOUT CMD...
	local lane=$1 name=$2 log=$3 limit=$4
	shift 4
	local t0=$SECONDS rc
	timeout --kill-after=20 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	[ $rc = 124 ] && echo "run-tests: timed out after ${limit}s" >>"$log"
	record "$lane" "$name" $rc $((SECONDS - t0)) "$log"
}

script_timeout() {
	local t
	t=$(sed -n 's/^# timeout: *\([0-9]\+\).*/\1/p' "$1" | head -n 1)
	echo "${t:-300}"
}

# The house style (kernel style, .clang-format), checked like a test.
style_check() {
	cd "$TIERD_SRC" || return 1
	git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout: no file list"; return 77; }
	command -v clang-format >/dev/null || { echo "clang-format is not installed"; return 77; }
	git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror
}

lane_unit() {
	local t name
	selected clang-format &&
		run_one unit clang-format "$logdir/unit-clang-format.log" 300 \
			bash -c "$(declare -f style_check); style_check"
	for t in "$TIERD_BUILD"/tests/test_* "$TIERD_BUILD"/tests/san/test_*; do
		[ -x "$t" ] || continue
		name=${t#"$TIERD_BUILD"/tests/}
		selected "$name" || continue
		run_one unit "$name" "$logdir/unit-${name//\//-}.log" 300 "$t"
	done
}

lane_scripts() { # LANE DIR
	local lane=$1 dir=$2 t name
	for t in "$dir"/*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		run_one "$lane" "$name" "$logdir/$lane-$name.log" "$(script_timeout "$t")" bash "$t"
	done
}

# The VM lane: one guest boot per kernel runs this script with --in-guest;
# its "result:" lines come back on the guest's output and are counted here
# as they arrive (read from the pipe, not from the log file, which a
# concurrent run in the same tree could overwrite). The guest kernel's
# console is kept next to the log. The time limit of a boot is the sum of
# the selected tests' limits plus 10 minutes for boots and stragglers.
lane_vm() {
	local k out rc line n_before t limit=600 exit_tag="run-tests: vmtest exit status"
	for t in "$SRC"/tests/vm/*.sh; do
		[ -f "$t" ] || continue
		selected "$(basename "$t" .sh)" || continue
		limit=$((limit + $(script_timeout "$t")))
	done
	for k in ${TIERD_VM_KERNELS:-6.12 6.1}; do
		out=$logdir/vm-$k.console
		echo "run-tests: VM lane on Linux $k (log $out, kernel console $logdir/vm-$k.kernel.log)"
		n_before=$((passed + failed + skipped))
		rc=125
		while IFS= read -r line; do
			case "$line" in
			"result: PASS "*) passed=$((passed + 1)); echo "${line/result: PASS /result: PASS $k:}" ;;
			"result: SKIP "*) skipped=$((skipped + 1)); echo "${line/result: SKIP /result: SKIP $k:}" ;;
			"result: FAIL "*) failed=$((failed + 1)); failures+=("$k:${line#result: FAIL }")
				echo "${line/result: FAIL /result: FAIL $k:}" ;;
			"  | "*|"---- "*|"----") echo "$line" ;;
			"digest: "*) digest_lines+=("${line/digest: /digest: $k:}"); echo "$line" ;;
			"$exit_tag "*) rc=${line#"$exit_tag "} ;;
			esac
		done < <("$SRC"/tools/vmtest --kernel "$k" --timeout "$limit" \
			--console "$logdir/vm-$k.kernel.log" -- \
			"$SRC"/tests/run-tests.sh --in-guest --lane vm ${filters[@]+"${filters[@]}"} \
			</dev/null 2>&1 | tr -d '\r' | tee "$out"
			echo "$exit_tag ${PIPESTATUS[0]}")
		if [ $rc != 0 ] && [ $((passed + failed + skipped)) = "$n_before" ]; then
			failed=$((failed + 1))
			failures+=("vm/boot-$k")
			echo "result: FAIL vm/boot-$k (vmtest exit $rc, no test ran)"
			tail -n 40 "$out" | sed 's/^/  | /'
		elif [ $rc != 0 ] && [ $rc != 1 ]; then
			failed=$((failed + 1))
			failures+=("vm/boot-$k")
			echo "result: FAIL vm/boot-$k (vmtest exit $rc)"
			tail -n 40 "$out" | sed 's/^/  | /'
		fi
	done
}

for lane in "${lanes[@]}"; do
	case $lane in
	unit) lane_unit ;;
	host) lane_scripts host "$SRC/tests/host" ;;
	vm)
		if [ $in_guest = 1 ]; then
			lane_scripts vm "$SRC/tests/vm"
		else
			lane_vm
		fi
		;;
	*) echo "run-tests: unknown lane $lane" >&2; exit 2 ;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	# in the guest they went out with each failure (the host repeats them)
	[ $in_guest = 0 ] && [ ${#digest_lines[@]} -gt 0 ] &&
		printf '%s\n' "${digest_lines[@]}" | tail -n 16
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
