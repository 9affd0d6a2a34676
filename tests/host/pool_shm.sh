#!/bin/bash
# pool_shm.sh — tier-memsrv and the shm pool transport (a file on tmpfs,
# leases over PATH.sock): pages round-trip; two clients cannot see each
# other's pages; a dead client's lease is reclaimed after the grace;
# malformed requests on the control socket are refused; two shm servers
# form one pool; a second server on the same file is refused; SIGTERM
# removes the file and the socket.
# timeout: 180
. "$(dirname "$0")/../lib.sh"

MEMSRV=$TIERD_BIN/tier-memsrv
CHECK=$TIERD_BIN/tier-pool-check
[ -x "$MEMSRV" ] && [ -x "$CHECK" ] || die "build first: make build/bin/tier-memsrv build/bin/tier-pool-check"
[ -d /dev/shm ] || skip "no /dev/shm"
make_tmpdir
T=$TEST_TMP
F=/dev/shm/tierd-pool-test-$$
on_exit "rm -f $F $F.sock $F-b $F-b.sock"

stat_field() { "$CHECK" --stat "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
field_is() { [ "$(stat_field "$1" "$2")" = "$3" ]; }

"$MEMSRV" --listen "shm:$F" --size 64M --lease-grace 2 -v >"$T/A.log" 2>&1 &
PID_A=$!
on_exit "stop_pid $PID_A"
wait_for 20 grep -q lending "$T/A.log" || { cat "$T/A.log"; die "tier-memsrv did not start"; }
A=shm:$F
TOTAL=$(stat_field "$A" total_slots)
check "server reports 16384 slots" [ "$TOTAL" = 16384 ]
check "the pool file exists" test -f "$F"
check "the control socket exists" test -S "$F.sock"

"$MEMSRV" --listen "shm:$F" --size 4M >"$T/dup.log" 2>&1
check "a second server on the same file is refused" grep -q "another tier-memsrv serves it" "$T/dup.log"

check "round trip" "$CHECK" --pool "$A" --bytes 16M write 11 verify 11
check "round trip, 4 threads" "$CHECK" --pool "$A" --bytes 16M --threads 4 write 12 verify 12
check "all space back after a clean close" field_is "$A" free_slots "$TOTAL"

check "fork: the child uses its own pool, the parent's is untouched" "$CHECK" --pool "$A" --bytes 8M write 21 fork 22 verify 21

"$CHECK" --pool "$A" --bytes 16M write 1 touch "$T/a" waitfile "$T/b" verify 1 >"$T/c1.log" 2>&1 &
c1=$!
"$CHECK" --pool "$A" --bytes 16M waitfile "$T/a" write 2 touch "$T/b" verify 2 >"$T/c2.log" 2>&1 &
c2=$!
wait $c1; r1=$?
wait $c2; r2=$?
check "client 1 sees only its pages" [ $r1 = 0 ]
check "client 2 sees only its pages" [ $r2 = 0 ]

"$CHECK" --pool "$A" --bytes 16M write 4 touch "$T/held" sleep 600 >"$T/c3.log" 2>&1 &
c3=$!
on_exit "kill -KILL $c3"
check "client holds its lease" wait_for 60 test -e "$T/held"
check "server lent 4096 slots" field_is "$A" free_slots $((TOTAL - 4096))
kill -KILL $c3
wait $c3 2>/dev/null
check "a dead client's lease is freed after the grace" wait_for 60 field_is "$A" free_slots "$TOTAL"

check "malformed requests on the control socket refused" "$CHECK" --malformed "$A"
check "the server still serves" "$CHECK" --pool "$A" --bytes 4M write 6 verify 6

"$MEMSRV" --listen "shm:$F-b" --size 8M >"$T/B.log" 2>&1 &
PID_B=$!
on_exit "stop_pid $PID_B"
wait_for 20 grep -q lending "$T/B.log" || { cat "$T/B.log"; die "second tier-memsrv did not start"; }
check "two shm servers, one pool" "$CHECK" --pool "$A,shm:$F-b" --bytes 16M write 7 verify 7

kill -TERM "$PID_A"
wait "$PID_A"
check "tier-memsrv exits 0 on SIGTERM" [ $? = 0 ]
check "... and removed the pool file" test ! -e "$F"
check "... and the control socket" test ! -e "$F.sock"
