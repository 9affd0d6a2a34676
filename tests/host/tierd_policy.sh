#!/bin/bash
# timeout: 120
# tierd_policy — tierd with a policy file: its cgroups are attached and
# managed with their budgets; SIGHUP with a broken file keeps the old
# policy (status shows it), SIGHUP with a good changed file applies it
# (budgets change, new cgroups attach, dropped ones detach); --dry-run
# logs plan rounds and moves nothing; tierctl attach names a bad flag.
. "$(dirname "$0")/../lib.sh"

need_root
need_cmd jq
need_bin tierd tierctl wl-hotset
make_tmpdir
A=$(make_cgroup "tierd-policy-a.$$") || exit $?
B=$(make_cgroup "tierd-policy-b.$$") || exit $?

P=$TEST_TMP/policy.json
status() { ctl -j status >"$TEST_TMP/status.json" && jq -r "$1" "$TEST_TMP/status.json"; }
cg() { status ".cgroups[] | select(.path == \"$1\") | $2"; }

cat >"$P" <<JSON
{
  // first policy: A with a 64M DRAM budget, rounds every 300 ms
  "moves": { "interval_ms": 300 },
  "cgroups": [ { "path": "$A", "dram": "64M" } ]
}
JSON
start_tierd --policy "$P" --dry-run
LOG=$TIERD_LOG

check "status names the policy file" [ "$(status .tiering.policy_file)" = "$P" ]
check "the policy's interval is in force" [ "$(status .tiering.policy.moves.interval_ms)" = 300 ]
check "A is attached from the policy with its budget" [ "$(cg "$A" .tiering.budget.dram)" = 64M ]
check "B is not attached" [ -z "$(cg "$B" .id)" ]
check "status says dry run" [ "$(status .tiering.dry_run)" = true ]

# a workload in A: the dry run plans rounds for it and moves nothing
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-hotset" --size-mb 32 --hot-mb 4 --duration 60' _ \
	"$A" "$TIERD_BIN" >"$TEST_TMP/wl.out" 2>&1 &
WL_PID=$!
on_exit "stop_pid $WL_PID"
wait_for 30 grep -q '^ready' "$TEST_TMP/wl.out" || die "workload not ready: $(cat "$TEST_TMP/wl.out")"
tracked() { [ "$(cg "$A" .tiering.tracked_pages)" -ge 8192 ]; }
check "A's workload memory is tracked (>= 32 MiB)" wait_for 20 tracked
check "dry run rounds are logged" wait_for 20 grep -q "dry run: round $A: would promote" "$LOG"
check "the dry run moved nothing (tierd)" [ "$(cg "$A" .tiering.promoted_pages)" = 0 -a "$(cg "$A" .tiering.demoted_pages)" = 0 ]
check "the dry run moved nothing (kernel counters)" [ "$(cg "$A" .promotions)" = 0 -a "$(cg "$A" .demotions)" = 0 ]
ctl status >"$TEST_TMP/status.txt"
check "tierctl status shows A's budget and tier bytes" grep -q "managed: DRAM .* MiB (budget 64M), CXL" "$TEST_TMP/status.txt"
check "tierctl status shows the policy in force" grep -q "^tiering: policy $P;" "$TEST_TMP/status.txt"
loads=$(status .tiering.policy_loads)

# a broken file: refused, errors logged with file and line, old policy stays
cat >"$P" <<JSON
{
  "moves": { "interval_ms": "soon" },
  "cgroups": [ { "path": "$A", "dram": "12X" } ]
}
JSON
kill -HUP $TIERD_PID
check "the broken policy is refused" wait_for 20 grep -q "policy $P refused" "$LOG"
check "its errors name file, line and key" grep -q "$P:2: moves.interval_ms" "$LOG"
check "its errors name the bad size" grep -q "$P:3: cgroups\[0\].dram" "$LOG"
check "the old budget stays" [ "$(cg "$A" .tiering.budget.dram)" = 64M ]
check "the old interval stays" [ "$(status .tiering.policy.moves.interval_ms)" = 300 ]
check "no reload was counted" [ "$(status .tiering.policy_loads)" = "$loads" ]
check "tierd still runs" kill -0 $TIERD_PID

# a good changed file: applied
cat >"$P" <<JSON
{
  "moves": { "interval_ms": 400 },
  "cgroups": [ { "path": "$A", "dram": "32M", "cxl": "1G" }, { "path": "$B", "dram": "10%" } ]
}
JSON
kill -HUP $TIERD_PID
applied() { [ "$(status .tiering.policy_loads)" -gt "$loads" ]; }
check "the good policy is applied" wait_for 20 applied
check "A's new budgets" [ "$(cg "$A" .tiering.budget.dram)/$(cg "$A" .tiering.budget.cxl)" = 32M/1G ]
check "B is attached and managed" [ "$(cg "$B" .tiering.budget.dram)" = 10% ]
check "the new interval" [ "$(status .tiering.policy.moves.interval_ms)" = 400 ]

# a policy that drops A: A is detached, B stays
cat >"$P" <<JSON
{ "cgroups": [ { "path": "$B", "dram": "10%" } ] }
JSON
kill -HUP $TIERD_PID
detached() { [ -z "$(cg "$A" .id)" ]; }
check "A is detached when the policy drops it" wait_for 20 detached
check "B stays" [ -n "$(cg "$B" .id)" ]

# tierctl names the bad flag
out=$(ctl attach "$A" --dram 12X 2>&1)
has() { [[ $1 == *"$2"* ]]; }
check "attach --dram 12X fails naming --dram" has "$out" "--dram: '12X' is not a size"
out=$(ctl attach "$A" --cxl 2>&1)
check "attach --cxl without a size fails naming --cxl" has "$out" "--cxl needs a SIZE"
check "attach with budgets works" ctl attach "$A" --dram 16M --cxl max
check "A is managed again" [ "$(cg "$A" .tiering.budget.dram)" = 16M ]

stop_pid $WL_PID
stop_pid $TIERD_PID
check "tierd stopped cleanly" grep -q "tierd: stopped" "$LOG"
check "tierd's control socket is gone" [ ! -e "$TIERD_SOCK" ]
