#!/bin/bash
# pager_redis.sh — a real program under the pager: Debian's redis-server
# (jemalloc) runs under `tierctl run` with a 24 MiB local limit while it
# holds ~100 MiB of values (shm pool); every value is read back and
# compared. The pager must have evicted and fetched for the test to count.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd redis-server redis-cli awk cmp
. "$(dirname "$0")/pager_common.inc"

make_tmpdir
T=$TEST_TMP
pager_pool shm 512M
NKEYS=100000

# redis on a free loopback port, no persistence (no fork), in the foreground
for try in 1 2 3 4 5 6; do
	PORT=$((20000 + (RANDOM * 3 + $$ + try * 97) % 40000))
	"$TIERCTL" run --pool "$POOL" --pool-size 400M --local-limit 24M -v -- \
		redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--protected-mode yes --daemonize no --dir "$T" >"$T/redis.log" 2>&1 &
	RPID=$!
	on_exit "stop_pid $RPID"
	if wait_for 30 redis-cli -p "$PORT" ping >/dev/null 2>&1; then
		break
	fi
	stop_pid $RPID
	grep -q "Address already in use" "$T/redis.log" || { cat "$T/redis.log"; die "redis-server did not start"; }
done
check "redis runs under the pager" grep -q "tierd-pager.*started" "$T/redis.log"

# value of key i: 900 bytes derived from i
gen() { # MODE: set (RESP for --pipe) | get (commands) | want (expected values)
	awk -v n=$NKEYS -v mode="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = "key:" i
			b = sprintf("%08d", i * 7919 % 100000007)
			v = ""
			for (j = 0; j < 100; j++) v = v b
			if (mode == "set")
				printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
			else if (mode == "get")
				print "GET " k
			else
				print v
		}
	}'
}
log "filling $NKEYS keys"
gen set | redis-cli -p "$PORT" --pipe >"$T/fill.log" 2>&1
check "fill: every SET acknowledged" grep -q "errors: 0, replies: $NKEYS" "$T/fill.log"
check "redis holds every key" [ "$(redis-cli -p "$PORT" dbsize)" = "$NKEYS" ]
redis-cli -p "$PORT" info memory | grep -E "^used_memory_human|^used_memory_rss_human" | tr -d '\r'
log "reading every key back"
gen get | redis-cli -p "$PORT" --raw >"$T/got.txt" 2>&1
gen want >"$T/want.txt"
check "every value reads back intact" cmp -s "$T/got.txt" "$T/want.txt"
# the data is several times the limit: most of it went through the pool
RSS_ANON=$(awk '/^RssAnon/ {print int($2 / 1024)}' /proc/$RPID/status)
log "redis RssAnon ${RSS_ANON} MiB (limit 24 MiB)"
check "redis RssAnon stays near the limit" [ "$RSS_ANON" -le 40 ]
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
wait_for 30 bash -c "! kill -0 $RPID 2>/dev/null"
wait $RPID 2>/dev/null
grep "tierd-pager" "$T/redis.log"
check "the pager evicted and fetched" bash -c "grep -Eq 'evicted [1-9][0-9]{3}' '$T/redis.log' && grep -Eq 'fetched [1-9][0-9]{3}' '$T/redis.log'"
