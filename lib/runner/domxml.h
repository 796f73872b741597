/*
 * domxml.h: libvirt domain XML for one wakefarm guest.
 *
 * Every job the agent runs is a transient domain built from a struct
 * domxml_spec: direct kernel boot (our firmware shim as a multiboot -kernel),
 * no disks, no network, two serial ports (COM1 = human log, COM2 = report
 * records), the isa-debug-exit device at 0xf4 and fw_cfg entries for the
 * guest's configuration and extra images. Any end of the guest (poweroff,
 * reset or triple fault, crash) ends the domain: a run never loops.
 *
 * The output is deterministic (same spec, same bytes), so golden files can
 * pin it down (tests/e2e/golden/). See docs libvirt-notes.md for why each
 * element is there.
 */
#ifndef WF_DOMXML_H
#define WF_DOMXML_H

#include <stddef.h>

/* QEMU's fw_cfg file names are at most 55 characters (56 with the NUL). */
#define DOMXML_FW_CFG_NAME_MAX 55
#define DOMXML_FW_CFG_MAX 32

enum domxml_virt {
	DOMXML_VIRT_QEMU = 0, /* TCG: runs anywhere; the zero value */
	DOMXML_VIRT_KVM, /* needs /dev/kvm on the host */
};

/* One -fw_cfg entry: QEMU reads the file when the domain starts. */
struct domxml_fw_cfg {
	const char *name; /* "opt/..." (QEMU's namespace for users) */
	const char *path; /* absolute; readable by the QEMU user */
};

/*
 * Strings are borrowed, not copied. Paths must be absolute, printable
 * ASCII without commas (QEMU's option syntax would split -fw_cfg at a
 * comma). Files QEMU opens must be readable by the user QEMU runs as
 * (libvirt-qemu on Debian): lib/sh/deps.sh grants search permission on
 * the path to build/, and the files themselves must be world-readable.
 */
struct domxml_spec {
	const char *name; /* [A-Za-z0-9_.-], starts alnum, <= 64 */
	unsigned int memory_mib; /* 1 .. 1048576 */
	unsigned int vcpus; /* 1 .. 288 (q35's limit in QEMU 7.2) */
	enum domxml_virt virt;
	const char *machine; /* NULL: "q35" */
	const char *kernel; /* required: multiboot ELF32 or bzImage */
	const char *initrd; /* NULL: none */
	const char *cmdline; /* NULL: none; printable ASCII, < 2048 */
	const char *serial0; /* COM1 output file; NULL: discarded */
	const char *serial1; /* COM2 output file; NULL: discarded */
	const struct domxml_fw_cfg *fw_cfg;
	size_t n_fw_cfg; /* <= DOMXML_FW_CFG_MAX */
};

/*
 * The domain XML for spec, NUL-terminated, malloc'd: the caller frees it.
 * NULL when the spec is invalid (or memory ran out): then *cause (if cause
 * is not NULL) is a malloc'd message naming the field and what is wrong
 * with it, which the caller frees.
 */
char *domxml_build(const struct domxml_spec *spec, char **cause);

/* "qemu" or "kvm": the <domain type=...> for v. */
const char *domxml_virt_name(enum domxml_virt v);

#endif
