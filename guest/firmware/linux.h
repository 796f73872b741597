/* Booting a Linux bzImage (64-bit boot protocol) from the firmware shim. */
#ifndef FW_LINUX_H
#define FW_LINUX_H

#include "../common/types.h"
#include "../common/bootinfo.h"
#include "../common/report.h"

/* True when the image starts like a bzImage: "HdrS" at 0x202. */
static inline bool
linux_is_bzimage(const void *image, u64 size)
{
	return size > 0x206 && !memcmp((const u8 *)image + 0x202, "HdrS", 4);
}

/*
 * Loads the bzImage in fw_cfg item `key` (`size` bytes), the initrd and
 * command line from opt/wakefarm/initrd and opt/wakefarm/cmdline, and enters
 * it.  Returns -1 with a reason only when the image cannot be booted.
 */
int linux_boot(u16 key, u64 size, const struct bootinfo *bi,
    const struct report_channel *ch, u64 rsdp, const char **why);

/* entry.S: load the boot GDT (__BOOT_CS 0x10, __BOOT_DS 0x18) and jump to
 * `entry` with %rsi = boot_params, interrupts off. */
NORETURN void linux_enter(u64 entry, u64 boot_params);

#endif
