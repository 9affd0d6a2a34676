# pager/tierpager.mk — libtierpager: build/lib/libtierpager.so (LD_PRELOAD by
# `tierctl run`), and PAGER_SRCS for programs that link the pager and call
# include/tierd/pager.h themselves (link with $(PAGER_LDLIBS)).
# Named to sort after pool.mk: it uses POOL_SRCS, expanded at include time.

PAGER_CORE_SRCS := pager/lib/pager.c pager/lib/pager_scan.c pager/lib/idlepoll.c pager/lib/policy.c \
	pager/lib/options.c
PAGER_SRCS := $(PAGER_CORE_SRCS) $(POOL_SRCS)
PAGER_LDLIBS := $(POOL_LDLIBS)

$(eval $(call shlib,libtierpager,pager/lib/preload.c $(PAGER_SRCS),$(PAGER_LDLIBS)))

$(eval $(call unit_test,test_pager_policy,pager/lib/policy.c,))
$(eval $(call unit_test,test_pager_options,pager/lib/options.c,))

# workloads for the pager's tests and benchmark
$(eval $(call program,tier-memcheck,tools/workloads/memcheck.c,-ldl))
$(eval $(call program,tier-nodecheck,tools/workloads/nodecheck.c,-ldl -lnuma))
$(eval $(call program,tier-pagebench,tools/bench/pagebench.c,))
$(eval $(call program,tier-uffd-floor,tools/bench/uffdfloor.c,-lpthread))

# `make bench` builds BENCHES and runs every tools/bench/bench-*.sh;
# `make bench-pager` runs only this one (writes build/bench/pager.md).
BENCHES += $(BIN)/tier-pagebench $(BIN)/tier-uffd-floor $(LIB)/libtierpager.so $(BIN)/tierctl $(BIN)/tier-memsrv
.PHONY: bench-pager
bench-pager: $(BIN)/tier-pagebench $(BIN)/tier-uffd-floor $(BIN)/tierctl $(BIN)/tier-memsrv $(LIB)/libtierpager.so
	$(Q)tools/bench/bench-pager.sh
