#!/bin/bash
# vm_smoke: the tools/vmtest guest is what the VM tests rely on — two NUMA
# nodes with node 1 memory-only (and, on 6.12, in a lower memory tier),
# bpffs, tracefs, cgroup2 with memcg, move_pages between the nodes, module
# autoload and Soft-RoCE. Every check runs; all failures are listed.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

in_vm || skip "runs only inside the tools/vmtest guest (tests/run-tests.sh --lane vm)"
need_root
need_cmd ip rdma ibv_devices ibv_devinfo

kernel=${TIERD_VM_KERNEL:-}
log "guest kernel $(uname -r), vmtest says Linux ${kernel:-(nothing)}"
check "vmtest reports the kernel series (TIERD_VM_KERNEL=$kernel) that runs ($(uname -r))" \
	eval '[ -n "$kernel" ] && [[ $(uname -r) == "$kernel".* ]]'

# --- NUMA ---------------------------------------------------------------
nodes=/sys/devices/system/node
log "nodes: $(cat $nodes/online); node 0 cpus: $(cat $nodes/node0/cpulist);" \
	"node 1 cpus: '$(cat $nodes/node1/cpulist 2>/dev/null)'"
check "exactly two NUMA nodes online" eval '[ "$(cat $nodes/online)" = 0-1 ]'
check "node 0 has the CPUs" eval '[ "$(cat $nodes/node0/cpulist)" = 0-1 ]'
check "node 1 has no CPUs" eval '[ -z "$(tr -d "\n" <$nodes/node1/cpulist)" ]'
node_mem_kb() { awk '/MemTotal/ { print $4 }' "$nodes/node$1/meminfo"; }
check "node 1 has memory ($(node_mem_kb 1) kB)" eval '[ "$(node_mem_kb 1)" -gt 100000 ]'

# tier_of NODE: the N of the memory_tierN whose nodelist holds NODE.
tier_of() {
	local d list
	for d in /sys/devices/virtual/memory_tiering/memory_tier*; do
		list=$(cat "$d/nodelist" 2>/dev/null) || continue
		# nodelist is like "0", "0-1" or "0,2": expand with a range test.
		if awk -v n="$1" -v l="$list" 'BEGIN { k = split(l, r, ",");
			for (i = 1; i <= k; i++) { split(r[i], b, "-"); if (b[2] == "") b[2] = b[1];
				if (n >= b[1] && n <= b[2]) exit 0 } exit 1 }'; then
			echo "${d##*memory_tier}"
			return 0
		fi
	done
	return 1
}
t0=$(tier_of 0) t1=$(tier_of 1)
log "memory tiers: node 0 in tier ${t0:-?}, node 1 in tier ${t1:-?}"
if [ "$kernel" = 6.1 ]; then
	echo "skip: tier check on Linux 6.1: it puts every node in one tier (no HMAT-based abstract distance before 6.3)"
else
	check "node 1 is in a lower memory tier than node 0" \
		eval '[ -n "$t0" ] && [ -n "$t1" ] && [ "$t1" -gt "$t0" ]'
fi

# --- file systems ---------------------------------------------------------
mounted() { awk -v d="$1" -v t="$2" '$2 == d && $3 == t { f = 1 } END { exit !f }' /proc/mounts; }
check "bpffs at /sys/fs/bpf" mounted /sys/fs/bpf bpf
check "tracefs at /sys/kernel/tracing" mounted /sys/kernel/tracing tracefs
check "tracepoint exceptions:page_fault_user" \
	test -d /sys/kernel/tracing/events/exceptions/page_fault_user
check "cgroup2 at /sys/fs/cgroup" mounted /sys/fs/cgroup cgroup2
check "memory and cpuset enabled in the root cgroup" \
	eval 'grep -qw memory /sys/fs/cgroup/cgroup.subtree_control &&
		grep -qw cpuset /sys/fs/cgroup/cgroup.subtree_control'
cg=$(make_cgroup vm_smoke.$$)
check "a child cgroup has memory.current" test -f "$cg/memory.current"
check "/tmp is tmpfs" mounted /tmp tmpfs
check "/run is tmpfs" mounted /run tmpfs
check "/tmp and /run are writable" eval 'touch /tmp/.vm_smoke.$$ /run/.vm_smoke.$$ && rm /tmp/.vm_smoke.$$ /run/.vm_smoke.$$'
check "the module tree at /lib/modules/$(uname -r)" test -f "/lib/modules/$(uname -r)/modules.dep"

# --- move_pages(2) between the nodes ---------------------------------------
helper=$TIERD_BUILD/tools/vm/move_pages_check
if [ -x "$helper" ]; then
	check "move_pages: 1000 pages node 1 -> node 0 -> node 1" "$helper" 1000
else
	check "$helper is built (make all-tests)" false
fi

# --- module autoload and Soft-RoCE -----------------------------------------
v0=vsmk$$a v1=vsmk$$b rxe=rxesmk$$
on_exit "ip link del $v0"
on_exit "rdma link delete $rxe"
check "veth pair (module autoload)" eval "ip link add $v0 type veth peer name $v1 &&
	ip link set $v0 up && ip link set $v1 up"
check "rdma link add $rxe type rxe netdev $v0" rdma link add "$rxe" type rxe netdev "$v0"
log "ibv_devices:"
ibv_devices
check "ibv_devices lists $rxe" eval "ibv_devices | grep -qw $rxe"
check "$rxe port is active (ibv_devinfo opens the device)" \
	eval "ibv_devinfo -d $rxe | grep -q PORT_ACTIVE"
check "rdma link delete $rxe" rdma link delete "$rxe"
check "ip link del $v0" ip link del "$v0"
check "the links are gone" eval "! ip link show $v0 2>/dev/null && ! rdma link show $rxe/1 2>/dev/null"
