# pager/pool.mk — the memory pool: transports (linked into libtierpager),
# tier-memsrv, the pool-check client, and their unit tests.
#
# The pager library links $(POOL_SRCS) with $(POOL_LDLIBS).

POOL_SRCS := pager/pool/pool.c pager/pool/pool_proto.c pager/pool/pool_mem.c \
	pager/pool/pool_shm.c pager/pool/pool_tcp.c pager/pool/pool_rdma.c
POOL_LDLIBS := -lrdmacm -libverbs

$(eval $(call unit_test,test_pool,$(POOL_SRCS),$(POOL_LDLIBS)))

MEMSRV_SRCS := pager/memsrv/memsrv.c pager/memsrv/memsrv_lease.c pager/memsrv/memsrv_rdma.c pager/pool/pool.c \
	pager/pool/pool_proto.c pager/pool/pool_mem.c pager/pool/pool_shm.c \
	pager/pool/pool_tcp.c pager/pool/pool_rdma.c
$(eval $(call program,tier-memsrv,$(MEMSRV_SRCS),$(POOL_LDLIBS)))
$(eval $(call program,tier-pool-check,pager/pool/pool_check.c $(POOL_SRCS),$(POOL_LDLIBS)))
BENCHES += $(BIN)/tier-pool-check $(BIN)/tier-memsrv

.PHONY: bench-pool
bench-pool: $(BIN)/tier-memsrv $(BIN)/tier-pool-check
	$(Q)tools/bench/bench-pool.sh

$(eval $(call unit_test,test_pool_lease,pager/memsrv/memsrv_lease.c))
