# controller/pager_link.mk — tierd's side of the pager channel
# (pager_link.c). An extra prerequisite of tierd, whose link recipe takes
# all of them ($^), so controller/controller.mk stays as it is.
$(BIN)/tierd: $(OBJ)/controller/pager_link.o
