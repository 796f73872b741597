/*
 * Firmware shim main: plays the part of TDX firmware for a QEMU guest.
 *
 * Booted by QEMU (SeaBIOS + multiboot) on the BSP.  It reads its knobs from
 * fw_cfg, publishes the MADT wakeup entry, parks every AP in the mailbox
 * loop, reserves what it owns as ACPI NVS, and starts the OS image: our test
 * kernel (ELF) or a Linux bzImage (linux.c).
 */
#include "fw.h"
#include "fwcfg.h"
#include "linux.h"
#include "../common/elf.h"
#include "../common/layout.h"
#include "../common/idle.h"

struct multiboot_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} PACKED;

struct multiboot_mmap {
	u32 size; /* of the rest of the entry */
	u64 addr, len;
	u32 type;
} PACKED;

struct fw_state fw;
static struct report_channel channel;
static struct bootinfo bi;
extern volatile u32 fw_parked;
extern char sipi_trampoline[], sipi_trampoline_end[];

NORETURN void
fw_exit(u8 status)
{
	outb(0xF4,
	    status); /* isa-debug-exit: QEMU exits with (status << 1) | 1 */
	halt_forever();
}

static NORETURN void
fatal(const char *what, const char *why)
{
	report_error("firmware: %s: %s", what, why);
	fw_exit(0x13);
}

#define PIT_HZ 1193182

/* PIT channel 2's count, latched, and the TSC halfway through the read;
 * the best of a few reads: an I/O exit that waited (TCG takes a lock for
 * each) widens the window, and with it the error. */
static u16
pit2_sample(u64 *tsc)
{
	u64 best = ~0ULL;
	u16 count = 0;

	for (int i = 0; i < 8; i++) {
		u64 a = rdtsc(), b;
		u16 c;

		outb(0x43, 0x80); /* latch channel 2 */
		c = inb(0x42);
		c |= (u16)inb(0x42) << 8;
		b = rdtsc();
		if (b - a < best) {
			best = b - a;
			count = c;
			*tsc = a + (b - a) / 2;
		}
	}
	return count;
}

/*
 * TSC ticks per millisecond, measured against PIT channel 2 over 5 ms: the
 * count and the TSC are read together at both ends, so neither the time
 * before the first read nor a late last one (the old loop waited for OUT2
 * and came out 1-4% fast under TCG) adds to the figure.  Port B is left as
 * it was found, as SeaBIOS leaves it; Linux programs channel 2 itself.
 */
static u64
tsc_calibrate(void)
{
	const u16 span = PIT_HZ * 5 / 1000;
	u8 portb = inb(0x61);
	u64 t0, t1;
	u16 c0, c1;

	outb(0x61, (portb & ~0x02) | 0x01); /* speaker off, gate 2 on */
	outb(0x43, 0xB0); /* channel 2, lo/hi byte, mode 0 */
	outb(0x42, 0xFF);
	outb(0x42, 0xFF); /* counts down from 0xFFFF: 55 ms */
	c0 = pit2_sample(&t0);
	do
		c1 = pit2_sample(&t1);
	while (c1 > c0 || c0 - c1 < span);
	outb(0x61, portb);
	return (t1 - t0) * PIT_HZ / ((u64)(c0 - c1) * 1000);
}

/* "NAME" or "NAME=VALUE" items of quirks=; VALUE is MS, or APIC:MS. */
static bool
quirk_flag(const char *q, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {
		{ "v1-short-entry",
		    __builtin_offsetof(struct fw_quirks, v1_short_entry) },
		{ "no-test-ack",
		    __builtin_offsetof(struct fw_quirks, no_test_ack) },
		{ "clear-vector",
		    __builtin_offsetof(struct fw_quirks, clear_vector) },
		{ "stale-checksum",
		    __builtin_offsetof(struct fw_quirks, stale_checksum) },
		{ "test-is-sleep",
		    __builtin_offsetof(struct fw_quirks, test_is_sleep) },
		{ "reset-vector-zero",
		    __builtin_offsetof(struct fw_quirks, reset_vector_zero) },
		{ "wakeup-no-nxe",
		    __builtin_offsetof(struct fw_quirks, wakeup_no_nxe) },
		{ "poll-early-command",
		    __builtin_offsetof(struct fw_quirks, poll_early_command) },
		{ "keep-irq-state",
		    __builtin_offsetof(struct fw_quirks, keep_irq_state) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (n == strlen(flags[i].name) &&
		    !strncmp(q, flags[i].name, n)) {
			*(bool *)((u8 *)&fw.quirks + flags[i].off) = true;
			return true;
		}
	if (n == 17 && !strncmp(q, "reset-on-os-stack", n)) {
		fw_quirk_reset_on_os_stack =
		    1; /* read by the reset page itself */
		return true;
	}
	return false;
}

static bool
quirk_value(const char *q, size_t n)
{
	u64 a = 0, b = 0;
	size_t k;

	if (n > 9 && !strncmp(q, "slow-ack=", 9)) {
		parse_u64(q + 9, &a);
		fw.quirks.slow_ack_ms = a;
		return true;
	}
	if (n > 11 && !strncmp(q, "poll-stall=", 11) &&
	    (k = parse_u64(q + 11, &a)) && q[11 + k] == ':' &&
	    parse_u64(q + 12 + k, &b)) {
		fw.quirks.poll_stall_apic = a;
		fw.quirks.poll_stall_ms = b;
		return true;
	}
	return false;
}

static void
parse_quirks(const char *cfg)
{
	char q[128];
	const char *p;

	if (!opt_get(cfg, "quirks", q, sizeof(q)))
		return;
	memcpy(fw.quirk_text, q, sizeof(q));
	for (p = q; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n && !quirk_flag(p, n) && !quirk_value(p, n)) {
			char bad[32];

			memcpy(bad, p, n < sizeof(bad) ? n : sizeof(bad) - 1);
			bad[n < sizeof(bad) ? n : sizeof(bad) - 1] = 0;
			report_error("firmware: unknown quirk %s ignored", bad);
		}
		p += n + (e ? 1 : 0);
	}
}

/* Cut [addr, addr+size) out of whatever RAM covers it and add it as `type`. */
static void
e820_reserve(u64 addr, u64 size, u32 type)
{
	u64 end = addr + size;

	for (u32 i = 0; i < bi.nmmap; i++) {
		struct e820_entry *e = &bi.mmap[i];
		u64 eend = e->addr + e->size;

		if (e->type != E820_RAM || end <= e->addr || addr >= eend)
			continue;
		if (addr > e->addr && end < eend && bi.nmmap < MMAP_MAX)
			bi.mmap[bi.nmmap++] = (struct e820_entry){ end,
				eend - end, E820_RAM, 0 };
		if (addr > e->addr)
			e->size = addr - e->addr;
		else {
			e->addr = end < eend ? end : eend;
			e->size = eend - e->addr;
		}
	}
	if (bi.nmmap < MMAP_MAX)
		bi.mmap[bi.nmmap++] = (struct e820_entry){ addr, size, type,
			0 };
	/* keep the map sorted by address, as an OS expects */
	for (u32 i = 1; i < bi.nmmap; i++)
		for (u32 j = i; j && bi.mmap[j].addr < bi.mmap[j - 1].addr;
		     j--) {
			struct e820_entry t = bi.mmap[j];

			bi.mmap[j] = bi.mmap[j - 1];
			bi.mmap[j - 1] = t;
		}
}

static void
build_memory_map(const struct multiboot_info *mbi)
{
	u64 p = mbi->mmap_addr, end = p + mbi->mmap_length;
	u64 ram_top = 0;

	if (!(mbi->flags & (1 << 6)))
		fatal("memory map", "the boot loader passed none");
	while (p < end && bi.nmmap < MMAP_MAX) {
		const struct multiboot_mmap *m = (const void *)p;

		if (m->len)
			bi.mmap[bi.nmmap++] = (struct e820_entry){ m->addr,
				m->len, m->type, 0 };
		if (m->type == E820_RAM && m->addr + m->len > ram_top &&
		    m->addr < 0x100000000ULL)
			ram_top = m->addr + m->len;
		p += m->size + 4;
	}
	if (ram_top < LAYOUT_END)
		fatal("memory map", "the guest needs at least 32 MiB of RAM");
	e820_reserve(FW_SIPI_PAGE, PAGE_SIZE, E820_NVS);
	e820_reserve(FW_BASE, (u64)__fw_end - FW_BASE, E820_NVS);
}

/*
 * The BSP's MTRRs, for the APs.  SeaBIOS set them on every CPU, but the INIT
 * that parks the APs here resets theirs (QEMU, like a cold CPU), and Linux
 * then reported "your CPUs had inconsistent ... MTRR settings" and fixed
 * them.  A BIOS hands over CPUs that agree; so does TDVF.
 */
#define MSR_MTRR_CAP 0xFE
#define MSR_MTRR_DEF_TYPE 0x2FF
static const u32 mtrr_fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26A,
	0x26B, 0x26C, 0x26D, 0x26E, 0x26F };
static struct {
	u32 n;
	u32 msr[11 + 2 * 16];
	u64 val[11 + 2 * 16];
	u64 def_type;
} mtrr;

static void
mtrr_save(void)
{
	u32 a, b, c, d, vcnt;
	u64 cap;

	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 12))) /* no MTRRs */
		return;
	cap = rdmsr(MSR_MTRR_CAP);
	vcnt = cap & 0xFF;
	if (vcnt > 16)
		vcnt = 16;
	if (cap & (1u << 8)) /* fixed-range MTRRs */
		for (u32 i = 0; i < ARRAY_SIZE(mtrr_fixed); i++) {
			mtrr.msr[mtrr.n] = mtrr_fixed[i];
			mtrr.val[mtrr.n++] = rdmsr(mtrr_fixed[i]);
		}
	for (u32 i = 0; i < 2 * vcnt; i++) {
		mtrr.msr[mtrr.n] = 0x200 + i;
		mtrr.val[mtrr.n++] = rdmsr(0x200 + i);
	}
	mtrr.def_type = rdmsr(MSR_MTRR_DEF_TYPE);
}

/* On an AP, before it parks: the BSP's ranges, then the enable bits. */
void
fw_mtrr_load(void)
{
	if (!mtrr.n)
		return;
	wrmsr(MSR_MTRR_DEF_TYPE, 0);
	for (u32 i = 0; i < mtrr.n; i++)
		wrmsr(mtrr.msr[i], mtrr.val[i]);
	wrmsr(MSR_MTRR_DEF_TYPE, mtrr.def_type);
}

static void
start_aps(void)
{
	u64 deadline;

	memcpy((void *)FW_SIPI_PAGE, sipi_trampoline,
	    sipi_trampoline_end - sipi_trampoline);
	mtrr_save();
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_APIC_ENABLE);
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(
	    LAPIC_ICR_LO, 0x000C4500); /* INIT, assert, all excluding self */
	delay_us(1000);
	for (int i = 0; i < 2; i++) {
		/* STARTUP, all excluding self, vector = trampoline page number */
		lapic_write(LAPIC_ICR_LO, 0x000C4600 | (FW_SIPI_PAGE >> 12));
		delay_us(200);
	}
	deadline = time_us() + 5000000;
	while (READ_ONCE(fw_parked) < fw.ncpus - 1 && time_us() < deadline)
		cpu_relax();
	if (fw_parked != fw.ncpus - 1)
		report_error(
		    "firmware: only %u of %u APs reached the mailbox loop",
		    fw_parked, fw.ncpus - 1);
}

static void
report_ready(void)
{
	struct rec r;

	rec_begin(&r, "fw-ready");
	rec_u64(&r, "cpus", fw.ncpus);
	rec_u32_list(&r, "apic_ids", fw.apic_ids, fw.ncpus);
	rec_u64(&r, "bsp", cpu_apic_id()); /* every other CPU is parked now */
	rec_u64(&r, "madt_version", fw.wakeup->mailbox_version);
	rec_u64(&r, "madt_length", fw.wakeup->length);
	rec_hex(&r, "mailbox", fw.wakeup->mailbox_address);
	rec_hex(&r, "reset_vector", fw.reset_vector);
	rec_str(&r, "quirks", fw.quirk_text);
	rec_end(&r);
}

static NORETURN void
boot_os(struct acpi_rsdp *rsdp)
{
	const char *why = "";
	u16 key;
	long size = fwcfg_file("opt/wakefarm/kernel", &key);
	u64 entry;

	if (size <= 0)
		fatal("OS image", "no fw_cfg file opt/wakefarm/kernel");
	fwcfg_read(key, (void *)KERNEL_FILE, size < 0x400 ? size : 0x400);
	if (linux_is_bzimage((void *)KERNEL_FILE, size)) {
		linux_boot(key, size, &bi, &channel, (u64)rsdp, &why);
		fatal("Linux", why);
	}
	if ((u64)size > KERNEL_FILE_MAX)
		fatal("OS image", "larger than KERNEL_FILE_MAX");
	fwcfg_read(key, (void *)KERNEL_FILE, size);
	if (memcmp((void *)KERNEL_FILE, "\177ELF", 4))
		fatal("OS image",
		    "neither an ELF test kernel nor a Linux bzImage");
	entry = elf_load(
	    (void *)KERNEL_FILE, size, KERNEL_SLOT_A, KERNEL_SLOT_SIZE, &why);
	if (!entry)
		fatal("OS image", why);

	bi.magic = BOOTINFO_MAGIC;
	bi.gen = 1;
	bi.kind = BOOT_COLD;
	bi.rsdp = (u64)rsdp;
	bi.report_channel = (u64)&channel;
	bi.kernel_file = KERNEL_FILE;
	bi.kernel_file_size = size;
	klog("starting the test kernel at 0x%lx", entry);
	((void (*)(struct bootinfo *))entry)(&bi);
	halt_forever();
}

void fw_main(u32 mbi_addr);
void
fw_main(u32 mbi_addr)
{
	const struct multiboot_info *mbi = (const void *)(u64)mbi_addr;
	struct acpi_rsdp *rsdp;
	const char *why = "";
	u16 key;
	long n;

	channel.tsc_base = rdtsc();
	serial_init(COM1);
	serial_init(COM2);
	channel.gen = 1;
	report_setup(&channel, "fw");
	/* Mask both 8259 PICs: SeaBIOS left the PIT routed through them to the
	 * BSP's LINT0 (ExtINT), and a CPU halting with interrupts on in the
	 * mailbox loop must see only its own APIC timer. */
	outb(0x21, 0xFF); /* master PIC IMR */
	outb(0xA1, 0xFF); /* slave PIC IMR */
	idt_load();
	channel.tsc_khz = tsc_calibrate();
	klog("wakefarm firmware shim, TSC %lu kHz", channel.tsc_khz);

	if (!fwcfg_present())
		fatal("fw_cfg", "device not found");
	n = fwcfg_file("opt/wakefarm/config", &key);
	if (n >= CMDLINE_MAX)
		fatal("config", "opt/wakefarm/config is too long");
	if (n > 0)
		fwcfg_read(key, bi.cmdline, n);
	{
		char v[16];
		u64 ver = 1;

		if (opt_get(bi.cmdline, "mailbox_version", v, sizeof(v)))
			parse_u64(v, &ver);
		fw.mailbox_version = ver ? 1 : 0;
	}
	parse_quirks(bi.cmdline);
	idle_configure(bi.cmdline);
	if (fw.quirks.keep_irq_state)
		idle_halts =
		    true; /* the old shim halted (with interrupts on) on every runner */
	build_memory_map(mbi);

	rsdp = acpi_find_rsdp();
	if (!rsdp)
		fatal("ACPI", "no RSDP (is <acpi/> missing from the domain?)");
	if (madt_publish(rsdp, &why) < 0)
		fatal("MADT", why);
	{
		u16 nb = 0;

		fwcfg_read(FW_CFG_NB_CPUS, &nb, sizeof(nb));
		if (nb != fw.ncpus)
			report_error(
			    "firmware: fw_cfg says %u CPUs, the MADT lists %u",
			    nb, fw.ncpus);
	}
	if (fw.ncpus > 1)
		start_aps();
	report_ready();
	boot_os(rsdp);
}
