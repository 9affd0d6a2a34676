# bpf/sampler.mk — the perf_event sampler's BPF object and skeleton
# (bpf/sampler.bpf.c; tierd's side is controller/sampler.c).
BPF_SKELS += $(OBJ)/bpf/sampler.skel.h
# As in bpf/bpf.mk: name the intermediate so the BPF rule wins over the
# generic $(OBJ)/%.o: %.c rule.
$(OBJ)/bpf/sampler.bpf.o: $(OBJ)/bpf/sampler.tmp.o
