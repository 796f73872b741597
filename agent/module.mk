# agent: bin/wakefarm-agent (one per libvirt host) and bin/wakefarm (the CLI).
#
# AGENT_CORE_SRCS are the agent's modules (domain XML, guest runner, event
# streaming, ...). Both binaries link them: `wakefarm repro` runs a job
# through the same code path as the agent.

AGENT_CORE_SRCS := agent/qemu.c agent/linux.c agent/runcommon.c agent/libvirt_run.c agent/lvevents.c agent/domxml.c \
	agent/tail.c
AGENT_CORE_OBJS := $(AGENT_CORE_SRCS:%.c=$(HOBJ)/%.o)

$(BIN)/wakefarm-agent: $(HOBJ)/agent/main.o $(HOBJ)/agent/agent.o $(HOBJ)/agent/outbox.o \
		$(HOBJ)/agent/job.o $(AGENT_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

# repro judges with the controller's own code: scenario expansion and expectations.
$(BIN)/wakefarm: $(HOBJ)/agent/cli/main.o $(HOBJ)/agent/cli/repro.o $(HOBJ)/agent/cli/bisect_cmd.o \
		$(HOBJ)/agent/cli/bisect_local.o $(HOBJ)/controller/scenario.o \
		$(HOBJ)/controller/scenario_dir.o $(HOBJ)/controller/expect.o $(AGENT_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-agent $(BIN)/wakefarm

# guest/run-qemu execs this: one guest under bare QEMU (the runner contract).
$(BIN)/wakefarm-run-qemu: $(HOBJ)/agent/run_qemu.o $(AGENT_CORE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)

ALL_TARGETS += $(BIN)/wakefarm-run-qemu

# tail.c's unit test links the agent module the unit-test pattern rule does not know.
$(BIN)/unit/test_tail: $(HOBJ)/tests/unit/test_tail.o $(HOBJ)/agent/tail.o $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(filter %.o,$^) $(LIBWF) $(LDLIBS_HOST)
