# controller/policy.mk — the pure-function core of tierd's controller:
# policy file (policy.c), per-page heat (heat.c), the three-tier planner
# (planner.c). Tier discovery over sysfs is the observer's topology.c;
# policy_tier_nodes() turns its node ranks into DRAM/CXL node sets.
#
# tierd and tierctl link $(POLICY_SRCS) with $(POLICY_LDLIBS). Fragments
# are included in name order and controller/controller.mk sorts before this
# file, so a fragment that needs these variables at $(call program,...)
# time includes this one first: `include controller/policy.mk` (guarded).
ifndef POLICY_MK_INCLUDED
POLICY_MK_INCLUDED := 1

POLICY_SRCS := controller/policy.c controller/heat.c controller/planner.c
POLICY_LDLIBS := -ljson-c

$(eval $(call unit_test,test_policy,controller/policy.c tools/tierctl/cmd_policy.c,-ljson-c))
$(eval $(call unit_test,test_heat,controller/heat.c,))
$(eval $(call unit_test,test_planner,controller/planner.c controller/heat.c controller/policy.c,-ljson-c))

# bench-planner: records ingested per second, metadata per page, plan time
# for 16 Mi pages (tools/bench/bench-planner.sh). Not installed.
BENCH_PLANNER := $(BUILD)/bench/bench-planner
BENCHES += $(BENCH_PLANNER)
$(BENCH_PLANNER): $(OBJ)/tools/bench/bench-planner.o $(OBJ)/controller/heat.o \
		$(OBJ)/controller/planner.o $(OBJ)/controller/policy.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -ljson-c

.PHONY: bench-planner
bench-planner: $(BENCH_PLANNER)
	$(Q)tools/bench/bench-planner.sh

endif
