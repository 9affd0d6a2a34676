#!/bin/bash
# bench-pool — the pool transports on their own: latency of one 4 KiB page
# read (random slot, 20000 reads) and time per 64-page batch read/write, over
# the shm pool and the TCP pool on loopback, each through a real tier-memsrv
# (build/bin/tier-pool-check bench). RDMA is not measured here: this host
# has no RDMA device, and timing inside the TCG guest means nothing.
# Medians of RUNS runs. Writes build/bench/pool.md.
#
# usage: tools/bench/bench-pool.sh   (env: RUNS, default 5)
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRC/build/bench
BIN=$SRC/build/bin
RUNS=${RUNS:-5}

make -C "$SRC" --no-print-directory build/bin/tier-memsrv build/bin/tier-pool-check >&2 ||
	{ echo "bench-pool: cannot build" >&2; exit 1; }
mkdir -p "$OUT"
tmp=$(mktemp -d /tmp/bench-pool.XXXXXX)
shm=/dev/shm/bench-pool-$$
srv=
cleanup() {
	[ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp" "$shm" "$shm.sock"
}
trap cleanup EXIT

port=$((30000 + $$ % 20000))
"$BIN/tier-memsrv" --listen "tcp://127.0.0.1:$port" "shm:$shm" --size 160M >"$tmp/srv.log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q lending "$tmp/srv.log" && break; sleep 0.1; done
grep -q lending "$tmp/srv.log" || { cat "$tmp/srv.log" >&2; exit 1; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for t in shm tcp; do
	[ $t = shm ] && uri=shm:$shm || uri=tcp://127.0.0.1:$port
	for r in $(seq "$RUNS"); do
		"$BIN/tier-pool-check" --pool "$uri" --bytes 64M bench >>"$tmp/$t.out" ||
			{ echo "bench-pool: $t run $r failed" >&2; exit 1; }
	done
done
# get TRANSPORT LINE FIELD: the median of FIELD over the runs
get() { sed -n "s/^$2 .*$3=\([0-9.]*\).*/\1/p" "$tmp/$1.out" | median; }

cat >"$OUT/pool.md" <<MD
### Pool transports (\`tools/bench/bench-pool.sh\`)

Through tier-memsrv on this machine; a 64 MiB lease; medians of $RUNS runs. One
client thread; the TCP pool over loopback (server thread per connection).

| transport | 4 KiB read mean | p50 | p99 | 64-page read | 64-page write |
|---|---|---|---|---|---|
| shm | $(get shm read-4k mean_us) µs | $(get shm read-4k p50_us) µs | $(get shm read-4k p99_us) µs | $(get shm read-64 us_per_batch) µs ($(get shm read-64 MiB_per_s) MiB/s) | $(get shm write-64 us_per_batch) µs ($(get shm write-64 MiB_per_s) MiB/s) |
| tcp loopback | $(get tcp read-4k mean_us) µs | $(get tcp read-4k p50_us) µs | $(get tcp read-4k p99_us) µs | $(get tcp read-64 us_per_batch) µs ($(get tcp read-64 MiB_per_s) MiB/s) | $(get tcp write-64 us_per_batch) µs ($(get tcp write-64 MiB_per_s) MiB/s) |
MD
cat "$OUT/pool.md"
echo "bench-pool: wrote $OUT/pool.md"
