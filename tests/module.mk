# tests: unit-test binaries and libFuzzer targets. The driver is tests/run.
#
#   make unit-tests     every tests/unit/test_*.c into $(BIN)/unit/
#   make fuzz-targets   every fuzz target into $(FUZZ_DIR) (needs clang)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BIN)/unit/%)

# Keep the objects: they are intermediate to make, and rebuilding them every
# time would defeat the dependency files.
.SECONDARY: $(UNIT_SRCS:%.c=$(HOBJ)/%.o)

# $(SAN) at link time too: `make asan` builds these with sanitizers.
$(BIN)/unit/test_%: $(HOBJ)/tests/unit/test_%.o $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(LIBWF) $(LDLIBS_HOST)

# Fuzz targets are built whole by clang from sources (the library too), so
# every line they reach is instrumented. A fuzz target elsewhere adds its
# path to FUZZ_TARGETS and a rule whose prerequisites are its .c files and
# whose recipe is $(FUZZ_LINK).
FUZZ_CC     := clang
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) -D_GNU_SOURCE \
               -Ilib -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_TARGETS += $(FUZZ_DIR)/fuzz_json

define FUZZ_LINK
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) \
		$(PKG_LIBS) -lpthread -lm
endef

$(FUZZ_DIR)/fuzz_json: tests/fuzz/fuzz_json.c lib/json.c lib/buf.c lib/util.c \
		$(wildcard lib/*.h)
	$(FUZZ_LINK)

FUZZ_TARGETS += $(FUZZ_DIR)/fuzz_records
$(FUZZ_DIR)/fuzz_records: tests/fuzz/fuzz_records.c lib/records.c lib/json.c lib/buf.c lib/util.c \
		$(wildcard lib/*.h)
	$(FUZZ_LINK)

FUZZ_TARGETS += $(FUZZ_DIR)/fuzz_export_text
$(FUZZ_DIR)/fuzz_export_text: tests/fuzz/fuzz_export_text.c lib/json.c lib/buf.c lib/util.c \
		$(wildcard lib/*.h)
	$(FUZZ_LINK)

FUZZ_TARGETS += $(FUZZ_DIR)/fuzz_config
$(FUZZ_DIR)/fuzz_config: tests/fuzz/fuzz_config.c lib/config.c lib/flags.c lib/buf.c lib/util.c lib/log.c \
		$(wildcard lib/*.h)
	$(FUZZ_LINK)

.PHONY: unit-tests fuzz-targets
unit-tests: $(UNIT_BINS)
fuzz-targets: $(FUZZ_TARGETS)

TEST_DEPS += unit-tests fuzz-targets

# The load client (tests/load/run, make loadtest): simulated agents.
$(BIN)/tests/loadclient: $(HOBJ)/tests/load/loadclient.o $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(LIBWF) $(LDLIBS_HOST)
ALL_TARGETS += $(BIN)/tests/loadclient
