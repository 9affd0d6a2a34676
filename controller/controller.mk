# controller/controller.mk — tierd, the daemon: the observer half (main,
# observer, ctl, cgroup, topology) plus the policy engine
# (controller/policy.mk) and the tiering loop (controller/tiering.mk),
# included first because they sort after this file (both are guarded).
include controller/policy.mk
include controller/tiering.mk
TIERD_SRCS := controller/main.c controller/observer.c controller/ctl.c \
	controller/cgroup.c controller/topology.c $(TIERING_SRCS) $(POLICY_SRCS)
$(eval $(call program,tierd,$(TIERD_SRCS),-lbpf -lelf -lz -ljson-c))
$(eval $(call unit_test,test_observer_topology,controller/topology.c,-lbpf))
