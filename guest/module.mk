# guest/: the firmware shim and the test kernel, freestanding x86-64 code
# built with the system gcc, and the reporter /init for real Linux kernels
# (a static hosted program).  Outputs under build/guest/.
#
# GUEST_CC builds all of it: `make asan` builds host code with clang and
# sanitizers but keeps the guest on the normal compiler.

GUEST_CC ?= $(CC)
GUEST_OUT := $(BUILD)/guest
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -mno-red-zone \
	-mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-delete-null-pointer-checks -fcf-protection=none \
	-Wall -Wextra -Wno-unused-parameter -MMD -MP $(if $(CI),-Werror)

GUEST_COMMON := report record string fmt acpi elf idle
FW_SRCS := guest/firmware/entry.S $(addprefix guest/firmware/,main.c madt.c park.c fwcfg.c linux.c) \
	$(addprefix guest/common/,$(addsuffix .c,$(GUEST_COMMON)))
K_SRCS := guest/kernel/entry.S $(addprefix guest/kernel/,main.c cpu.c madt.c wakeup.c smp.c kexec.c steps.c) \
	$(addprefix guest/common/,$(addsuffix .c,$(GUEST_COMMON)))

FW_OBJS := $(patsubst guest/%,$(GUEST_OUT)/fw/%.o,$(FW_SRCS))
K_OBJS := $(patsubst guest/%,$(GUEST_OUT)/k/%.o,$(K_SRCS))

# The firmware is linked where multiboot loads it (non-PIC, small code model).
$(GUEST_OUT)/fw/%.o: guest/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -fno-pic -mcmodel=small -c $< -o $@

# The kernel is a static PIE: it runs in two slots and in the crash region.
$(GUEST_OUT)/k/%.o: guest/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -fpie -fvisibility=hidden -c $< -o $@

# QEMU's multiboot loader refuses ELF64, so the 64-bit firmware is repackaged
# as ELF32 (addresses are all below 4 GiB).
$(GUEST_OUT)/firmware.elf: $(FW_OBJS) guest/firmware/fw.ld
	$(GUEST_CC) -nostdlib -static -no-pie -Wl,-T,guest/firmware/fw.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-o $(GUEST_OUT)/firmware64.elf $(FW_OBJS)
	objcopy -O elf32-i386 $(GUEST_OUT)/firmware64.elf $@
	@chmod 0755 $(GUEST_OUT) && chmod 0644 $@	# QEMU under libvirt reads it as libvirt-qemu

$(GUEST_OUT)/kernel.elf: $(K_OBJS) guest/kernel/kernel.ld
	$(GUEST_CC) -nostdlib -static-pie -Wl,-T,guest/kernel/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-Wl,-z,norelro -Wl,--no-dynamic-linker -o $@ $(K_OBJS)
	@if readelf -rW $@ | awk 'NR>3 && $$3 != "" && $$3 !~ /RELATIVE/ && /R_X86_64/' | grep -q .; then \
		echo "kernel.elf: relocations other than R_X86_64_RELATIVE" >&2; rm -f $@; exit 1; fi
	@chmod 0755 $(GUEST_OUT) && chmod 0644 $@

# The reporter runs as /init under a real Linux kernel: static, libc allowed.
LINUX_INIT := $(GUEST_OUT)/linux-init
LINUX_INIT_SRCS := $(addprefix guest/linux-init/,main.c records.c sysinfo.c steps.c newc.c) guest/common/record.c
LINUX_INIT_OBJS := $(patsubst guest/%,$(GUEST_OUT)/li/%.o,$(LINUX_INIT_SRCS))

# REC_MAX: the reporter's records may use the contract's whole 4096 bytes
# (common/record.h); every object of it must see the same value.
$(GUEST_OUT)/li/%.o: guest/%
	@mkdir -p $(dir $@)
	$(GUEST_CC) -std=gnu11 -O2 -g -D_GNU_SOURCE -DREC_MAX=4096 $(WARN) -MMD -MP -c $< -o $@

$(LINUX_INIT): $(LINUX_INIT_OBJS)
	$(GUEST_CC) -static -o $@ $^

GUEST_IMAGES := $(GUEST_OUT)/firmware.elf $(GUEST_OUT)/kernel.elf
ALL_TARGETS += $(GUEST_IMAGES) $(LINUX_INIT)
.PHONY: guest
guest: $(GUEST_IMAGES) $(LINUX_INIT)
