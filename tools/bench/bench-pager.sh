#!/bin/bash
# tools/bench/bench-pager.sh — `make bench-pager`: 4 KiB page touches over
# a region 8x the local limit, timed one by one (tier-pagebench), under
#   (a) libtierpager with the shm pool (tier-memsrv --listen shm:...),
#   (a0) the same without --idle-poll (idle CPUs halt: see README),
#   (b) libtierpager with the TCP pool on loopback,
#   (c) the kernel's own path: a zram swap device and a cgroup v1 memory
#       limit of the same size,
#   (f) the floor under any userfaultfd pager here (tier-uffd-floor: one
#       busy-polling handler answers each fault with UFFDIO_COPY; no pool,
#       no eviction; random touches only),
# interleaved in the same run, RUNS times (default 5); medians of each
# run's mean/p50/p99 and the ratios (a)/(c), (b)/(c). Writes
# build/bench/pager.md. Everything it sets up (servers, zram device, swap,
# cgroup) is undone on exit, also on failure.
# env: RUNS (5), LIMIT_MIB (64), NRANDOM (50000)
# The machine is shared and noisy: besides the ratios of the medians (the
# goals), the medians of each run's own ratio are printed (the arms of one
# run ran back to back, under the same load). Where the pager's time goes:
# build pager.c with -DTP_PROFILE and run tier-pagebench under
# `tierctl run -v`: the totals per step are logged at exit.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$src/build/bin
out=$src/build/bench
mkdir -p "$out"
RUNS=${RUNS:-5}
LIMIT_MIB=${LIMIT_MIB:-64}
SIZE_MIB=$((LIMIT_MIB * 8))
NRANDOM=${NRANDOM:-50000}
tmp=$(mktemp -d /tmp/tierd-bench-pager.XXXXXX)

die() { echo "bench-pager: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (zram, swapon, cgroups)"
for f in tier-pagebench tier-uffd-floor tierctl tier-memsrv; do
	[ -x "$bin/$f" ] || die "build first: make bench-pager"
done
[ -r "$src/build/lib/libtierpager.so" ] || die "build first: make bench-pager"

pids=()
zram_id=
cg=
shm_file=/dev/shm/tierd-bench-pager-$$
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ -n "$zram_id" ]; then
		swapoff "/dev/zram$zram_id" 2>/dev/null
		echo 1 >"/sys/block/zram$zram_id/reset" 2>/dev/null
		echo "$zram_id" >/sys/class/zram-control/hot_remove 2>/dev/null
	fi
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		while read -r p; do echo "$p" >/sys/fs/cgroup/memory/cgroup.procs; done <"$cg/cgroup.procs"
		rmdir "$cg" 2>/dev/null
	fi
	rm -f "$shm_file" "$shm_file.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_log() { # FILE PATTERN
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1" >&2
	return 1
}

# --- pools ---
"$bin/tier-memsrv" --listen "shm:$shm_file" --size $((SIZE_MIB * 2))M --lease-grace 1 \
	>"$tmp/shm.log" 2>&1 &
pids+=($!)
wait_log "$tmp/shm.log" lending || die "tier-memsrv (shm) did not start"
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM * 5 + $$ + try * 89) % 40000))
	"$bin/tier-memsrv" --listen "tcp://127.0.0.1:$port" --size $((SIZE_MIB * 2))M --lease-grace 1 \
		>"$tmp/tcp.log" 2>&1 &
	pid=$!
	if wait_log "$tmp/tcp.log" lending; then
		pids+=($pid)
		break
	fi
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	port=
done
[ -n "$port" ] || die "tier-memsrv (tcp) did not start"

# --- the kernel's path: zram swap + a memory cgroup ---
[ -e /sys/class/zram-control/hot_add ] || die "no zram (CONFIG_ZRAM, /sys/class/zram-control)"
[ -d /sys/fs/cgroup/memory ] || die "no cgroup v1 memory controller at /sys/fs/cgroup/memory"
zram_id=$(cat /sys/class/zram-control/hot_add) || die "zram hot_add failed"
echo $((SIZE_MIB * 2))M >"/sys/block/zram$zram_id/disksize" || die "zram disksize"
mkswap "/dev/zram$zram_id" >/dev/null || die "mkswap"
swapon -p 32767 "/dev/zram$zram_id" || die "swapon"
cg=/sys/fs/cgroup/memory/tierd-bench-pager-$$
mkdir "$cg" || die "cannot create $cg"
echo $((LIMIT_MIB))M >"$cg/memory.limit_in_bytes" || die "memory.limit_in_bytes"

BENCH_ARGS="--size ${SIZE_MIB}M --random $NRANDOM"

run_mode() { # MODE -> prints the bench output
	case $1 in
	shm) "$bin/tierctl" run --pool "shm:$shm_file" --pool-size $((SIZE_MIB * 2))M \
		--local-limit ${LIMIT_MIB}M --idle-poll -- "$bin/tier-pagebench" $BENCH_ARGS ;;
	shm0) "$bin/tierctl" run --pool "shm:$shm_file" --pool-size $((SIZE_MIB * 2))M \
		--local-limit ${LIMIT_MIB}M -- "$bin/tier-pagebench" $BENCH_ARGS ;;
	tcp) "$bin/tierctl" run --pool "tcp://127.0.0.1:$port" --pool-size $((SIZE_MIB * 2))M \
		--local-limit ${LIMIT_MIB}M --idle-poll -- "$bin/tier-pagebench" $BENCH_ARGS ;;
	zram) bash -c "echo \$\$ >$cg/cgroup.procs && exec $bin/tier-pagebench $BENCH_ARGS" ;;
	floor) "$bin/tier-uffd-floor" --pages "$NRANDOM" --idle-poll ;;
	esac
}

field() { # FILE PHASE KEY
	sed -n "s/^$2 .* $3=\([0-9]*\).*/\1/p" "$1" | head -n 1
}

modes="shm shm0 tcp zram floor"
for r in $(seq "$RUNS"); do
	for m in $modes; do
		f=$tmp/$m.$r.out
		run_mode "$m" >"$f" 2>"$tmp/$m.$r.err"
		rc=$?
		ok="bad=0" # pagebench verified every page
		[ "$m" = floor ] && ok="^random n=[1-9]" # the floor checks its own pages
		if [ $rc != 0 ] || ! grep -Eq "$ok" "$f"; then
			cat "$f" "$tmp/$m.$r.err" >&2
			die "run $r, $m failed (exit $rc)"
		fi
		echo "run $r $m: $(tr '\n' ' ' <"$f")"
		sleep 1.2 # the servers' lease grace
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) exit; if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
med() { # MODE PHASE KEY
	local r
	for r in $(seq "$RUNS"); do field "$tmp/$1.$r.out" "$2" "$3"; done | median
}
us() { awk -v n="$1" 'BEGIN { if (n == "") print "-"; else printf "%.1f", n / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A M
for m in $modes; do
	for ph in random seq; do
		for k in mean_ns p50_ns p99_ns; do
			M[$m.$ph.$k]=$(med "$m" "$ph" "$k")
		done
	done
done

goal() { # VALUE LIMIT
	awk -v v="$1" -v l="$2" 'BEGIN { print (v != "-" && v <= l) ? "met" : "missed" }'
}
ra=$(ratio "${M[shm.random.mean_ns]}" "${M[zram.random.mean_ns]}")
rp=$(ratio "${M[shm.random.p99_ns]}" "${M[zram.random.p99_ns]}")
sa=$(ratio "${M[shm.seq.mean_ns]}" "${M[zram.seq.mean_ns]}")

{
	echo "### Pager: 4 KiB page touches, region ${SIZE_MIB} MiB, local limit ${LIMIT_MIB} MiB"
	echo
	echo "Medians of $RUNS runs (each: $NRANDOM random touches after a warm-up, then one"
	echo "sequential pass; a touch is a read-modify-write of one word). Latency in µs."
	echo
	echo "| path | random mean | random p50 | random p99 | seq mean | seq p50 | seq p99 |"
	echo "|---|---|---|---|---|---|---|"
	for m in $modes; do
		case $m in
		shm) name="(a) pager, shm pool" ;;
		shm0) name="(a0) pager, shm pool, without --idle-poll" ;;
		tcp) name="(b) pager, TCP pool (loopback)" ;;
		zram) name="(c) kernel: zram swap + memcg" ;;
		floor) name="(f) floor: bare userfaultfd fault, polling handler" ;;
		esac
		echo "| $name | $(us "${M[$m.random.mean_ns]}") | $(us "${M[$m.random.p50_ns]}") |" \
			"$(us "${M[$m.random.p99_ns]}") | $(us "${M[$m.seq.mean_ns]}") |" \
			"$(us "${M[$m.seq.p50_ns]}") | $(us "${M[$m.seq.p99_ns]}") |"
	done
	echo
	echo "| ratio | random mean | random p50 | random p99 | seq mean | seq p50 | seq p99 |"
	echo "|---|---|---|---|---|---|---|"
	for m in shm shm0 tcp floor; do
		case $m in
		shm) name="(a)/(c)" ;;
		shm0) name="(a0)/(c)" ;;
		tcp) name="(b)/(c)" ;;
		floor) name="(f)/(c)" ;;
		esac
		line="| $name |"
		for ph in random seq; do
			for k in mean_ns p50_ns p99_ns; do
				line="$line $(ratio "${M[$m.$ph.$k]}" "${M[zram.$ph.$k]}") |"
			done
		done
		echo "$line"
	done
	echo
	echo "| goal (a)/(c) | random mean | random p99 | seq mean |"
	echo "|---|---|---|---|"
	echo "| | ≤ 0.7 ($(goal "$ra" 0.7)) | ≤ 0.5 ($(goal "$rp" 0.5)) | ≤ 0.25 ($(goal "$sa" 0.25)) |"
	echo
	fr=$(ratio "${M[floor.random.mean_ns]}" "${M[zram.random.mean_ns]}")
	fp=$(ratio "${M[floor.random.p50_ns]}" "${M[zram.random.mean_ns]}")
	echo "The floor (f) is a fault with nothing else to do; a pager adds its pool"
	echo "read, its tables and an eviction per fault on top. Floor mean / (c) mean:"
	echo "$fr; floor p50 / (c) mean: $fp (the random-mean goal needs (a) ≤ 0.7)."
	echo
	line="Median of the per-run ratios (a)/(c):"
	for ph in random seq; do
		for k in mean_ns p99_ns; do
			v=$(for r in $(seq "$RUNS"); do
				ratio "$(field "$tmp/shm.$r.out" "$ph" "$k")" \
					"$(field "$tmp/zram.$r.out" "$ph" "$k")"
				echo
			done | grep -v '^-$' | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }')
			line="$line $ph ${k%_ns} $v,"
		done
	done
	echo "${line%,}."
} >"$out/pager.md"
cat "$out/pager.md"
