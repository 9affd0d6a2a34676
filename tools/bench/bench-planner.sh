#!/bin/bash
# bench-planner — the controller's pure core at 64 GiB: records ingested
# per second per core, bytes of metadata per tracked page, and the time of
# one plan round for 16 Mi tracked pages (build/bench/bench-planner, from
# tools/bench/bench-planner.c). No baseline to compare against in the same
# run: this measures tierd's own cost. Writes build/bench/planner.md.
#
# usage: tools/bench/bench-planner.sh   (env: PAGES, RUNS)
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRC/build/bench
BENCH=$OUT/bench-planner
PAGES=${PAGES:-16777216}
RUNS=${RUNS:-5}

if [ ! -x "$BENCH" ]; then
	make -C "$SRC" --no-print-directory "build/bench/bench-planner" >&2 ||
		{ echo "bench-planner: cannot build $BENCH" >&2; exit 1; }
fi
mkdir -p "$OUT"
res=$("$BENCH" --pages "$PAGES" --runs "$RUNS") || { echo "bench-planner: failed" >&2; exit 1; }
echo "$res"
get() { echo "$res" | sed -n "s/^$1=//p"; }
mrec() { awk -v v="$1" 'BEGIN { printf "%.1f M", v / 1e6 }'; }

cat >"$OUT/planner.md" <<MD
### Controller core: heat and planning (\`make bench-planner\`)

One thread; medians of $(get runs) runs; CPU time of the thread. $(get pages) tracked pages
($(get tracked_gib) GiB) in $(get regions) regions; budgets DRAM 10%, CXL 30%; limits
256 MiB/s promote, 512 MiB/s demote per 1 s round.

| what | value |
|---|---|
| metadata per tracked 4 KiB page | $(get metadata_bytes_per_page) bytes |
| records ingested per second per core, uniform over all pages | $(mrec "$(get ingest_uniform_per_s)") |
| records ingested per second per core, 90% on 10% of pages | $(mrec "$(get ingest_skewed_per_s)") |
| decay (one pass) | $(get decay_ms) ms |
| heat histogram (one pass) | $(get histogram_ms) ms |
| plan round, first (random placement, $(get plan_moves) moves within the limits) | $(get plan_cpu_ms) ms |
| plan round, steady state ($(get steady_plan_moves) moves) | $(get steady_plan_cpu_ms) ms |
MD
echo "bench-planner: wrote $OUT/planner.md"
