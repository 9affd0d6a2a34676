#!/bin/bash
# pager_rdma.sh — libtierpager over the RDMA pool (real verbs over
# Soft-RoCE): tier-memcheck under `tierctl run --pool rdma://...` writes
# versioned patterns from several threads to a region several times the
# local limit while eviction runs, then verifies every page; the same with
# mremap/munmap/madvise; the pager really evicted to and fetched from the
# pool, and no page came back wrong. Skips on a kernel without rdma_rxe.
# timeout: 700
. "$(dirname "$0")/../lib.sh"

in_vm || skip "runs only inside the tools/vmtest guest (tests/run-tests.sh --lane vm)"
need_root
need_cmd ip rdma
# Issue 3 asks for this on 6.12, the target. On Debian's 6.1 the RDMA
# pool stalls under Soft-RoCE (not the pager's limit, fixed by the
# scanner): tier-memsrv logs the connection dropping and redialled, then
# the evictor spins in librxe's ibv_post_send (pthread_spin_lock) and the
# run does not finish within its timeout.
case "${TIERD_VM_KERNEL:-}" in
6.1) skip "pager over RDMA runs on 6.12 only: on 6.1 the Soft-RoCE transport stalls (ibv_post_send spins after a redial; known issue)" ;;
esac
. "$(dirname "$0")/../host/pager_common.inc"
modprobe rdma_rxe 2>/dev/null || skip "no rdma_rxe module in kernel $(uname -r): Soft-RoCE unavailable"
make_tmpdir

v0=vpgr$$a v1=vpgr$$b
on_exit "ip link del $v0"
ip link add "$v0" type veth peer name "$v1" || die "cannot create a veth pair"
ip addr add 10.199.1.1/24 dev "$v0"
ip addr add 10.199.1.2/24 dev "$v1"
ip link set "$v0" up
ip link set "$v1" up
on_exit "rdma link delete rxg$$a"
on_exit "rdma link delete rxg$$b"
rdma link add "rxg$$a" type rxe netdev "$v0" || skip "rdma link add type rxe failed on $(uname -r)"
rdma link add "rxg$$b" type rxe netdev "$v1" || skip "rdma link add type rxe failed on $(uname -r)"
export TIERD_POOL_TIMEOUT_MS=60000 # TCG is slow; generous

POOL=rdma://10.199.1.1:7471
"$MEMSRV" --listen "$POOL" --size 128M --lease-grace 1 -v >"$TEST_TMP/memsrv.log" 2>&1 &
srv=$!
on_exit "stop_pid $srv"
wait_for 60 grep -q lending "$TEST_TMP/memsrv.log" ||
	{ cat "$TEST_TMP/memsrv.log"; die "tier-memsrv did not start on $POOL"; }

# 2 threads, 24 MiB through a 6 MiB limit (4x), two versions of every
# page, then mremap (forced move), munmap of half, MADV_DONTNEED of a
# quarter; TCG makes every RDMA transfer slow, hence the small sizes
log "memcheck: --local-limit 6M --size 24M --threads 2 --rounds 2 --remap"
timeout 500 "$TIERCTL" run --pool "$POOL" --pool-size 64M --local-limit 6M -v -- \
	"$MEMCHECK" --size 24M --threads 2 --rounds 2 --remap --max-resident-mib 6 \
	>"$TEST_TMP/remap.log" 2>&1
rc=$?
sed 's/^/    /' "$TEST_TMP/remap.log"
check "rdma: threads, rounds, mremap, munmap, madvise: every page verified" [ $rc = 0 ]
check "rdma: the pager evicted to and fetched from the RDMA pool" pager_was_busy remap
check "rdma: RssAnon within limit + 8 MiB" rss_anon_within remap 14
check "rdma: the pager's pool space is freed after it exits" wait_for 60 grep -Eq \
	"released by the client|freed \(grace expired\)" "$TEST_TMP/memsrv.log"
log "server log:"
tail -n 20 "$TEST_TMP/memsrv.log"
