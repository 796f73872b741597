# cli: bin/wakefarm, the command-line client. Every cli/*.c is part of it
# (one command per cmd_*.c); it links lib/ only (repro and bisect --local
# run guests through lib/runner/ and judge them with lib/'s contract).

CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(HOBJ)/%.o)

$(BIN)/wakefarm: $(CLI_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CLI_OBJS) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm
