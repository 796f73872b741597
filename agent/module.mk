# agent: bin/wakefarm-agent (one per libvirt host) and bin/wakefarm (the CLI).
#
# AGENT_CORE_SRCS are the agent's modules (domain XML, guest runner, event
# streaming, ...). Both binaries link them: `wakefarm repro` runs a job
# through the same code path as the agent.

AGENT_CORE_SRCS :=
AGENT_CORE_OBJS := $(AGENT_CORE_SRCS:%.c=$(HOBJ)/%.o)

$(BIN)/wakefarm-agent: $(HOBJ)/agent/main.o $(AGENT_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

$(BIN)/wakefarm: $(HOBJ)/agent/cli/main.o $(AGENT_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-agent $(BIN)/wakefarm
