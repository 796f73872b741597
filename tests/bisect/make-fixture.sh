#!/bin/bash
# make-fixture.sh DIR: a git repository of the test kernel for bisection tests.
#
# DIR (absent or empty) becomes a fresh repository holding a copy of this
# tree's guest/kernel/ and guest/common/ and a Makefile with which
# `make -s kernel.elf` builds the test kernel as guest/module.mk does, then
# a scripted series of 10 commits (README.md next to this script):
#
#   0 base  1 harmless  2 THE REGRESSION (flake=PCT seed=N)  3 harmless
#   4 does not build  5 fixes the build  6-9 harmless
#
# Commit 0 is tagged v1.0 and the branch is main (README.md's bisect example:
# --good v1.0 --bad main).
#
# Prints one line per commit, oldest first: "<40-hex sha> <subject>";
# everything else goes to stderr.  Names, e-mails and dates are fixed, so
# the same sources give the same commit ids.
set -euo pipefail

die() { echo "make-fixture: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: make-fixture.sh DIR"
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1
[ -f "$top/guest/module.mk" ] || die "$top is not a wakefarm tree (no guest/module.mk)"
if [ -e "$dir" ]; then
	[ -d "$dir" ] || die "$dir exists and is not a directory"
	[ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Only what is written here decides the commit ids.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Wakefarm Fixture" GIT_AUTHOR_EMAIL="fixture@wakefarm.invalid"
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
epoch=1717405200	# 2024-06-03 09:00 UTC; commit N is N hours later

# The kernel's compiler flags and sources, as guest/module.mk has them now
# (CI= : -Werror would only make warnings fatal).
make_var() {
	# shellcheck disable=SC2016 # $(...) is make's, not the shell's
	MAKEFLAGS='' MFLAGS='' make -s --no-print-directory -C "$top" CI='' \
		--eval 'wf-print-%: ; @echo '\''$(strip $($*))'\''' "wf-print-$1"
}
cflags=$(make_var GUEST_CFLAGS)
srcs=$(make_var K_SRCS)
if [ -z "$cflags" ] || [ -z "$srcs" ]; then
	die "cannot read GUEST_CFLAGS and K_SRCS from guest/module.mk"
fi

# replace FILE OLD NEW: exactly one occurrence of OLD becomes NEW.
replace() {
	local f=$dir/$1 old=$2 new=$3 text rest

	IFS= read -r -d '' text <"$f" || true
	rest=${text#*"$old"}
	[ "$rest" != "$text" ] || die "commit $n: $1 no longer has: ${old%%$'\n'*}"
	[ "${rest#*"$old"}" = "$rest" ] || die "commit $n: $1 has more than one: ${old%%$'\n'*}"
	printf '%s' "${text%%"$old"*}$new$rest" >"$f"
}

# commit SUBJECT [BODY]: commit the whole work tree as commit number $n
# and print it.
commit() {
	local msg=$1 date="$((epoch + n * 3600)) +0000"

	[ $# -lt 2 ] || msg+=$'\n\n'$2
	git -C "$dir" add -A .
	GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
		git -C "$dir" -c core.hooksPath=/dev/null -c commit.gpgsign=false commit -q -F - <<<"$msg"
	echo "$(git -C "$dir" rev-parse HEAD) $1"
	n=$((n + 1))
}

git init -q -b main "$dir"
n=0

# --- 0: the sources as they are -------------------------------------------
mkdir "$dir/kernel" "$dir/common"
cp "$top"/guest/kernel/* "$dir/kernel/"
cp "$top"/guest/common/* "$dir/common/"
{
	cat <<'EOF'
# The wakefarm test kernel, built as wakefarm's guest/module.mk builds it:
# `make kernel.elf`.  A static PIE that relocates itself; only
# R_X86_64_RELATIVE relocations are allowed.
EOF
	echo "CFLAGS := $cflags"
	echo "SRCS := ${srcs//guest\//}"
	cat <<'EOF'
OBJS := $(SRCS:%=build/%.o)

kernel.elf: $(OBJS) kernel/kernel.ld
	$(CC) -nostdlib -static-pie -Wl,-T,kernel/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-Wl,-z,norelro -Wl,--no-dynamic-linker -o $@ $(OBJS)
	@if readelf -rW $@ | awk 'NR>3 && $$3 != "" && $$3 !~ /RELATIVE/ && /R_X86_64/' | grep -q .; then \
		echo "kernel.elf: relocations other than R_X86_64_RELATIVE" >&2; rm -f $@; exit 1; fi

build/%.o: %
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fpie -fvisibility=hidden -c $< -o $@

.PHONY: clean
clean:
	rm -rf build kernel.elf

-include $(OBJS:.o=.d)
EOF
} >"$dir/Makefile"
printf '/build/\n/kernel.elf\n' >"$dir/.gitignore"
commit "Import the wakefarm test kernel" \
"The OS side of the ACPI MADT multiprocessor wakeup protocol as Linux 6.11
implements it, from wakefarm's guest/kernel and guest/common, with a
Makefile of its own: make kernel.elf."
# The known-good release the docs bisect from (--good v1.0); a tag changes no commit id.
git -C "$dir" tag v1.0

# --- 1: harmless -------------------------------------------------------------
replace kernel/smp.c \
" * Bringing CPUs up through the mailbox, taking them down, and the idle loop
 * that online APs run." \
" * Bringing CPUs up through the mailbox, taking them down, and the idle loop
 * that online APs run (halting between looks, or spinning: see idle.h)."
commit "x86/smp: mention the idle tick in the AP loop comment"

# --- 2: THE REGRESSION ---------------------------------------------------------
replace kernel/madt.c \
"static bool checksum_ok;
" \
"static bool checksum_ok;

/*
 * Whether this boot keeps the mailbox for the next kernel: flake=PCT of
 * boots (default 100).  The draw comes from seed=N when given (generation
 * G takes the G-th number, so a run is repeatable), else from the TSC.
 */
static bool keep_mailbox(void)
{
	char v[24];
	u64 pct = 100, s = rdtsc(), x;

	if (opt_get(k.bi.cmdline, \"flake\", v, sizeof(v)))
		parse_u64(v, &pct);
	if (opt_get(k.bi.cmdline, \"seed\", v, sizeof(v)))
		parse_u64(v, &s);
	for (u32 i = 0; i < k.bi.gen; i++)
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;	/* MMIX LCG */
	x = (s ^ (s >> 29)) * 6364136223846793005ULL;
	x ^= x >> 32;
	return x % 100 < pct;
}
"
replace kernel/madt.c \
"	if (k.policy == POLICY_PRE611) {" \
"	if (k.policy == POLICY_PRE611 || keep_mailbox()) {"
commit "x86/kexec: keep the mailbox address across kexec" \
"Do not hand CPUs back through the reset vector and do not invalidate the
MADT mailbox address: the next kernel finds the mailbox where it was.

Fixture: this is the regression the bisection tests look for.  It brings
back the pre-6.11 behaviour (policy=pre-6.11), so after a kexec the next
kernel's wakeup waits forever for a CPU that halted in the old kernel.  It
happens on flake=PCT percent of boots (default 100); seed=N makes the draw
repeatable, else it comes from the TSC."

# --- 3: harmless -------------------------------------------------------------
replace kernel/madt.c \
"		klog(\"MADT checksum is wrong (stale after an edit?)\");" \
"		klog(\"MADT checksum mismatch (table edited without a new checksum?)\");"
commit "x86/acpi: reword the MADT checksum warning"

# --- 4: does not build -------------------------------------------------------
replace kernel/kexec.c \
"	u64 slot = k.base == KERNEL_SLOT_A ? KERNEL_SLOT_B : KERNEL_SLOT_A;" \
"	u64 next_slot = k.base == KERNEL_SLOT_A ? KERNEL_SLOT_B : KERNEL_SLOT_A;"
commit "x86/kexec: call the target slot next_slot"

# --- 5: fixes the build ------------------------------------------------------
replace kernel/kexec.c \
"	entry = load_image(slot, &why);" \
"	entry = load_image(next_slot, &why);"
commit "x86/kexec: fix the build after the next_slot rename"

# --- 6-9: harmless -----------------------------------------------------------
replace kernel/steps.c \
"		if (parse_u64(star + 1, &reps) != strlen(star + 1) ||" \
"		/* the same bound as the host's step check */
		if (parse_u64(star + 1, &reps) != strlen(star + 1) ||"
commit "x86/steps: say where the repeat limit comes from"

replace kernel/wakeup.c \
"#define TEST_TIMEOUT_US 1000000" \
"#define TEST_TIMEOUT_US 1000000	/* the test command: about a second, as Linux waits */"
commit "x86/wakeup: comment the test command timeout"

replace kernel/kexec.c \
"	klog(\"jumping to the crash kernel at 0x%lx\", k.crash_entry);" \
"	klog(\"panic: entering the crash kernel at 0x%lx\", k.crash_entry);"
commit "x86/kdump: clearer message before entering the crash kernel"

replace kernel/main.c \
"	klog(\"generation %u (%s) on APIC ID %u, image at 0x%lx\", k.bi.gen,
	    kind_name(k.bi.kind), k.self, k.base);" \
"	klog(\"generation %u (%s, policy %s) on APIC ID %u, image at 0x%lx\", k.bi.gen,
	    kind_name(k.bi.kind), k.policy == POLICY_PRE611 ? \"pre-6.11\" : \"6.11\", k.self, k.base);"
commit "x86/boot: print the policy in the boot banner"
