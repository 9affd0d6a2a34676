# tests/pool_resolve.mk — the pool's name resolution and connect-by-address
# (pager/pool: tier_pool_resolve, tier_stream_connect_addrs). Sorts after
# pager/pool.mk, whose POOL_SRCS and POOL_LDLIBS it uses.
$(eval $(call unit_test,test_pool_resolve,$(POOL_SRCS),$(POOL_LDLIBS)))
