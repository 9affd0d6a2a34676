# controller/tiering.mk — tierd's tiering loop (tiering.c: rounds per
# managed cgroup; damon.c: tierd's own kdamond; placement.c: move_pages(2)),
# its unit tests, and wl-hotset, the workload of the tiering tests.
# controller/controller.mk links $(TIERING_SRCS) into tierd; it sorts
# before this file, so it includes this one first (guarded).
ifndef TIERING_MK_INCLUDED
TIERING_MK_INCLUDED := 1
include controller/policy.mk

TIERING_SRCS := controller/tiering.c controller/damon.c controller/placement.c

$(eval $(call unit_test,test_tiering,$(TIERING_SRCS) $(POLICY_SRCS),$(POLICY_LDLIBS)))
$(eval $(call program,wl-hotset,tools/workloads/hotset.c,))
endif
