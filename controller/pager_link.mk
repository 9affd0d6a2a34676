# controller/pager_link.mk — tierd's side of the pager channel
# (pager_link.c). An extra prerequisite of tierd, whose link recipe takes
# all of them ($^), so controller/controller.mk stays as it is.
$(BIN)/tierd: $(OBJ)/controller/pager_link.o
$(eval $(call unit_test,test_pager_link,controller/pager_link.c,-ljson-c))
