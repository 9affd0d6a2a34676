#!/bin/bash
# pool_rdma.sh — the RDMA pool transport over real verbs (Soft-RoCE): a
# tier-memsrv listening on rdma://, clients writing and reading pages with
# one-sided RDMA WRITE/READ and verifying them; two clients' leases are
# disjoint; a killed client's lease is reclaimed after the grace; a
# non-tierd connect request is refused while the server keeps serving; a
# dead server gives a clear error. Skips on a kernel without rdma_rxe.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

in_vm || skip "runs only inside the tools/vmtest guest (tests/run-tests.sh --lane vm)"
need_root
need_cmd ip rdma

MEMSRV=$TIERD_BIN/tier-memsrv
CHECK=$TIERD_BIN/tier-pool-check
[ -x "$MEMSRV" ] && [ -x "$CHECK" ] || die "build first: make build/bin/tier-memsrv build/bin/tier-pool-check"
make_tmpdir
T=$TEST_TMP
setup_rxe pool 10.199.0
R=rdma://10.199.0.1:7471
S=tcp://127.0.0.1:7472
export TIERD_POOL_TIMEOUT_MS=60000 # TCG is slow; generous

"$MEMSRV" --listen "$R" "$S" --size 32M --lease-grace 3 -v >"$T/srv.log" 2>&1 &
srv=$!
on_exit "stop_pid $srv"
wait_for 60 grep -q lending "$T/srv.log" || { cat "$T/srv.log"; die "tier-memsrv did not start"; }

stat_field() { "$CHECK" --stat "$S" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
field_is() { [ "$(stat_field "$1")" = "$2" ]; }
TOTAL=$(stat_field total_slots)

check "RDMA round trip of 1024 pages" "$CHECK" --pool "$R" --bytes 4M write 11 verify 11 verify 11
check "a closed client gives its lease back at once" grep -q "released by the client" "$T/srv.log"
"$CHECK" --pool "$R" --bytes 1M write 21 fail fork 22 verify 21 >"$T/fork.log" 2>&1
check "fork: the parent's pool is untouched by the child" [ $? = 0 ]
check "... and the child is told RDMA needs exec after fork" grep -q "fork()ed child" "$T/fork.log"
check "RDMA round trip, 3 threads" "$CHECK" --pool "$R" --bytes 4M --threads 3 write 12 verify 12
check "... over more than one QP on the lease" grep -q "joined by" "$T/srv.log"

"$CHECK" --pool "$R" --bytes 4M write 1 touch "$T/a" waitfile "$T/b" verify 1 >"$T/c1.log" 2>&1 &
c1=$!
"$CHECK" --pool "$R" --bytes 4M waitfile "$T/a" write 2 touch "$T/b" verify 2 >"$T/c2.log" 2>&1 &
c2=$!
wait $c1; r1=$?
wait $c2; r2=$?
check "client 1 sees only its pages" [ $r1 = 0 ]
check "client 2 sees only its pages" [ $r2 = 0 ]
cat "$T/c1.log" "$T/c2.log"

"$CHECK" --pool "$R" --bytes 4M write 3 touch "$T/held" sleep 600 >"$T/c3.log" 2>&1 &
c3=$!
on_exit "kill -KILL $c3"
check "client holds its lease" wait_for 120 test -e "$T/held"
check "server lent 1024 slots" wait_for 30 field_is free_slots $((TOTAL - 1024))
kill -KILL $c3
wait $c3 2>/dev/null
check "a killed client's lease is freed after the grace" wait_for 120 field_is free_slots "$TOTAL"

if command -v rping >/dev/null; then
	timeout 60 rping -c -a 10.199.0.1 -p 7471 -C 1 >"$T/rping.log" 2>&1
	check "a non-tierd connect request is refused" grep -q "no tierd HELLO" "$T/srv.log"
fi
check "the server still serves" "$CHECK" --pool "$R" --bytes 1M write 4 verify 4

TIERD_POOL_TIMEOUT_MS=10000 "$CHECK" --pool "$R" --bytes 1M write 5 touch "$T/up" waitfile "$T/dead" \
	fail verify 5 >"$T/c4.log" 2>&1 &
c4=$!
check "client up" wait_for 120 test -e "$T/up"
kill -KILL $srv
wait $srv 2>/dev/null
touch "$T/dead"
wait $c4
check "a read from a dead server fails (not zeros, not a hang)" [ $? = 0 ]
cat "$T/c4.log"
log "server log:"
tail -n 30 "$T/srv.log"
