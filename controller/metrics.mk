# controller/metrics.mk — tierd's Prometheus endpoint (tierd --metrics):
# metrics.c renders (pure, unit-tested), metrics_server.c serves it from
# tierd's epoll loop. The objects are extra prerequisites of tierd, whose
# link recipe takes all of them ($^), so controller/controller.mk stays as
# it is.
$(BIN)/tierd: $(OBJ)/controller/metrics.o $(OBJ)/controller/metrics_server.o
$(eval $(call unit_test,test_metrics,controller/metrics.c,))
