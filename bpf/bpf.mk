# bpf/bpf.mk — the observer's BPF object and skeleton (see the Makefile's
# BPF rules: clang -> bpftool gen object -> bpftool gen skeleton).
BPF_SKELS += $(OBJ)/bpf/observer.skel.h
# Name the intermediate so make picks the BPF rule (shorter stem) over the
# generic $(OBJ)/%.o: %.c rule, which also matches bpf/observer.bpf.c.
$(OBJ)/bpf/observer.bpf.o: $(OBJ)/bpf/observer.tmp.o
