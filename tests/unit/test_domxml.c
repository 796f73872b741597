/*
 * test_domxml.c: unit tests for lib/runner/domxml (domain XML generation).
 * The byte-exact output is pinned by the golden file that the libvirt smoke
 * test checks (tests/e2e/golden/smoke-domain.xml); these tests cover what
 * it cannot: every rejection, the escaping and the optional elements.
 */
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "test.h"

static struct domxml_fw_cfg fw[2];

static struct domxml_spec
good_spec(void)
{
	struct domxml_spec s;

	memset(&s, 0, sizeof s);
	s.name = "wf-job-1";
	s.memory_mib = 64;
	s.vcpus = 2;
	s.kernel = "/srv/wf/firmware.elf";
	s.serial0 = "/srv/wf/job-1.com1";
	s.serial1 = "/srv/wf/job-1.com2";
	fw[0].name = "opt/wakefarm/kernel";
	fw[0].path = "/srv/wf/kernel.elf";
	fw[1].name = "opt/wakefarm/config";
	fw[1].path = "/srv/wf/job-1.json";
	s.fw_cfg = fw;
	s.n_fw_cfg = 2;
	return s;
}

/* domxml_build must fail and its cause must contain want. */
static void
check_rejects(const struct domxml_spec *s, const char *want)
{
	char *cause = NULL, *xml;

	xml = domxml_build(s, &cause);
	CHECK(xml == NULL);
	CHECK_STR_CONTAINS(cause, want);
	free(xml);
	free(cause);
}

TEST(good_spec_builds_every_required_element)
{
	struct domxml_spec s = good_spec();
	char *cause = NULL, *xml;

	xml = domxml_build(&s, &cause);
	REQUIRE(xml != NULL);
	CHECK(cause == NULL);
	CHECK_STR_CONTAINS(xml, "<domain type='qemu' xmlns:qemu=");
	CHECK_STR_CONTAINS(xml, "<name>wf-job-1</name>");
	CHECK_STR_CONTAINS(xml, "<memory unit='MiB'>64</memory>");
	CHECK_STR_CONTAINS(xml, "<vcpu placement='static'>2</vcpu>");
	CHECK_STR_CONTAINS(xml, "machine='q35'>hvm</type>");
	CHECK_STR_CONTAINS(xml, "<acpi/>");
	CHECK_STR_CONTAINS(xml, "<apic/>");
	CHECK_STR_CONTAINS(xml, "<on_reboot>destroy</on_reboot>");
	CHECK_STR_CONTAINS(xml, "<on_poweroff>destroy</on_poweroff>");
	CHECK_STR_CONTAINS(xml, "<on_crash>destroy</on_crash>");
	CHECK_STR_CONTAINS(xml, "<controller type='usb' model='none'/>");
	CHECK_STR_CONTAINS(xml, "<memballoon model='none'/>");
	CHECK_STR_CONTAINS(xml, "isa-debug-exit,iobase=0xf4,iosize=1");
	CHECK_STR_CONTAINS(
	    xml, "name=opt/wakefarm/kernel,file=/srv/wf/kernel.elf");
	CHECK_STR_CONTAINS(
	    xml, "<source path='/srv/wf/job-1.com2' append='off'/>");
	CHECK(strstr(xml, "<initrd>") == NULL);
	CHECK(strstr(xml, "<cmdline>") == NULL);
	CHECK(strstr(xml, "<disk") == NULL);
	CHECK(strstr(xml, "<interface") == NULL);
	free(xml);
}

TEST(output_is_deterministic)
{
	struct domxml_spec s = good_spec();
	char *a = domxml_build(&s, NULL), *b = domxml_build(&s, NULL);

	REQUIRE(a != NULL && b != NULL);
	CHECK_STR_EQ(a, b);
	free(a);
	free(b);
}

TEST(kvm_machine_initrd_cmdline)
{
	struct domxml_spec s = good_spec();
	char *xml;

	s.virt = DOMXML_VIRT_KVM;
	s.machine = "pc-q35-7.2";
	s.initrd = "/srv/wf/initrd.cpio";
	s.cmdline = "console=ttyS0 wf.steps=boot,kexec";
	xml = domxml_build(&s, NULL);
	REQUIRE(xml != NULL);
	CHECK_STR_CONTAINS(xml, "<domain type='kvm'");
	CHECK_STR_CONTAINS(xml, "machine='pc-q35-7.2'");
	CHECK_STR_CONTAINS(xml, "<initrd>/srv/wf/initrd.cpio</initrd>");
	CHECK_STR_CONTAINS(
	    xml, "<cmdline>console=ttyS0 wf.steps=boot,kexec</cmdline>");
	free(xml);
}

TEST(missing_serial_keeps_the_port)
{
	struct domxml_spec s = good_spec();
	char *xml;

	s.serial1 = NULL;
	xml = domxml_build(&s, NULL);
	REQUIRE(xml != NULL);
	CHECK_STR_CONTAINS(xml,
	    "<serial type='null'>\n"
	    "      <target type='isa-serial' port='1'/>");
	free(xml);
}

TEST(special_characters_are_escaped)
{
	struct domxml_spec s = good_spec();
	char *xml;

	s.kernel = "/srv/a&b/<k>'\"";
	s.cmdline = "x='<&>'";
	xml = domxml_build(&s, NULL);
	REQUIRE(xml != NULL);
	CHECK_STR_CONTAINS(
	    xml, "<kernel>/srv/a&amp;b/&lt;k&gt;&apos;&quot;</kernel>");
	CHECK_STR_CONTAINS(
	    xml, "<cmdline>x=&apos;&lt;&amp;&gt;&apos;</cmdline>");
	free(xml);
}

TEST(rejects_bad_names)
{
	struct domxml_spec s = good_spec();

	s.name = NULL;
	check_rejects(&s, "name: missing");
	s.name = "-job";
	check_rejects(&s, "name: character '-' at offset 0");
	s.name = "job'><devices";
	check_rejects(&s, "name: character ''' at offset 3");
	s.name = "job\n1";
	check_rejects(&s, "name: byte 0x0a at offset 3");
	s.name =
	    "a-very-long-name-that-goes-on-and-on-well-past-sixty-four-chars-x";
	check_rejects(&s, "at most 64");
}

TEST(rejects_bad_paths)
{
	struct domxml_spec s = good_spec();

	s.kernel = NULL;
	check_rejects(&s, "kernel: missing");
	s.kernel = "firmware.elf";
	check_rejects(&s, "kernel: not an absolute path");
	s = good_spec();
	s.initrd = "/srv/a,b";
	check_rejects(&s, "initrd: character ',' at offset 6");
	s = good_spec();
	s.serial0 = "/srv/\x7f";
	check_rejects(&s, "serial0: byte 0x7f");
	s = good_spec();
	s.serial1 = "/srv/\xc3\xa9";
	check_rejects(&s, "serial1: byte 0xc3");
}

TEST(rejects_bad_numbers_and_enums)
{
	struct domxml_spec s = good_spec();

	s.memory_mib = 0;
	check_rejects(&s, "memory_mib: 0");
	s = good_spec();
	s.vcpus = 289;
	check_rejects(&s, "vcpus: 289");
	s = good_spec();
	s.virt = (enum domxml_virt)7;
	check_rejects(&s, "virt: unknown value 7");
	s = good_spec();
	s.machine = "Q35";
	check_rejects(&s, "machine: character 'Q'");
	s = good_spec();
	s.cmdline = "a\tb";
	check_rejects(&s, "cmdline: byte 0x09 at offset 1");
}

TEST(rejects_bad_fw_cfg)
{
	struct domxml_spec s = good_spec();

	fw[0].name = "etc/acpi/tables";
	check_rejects(&s, "fw_cfg[0].name: must start with \"opt/\"");
	s = good_spec();
	fw[1].name = "opt/wakefarm/x,file=/etc/shadow";
	check_rejects(&s, "fw_cfg[1].name: character ','");
	s = good_spec();
	fw[1].name = "opt/wakefarm/kernel";
	check_rejects(
	    &s, "fw_cfg[1].name: \"opt/wakefarm/kernel\" repeats fw_cfg[0]");
	s = good_spec();
	fw[0].path = "/srv/wf/k,name=opt/x";
	check_rejects(&s, "fw_cfg[0].path: character ','");
	s = good_spec();
	fw[0].name = "opt/0123456789012345678901234567890123456789012345678901";
	check_rejects(&s, "at most 55");
	s = good_spec();
	s.n_fw_cfg = 33;
	check_rejects(&s, "fw_cfg: 33 entries");
}

TEST(null_spec_and_null_cause)
{
	char *cause = NULL;

	CHECK(domxml_build(NULL, &cause) == NULL);
	CHECK_STR_EQ(cause, "no spec");
	free(cause);
	CHECK(domxml_build(NULL, NULL) == NULL);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
