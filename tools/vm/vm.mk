# tools/vm/vm.mk — helpers the VM lane's tests run inside the guest.
# Not installed: built with the tests (all-tests), into build/tools/vm/.

VM_HELPERS := $(BUILD)/tools/vm/move_pages_check

$(BUILD)/tools/vm/move_pages_check: $(OBJ)/tools/vm/move_pages_check.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lnuma

all-tests: $(VM_HELPERS)
