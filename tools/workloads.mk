# tools/workloads.mk — small workloads for tests, benchmarks and the demo.
$(eval $(call program,wl-first-touch,tools/workloads/first-touch.c,))
$(eval $(call program,wl-move-pages,tools/workloads/move-pages.c,-lnuma))
