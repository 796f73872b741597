#!/bin/bash
# kernels: a kernel of one's own in the nightly (issue 19), end to end on real libvirtd + QEMU.
# Prints "ok NAME" / "FAIL NAME: why" and, last, "N passed, N failed". Every address is 127.0.0.1.
#
#   `wakefarm kernel add` uploads Debian's 6.1 bzImage from build/kernels (a content-addressed
#   blob); `schedule add --kernel` makes a nightly of a test-kernel scenario (cold-boot) and a
#   Linux one (linux61-cold-boot); one agent (libvirt) runs the night: only the Linux cases boot
#   the uploaded kernel (fetched by the agent and checked), the test-kernel ones keep theirs, all
#   as expected; the kernel's version is recorded from the boot; the job page's facts (the
#   agent's run time, the isa-debug-exit end, the reproduction lines); `wakefarm repro` of a
#   Linux job under bare QEMU fetches the same blob and passes.
#
# WF_TIME_SCALE (default 1; 3 under make asan) multiplies the waits.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd) # run from bin/tests
. "$top/tests/e2e/lib.sh"
e2e_init kernels wakefarm-kern

vmlinuz=$(ls "$top"/build/kernels/linux-image-6.1.*/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -z "$vmlinuz" ]; then
	fail setup "no Debian 6.1 kernel in build/kernels (make test fetches it)"
	e2e_done
	exit 1
fi
release=${vmlinuz##*/vmlinuz-}

e2e_db
ADMIN=$(tok admin admin)
AG=$(tok agent kern1)
echo "2026-04-01T00:00:00Z" >"$tmp/clock"
start_controller 0 --clock-file "$tmp/clock" --schedule-tick-ms 100
W() { WAKEFARM_TOKEN=$ADMIN "$bin/wakefarm" --server "$url" "$@"; }

# the kernel, uploaded in chunks
out=$(W kernel add "$vmlinuz" --name deb61 2>&1)
sha=$(sha256sum "$vmlinuz" | cut -d' ' -f1)
if [[ $out == "kernel deb61: sha256:$sha, "*"$release"* ]] && [ -f "$tmp/blobs/$sha" ]; then
	ok kernel-add-uploads-a-blob
else
	fail kernel-add-uploads-a-blob "$out"
fi

WAKEFARM_TOKEN=$AG spawn "$tmp/agent.log" "$bin/wakefarm-agent" --server "$url" --name kern1 --slots 2 \
	--work "$tmp/work" --spool "$tmp/spool"
out=$(W schedule add e2e --at 02:00 --matrix cold-boot --matrix linux61-cold-boot \
	--kernel deb61 --retries 0 2>&1)
[[ $out == *"6 jobs a night"* ]] && ok schedule-add-kernel || fail schedule-add-kernel "$out"

# the night
echo "2026-04-01T02:00:30Z" >"$tmp/clock"
run=
for _ in $(seq $((300 * scale))); do
	run=$(curl -fs "$url/api/v1/runs?kind=nightly&limit=1" | jq -r '.runs[0].id // empty')
	[ -n "$run" ] && break
	sleep 0.1
done
W wait "$run" --timeout $((300 * scale)) >"$tmp/wait.out" 2>&1
rc=$?
[ -n "$run" ] && [ $rc = 0 ] && ok night-all-as-expected ||
	fail night-all-as-expected "run '$run' wait exit $rc: $(tail -3 "$tmp/wait.out") $(tail -2 "$tmp/agent.log")"

jobs=$(curl -fs "$url/api/v1/jobs?run=$run&limit=100")
linux=$(jq -r '[.jobs[] | select(.scenario == "linux61-cold-boot") | .id] | join(" ")' <<<"$jobs")
tk=$(jq -r '[.jobs[] | select(.scenario == "cold-boot") | .id] | join(" ")' <<<"$jobs")
good=1 why=
for j in $linux; do
	J=$(curl -fs "$url/api/v1/jobs/$j")
	k=$(jq -r '.params.kernel // .params.kernel_package // "none"' <<<"$J")
	rel=$(jq -r '[.events[].record | select(.ev == "boot" and .gen == 1) | .release][0] // "none"' <<<"$J")
	[ "$k" = "sha256:$sha" ] && [ "$rel" = "$release" ] || { good=0; why+="job $j: kernel $k, booted $rel; "; }
done
for j in $tk; do
	k=$(curl -fs "$url/api/v1/jobs/$j" | jq -r '.params.kernel // .params.kernel_package // "none"')
	[ "$k" = none ] || { good=0; why+="test-kernel job $j: kernel $k; "; }
done
[ "$(wc -w <<<"$linux")" = 2 ] && [ "$(wc -w <<<"$tk")" = 4 ] && [ $good = 1 ] &&
	ok only-linux-scenarios-boot-the-upload ||
	fail only-linux-scenarios-boot-the-upload "linux '$linux', test kernel '$tk': $why"

[ -f "$tmp/work/blobs/$sha" ] && grep -q "fetched kernel blob ${sha:0:12}" "$tmp/agent.log" &&
	ok agent-fetched-and-checked-the-blob ||
	fail agent-fetched-and-checked-the-blob "$(ls "$tmp/work/blobs" 2>&1) $(grep -i blob "$tmp/agent.log" | tail -2)"

ver=$(curl -fs "$url/api/v1/kernels" | jq -r '.kernels[] | select(.name == "deb61") | .version')
[ "$ver" = "$release" ] && ok version-recorded-from-the-boot || fail version-recorded-from-the-boot "'$ver'"

# the job page's facts through a real agent (issue 19, point 6)
first=${linux%% *}
J=$(curl -fs "$url/api/v1/jobs/$first")
ms=$(jq -r '.run_ms // 0' <<<"$J")
# a passing job says how it ended, not "libvirt: domain stopped (failed)": the agent
# judges it once the done record is read (the domain torn down after the verdict),
# or, with --serial-teardown, once the guest left through isa-debug-exit
detail=$(curl -fs "$url/api/v1/jobs/${tk%% *}" | jq -r '.detail')
rq=$(jq -r '.repro.run_qemu' <<<"$J")
cl=$(jq -r '.repro.cli' <<<"$J")
if [ "$ms" -gt 500 ] && { [ "$detail" = "the guest's done record read; its domain is torn down after the verdict" ] ||
	[ "$detail" = "guest exited after its report (isa-debug-exit)" ]; } &&
	[[ $rq == "curl -fsSo bzImage $url/api/v1/blobs/$sha && "*"guest/run-qemu --cpus 2 "*"--kernel bzImage"* ]] &&
	[ "$cl" = "wakefarm --server $url repro $first" ]; then
	ok job-run-ms-detail-and-repro-lines
else
	fail job-run-ms-detail-and-repro-lines "run_ms $ms, detail '$detail', run_qemu '$rq', cli '$cl'"
fi

# repro of a Linux job here, bare QEMU: the same blob fetched into build/blobs and checked
rm -f "$top/build/blobs/$sha"
out=$(W repro "$first" --qemu 2>&1)
rc=$?
[ $rc = 0 ] && [ -f "$top/build/blobs/$sha" ] && ok repro-fetches-the-blob ||
	fail repro-fetches-the-blob "exit $rc: $(tail -3 <<<"$out")"

e2e_done
