# controller: bin/wakefarm-controller (HTTP API, scheduler, verdicts, dashboard).
#
# CTL_CORE_SRCS are the controller's modules; the binary and the unit tests
# of its modules link them. The schema lives in db/*.sql, found at run time.

CTL_CORE_SRCS := $(filter-out controller/main.c,$(wildcard controller/*.c))
CTL_CORE_OBJS := $(CTL_CORE_SRCS:%.c=$(HOBJ)/%.o)
CONTROLLER_OBJS := $(HOBJ)/controller/main.o $(CTL_CORE_OBJS)

$(BIN)/wakefarm-controller: $(CONTROLLER_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CONTROLLER_OBJS) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-controller

# Unit tests of controller modules link the controller's objects too (this
# explicit rule wins over tests/module.mk's pattern rule).
CTL_UNIT_BINS := $(patsubst tests/unit/%.c,$(BIN)/unit/%,\
	$(wildcard tests/unit/test_classify*.c tests/unit/test_schedule*.c \
	tests/unit/test_ratelimit*.c tests/unit/test_queue*.c \
	tests/unit/test_verdict*.c tests/unit/test_auth*.c \
	tests/unit/test_export*.c tests/unit/test_db*.c \
	tests/unit/test_api_work*.c))
$(CTL_UNIT_BINS): $(BIN)/unit/%: $(HOBJ)/tests/unit/%.o $(CTL_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(CTL_CORE_OBJS) $(LIBWF) $(LDLIBS_HOST)

# The controller suite (tests/controller/run): each tests/controller/ctest_*.c
# is a test binary of its own that drives a real controller over HTTP
# (suite.c starts it; ctest.c speaks HTTP).
CTEST_SRCS := $(sort $(wildcard tests/controller/ctest_*.c))
CTEST_BINS := $(CTEST_SRCS:tests/controller/%.c=$(BIN)/tests/controller/%)
CTEST_LIB  := $(HOBJ)/tests/controller/suite.o $(HOBJ)/tests/controller/ctest.o \
	$(HOBJ)/tests/golden/golden.o

$(CTEST_BINS): $(BIN)/tests/controller/%: $(HOBJ)/tests/controller/%.o $(CTEST_LIB) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(CTEST_LIB) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(CTEST_BINS)
TEST_DEPS += $(CTEST_BINS)

# Fuzz targets for the controller's parsers (tests/module.mk: FUZZ_LINK).
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_scenario $(BUILD)/fuzz/fuzz_events
$(BUILD)/fuzz/fuzz_scenario: tests/fuzz/fuzz_scenario.c lib/scenario.c \
		lib/expect.c $(wildcard lib/*.c lib/*.h controller/*.h)
	$(FUZZ_LINK)
$(BUILD)/fuzz/fuzz_events: tests/fuzz/fuzz_events.c controller/batch.c \
		$(wildcard lib/*.c lib/*.h controller/*.h)
	$(FUZZ_LINK)

# The API bodies that take the most parsing: POST /runs (against the shipped
# scenarios/) and POST /bisects.
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_run_body $(BUILD)/fuzz/fuzz_bisect_body
$(BUILD)/fuzz/fuzz_run_body: tests/fuzz/fuzz_run_body.c controller/run_req.c \
		lib/scenario.c lib/scenario_dir.c lib/expect.c \
		$(wildcard lib/*.c lib/*.h controller/*.h)
	$(FUZZ_LINK)
$(BUILD)/fuzz/fuzz_bisect_body: tests/fuzz/fuzz_bisect_body.c \
		controller/bisect_req.c $(wildcard lib/*.c lib/*.h controller/*.h)
	$(FUZZ_LINK)

# Guest output on its way to a reader: known issues' log regexes over
# arbitrary bytes, and the text cleaner (controller/known.c, lib/util.c).
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_known
$(BUILD)/fuzz/fuzz_known: tests/fuzz/fuzz_known.c controller/known.c \
		$(wildcard lib/*.c lib/*.h controller/*.h)
	$(FUZZ_LINK)
