# tools/observer.mk — the observer's benchmark and demo.
BENCHES += $(BIN)/wl-first-touch

.PHONY: bench-observer
bench-observer: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)/tierd $(BIN)/tierctl $(BIN)/wl-first-touch
	$(Q)tools/bench/bench-observer.sh
