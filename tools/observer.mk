# tools/observer.mk — the observer's benchmark and demo.
BENCHES += $(BIN)/wl-first-touch

.PHONY: bench-observer
bench-observer: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)/tierd $(BIN)/tierctl $(BIN)/wl-first-touch
	$(Q)tools/bench/bench-observer.sh

# The main job's demo (for now the observer's; see tools/demo.sh). The
# script runs tools/deps.sh first, then builds what it needs.
.PHONY: demo
demo:
	$(Q)tools/demo.sh
