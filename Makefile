# tierd — top-level build.
#
# Everything is built into build/: executables in build/bin, libraries in
# build/lib, objects and generated headers in build/obj (build/san for the
# ASan+UBSan variant of the unit tests). Each part of the tree adds its
# targets in its own fragment (bpf/bpf.mk, controller/controller.mk, ...),
# included below, using the pattern rules defined here. V=1 shows commands.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib

BUILD := build
OBJ := $(BUILD)/obj
SAN := $(BUILD)/san
BIN := $(BUILD)/bin
LIB := $(BUILD)/lib
TESTBIN := $(BUILD)/tests

CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -Iinclude -I$(OBJ)/bpf
CFLAGS := -std=gnu11 -O2 -g $(WARN) -fPIC -pthread
SANFLAGS := -std=gnu11 -O1 -g $(WARN) -fPIC -pthread \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS := -pthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-Wno-unused-function -I$(OBJ)/bpf -Iinclude -Ibpf

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Keep generated intermediates (BPF objects, skeletons): they are inputs of
# later builds, not temporaries.
.SECONDARY:
.SUFFIXES:
.PHONY: all deps check check-build unit host-tests vm-tests bench demo \
	install clean format-check

# Fragments append to these.
BINS :=
LIBS :=
UNIT_TESTS :=
BENCHES :=
BPF_SKELS :=

all: check-build-all

# $(call program,NAME,SOURCES,LDLIBS): build/bin/NAME from SOURCES.
define program
BINS += $(BIN)/$(1)
$(BIN)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(2))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) $$^ -o $$@ $(3)
endef

# $(call shlib,NAME,SOURCES,LDLIBS): build/lib/NAME.so from SOURCES.
define shlib
LIBS += $(LIB)/$(1).so
$(LIB)/$(1).so: $(patsubst %.c,$(OBJ)/%.o,$(2))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) -shared $$(LDFLAGS) $$^ -o $$@ $(3)
endef

# $(call unit_test,NAME,SOURCES,LDLIBS): tests/unit/NAME.c plus SOURCES,
# linked twice: build/tests/NAME and, with ASan+UBSan, build/tests/san/NAME.
define unit_test
UNIT_TESTS += $(TESTBIN)/$(1)
$(TESTBIN)/$(1): $(OBJ)/tests/unit/$(1).o $(patsubst %.c,$(OBJ)/%.o,$(2))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) $$^ -o $$@ -lcmocka $(3)
$(TESTBIN)/san/$(1): $(SAN)/tests/unit/$(1).o $(patsubst %.c,$(SAN)/%.o,$(2))
	$$(call msg,LD-SAN,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) -fsanitize=address,undefined $$^ -o $$@ -lcmocka $(3)
endef

include $(sort $(wildcard bpf/*.mk controller/*.mk pager/*.mk tools/*.mk tools/*/*.mk tests/*.mk))

check-build-all: $(BINS) $(LIBS)
all-tests: $(UNIT_TESTS) $(patsubst $(TESTBIN)/%,$(TESTBIN)/san/%,$(UNIT_TESTS))

# --- C objects -------------------------------------------------------------
$(OBJ)/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(SAN)/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

# --- BPF: clang -> bpftool gen object -> bpftool gen skeleton ---------------
# vmlinux.h comes from the build machine's own BTF (see README: "Why
# vmlinux.h is generated"); CO-RE relocates every field access against the
# running kernel's BTF at load time.
$(OBJ)/bpf/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no BTF at $(VMLINUX_BTF): the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OBJ)/bpf/%.tmp.o: bpf/%.bpf.c $(OBJ)/bpf/vmlinux.h $(wildcard bpf/*.bpf.h include/tierd/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OBJ)/bpf/%.bpf.o: $(OBJ)/bpf/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OBJ)/bpf/%.skel.h: $(OBJ)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# --- top-level jobs ---------------------------------------------------------
deps:
	$(Q)tools/deps.sh

NPROC := $(shell nproc 2>/dev/null || echo 2)

check-build: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) check-build-all all-tests

# The one test command: unit tests (plain and ASan+UBSan), host integration
# tests, then the VM lane. See tests/run-tests.sh.
check: check-build
	$(Q)tests/run-tests.sh

unit: all-tests
	$(Q)tests/run-tests.sh --lane unit

host-tests: check-build-all all-tests
	$(Q)tests/run-tests.sh --lane host

vm-tests: check-build-all all-tests
	$(Q)tests/run-tests.sh --lane vm

bench: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) check-build-all $(BENCHES)
	$(Q)tools/bench/run-all.sh

install: check-build-all
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	$(Q)install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	$(Q)$(if $(LIBS),install -m 0755 $(LIBS) $(DESTDIR)$(LIBDIR)/)

format-check:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
