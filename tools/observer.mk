# tools/observer.mk — the observer's benchmark and demo.
BENCHES += $(BIN)/wl-first-touch

.PHONY: bench-observer
bench-observer: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)/tierd $(BIN)/tierctl $(BIN)/wl-first-touch
	$(Q)tools/bench/bench-observer.sh

# The main job: tools/demo.sh (a pool, tierd, redis under the pager, live
# status and a checked summary; VM=1 runs it in the three-tier guest).
.PHONY: demo
demo:
	$(Q)tools/demo.sh
