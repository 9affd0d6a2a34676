#!/bin/bash
# timeout: 120
# heatmap — tierctl heatmap bins fault records into address x time with the
# gaps of the address space cut out, and draws a PNG with gnuplot.
#  1. --input: a synthetic record file with a known answer (exact numbers).
#  2. live: wl-phases touches range A in phase 1 and range B (1 GiB away)
#     in phase 2 in an attached cgroup; the matrix has A's bins hot early,
#     B's bins hot late, the gap cut out, and the PNG is a PNG.
. "$(dirname "$0")/../lib.sh"

need_cmd jq awk
need_bin tierctl
make_tmpdir
have_gnuplot=1
command -v gnuplot >/dev/null 2>&1 || have_gnuplot=0

# An awk function: "0x7f..." -> number (mawk has no strtonum; doubles hold
# 48-bit addresses exactly).
HEX='function hex(s,  i, n) { s = tolower(s); sub(/^0x/, "", s); n = 0;
	for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1;
	return n }'

# matrix FILE: the numeric rows only.
matrix() { grep -v '^#' "$1"; }

# --- 1. a known answer -----------------------------------------------------
# 16 pages at 0x10000000 faulted at t = 0..0.9 s, 16 pages at 0x7f0000000000
# at t = 1.0..1.9 s (twice each), one fault in between at 0x7f0000000000 at
# t = 1.95 s; with 32 address bins and 2 time bins: bin = page.
awk 'BEGIN {
	for (i = 0; i < 16; i++) {
		printf "{\"type\":\"fault\",\"ts_ns\":%.0f,\"cgroup_id\":7,\"address\":%.0f}\n", 1e9 + i * 5e7, 268435456 + i * 4096 + 17
		printf "{\"type\":\"fault\",\"ts_ns\":%.0f,\"cgroup_id\":9,\"address\":%.0f}\n", 1e9 + i * 5e7, 268435456 + i * 4096
	}
	for (r = 0; r < 2; r++)
		for (i = 0; i < 16; i++)
			printf "{\"type\":\"fault\",\"ts_ns\":%.0f,\"cgroup_id\":7,\"address\":%.0f}\n", 2e9 + r * 4e8 + i * 2e7, 139637976727552 + i * 4096
	printf "{\"type\":\"fault\",\"ts_ns\":%.0f,\"cgroup_id\":7,\"address\":%.0f}\n", 2.95e9, 139637976727552
	printf "{\"type\":\"migrate\",\"ts_ns\":%.0f,\"cgroup_id\":7}\n", 1.5e9
	print "not json"
}' >"$TEST_TMP/rec.jsonl"
# No --cgroup in --input mode: all cgroups' faults. Keep cgroup 7 only by jq.
jq -c 'select(.cgroup_id != 9)' <"$TEST_TMP/rec.jsonl" 2>/dev/null >"$TEST_TMP/rec7.jsonl"
"$TIERD_BIN/tierctl" heatmap --input "$TEST_TMP/rec7.jsonl" --data "$TEST_TMP/known.dat" \
	--bins 32 --time-bins 2 >"$TEST_TMP/known.out" 2>&1 ||
	die "heatmap --input failed: $(cat "$TEST_TMP/known.out")"
cat "$TEST_TMP/known.dat" | head -8
check "two address ranges (the 128 TiB gap cut out)" grep -q '^# addr_bins 32 bin_bytes 4096 touched_bytes 131072 segments 2$' "$TEST_TMP/known.dat"
check "32 rows of 2 columns" [ "$(matrix "$TEST_TMP/known.dat" | awk 'NF == 2' | wc -l)" = 32 ]
check "A's 16 bins: 1 fault each, all early" \
	[ "$(matrix "$TEST_TMP/known.dat" | head -16 | sort -u | tr '\n' ' ')" = "1 0 " ]
check "B's first bin: 2 faults late + 1 late" \
	[ "$(matrix "$TEST_TMP/known.dat" | sed -n 17p)" = "0 3" ]
check "B's other 15 bins: 2 faults each, all late" \
	[ "$(matrix "$TEST_TMP/known.dat" | sed -n 18,32p | sort -u | tr '\n' ' ')" = "0 2 " ]
check "bin 16 starts at B" grep -q '^# bin 16 0x7f0000000000 0x7f0000001000$' "$TEST_TMP/known.dat"
if [ $have_gnuplot = 1 ]; then
	"$TIERD_BIN/tierctl" heatmap --input "$TEST_TMP/rec7.jsonl" -o "$TEST_TMP/known.png" \
		>/dev/null 2>&1
	check "--input -o writes a PNG" bash -c "file '$TEST_TMP/known.png' | grep -q 'PNG image data'"
fi
# --damon: a DAMON region report over A's first 4 pages, 5 accesses, early:
# 5 (accesses) x 1 (page) more in each of those bins.
{ cat "$TEST_TMP/rec7.jsonl"
  echo '{"type":"damon","ts_ns":1100000000,"target_id":0,"start":268435456,"end":268451840,"nr_accesses":5,"age":1}'
} >"$TEST_TMP/damon.jsonl"
"$TIERD_BIN/tierctl" heatmap --input "$TEST_TMP/damon.jsonl" --damon --data "$TEST_TMP/damon.dat" \
	--bins 32 --time-bins 2 >/dev/null 2>&1 || die "heatmap --damon failed"
check "--damon: A's first 4 bins get 5 accesses x 1 page each" \
	[ "$(matrix "$TEST_TMP/damon.dat" | head -4 | sort -u | tr '\n' ' ')" = "6 0 " ]
check "--damon: the rest of A is unchanged" \
	[ "$(matrix "$TEST_TMP/damon.dat" | sed -n 5,16p | sort -u | tr '\n' ' ')" = "1 0 " ]
check "--damon: counted as one DAMON record" grep -q ', 1 DAMON records$' "$TEST_TMP/damon.dat"
"$TIERD_BIN/tierctl" heatmap --input "$TEST_TMP/damon.jsonl" --data "$TEST_TMP/nodamon.dat" \
	--bins 32 --time-bins 2 >/dev/null 2>&1
check "without --damon, DAMON records are left out" \
	[ "$(matrix "$TEST_TMP/nodamon.dat")" = "$(matrix "$TEST_TMP/known.dat")" ]

msg=$("$TIERD_BIN/tierctl" heatmap --input "$TEST_TMP/rec7.jsonl" 2>&1)
check "without -o or --data it says what is missing ($msg)" grep -q -- "-o FILE.png" <<<"$msg"

# --- 2. live, from tierd -----------------------------------------------------
need_root
[ $have_gnuplot = 1 ] || skip "needs gnuplot (Debian package gnuplot-nox; tools/deps.sh installs it)"
need_bin tierd wl-phases
A=$(make_cgroup "tierd-heatmap.$$") || exit $?
start_tierd
attach_cgroup "$A"

SECONDS_COLLECT=8
ctl heatmap --cgroup "$A" -o "$TEST_TMP/heat.png" --data "$TEST_TMP/heat.dat" \
	--seconds $SECONDS_COLLECT --bins 48 --time-bins 32 >"$TEST_TMP/heatmap.out" 2>&1 &
HM_PID=$!
on_exit "kill $HM_PID"
wait_event_readers 10 1 || die "tierctl heatmap did not connect"
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2/wl-phases" --pages 128 --gap-mb 1024 --phase-ms 1500 --sleep-us 5000' _ \
	"$A" "$TIERD_BIN" >"$TEST_TMP/wl.out" || die "wl-phases failed"
cat "$TEST_TMP/wl.out"
wait $HM_PID
rc=$?
cat "$TEST_TMP/heatmap.out"
[ $rc = 0 ] || die "tierctl heatmap failed ($rc)"
grep -v '^# bin' "$TEST_TMP/heat.dat" | head -12

read -r _ _ a0 a1 < <(grep '^range A' "$TEST_TMP/wl.out")
read -r _ _ b0 b1 < <(grep '^range B' "$TEST_TMP/wl.out")
# Per range: total faults and their mean time bin, over the bins that lie
# wholly inside the range.
stats() { # LO HI -> "nr_bins total mean_col"
	awk -v lo=$(($1)) -v hi=$(($2)) "$HEX"'
		/^# bin / { s = hex($4); e = hex($5); inr[$3] = (s >= lo && e <= hi); next }
		/^#/ { next }
		{ if (inr[row]) { nb++; for (c = 1; c <= NF; c++) { tot += $c; w += $c * (c - 1) } } row++ }
		END { printf "%d %d %.2f\n", nb, tot, tot ? w / tot : -1 }' "$TEST_TMP/heat.dat"
}
read -r na ta ma < <(stats "$a0" "$a1")
read -r nb tb mb < <(stats "$b0" "$b1")
log "range A: $na bins, $ta faults, mean time bin $ma; range B: $nb bins, $tb faults, mean time bin $mb"
check "A and B each have several bins of their own" bash -c "[ $na -ge 4 ] && [ $nb -ge 4 ]"
log "records tierd dropped for the heatmap reader: $(awk '/^# lost_records/ { print $3 }' "$TEST_TMP/heat.dat")"
check "A was faulted many times (>= 10 passes x 128 pages)" [ "$ta" -ge 1280 ]
check "B was faulted many times (>= 10 passes x 128 pages)" [ "$tb" -ge 1280 ]
check "A is hot early, B late (mean time bin $ma < $mb - 2)" awk -v a="$ma" -v b="$mb" 'BEGIN { exit !(a < b - 2) }'
# A's heat ends before B's begins: the last time bin where A has >= 10% of
# its peak is at most one bin after the first where B has (the switch
# from A to B can fall inside a bin, or at the edge of two).
edges=$(awk -v alo=$((a0)) -v ahi=$((a1)) -v blo=$((b0)) -v bhi=$((b1)) "$HEX"'
	/^# bin / { s = hex($4); e = hex($5); ina[$3] = (s >= alo && e <= ahi); inb[$3] = (s >= blo && e <= bhi); next }
	/^#/ { next }
	{ for (c = 1; c <= NF; c++) { if (ina[row]) A[c] += $c; if (inb[row]) B[c] += $c } nc = NF; row++ }
	END { pa = pb = 1; for (c = 1; c <= nc; c++) { if (A[c] > A[pa]) pa = c; if (B[c] > B[pb]) pb = c }
	      la = 0; fb = 0; for (c = 1; c <= nc; c++) { if (A[c] >= A[pa] / 10) la = c; if (!fb && B[c] >= B[pb] / 10) fb = c }
	      printf "%d %d %d %d\n", pa, pb, la, fb }' "$TEST_TMP/heat.dat")
read -r pa pb la fb <<<"$edges"
log "A peaks in time bin $pa and is last hot in $la; B is first hot in $fb and peaks in $pb"
check "A's peak comes before B's" [ "$pa" -lt "$pb" ]
check "A is last hot no later than one bin after B is first hot ($la <= $fb + 1)" [ "$la" -le $((fb + 1)) ]
check "A was hot for a while before B ($fb > 2)" [ "$fb" -gt 2 ]
gap_segs=$(awk -v lo=$((a1)) -v hi=$((b0)) "$HEX"'/^# segment / { s = hex($4); if (s >= lo && s < hi) n++ } END { print n + 0 }' "$TEST_TMP/heat.dat")
touched=$(awk '/^# addr_bins / { print $7 }' "$TEST_TMP/heat.dat")
check "nothing in the 1 GiB gap between A and B" [ "$gap_segs" = 0 ]
check "the gap is cut out of the axis (touched $touched bytes < 256 MiB)" [ "$touched" -lt $((256 << 20)) ]
check "the PNG exists and is a PNG" bash -c "file '$TEST_TMP/heat.png' | grep -q 'PNG image data'"
[ -n "${HEATMAP_KEEP:-}" ] && cp "$TEST_TMP/heat.png" "$HEATMAP_KEEP"
exit 0
