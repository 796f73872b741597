/*
 * Booting a Linux bzImage with the x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol").
 *
 * The host hands over the image, an initrd and a command line as fw_cfg
 * files.  The real-mode setup code is never run: the firmware fills
 * boot_params itself (setup header copied from the image, the e820 map with
 * our NVS ranges, the RSDP we edited), loads the protected-mode kernel at 16
 * MiB or above (below is ours: firmware, SIPI page, test-kernel slots), puts
 * the initrd at the top of low RAM and enters startup_64 = load address +
 * 0x200 in long mode on the identity map, %rsi = boot_params.
 */
#include "fw.h"
#include "fwcfg.h"
#include "linux.h"

#define LINUX_LOAD_MIN LAYOUT_END /* 16 MiB: everything below is ours */
#define SETUP_MAX 0x8000UL /* real-mode setup: at most 64 sectors */
#define LINUX_CMDLINE_MAX 4096
#define LOADFLAGS_LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01 /* has the 64-bit entry at +0x200 */
#define LOADER_UNDEFINED 0xFF /* type_of_loader: no assigned ID */

/* The setup header, as it sits at 0x1f1 in the image and in boot_params. */
struct setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;
	u16 jump;
	u32 header; /* "HdrS" */
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} PACKED;
_Static_assert(
    sizeof(struct setup_header) == 0x26C - 0x1F1, "setup_header layout");

struct boot_e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} PACKED;
_Static_assert(sizeof(struct boot_e820_entry) == 20, "boot_e820_entry layout");

/* The "zero page" (Documentation/arch/x86/zero-page.rst). */
struct boot_params {
	u8 screen_info[0x40];
	u8 apm_bios_info[0x14];
	u8 pad2[4];
	u64 tboot_addr;
	u8 ist_info[0x10];
	u64 acpi_rsdp_addr; /* 0x070 */
	u8 pad3[8];
	u8 hd_info[0x20];
	u8 sys_desc_table[0x10];
	u8 olpc_ofw_header[0x10];
	u32 ext_ramdisk_image; /* 0x0c0 */
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;
	u8 pad4[0x13C - 0xCC];
	u32 cc_blob_address;
	u8 edid_info[0x80];
	u8 efi_info[0x20];
	u32 alt_mem_k;
	u32 scratch;
	u8 e820_entries; /* 0x1e8 */
	u8 eddbuf_entries;
	u8 edd_mbr_sig_buf_entries;
	u8 kbd_status;
	u8 secure_boot;
	u8 pad5[2];
	u8 sentinel; /* 0x1ef: must stay 0 */
	u8 pad6;
	struct setup_header hdr; /* 0x1f1 */
	u8 pad7[0x290 - 0x26C];
	u32 edd_mbr_sig_buffer[16];
	struct boot_e820_entry e820_table[128]; /* 0x2d0 */
	u8 pad8[0x1000 - 0xCD0];
} PACKED;
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params layout");
_Static_assert(__builtin_offsetof(struct boot_params, acpi_rsdp_addr) == 0x70,
    "acpi_rsdp_addr");
_Static_assert(
    __builtin_offsetof(struct boot_params, ext_ramdisk_image) == 0xC0,
    "ext_ramdisk_image");
_Static_assert(__builtin_offsetof(struct boot_params, e820_entries) == 0x1E8,
    "e820_entries");
_Static_assert(__builtin_offsetof(struct boot_params, hdr) == 0x1F1, "hdr");
_Static_assert(
    __builtin_offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");

/* Both live in firmware memory (NVS): Linux copies them early and never
 * frees what the e820 map calls NVS. */
static struct boot_params zero_page __attribute__((aligned(4096)));
static char cmdline[LINUX_CMDLINE_MAX];

/* Highest end of a RAM range below 4 GiB and at most `limit`. */
static u64
low_ram_top(const struct bootinfo *bi, u64 limit, u64 *start)
{
	u64 top = 0;

	for (u32 i = 0; i < bi->nmmap; i++) {
		const struct e820_entry *e = &bi->mmap[i];
		u64 end = e->addr + e->size;

		if (e->type != E820_RAM || e->addr >= limit)
			continue;
		if (end > limit)
			end = limit;
		if (end > top) {
			top = end;
			*start = e->addr;
		}
	}
	return top;
}

static u64
align_up(u64 v, u64 a)
{
	return a ? (v + a - 1) & ~(a - 1) : v;
}

/*
 * The command line from the host, with the report clock appended so that
 * /init stamps t_us on the firmware's time base, and the TSC rate for Linux
 * (tsc_early_khz=, unless the host set it): a TD learns it from CPUID leaf
 * 0x15 and never times the TSC against the PIT.  Under TCG Linux's quick
 * PIT calibration failed in 9 of 10 shim boots (bench/linux.sh, both TCG
 * modes; 3 of 10 under SeaBIOS), and Linux then timed the TSC again, for
 * ~40 ms, against the HPET.  kexec'd kernels keep the option (linux-init
 * passes the command line on).
 */
static int
read_cmdline(const struct report_channel *ch, u32 max, const char **why)
{
	u16 key;
	long n = fwcfg_file("opt/wakefarm/cmdline", &key);
	size_t len;
	char v[24];

	if (n >= (long)sizeof(cmdline) - 128 || n >= (long)max) {
		*why = "opt/wakefarm/cmdline is longer than the kernel takes";
		return -1;
	}
	if (n > 0)
		fwcfg_read(key, cmdline, n);
	len = n > 0 ? (size_t)n : 0;
	while (len && (cmdline[len - 1] == '\n' || cmdline[len - 1] == 0))
		len--;
	cmdline[len] = 0;
	if (ch->tsc_khz && !opt_get(cmdline, "tsc_early_khz", v, sizeof(v)))
		len += snprintf(cmdline + len, sizeof(cmdline) - len,
		    "%stsc_early_khz=%lu", len ? " " : "", ch->tsc_khz);
	snprintf(cmdline + len, sizeof(cmdline) - len,
	    "%swakefarm.tsc_khz=%lu wakefarm.tsc_base=%lu", len ? " " : "",
	    ch->tsc_khz, ch->tsc_base);
	return 0;
}

int
linux_boot(u16 key, u64 size, const struct bootinfo *bi,
    const struct report_channel *ch, u64 rsdp, const char **why)
{
	struct setup_header *h = (struct setup_header *)(KERNEL_FILE + 0x1F1);
	u64 setup_size, load, initrd = 0, ram_start = 0, top, hdr_len;
	long initrd_size;
	u16 initrd_key = 0;

	/* The image is read once, in file order: setup, then the kernel. */
	fwcfg_read(key, (void *)KERNEL_FILE, 0x400);
	setup_size = ((u64)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	if (h->version < 0x20C || !(h->xloadflags & XLF_KERNEL_64)) {
		*why =
		    "bzImage without the 64-bit entry point (boot protocol < 2.12)";
		return -1;
	}
	if (setup_size > SETUP_MAX || setup_size >= size) {
		*why = "bzImage setup size out of range";
		return -1;
	}
	load = h->pref_address >= LINUX_LOAD_MIN ? h->pref_address :
	                                           LINUX_LOAD_MIN;
	load = align_up(load, h->kernel_alignment);
	if (load != h->pref_address && !h->relocatable_kernel) {
		*why =
		    "the kernel is not relocatable and wants an address the firmware owns";
		return -1;
	}
	if (read_cmdline(ch, h->cmdline_size, why) < 0)
		return -1;
	initrd_size = fwcfg_file("opt/wakefarm/initrd", &initrd_key);
	top = low_ram_top(bi, (u64)h->initrd_addr_max + 1, &ram_start);
	if (initrd_size > 0) {
		initrd = (top - initrd_size) & ~(PAGE_SIZE - 1);
		if (initrd < ram_start || initrd < load + h->init_size) {
			*why =
			    "not enough RAM for the kernel and the initrd (give the guest 256 MiB+)";
			return -1;
		}
		fwcfg_read(initrd_key, (void *)initrd, initrd_size);
	} else if (top < load + h->init_size) {
		*why =
		    "not enough RAM for the kernel (give the guest 256 MiB+)";
		return -1;
	}

	memset(&zero_page, 0, sizeof(zero_page));
	fwcfg_read(key, (void *)KERNEL_FILE, setup_size);
	fwcfg_read_next((void *)load, size - setup_size);
	/* The header ends at 0x202 + the byte at 0x201 (the jump offset). */
	hdr_len = 0x202 + *(u8 *)(KERNEL_FILE + 0x201) - 0x1F1;
	memcpy(&zero_page.hdr, h, hdr_len < sizeof(*h) ? hdr_len : sizeof(*h));
	zero_page.hdr.type_of_loader = LOADER_UNDEFINED;
	zero_page.hdr.loadflags |= LOADFLAGS_LOADED_HIGH;
	zero_page.hdr.vid_mode = 0xFFFF; /* "normal" */
	zero_page.hdr.code32_start = (u32)load;
	zero_page.hdr.cmd_line_ptr = (u32)(u64)cmdline;
	zero_page.ext_cmd_line_ptr = (u32)((u64)cmdline >> 32);
	zero_page.hdr.ramdisk_image = (u32)initrd;
	zero_page.hdr.ramdisk_size = initrd_size > 0 ? (u32)initrd_size : 0;
	zero_page.acpi_rsdp_addr = rsdp;
	for (u32 i = 0; i < bi->nmmap && i < ARRAY_SIZE(zero_page.e820_table);
	     i++) {
		zero_page.e820_table[i].addr = bi->mmap[i].addr;
		zero_page.e820_table[i].size = bi->mmap[i].size;
		zero_page.e820_table[i].type = bi->mmap[i].type;
		zero_page.e820_entries = i + 1;
	}
	klog(
	    "starting Linux (boot protocol %u.%u) at 0x%lx, initrd 0x%lx (%ld bytes), cmdline: %s",
	    h->version >> 8, h->version & 0xFF, load, initrd,
	    initrd_size > 0 ? initrd_size : 0L, cmdline);
	linux_enter(load + 0x200, (u64)&zero_page);
}
