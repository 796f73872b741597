# agent: bin/wakefarm-agent (one per libvirt host) and bin/wakefarm-run-qemu
# (what guest/run-qemu execs: one guest under bare QEMU or libvirt). Both
# link lib/ only; the runners themselves are lib/runner/.

AGENT_SRCS := agent/main.c agent/agent.c agent/job.c agent/outbox.c agent/state.c agent/preflight.c
AGENT_OBJS := $(AGENT_SRCS:%.c=$(HOBJ)/%.o)

$(BIN)/wakefarm-agent: $(AGENT_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(AGENT_OBJS) $(LIBWF) $(LDLIBS_HOST)

$(BIN)/wakefarm-run-qemu: $(HOBJ)/agent/run_qemu.o $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-agent $(BIN)/wakefarm-run-qemu
