# tests/guest: the guest suite (real QEMU, real firmware shim and test kernel).
$(BIN)/tests/guest_test: $(HOBJ)/tests/guest/guest_test.o $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

TEST_DEPS += $(BIN)/tests/guest_test $(GUEST_IMAGES) $(BIN)/wakefarm-run-qemu
