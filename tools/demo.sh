#!/bin/bash
# tools/demo.sh — `make demo`: tierd tiering a real workload.
#
# Installs what is missing (tools/deps.sh), builds what it needs, then:
#   1. starts a local tier-memsrv as the memory pool (TCP on 127.0.0.1,
#      the stand-in for an RDMA memory server);
#   2. starts tierd with the default policy;
#   3. makes a cgroup, attaches it with a DRAM budget of about a third of
#      the workload's memory (plus a CXL budget when there is a CXL node)
#      and --pool;
#   4. runs redis-server in it under the pager (`tierctl run --pool`),
#      fills it with DEMO_KEYS keys of 1 KiB (redis-cli EVAL), and keeps a
#      hot set busy with redis-benchmark (GETs over the first fifth of the
#      keys) from outside the cgroup;
#   5. shows `tierctl status` live for about DEMO_SECONDS (default 20);
#   6. ends with a summary: bytes per tier, pool faults, fetch latency,
#      and every key read back and checked inside redis (a Lua scan).
# On a machine with one NUMA node it runs two tiers (DRAM + pool) and says
# why; `make demo VM=1` runs it in the QEMU guest of tools/vmtest, whose
# CPU-less second node is a CXL tier: three tiers. Everything it started
# is stopped by pid and cleaned up.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
BIN=$SRC/build/bin
DEMO_SECONDS=${DEMO_SECONDS:-20}
PORT=${DEMO_REDIS_PORT:-6399}
IN_VM=0
[ -e /run/tierd-vmtest ] && IN_VM=1
USER_KEYS=${DEMO_KEYS:-}
# TCG is slow: a smaller data set (and pool) in the VM
DEMO_KEYS=${DEMO_KEYS:-$([ $IN_VM = 1 ] && echo 40000 || echo 120000)}
POOL_SIZE=$([ $IN_VM = 1 ] && echo 512M || echo 1G)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (tierd loads BPF programs)" >&2; exit 1; }

if [ "${VM:-}" = 1 ] && [ $IN_VM = 0 ]; then
	say "installing missing packages and building (then the demo runs in the VM)"
	tools/deps.sh || exit 1
	make --no-print-directory -j2 build/bin/tierd build/bin/tierctl build/bin/tier-memsrv \
		build/lib/libtierpager.so || exit 1
	say "booting the test VM (tools/vmtest): DRAM node 0, CXL node 1, pool over TCP"
	exec tools/vmtest --mem-mb 2048 --timeout 900 -- env DEMO_SECONDS="$DEMO_SECONDS" \
		${USER_KEYS:+DEMO_KEYS="$USER_KEYS"} "$SRC/tools/demo.sh"
fi

if [ $IN_VM = 0 ]; then
	say "installing missing packages (tools/deps.sh)"
	tools/deps.sh || exit 1
	say "building tierd, tierctl, tier-memsrv and libtierpager"
	make --no-print-directory -j2 build/bin/tierd build/bin/tierctl build/bin/tier-memsrv \
		build/lib/libtierpager.so || exit 1
fi
for c in redis-server redis-cli redis-benchmark jq; do
	command -v $c >/dev/null || { echo "demo: $c missing (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/tierd-demo.XXXXXX)
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cgroot" ] || { echo "demo: no cgroup2 mount" >&2; exit 1; }
CG=$cgroot/tierd-demo.$$
SOCK=$tmp/tierd.sock
PINS=/sys/fs/bpf/tierd
pids=()
tierd_pid=
memsrv_pid=

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$tierd_pid" ]; then
		kill -TERM "$tierd_pid" 2>/dev/null
		wait "$tierd_pid" 2>/dev/null
	fi
	if [ -n "$memsrv_pid" ]; then
		kill -TERM "$memsrv_pid" 2>/dev/null
		wait "$memsrv_pid" 2>/dev/null
	fi
	if [ -d "$CG" ]; then
		while read -r p; do echo "$p" >"$cgroot/cgroup.procs"; done <"$CG/cgroup.procs"
		rmdir "$CG"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$BIN/tierctl" --socket "$SOCK" "$@"; }
rcli() { redis-cli -p "$PORT" "$@"; }

# --- tiers: what this machine has -------------------------------------------
nr_nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
cpuless=0
for n in /sys/devices/system/node/node[0-9]*; do
	[ -z "$(tr -d '\n' <"$n/cpulist")" ] && cpuless=$((cpuless + 1))
done
if [ "$cpuless" -gt 0 ]; then
	TIERS=3
	say "three tiers: DRAM (nodes with CPUs), CXL (the $cpuless memory-only node(s)), the pool (tier-memsrv)"
else
	TIERS=2
	say "two tiers: DRAM and the pool"
	echo "This machine has $nr_nodes NUMA node(s) and none of them is memory-only, so there is"
	echo "no CXL tier to place warm pages on: tierd keeps the hottest pages in DRAM within the"
	echo "budget and sends the rest to the pool. 'make demo VM=1' runs the three-tier version"
	echo "in a VM whose second NUMA node has memory but no CPUs (how a CXL expander appears)."
fi

# --- the pool ---------------------------------------------------------------
say "starting tier-memsrv: $POOL_SIZE of this machine's RAM lent as the pool over TCP"
for try in 1 2 3 4 5; do
	mport=$((20000 + (RANDOM + $$ + try * 977) % 40000))
	"$BIN/tier-memsrv" --listen "tcp://127.0.0.1:$mport" --size "$POOL_SIZE" >"$tmp/memsrv.log" 2>&1 &
	memsrv_pid=$!
	for i in $(seq 100); do grep -q lending "$tmp/memsrv.log" && break; sleep 0.1; done
	grep -q lending "$tmp/memsrv.log" && break
	kill "$memsrv_pid" 2>/dev/null
	wait "$memsrv_pid" 2>/dev/null
	memsrv_pid=
done
[ -n "$memsrv_pid" ] || { cat "$tmp/memsrv.log"; echo "demo: tier-memsrv did not start" >&2; exit 1; }
POOL=tcp://127.0.0.1:$mport
echo "pool: $POOL ($(grep -m1 lending "$tmp/memsrv.log"))"

# --- tierd -------------------------------------------------------------------
say "starting tierd with the default policy (pins in $PINS, socket $SOCK)"
"$BIN/tierd" --pin-root "$PINS" --socket "$SOCK" 2>"$tmp/tierd.log" &
tierd_pid=$!
for i in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status >/dev/null || { cat "$tmp/tierd.log"; echo "demo: tierd did not start" >&2; exit 1; }
sed 's/^/  | /' "$tmp/tierd.log"

# --- the workload --------------------------------------------------------------
# 1 KiB values: redis needs about 1.3 KiB per key in all
data_mib=$((DEMO_KEYS * 13 / 10 / 1024))
dram_mib=$((data_mib / 3))
cxl_args=()
if [ $TIERS = 3 ]; then
	cxl_mib=$((data_mib / 4))
	cxl_args=(--cxl "${cxl_mib}M")
fi
mkdir "$CG" || exit 1
say "attaching $CG: DRAM ${dram_mib}M (about a third of ~${data_mib} MiB)${cxl_args:+, CXL ${cxl_mib}M}, the rest to the pool"
echo "\$ tierctl attach $CG --dram ${dram_mib}M ${cxl_args[*]} --pool"
ctl attach "$CG" --dram "${dram_mib}M" "${cxl_args[@]}" --pool || exit 1

say "redis-server in the cgroup under the pager: tierctl run --pool $POOL -- redis-server"
TIERD_SOCKET=$SOCK bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2" run --pool "$3" --pool-size "$5" -v -- redis-server --port "$4" --save "" --appendonly no --daemonize no --loglevel warning' \
	_ "$CG" "$BIN/tierctl" "$POOL" "$PORT" "$POOL_SIZE" >"$tmp/redis.log" 2>&1 &
pids+=($!)
for i in $(seq 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
rcli ping >/dev/null || { cat "$tmp/redis.log"; echo "demo: redis-server did not start" >&2; exit 1; }

# key:%012d holds a 1000-byte value made from its number (redis-benchmark's
# __rand_int__ keys have the same shape, so its GETs hit them)
FILL='for i = 0, tonumber(ARGV[1]) - 1 do
	redis.call("SET", string.format("key:%012d", i), string.rep(string.format("%08d", i), 125))
end
return tonumber(ARGV[1])'
CHECK='local bad = 0
for i = 0, tonumber(ARGV[1]) - 1 do
	if redis.call("GET", string.format("key:%012d", i)) ~= string.rep(string.format("%08d", i), 125) then
		bad = bad + 1
	end
end
return bad'
say "filling redis: $DEMO_KEYS keys of 1000 bytes (redis-cli EVAL)"
t0=$SECONDS
rcli EVAL "$FILL" 0 "$DEMO_KEYS" >/dev/null || { echo "demo: fill failed" >&2; exit 1; }
echo "filled in $((SECONDS - t0)) s; redis: $(rcli info memory | tr -d '\r' | grep -m1 '^used_memory_rss_human')"
echo "(the pager's channel reports to tierd: $(grep -m1 'registered with tierd' "$tmp/redis.log" || echo 'not yet registered'))"

hot=$((DEMO_KEYS / 5))
say "redis-benchmark: GETs over the first $hot keys (the hot fifth), from outside the cgroup"
redis-benchmark -p "$PORT" -q -l -r "$hot" -t get -d 1000 >"$tmp/bench.log" 2>&1 &
pids+=($!)

say "tierctl status, live for ${DEMO_SECONDS}s"
end=$((SECONDS + DEMO_SECONDS))
while [ $SECONDS -lt $end ]; do
	sleep 4
	echo "--- $(date +%T) \$ tierctl status (the demo's cgroup)"
	ctl status | sed -n "\|^cgroup $CG|,/^cgroup \|^[a-z]/p" | sed '/^tiering:/,$d' | head -n 12
done

# --- summary ----------------------------------------------------------------
kill -TERM "${pids[1]}" 2>/dev/null
wait "${pids[1]}" 2>/dev/null
ctl -j status >"$tmp/status.json"
cgq() { jq -r ".cgroups[] | select(.path == \"$CG\") | $1" "$tmp/status.json"; }
mibq() { awk -v b="$(cgq "$1 // 0")" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
say "summary"
echo "tiers:           $TIERS ($([ $TIERS = 3 ] && echo 'DRAM, CXL, pool' || echo 'DRAM and pool: one NUMA node, no CXL tier'))"
echo "budget:          DRAM ${dram_mib}M${cxl_args:+, CXL ${cxl_mib}M}, pool on"
# Within budget is judged on what tierd manages (its last round: the
# workload's anonymous ranges); the cgroup's own anonymous bytes per node
# (memory.numa_stat) are shown beside it: they also hold the pager's own
# tables and buffers, ranges under 64 KiB, and pages fetched on faults
# since the last round (the pager's handlers put those on the CXL node).
# "within" allows 1% of the budget (at least 64 pages): the pages that
# moved between the round and this look.
anon_node() { awk -v n="N$1=" '$1 == "anon" { for (i = 2; i <= NF; i++) if (index($i, n) == 1) { sub(n, "", $i); print $i } }' "$CG/memory.numa_stat" 2>/dev/null; }
tier_line() { # LABEL JQ_BYTES BUDGET_MIB NODE
	local b n
	b=$(cgq "$2 // 0")
	n=$(anon_node "$4")
	awk -v l="$1" -v b="$b" -v m="$3" -v node="$4" -v n="${n:-0}" 'BEGIN {
		printf "%-16s %.1f MiB of %d MiB budget: %s (the cgroup'"'"'s anon on node %s: %.1f MiB)\n",
			l, b / 1048576, m, b <= m * 1048576 + (m * 10486 > 262144 ? m * 10486 : 262144) ? "within" : "OVER", node, n / 1048576 }'
}
dram_node=$(jq -r '.tiering.tiers.dram[0] // 0' "$tmp/status.json")
cxl_node=$(jq -r '.tiering.tiers.cxl[0] // empty' "$tmp/status.json")
tier_line "bytes in DRAM:" .tiering.bytes.dram "$dram_mib" "$dram_node"
if [ $TIERS = 3 ] && [ -n "$cxl_node" ]; then
	tier_line "bytes in CXL:" .tiering.bytes.cxl "$cxl_mib" "$cxl_node"
fi
echo "bytes in pool:   $(mibq .tiering.pager.pool_bytes), the rest (pager's count; tierd's heat table: $(mibq .tiering.bytes.pool))"
echo "moves by tierd:  $(cgq .tiering.promoted_pages) pages up, $(cgq .tiering.demoted_pages) down ($(cgq .tiering.pager.evict_cmd_pages) pages asked to the pool, $(cgq .tiering.pager.fetch_cmd_pages) back)"
echo "pool faults:     $(cgq .tiering.pager.pool_faults) ($(cgq '.tiering.pager.pool_faults_per_s | floor')/s at the end), prefetched $(cgq .tiering.pager.prefetches)"
echo "fetch latency:   $(awk -v a="$(cgq .tiering.pager.fetch_p50_ns)" -v b="$(cgq .tiering.pager.fetch_p99_ns)" 'BEGIN { printf "p50 %.1f us, p99 %.1f us", a / 1000, b / 1000 }') (the last second's fetches; TCP on loopback)"
echo "hint faults:     $(cgq .tiering.pager.hints) armed (heat for resident pages without a PMU)"
echo "redis-benchmark: $(tr '\r' '\n' <"$tmp/bench.log" | grep -a 'requests per second' | tail -n 1)"
echo "tierd's last actions:"
grep "round $CG" "$tmp/tierd.log" | tail -n 2 | sed 's/^/  | /'
say "reading back every key (a Lua scan inside redis: pool pages come back on the way)"
t0=$SECONDS
bad=$(rcli EVAL "$CHECK" 0 "$DEMO_KEYS")
if [ "$bad" = 0 ]; then
	echo "all $DEMO_KEYS keys intact (checked in $((SECONDS - t0)) s)"
	rc=0
else
	echo "DATA CHECK FAILED: $bad of $DEMO_KEYS keys wrong or missing (redis said: $bad)"
	rc=1
fi
say "stopping everything (redis, tierd, tier-memsrv) and removing the cgroup"
exit $rc
