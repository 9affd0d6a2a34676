#!/bin/bash
# pool_tcp.sh — tier-memsrv and the TCP pool transport, end to end: pages
# written through the real transport read back intact; two clients cannot
# see each other's pages; a dropped connection reconnects and reclaims its
# lease with the data; a lease outlives its client by the grace period and
# is then reclaimed (and a client coming back after that gets a clear
# error); malformed requests are refused while the server keeps serving;
# several servers form one pool; a dead server gives a clear error, not a
# hang or zeros; SIGTERM exits cleanly.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

MEMSRV=$TIERD_BIN/tier-memsrv
CHECK=$TIERD_BIN/tier-pool-check
[ -x "$MEMSRV" ] && [ -x "$CHECK" ] || die "build first: make build/bin/tier-memsrv build/bin/tier-pool-check"
make_tmpdir
T=$TEST_TMP

# start_server NAME ARGS...: tier-memsrv on a free port of 127.0.0.1; sets
# PORT_<NAME> and PID_<NAME>; its log is $T/NAME.log.
start_server() {
	local name=$1 try port pid
	shift
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 7 + $$ + try * 101) % 40000))
		"$MEMSRV" --listen "tcp://127.0.0.1:$port" "$@" -v >"$T/$name.log" 2>&1 &
		pid=$!
		on_exit "stop_pid $pid"
		if wait_for 20 grep -q "lending" "$T/$name.log"; then
			eval "PORT_$name=$port PID_$name=$pid"
			return 0
		fi
		stop_pid "$pid"
		grep -q "in use" "$T/$name.log" || { cat "$T/$name.log"; die "tier-memsrv $name did not start"; }
	done
	die "no free port for tier-memsrv"
}

# stat_field URI FIELD: one number from tier-pool-check --stat
stat_field() { "$CHECK" --stat "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
field_is() { [ "$(stat_field "$1" "$2")" = "$3" ]; }

start_server A --size 64M --lease-grace 3
A=tcp://127.0.0.1:$PORT_A
TOTAL=$(stat_field "$A" total_slots)
check "server reports 64 MiB = 16384 slots" [ "$TOTAL" = 16384 ]

log "round trip: 4096 pages written and verified in batches"
check "round trip" "$CHECK" --pool "$A" --bytes 16M write 11 verify 11
check "all space back after a clean close" field_is "$A" free_slots "$TOTAL"

log "two clients, each verifies its own pattern after the other wrote"
"$CHECK" --pool "$A" --bytes 16M write 1 touch "$T/a" waitfile "$T/b" verify 1 >"$T/c1.log" 2>&1 &
c1=$!
"$CHECK" --pool "$A" --bytes 16M waitfile "$T/a" write 2 touch "$T/b" verify 2 >"$T/c2.log" 2>&1 &
c2=$!
wait $c1; r1=$?
wait $c2; r2=$?
check "client 1 sees only its pages" [ $r1 = 0 ]
check "client 2 sees only its pages" [ $r2 = 0 ]

log "four threads share the lease over several connections"
check "4 threads write and verify" "$CHECK" --pool "$A" --bytes 16M --threads 4 write 12 verify 12
check "more connections joined the lease" grep -q "joined by" "$T/A.log"

log "fork: the child abandons the inherited pool and opens its own"
check "fork: the parent's pool is untouched" "$CHECK" --pool "$A" --bytes 8M write 21 fork 22 verify 21

log "a dropped connection reconnects within the grace and finds its pages"
check "reconnect keeps the data" "$CHECK" --pool "$A" --bytes 8M write 3 drop verify 3
check "server logged the reclaim" grep -q "reclaimed by" "$T/A.log"

# The server's name is resolved once, by open: a reconnect (from a pager
# thread, whose program's heap may be pool memory) must not call
# getaddrinfo(), which allocates. The client runs in its own mount
# namespace where its name resolves until the test hides /etc/hosts.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null; then
	log "a reconnect needs no name resolution (the name was resolved at open)"
	NAME=tierd-pool-test-$$
	echo "127.0.0.1 $NAME" >"$T/hosts"
	: >"$T/empty"
	TIERD_POOL_TIMEOUT_MS=5000 unshare -m sh -c \
		'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		_ "$T/hosts" "$T/empty" "$CHECK" --pool "tcp://$NAME:$PORT_A" --bytes 1M \
		write 7 touch "$T/n-up" waitfile "$T/n-go" drop verify 7 >"$T/cn.log" 2>&1 &
	cn=$!
	on_exit "kill -KILL $cn"
	check "client up (connected by name)" wait_for 30 test -e "$T/n-up"
	check "the name stops resolving in the client's namespace" \
		nsenter -t "$cn" -m mount --bind "$T/empty" /etc/hosts
	touch "$T/n-go"
	wait $cn
	check "the dropped connection reconnects without resolving the name again" [ $? = 0 ]
	cat "$T/cn.log"
fi

log "a server that stalls for a few seconds: the client waits (generous timeout) and gets its pages"
"$CHECK" --pool "$A" --bytes 8M write 9 touch "$T/s-up" waitfile "$T/s-go" verify 9 >"$T/cs.log" 2>&1 &
cs=$!
check "client up" wait_for 60 test -e "$T/s-up"
kill -STOP "$PID_A"
touch "$T/s-go"
sleep 4
kill -CONT "$PID_A"
wait $cs
check "verify across a 4 s server stall" [ $? = 0 ]

log "a client that dies: its lease lingers for the grace, then is freed"
"$CHECK" --pool "$A" --bytes 16M write 4 touch "$T/held" sleep 600 >"$T/c3.log" 2>&1 &
c3=$!
on_exit "kill -KILL $c3"
check "client holds its lease" wait_for 60 test -e "$T/held"
check "server counts one client" field_is "$A" clients 1
check "server lent 4096 slots" field_is "$A" free_slots $((TOTAL - 4096))
kill -KILL $c3
wait $c3 2>/dev/null
check "lease freed after the grace" wait_for 60 field_is "$A" free_slots "$TOTAL"
check "no lease left" field_is "$A" leases 0

log "a client back after the grace gets a clear error, never stale zeros"
"$CHECK" --pool "$A" --bytes 8M write 5 drop sleep 8 fail verify 5 >"$T/c4.log" 2>&1
check "late reconnect fails the read" [ $? = 0 ]
check "... saying the lease was lost" grep -q "lease lost" "$T/c4.log"
check "... naming the server" grep -q "$A" "$T/c4.log"

log "malformed and truncated requests"
check "every malformed request refused" "$CHECK" --malformed "$A"
check "the server still serves" "$CHECK" --pool "$A" --bytes 4M write 6 verify 6
check "the malformed test's lease expires" wait_for 60 field_is "$A" free_slots "$TOTAL"

log "two servers, one pool"
start_server B --size 32M --lease-grace 3
B=tcp://127.0.0.1:$PORT_B
"$CHECK" --pool "$A,$B" --bytes 32M write 7 touch "$T/both" waitfile "$T/go" verify 7 >"$T/c5.log" 2>&1 &
c5=$!
check "pool over two servers is up" wait_for 60 test -e "$T/both"
check "server A lent half" field_is "$A" free_slots $((TOTAL - 4096))
check "server B lent half" field_is "$B" free_slots $((8192 - 4096))
touch "$T/go"
wait $c5
check "pool over two servers verifies" [ $? = 0 ]

log "a dead server: the client's read fails with a clear error"
TIERD_POOL_TIMEOUT_MS=3000 "$CHECK" --pool "$B" --bytes 4M write 8 touch "$T/up" waitfile "$T/dead" \
	fail verify 8 >"$T/c6.log" 2>&1 &
c6=$!
check "client up" wait_for 60 test -e "$T/up"
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null
touch "$T/dead"
wait $c6
check "read from a dead server fails (not zeros, not a hang)" [ $? = 0 ]
check "... naming the server" grep -q "failed as expected: $B" "$T/c6.log"
cat "$T/c6.log"

log "SIGTERM: clean exit"
kill -TERM "$PID_A"
wait "$PID_A"
check "tier-memsrv exits 0 on SIGTERM" [ $? = 0 ]
