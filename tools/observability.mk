# tools/observability.mk — tierctl top and tierctl heatmap, and wl-phases,
# the workload of the heatmap test. The objects are extra prerequisites of
# tierctl, whose link recipe takes all of them ($^), so tools/tierctl.mk
# stays as it is.
$(BIN)/tierctl: $(OBJ)/tools/tierctl/cmd_top.o $(OBJ)/tools/tierctl/cmd_heatmap.o
$(eval $(call program,wl-phases,tools/workloads/phases.c,))
