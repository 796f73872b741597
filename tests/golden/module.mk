# tests/golden: output pinned by golden files, nothing started (driver:
# tests/golden/run). golden.c is the shared compare-or-REGENERATE helper,
# also linked by the e2e smoke test and the controller suite.
#
#   bin/tests/domxml-golden   the agent's domain XML of each kind of job:
#                             golden files, libvirt's schema and QEMU driver

GOLDEN_OBJ := $(HOBJ)/tests/golden/golden.o
E2E_GOLDEN_BIN := $(BIN)/tests/domxml-golden

$(E2E_GOLDEN_BIN): $(HOBJ)/tests/golden/domxml_golden.o $(GOLDEN_OBJ) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(E2E_GOLDEN_BIN)
TEST_DEPS += $(E2E_GOLDEN_BIN)
