/*
 * sysinfo.c: what the running kernel shows of the wakeup protocol, as
 * records: the MADT it was given (/sys/firmware/acpi/tables/APIC), the CPUs
 * it brought up, the mailbox page (/dev/mem, when the kernel allows it), its
 * log lines about CPU bring-up, kexec and the mailbox, and in a kdump kernel
 * the crash notes of /proc/vmcore.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "reporter.h"

#define MADT_MP_WAKEUP 0x10
#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_SIZE_BUFFER 10

static int
read_file(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < size &&
	    (n = read(fd, (char *)buf + total, size - total)) > 0)
		total += n;
	close(fd);
	return total;
}

static int
self_apic_id(void)
{
	unsigned a, b, c, d;

	__asm__ volatile("cpuid"
	                 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
	                 : "a"(1), "c"(0));
	return b >> 24; /* CPUID.01H:EBX[31:24]: initial APIC ID */
}

/* logical CPU -> APIC ID from /proc/cpuinfo (online CPUs only). */
static void
read_cpuinfo(void)
{
	static char buf[65536];
	int n = read_file("/proc/cpuinfo", buf, sizeof(buf) - 1), cpu = -1;

	for (int c = 0; c < MAX_CPUS; c++)
		g.apic_of_cpu[c] = -1;
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "processor", 9) && strchr(l, ':'))
			cpu = atoi(strchr(l, ':') + 1);
		else if (!strncmp(l, "apicid", 6) && strchr(l, ':') &&
		    cpu >= 0 && cpu < MAX_CPUS)
			g.apic_of_cpu[cpu] = atoi(strchr(l, ':') + 1);
	}
}

int
cpu_of_apic(int apic_id)
{
	for (int c = 0; c < MAX_CPUS; c++)
		if (g.apic_of_cpu[c] == apic_id)
			return c;
	return apic_id; /* QEMU numbers both the same way */
}

void
report_boot(void)
{
	struct utsname u;
	struct rec r;

	uname(&u);
	read_cpuinfo();
	rec_begin(&r, "boot");
	rec_str(&r, "kind", g.kind);
	/* the boot CPU is logical CPU 0: in a kdump kernel, the one that crashed */
	rec_i64(&r, "cpu",
	    g.apic_of_cpu[0] >= 0 ? g.apic_of_cpu[0] : self_apic_id());
	rec_i64(&r, "init_cpu", self_apic_id());
	rec_str(&r, "os", "linux");
	rec_str(&r, "release", u.release);
	rec_str(&r, "version", u.version);
	rec_end(&r);
}

void
report_madt(void)
{
	static unsigned char t[65536];
	int n = read_file("/sys/firmware/acpi/tables/APIC", t, sizeof(t));
	unsigned char sum = 0;
	struct rec r;
	int found = 0;

	if (n < 44) {
		report_error("cannot read /sys/firmware/acpi/tables/APIC: %s",
		    n < 0 ? strerror(errno) : "short");
		return;
	}
	for (int i = 0; i < n; i++)
		sum += t[i];
	rec_begin(&r, "madt");
	for (int off = 44; off + 2 <= n && t[off + 1] >= 2; off += t[off + 1]) {
		uint64_t mbox = 0, reset = 0;
		int len = t[off + 1];

		if (t[off] != MADT_MP_WAKEUP || off + len > n || len < 16)
			continue;
		memcpy(&mbox, t + off + 8, 8);
		if (len >= 24)
			memcpy(&reset, t + off + 16, 8);
		rec_i64(&r, "version", t[off + 2] | t[off + 3] << 8);
		rec_i64(&r, "length", len);
		rec_hex(&r, "mailbox", mbox);
		rec_hex(&r, "reset_vector", reset);
		g.mailbox = mbox;
		found = 1;
		break;
	}
	if (!found) {
		rec_i64(&r, "version", -1);
		rec_i64(&r, "length", 0);
		rec_hex(&r, "mailbox", 0);
		rec_hex(&r, "reset_vector", 0);
	}
	rec_bool(&r, "checksum_ok", sum == 0);
	rec_end(&r);
}

/* Parses "0-3,5" into a count. */
static int
count_cpu_list(const char *s)
{
	int count = 0;

	while (*s && *s != '\n') {
		char *e;
		long a = strtol(s, &e, 10), b = a;

		if (e == s)
			break;
		if (*e == '-')
			b = strtol(e + 1, &e, 10);
		count += b - a + 1;
		s = *e == ',' ? e + 1 : e;
	}
	return count;
}

int
report_online(void)
{
	char buf[256];
	int n = read_file(
	    "/sys/devices/system/cpu/online", buf, sizeof(buf) - 1);
	int ids[MAX_CPUS], nids = 0, count;
	struct rec r;

	buf[n > 0 ? n : 0] = 0;
	count = count_cpu_list(buf);
	read_cpuinfo();
	for (int c = 0; c < MAX_CPUS; c++)
		if (g.apic_of_cpu[c] >= 0)
			ids[nids++] = g.apic_of_cpu[c];
	for (int i = 1; i < nids;
	     i++) /* sorted, as the test kernel reports them */
		for (int j = i; j && ids[j] < ids[j - 1]; j--) {
			int x = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = x;
		}
	rec_begin(&r, "online");
	rec_i64(&r, "cpus_online", count);
	rec_int_list(&r, "apic_ids", ids, nids);
	rec_end(&r);
	return count;
}

static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The mailbox page through /dev/mem.  Debian's kernels have
 * CONFIG_IO_STRICT_DEVMEM: the NVS range is busy, so reading it needs
 * iomem=relaxed on the command line (run-qemu passes it). */
void
report_mailbox(void)
{
	unsigned char mb[4096];
	int fd;
	ssize_t n = -1;
	int err = 0;
	struct rec r;

	if (!g.mailbox)
		return;
	fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, mb, sizeof(mb), (off_t)g.mailbox);
		err = errno;
		close(fd);
	} else
		err = errno;
	if (n != (ssize_t)sizeof(mb)) {
		rec_begin(&r, "mailbox-unreadable");
		rec_hex(&r, "address", g.mailbox);
		rec_str(&r, "err", strerror(err));
		rec_end(&r);
		return;
	}
	rec_begin(&r, "mailbox");
	rec_hex(&r, "address", g.mailbox);
	rec_i64(&r, "command", mb[0] | mb[1] << 8);
	rec_i64(&r, "reserved", mb[2] | mb[3] << 8);
	rec_i64(&r, "apic_id",
	    mb[4] | mb[5] << 8 | mb[6] << 16 | (uint32_t)mb[7] << 24);
	{
		uint64_t v;

		memcpy(&v, mb + 8, 8);
		rec_hex(&r, "vector", v);
	}
	rec_hex(&r, "fw_half_hash", fnv1a(mb + 2048, 2048));
	rec_end(&r);
}

static const char *const kmsg_words[] = {
	"smp",
	"CPU",
	"APIC",
	"kexec",
	"crash",
	"wakeup",
	"Wakeup",
	"mailbox",
	"MADT",
	"MP Wake",
	"already awake",
	"Booting",
	"Brought up",
	"panic",
	"sysrq",
	"elfcorehdr",
	NULL,
};

/* Kernel log lines about bring-up, kexec and the mailbox, each once. */
void
report_kmsg(void)
{
	static int lines_done;
	static char *buf;
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), n, line = 0,
	    sent = 0;

	if (size <= 0)
		return;
	if (!buf && !(buf = malloc(size + 1)))
		return;
	n = klogctl(SYSLOG_ACTION_READ_ALL, buf, size);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"), line++) {
		struct rec r;
		int match = 0;

		if (line < lines_done)
			continue;
		for (int i = 0; kmsg_words[i] && !match; i++)
			match = strstr(l, kmsg_words[i]) != NULL;
		if (!match || sent >= 64)
			continue;
		if (l[0] == '<' && strchr(l, '>')) /* "<6>" priority prefix */
			l = strchr(l, '>') + 1;
		rec_begin(&r, "kmsg");
		rec_str(&r, "msg", l);
		rec_end(&r);
		sent++;
	}
	lines_done = line;
}

/* The kdump kernel merges the crash notes into one PT_NOTE: one
 * NT_PRSTATUS per CPU that saved its registers at the crash. */
void
report_crash_notes(void)
{
	int fd = open("/proc/vmcore", O_RDONLY | O_CLOEXEC), count = 0;
	Elf64_Ehdr eh;
	struct rec r;

	if (fd < 0)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG))
		goto out;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		static char notes[1 << 20];
		size_t off = 0;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		        sizeof(ph) ||
		    ph.p_type != PT_NOTE || ph.p_filesz > sizeof(notes) ||
		    pread(fd, notes, ph.p_filesz, ph.p_offset) !=
		        (ssize_t)ph.p_filesz)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
			Elf64_Nhdr *nh = (Elf64_Nhdr *)(notes + off);

			if (nh->n_type == NT_PRSTATUS)
				count++;
			off += sizeof(*nh) + ((nh->n_namesz + 3) & ~3u) +
			    ((nh->n_descsz + 3) & ~3u);
			if (!nh->n_namesz && !nh->n_descsz)
				break;
		}
	}
	rec_begin(&r, "crash-notes");
	rec_i64(&r, "count", count);
	rec_end(&r);
out:
	close(fd);
}
