#!/bin/bash
# vmtest_exit: tools/vmtest returns the guest command's exit status and
# output, so a failing VM test cannot look green.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

vmtest=$TIERD_SRC/tools/vmtest
command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (tools/deps.sh installs qemu-system-x86)"
make_tmpdir
if ! "$vmtest" --prepare >"$TEST_TMP/prepare.log" 2>&1; then
	cat "$TEST_TMP/prepare.log"
	skip "cannot fetch or prepare the guest kernel (tools/vmtest --prepare failed, see above)"
fi

# run NAME CMD...: run CMD in the guest; sets rc and out.
run() {
	local t0=$SECONDS
	out=$("$vmtest" -- "$@" 2>"$TEST_TMP/stderr")
	rc=$?
	log "vmtest -- $* -> exit $rc in $((SECONDS - t0))s"
	[ $rc = 0 ] || [ $rc = 3 ] || [ $rc = 125 ] || sed 's/^/  stderr: /' "$TEST_TMP/stderr"
}

run sh -c 'exit 3'
check "sh -c 'exit 3' exits 3 (got $rc)" test "$rc" = 3

run true
check "true exits 0 (got $rc)" test "$rc" = 0

# The caller's working directory and TIERD_* variables travel; others not.
cd "$TIERD_SRC/tests" || die "no $TIERD_SRC/tests"
export TIERD_VMTEST_PROBE=$'a b\'$c' NOT_TIERD_PROBE=x
run sh -c 'echo hello-from-guest; echo to-stderr >&2; pwd
	echo "probe=$TIERD_VMTEST_PROBE other=${NOT_TIERD_PROBE:-unset}"; printf no-newline'
check "exit 0 (got $rc)" test "$rc" = 0
expected=$'hello-from-guest\nto-stderr\n'"$TIERD_SRC/tests"$'\nprobe=a b\'$c other=unset\nno-newline'
check "stdout, stderr, cwd, TIERD_* and a last line without newline come back, nothing else
	(got: $(printf %q "$out"))" test "$out" = "$expected"

# No end marker (the guest powers off under the command): a failure, never 0.
run sh -c 'echo o >/proc/sysrq-trigger; sleep 60'
check "a guest that dies without reporting exits 125 (got $rc)" test "$rc" = 125

out=$("$vmtest" --timeout 4 -- sleep 600 2>"$TEST_TMP/stderr")
rc=$?
check "--timeout 4 -- sleep 600 exits 124 (got $rc)" test "$rc" = 124
check "the timeout is explained" grep -q "timed out after 4s" "$TEST_TMP/stderr"
