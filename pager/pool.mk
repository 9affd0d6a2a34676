# pager/pool.mk — the memory pool: transports (linked into libtierpager),
# tier-memsrv, the pool-check client, and their unit tests.
#
# The pager library links $(POOL_SRCS) with $(POOL_LDLIBS).

POOL_SRCS := pager/pool/pool.c pager/pool/pool_proto.c pager/pool/pool_mem.c \
	pager/pool/pool_shm.c pager/pool/pool_tcp.c pager/pool/pool_rdma.c
POOL_LDLIBS := -lrdmacm -libverbs

$(eval $(call unit_test,test_pool,$(POOL_SRCS),$(POOL_LDLIBS)))
