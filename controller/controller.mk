# controller/controller.mk — tierd, the daemon (observer half).
# controller/policy*, planner*, heat* belong to the policy engine
# (controller/policy.mk); link them in here once they are part of tierd.
TIERD_SRCS := controller/main.c controller/observer.c controller/ctl.c \
	controller/cgroup.c controller/topology.c
$(eval $(call program,tierd,$(TIERD_SRCS),-lbpf -lelf -lz -ljson-c))
$(eval $(call unit_test,test_observer_topology,controller/topology.c,-lbpf))
