/*
 * domxml.c: libvirt domain XML for one wakefarm guest; see domxml.h.
 *
 * The spec is checked completely before anything is printed. Every string
 * that reaches the XML has passed a whitelist of characters AND is
 * XML-escaped on output: the whitelist keeps out what libvirt would pass on
 * to QEMU unharmed but QEMU would misread (a comma splits a -fw_cfg
 * option), the escaping keeps any slip in the whitelist from becoming XML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "domxml.h"
#include "util.h"

#define DOMXML_CAP (1024 * 1024)
#define DOMXML_NAME_MAX 64
#define DOMXML_MACHINE_MAX 32
#define DOMXML_PATH_MAX 4095
/* Linux x86's COMMAND_LINE_SIZE is 2048 with the NUL. */
#define DOMXML_CMDLINE_MAX 2047
#define DOMXML_MEMORY_MAX (1024u * 1024u)
/* q35's max_cpus in QEMU 7.2. */
#define DOMXML_VCPUS_MAX 288

/* QEMU's namespace: the only way to add devices and -fw_cfg libvirt has no element for. */
#define DOMXML_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

const char *
domxml_virt_name(enum domxml_virt v)
{
	return v == DOMXML_VIRT_KVM ? "kvm" : "qemu";
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_printable(int c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Names the offending byte without echoing unprintable input. */
static void
bad_char(
    char **cause, const char *field, const char *s, size_t i, const char *what)
{
	unsigned char c = (unsigned char)s[i];

	if (is_printable(c))
		wf_set_cause(cause,
		    "%s: character '%c' at offset %zu is not "
		    "allowed in %s",
		    field, c, i, what);
	else
		wf_set_cause(cause,
		    "%s: byte 0x%02x at offset %zu is not "
		    "allowed in %s",
		    field, c, i, what);
}

static int
check_name(const char *s, char **cause)
{
	size_t i, len;

	if (s == NULL || *s == '\0') {
		wf_set_cause(cause, "name: missing");
		return -1;
	}
	len = strlen(s);
	if (len > DOMXML_NAME_MAX) {
		wf_set_cause(cause, "name: %zu characters, at most %d", len,
		    DOMXML_NAME_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (is_alnum(s[i]) || (i > 0 && strchr("_.-", s[i]) != NULL))
			continue;
		bad_char(cause, "name", s, i,
		    "a domain name ([A-Za-z0-9_.-], starting alphanumeric)");
		return -1;
	}
	return 0;
}

static int
check_machine(const char *s, char **cause)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > DOMXML_MACHINE_MAX) {
		wf_set_cause(cause, "machine: %zu characters, 1 to %d expected",
		    len, DOMXML_MACHINE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i]) != NULL)
			continue;
		bad_char(
		    cause, "machine", s, i, "a machine type ([a-z0-9_.-])");
		return -1;
	}
	return 0;
}

/* An absolute path of printable ASCII without commas; NULL is fine unless required. */
static int
check_path(const char *field, const char *s, int required, char **cause)
{
	size_t i, len;

	if (s == NULL) {
		if (!required)
			return 0;
		wf_set_cause(cause, "%s: missing", field);
		return -1;
	}
	len = strlen(s);
	if (len == 0 || s[0] != '/') {
		wf_set_cause(cause, "%s: not an absolute path", field);
		return -1;
	}
	if (len > DOMXML_PATH_MAX) {
		wf_set_cause(cause, "%s: path of %zu characters, at most %d",
		    field, len, DOMXML_PATH_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (is_printable((unsigned char)s[i]) && s[i] != ',')
			continue;
		bad_char(
		    cause, field, s, i, "a path (printable ASCII, no comma)");
		return -1;
	}
	return 0;
}

static int
check_cmdline(const char *s, char **cause)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len > DOMXML_CMDLINE_MAX) {
		wf_set_cause(cause, "cmdline: %zu characters, at most %d", len,
		    DOMXML_CMDLINE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (is_printable((unsigned char)s[i]))
			continue;
		bad_char(
		    cause, "cmdline", s, i, "a command line (printable ASCII)");
		return -1;
	}
	return 0;
}

/* fw_cfg file names: "opt/" and then [A-Za-z0-9_.-/], as QEMU asks of users. */
static int
check_fw_cfg_name(size_t idx, const char *s, char **cause)
{
	char field[48]; /* "fw_cfg[" + 20 digits + "].name" fits */
	size_t i, len;

	snprintf(field, sizeof field, "fw_cfg[%zu].name", idx);
	if (s == NULL || strncmp(s, "opt/", 4) != 0 || s[4] == '\0') {
		wf_set_cause(cause,
		    "%s: must start with \"opt/\" and name a file", field);
		return -1;
	}
	len = strlen(s);
	if (len > DOMXML_FW_CFG_NAME_MAX) {
		wf_set_cause(cause, "%s: %zu characters, at most %d", field,
		    len, DOMXML_FW_CFG_NAME_MAX);
		return -1;
	}
	for (i = 4; i < len; i++) {
		if (is_alnum(s[i]) || strchr("_.-/", s[i]) != NULL)
			continue;
		bad_char(
		    cause, field, s, i, "an fw_cfg name ([A-Za-z0-9_.-/])");
		return -1;
	}
	return 0;
}

static int
check_fw_cfg(const struct domxml_spec *spec, char **cause)
{
	char field[48]; /* "fw_cfg[" + 20 digits + "].name" fits */
	size_t i, j;

	if (spec->n_fw_cfg == 0)
		return 0;
	if (spec->n_fw_cfg > DOMXML_FW_CFG_MAX || spec->fw_cfg == NULL) {
		wf_set_cause(cause, "fw_cfg: %zu entries, at most %d",
		    spec->n_fw_cfg, DOMXML_FW_CFG_MAX);
		return -1;
	}
	for (i = 0; i < spec->n_fw_cfg; i++) {
		if (check_fw_cfg_name(i, spec->fw_cfg[i].name, cause) == -1)
			return -1;
		snprintf(field, sizeof field, "fw_cfg[%zu].path", i);
		if (check_path(field, spec->fw_cfg[i].path, 1, cause) == -1)
			return -1;
		/* QEMU refuses to start on a duplicate; say which one here. */
		for (j = 0; j < i; j++) {
			if (strcmp(spec->fw_cfg[i].name,
			        spec->fw_cfg[j].name) == 0) {
				wf_set_cause(cause,
				    "fw_cfg[%zu].name: \"%s\" "
				    "repeats fw_cfg[%zu]",
				    i, spec->fw_cfg[i].name, j);
				return -1;
			}
		}
	}
	return 0;
}

static int
domxml_check(const struct domxml_spec *spec, char **cause)
{
	if (check_name(spec->name, cause) == -1)
		return -1;
	if (spec->memory_mib < 1 || spec->memory_mib > DOMXML_MEMORY_MAX) {
		wf_set_cause(cause, "memory_mib: %u, 1 to %u expected",
		    spec->memory_mib, DOMXML_MEMORY_MAX);
		return -1;
	}
	if (spec->vcpus < 1 || spec->vcpus > DOMXML_VCPUS_MAX) {
		wf_set_cause(cause, "vcpus: %u, 1 to %d expected", spec->vcpus,
		    DOMXML_VCPUS_MAX);
		return -1;
	}
	if (spec->virt != DOMXML_VIRT_QEMU && spec->virt != DOMXML_VIRT_KVM) {
		wf_set_cause(cause, "virt: unknown value %d", (int)spec->virt);
		return -1;
	}
	if (spec->machine != NULL && check_machine(spec->machine, cause) == -1)
		return -1;
	if (check_path("kernel", spec->kernel, 1, cause) == -1 ||
	    check_path("initrd", spec->initrd, 0, cause) == -1 ||
	    check_cmdline(spec->cmdline, cause) == -1 ||
	    check_path("serial0", spec->serial0, 0, cause) == -1 ||
	    check_path("serial1", spec->serial1, 0, cause) == -1)
		return -1;
	return check_fw_cfg(spec, cause);
}

/* <pre>escaped value</post>: the shape of every line that carries a string. */
static int
xml_line(struct wf_buf *b, const char *pre, const char *value, const char *post)
{
	int rc = 0;

	rc |= wf_buf_append(b, pre, strlen(pre));
	rc |= wf_buf_xml(b, value);
	rc |= wf_buf_append(b, post, strlen(post));
	return rc ? -1 : 0;
}

static int
emit_os(struct wf_buf *b, const struct domxml_spec *spec)
{
	int rc = 0;

	rc |= wf_buf_printf(b, "  <os>\n");
	rc |= xml_line(b, "    <type arch='x86_64' machine='",
	    spec->machine != NULL ? spec->machine : "q35", "'>hvm</type>\n");
	rc |= xml_line(b, "    <kernel>", spec->kernel, "</kernel>\n");
	if (spec->initrd != NULL)
		rc |= xml_line(b, "    <initrd>", spec->initrd, "</initrd>\n");
	if (spec->cmdline != NULL)
		rc |= xml_line(
		    b, "    <cmdline>", spec->cmdline, "</cmdline>\n");
	rc |= wf_buf_printf(b, "  </os>\n");
	return rc ? -1 : 0;
}

/*
 * COM1/COM2 as plain files. append='off': each run starts its logs empty.
 * A port without a file still exists (type 'null'), so the guest finds
 * both UARTs whatever the agent captures.
 */
static int
emit_serial(struct wf_buf *b, int port, const char *path)
{
	int rc = 0;

	if (path == NULL)
		return wf_buf_printf(b,
		    "    <serial type='null'>\n"
		    "      <target type='isa-serial' port='%d'/>\n"
		    "    </serial>\n",
		    port);
	rc |= wf_buf_printf(b, "    <serial type='file'>\n");
	rc |= xml_line(b, "      <source path='", path, "' append='off'/>\n");
	rc |= wf_buf_printf(b,
	    "      <target type='isa-serial' port='%d'/>\n"
	    "    </serial>\n",
	    port);
	return rc ? -1 : 0;
}

static int
emit_devices(struct wf_buf *b, const struct domxml_spec *spec)
{
	int rc = 0;

	rc |= wf_buf_printf(b,
	    "  <devices>\n"
	    /* q35 would add an xHCI controller the guest never uses. */
	    "    <controller type='usb' model='none'/>\n");
	rc |= emit_serial(b, 0, spec->serial0);
	rc |= emit_serial(b, 1, spec->serial1);
	rc |= wf_buf_printf(b,
	    "    <memballoon model='none'/>\n"
	    "  </devices>\n");
	return rc ? -1 : 0;
}

/*
 * isa-debug-exit lets the guest end the VM with a status in one port
 * write; fw_cfg hands it its configuration and images. libvirt has no
 * element for either, hence the QEMU namespace (which taints the domain
 * as custom-argv: harmless).
 */
static int
emit_qemu_args(struct wf_buf *b, const struct domxml_spec *spec)
{
	const struct domxml_fw_cfg *f;
	size_t i;
	int rc = 0;

	rc |= wf_buf_printf(b,
	    "  <qemu:commandline>\n"
	    "    <qemu:arg value='-device'/>\n"
	    "    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=1'/>\n");
	for (i = 0; i < spec->n_fw_cfg; i++) {
		f = &spec->fw_cfg[i];
		rc |= wf_buf_printf(b, "    <qemu:arg value='-fw_cfg'/>\n");
		rc |= xml_line(
		    b, "    <qemu:arg value='name=", f->name, ",file=");
		rc |= xml_line(b, "", f->path, "'/>\n");
	}
	rc |= wf_buf_printf(b, "  </qemu:commandline>\n");
	return rc ? -1 : 0;
}

char *
domxml_build(const struct domxml_spec *spec, char **cause)
{
	struct wf_buf b;
	char *xml = NULL;
	int rc = 0;

	if (spec == NULL) {
		wf_set_cause(cause, "no spec");
		return NULL;
	}
	if (domxml_check(spec, cause) == -1)
		return NULL;
	wf_buf_init(&b, DOMXML_CAP);
	rc |= wf_buf_printf(&b, "<domain type='%s' xmlns:qemu='%s'>\n",
	    domxml_virt_name(spec->virt), DOMXML_QEMU_NS);
	rc |= xml_line(&b, "  <name>", spec->name, "</name>\n");
	rc |= wf_buf_printf(&b,
	    "  <memory unit='MiB'>%u</memory>\n"
	    "  <vcpu placement='static'>%u</vcpu>\n",
	    spec->memory_mib, spec->vcpus);
	rc |= emit_os(&b, spec);
	/* Without <acpi/> libvirt passes -no-acpi: no MADT for the shim to extend. */
	rc |= wf_buf_printf(&b,
	    "  <features>\n"
	    "    <acpi/>\n"
	    "    <apic/>\n"
	    "  </features>\n"
	    /*
	     * Every way out ends the domain. on_reboot=destroy matters most:
	     * a triple fault then ends the run (measured: STOPPED/SHUTDOWN)
	     * instead of booting the guest again and again.
	     */
	    "  <on_poweroff>destroy</on_poweroff>\n"
	    "  <on_reboot>destroy</on_reboot>\n"
	    "  <on_crash>destroy</on_crash>\n");
	rc |= emit_devices(&b, spec);
	rc |= emit_qemu_args(&b, spec);
	rc |= wf_buf_printf(&b, "</domain>\n");
	if (rc != 0) {
		/*
		 * The largest valid spec (32 fw_cfg paths of 4095 quotes,
		 * escaped 6:1) stays under the 1 MiB cap: only memory can
		 * have run out.
		 */
		wf_set_cause(cause, "out of memory building the domain XML");
		goto out;
	}
	xml = wf_buf_steal(&b);
	if (xml == NULL)
		wf_set_cause(cause, "out of memory building the domain XML");
out:
	wf_buf_free(&b);
	return xml;
}
