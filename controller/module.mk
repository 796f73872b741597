# controller: bin/wakefarm-controller (HTTP API, scheduler, verdicts, dashboard).
# Add controller sources to CONTROLLER_SRCS.

CONTROLLER_SRCS := controller/main.c
CONTROLLER_OBJS := $(CONTROLLER_SRCS:%.c=$(HOBJ)/%.o)

$(BIN)/wakefarm-controller: $(CONTROLLER_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CONTROLLER_OBJS) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-controller
