# tests/e2e: end-to-end tests against the real libvirtd and QEMU. Driver: tests/e2e/run.
#
#   bin/tests/libvirt-smoke        domxml -> libvirtd -> QEMU -> guest -> serial files
#   build/tests/smoke-guest.elf    its guest: multiboot ELF32 from a few lines of assembly

E2E_SMOKE_BIN   := $(BIN)/tests/libvirt-smoke
E2E_SMOKE_GUEST := $(BUILD)/tests/smoke-guest.elf
E2E_SMOKE_OBJS  := $(HOBJ)/tests/e2e/libvirt_smoke.o $(GOLDEN_OBJ)

$(E2E_SMOKE_BIN): $(E2E_SMOKE_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(E2E_SMOKE_OBJS) $(LIBWF) $(LDLIBS_HOST)

# QEMU's multiboot loader takes ELF32 only, hence --32 / elf_i386 with the system binutils.
$(BUILD)/tests/smoke-guest/smoke.o: tests/e2e/smoke-guest/smoke.s
	@mkdir -p $(dir $@)
	as --32 -o $@ $<

# QEMU runs as libvirt-qemu and must reach and read the image whatever the umask: its
# directory 0755, the file 0644 (lib/sh/deps.sh opens the path down to build/). Also checks
# that the multiboot magic is in the first 8 KiB, where QEMU looks for it.
$(E2E_SMOKE_GUEST): $(BUILD)/tests/smoke-guest/smoke.o tests/e2e/smoke-guest/smoke.ld
	@mkdir -p $(dir $@) && chmod 0755 $(dir $@)
	ld -m elf_i386 --build-id=none -T tests/e2e/smoke-guest/smoke.ld -o $@.tmp $<
	@od -A n -t x4 -N 8192 $@.tmp | grep -qw 1badb002 || \
		{ echo "$@: multiboot header not in the first 8 KiB" >&2; rm -f $@.tmp; exit 1; }
	chmod 0644 $@.tmp
	mv -f $@.tmp $@

.PHONY: e2e-tests
e2e-tests: $(E2E_SMOKE_BIN) $(E2E_SMOKE_GUEST)

TEST_DEPS += $(E2E_SMOKE_BIN) $(E2E_SMOKE_GUEST)

# The farm test is a script: controller, two agents, libvirtd and QEMU, with faults.
$(BIN)/tests/farm: tests/e2e/farm.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/farm $(BIN)/wakefarm-agent $(BIN)/wakefarm-controller $(BIN)/wakefarm

# The multi-host test is a script too: network namespaces, TLS, config files, SIGHUP.
$(BIN)/tests/multihost: tests/e2e/multihost.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/multihost
TEST_DEPS += $(BIN)/tests/readme $(BIN)/tests/firsthour
$(BIN)/tests/firsthour: tests/e2e/firsthour.sh ; @mkdir -p $(dir $@) && cp $< $@ && chmod 0755 $@
$(BIN)/tests/readme: tests/e2e/readme.sh ; @mkdir -p $(dir $@) && cp $< $@ && chmod 0755 $@

# faults: a full agent spool, guests that print far too much (a script, like farm).
$(BIN)/tests/faults: tests/e2e/faults.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/faults $(BIN)/wakefarm-run-qemu

# reap: no domain outlives its runner (issue 22): kill -9 and libvirtd restarts between create
# and resume, and libvirtd killed inside a create (a libvirt hook holds it there).
$(BIN)/tests/reap: tests/e2e/reap.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/reap

# notify: a regression told by webhook and mail across a kill -9 (a script, like farm).
$(BIN)/tests/notify: tests/e2e/notify.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/notify

# hangwatch: hangs called early from the mailbox (issue 18), slow-ack and a loaded host not.
$(BIN)/tests/hangwatch: tests/e2e/hangwatch.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/hangwatch

# kernels: a kernel of one's own in the nightly (issue 19) through a real agent.
$(BIN)/tests/kernels: tests/e2e/kernels.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/kernels

# ahead: lease ahead (issues 18, 21): the next job's domain made while a guest runs; kill -9,
# SIGTERM and a cancel while one is prepared.
$(BIN)/tests/ahead: tests/e2e/ahead.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod 0755 $@

TEST_DEPS += $(BIN)/tests/ahead
