#!/bin/bash
# tools/bench/run-all.sh — `make bench`: run every tools/bench/bench-*.sh,
# each of which measures tierd against a baseline in the same run and writes
# a Markdown snippet to build/bench/NAME.md; then regenerate README.md's
# results section (between the results:begin/end markers) from them.
# usage: tools/bench/run-all.sh [NAME...]   (NAME: observer, pager, ...)
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$src/build/bench
mkdir -p "$out"
rc=0
for b in "$src"/tools/bench/bench-*.sh; do
	name=$(basename "$b" .sh)
	name=${name#bench-}
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
		continue
	fi
	echo "== bench $name"
	if ! bash "$b"; then
		echo "bench $name failed" >&2
		rc=1
	fi
done

readme=$src/README.md
if grep -q '<!-- results:begin -->' "$readme"; then
	{
		sed -n '1,/<!-- results:begin -->/p' "$readme"
		echo
		echo "Measured on $(date -u +%F) on $(uname -r), $(nproc) CPUs, by \`make bench\`."
		for f in "$out"/*.md; do
			[ -f "$f" ] || continue
			echo
			cat "$f"
		done
		echo
		sed -n '/<!-- results:end -->/,$p' "$readme"
	} >"$readme.new" && mv "$readme.new" "$readme"
fi
exit $rc
