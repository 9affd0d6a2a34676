# controller/sampler.mk — tierd's hardware memory-access sampler
# (controller/sampler.c, loading bpf/sampler.bpf.c). An extra prerequisite
# of tierd, whose link recipe takes all of them ($^), so
# controller/controller.mk stays as it is. The unit test covers the sysfs
# PMU probe and event encoding on fake trees.
$(BIN)/tierd: $(OBJ)/controller/sampler.o
$(eval $(call unit_test,test_sampler,controller/sampler.c,-lbpf -lelf -lz))
