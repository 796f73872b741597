#!/bin/bash
# readme: README.md's shell examples, copied as a new user would, run from a fresh `git clone`
# of this tree, each documented outcome checked (issue 19). Prints "ok NAME" / "FAIL NAME: why"
# and, last, "N passed, N failed".
#
# Every indented code block of README.md follows a marker, an HTML comment (not rendered):
#
#   <!-- example: exit=N [out="TEXT"]... [controller] [timeout=S] -->
#       the block runs with bash -e -o pipefail from the top of the clone, bin/ on PATH; it must
#       exit N, and its output (stdout and stderr) must hold every TEXT. `controller`: a
#       controller serves var/wakefarm.db of the clone as `make run` starts it, WAKEFARM_SERVER
#       naming it. timeout: seconds (default 120). Blocks run in README order, in one clone.
#   <!-- example: not run: REASON -->
#       not safe or not possible here (make run, placeholders like CONTROLLER); REASON says why.
#
# A block without a marker, or a marker without a block, is a failure. The clone reuses this
# tree's built bin/ and build/ (symlinks; the clone's sources dated back so that `make` finds
# nothing to do); uncommitted changes of tracked files are applied to it, so that an edit is
# tested before its commit. WF_KEEP=1 keeps the scratch directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
readme=${WF_README:-README.md}
tmp=$(mktemp -d /tmp/wf-readme.XXXXXX)
chmod 755 "$tmp"
clone=$tmp/clone
passed=0 failed=0
ctl=

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
cleanup() {
	[ -n "$ctl" ] && kill "$ctl" 2>/dev/null && wait "$ctl" 2>/dev/null
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

# The fresh clone, with this tree's build.
git clone -q "$top" "$clone" || { fail clone "git clone $top failed"; echo "$passed passed, $failed failed"; exit 1; }
git -C "$top" diff HEAD --binary | git -C "$clone" apply --allow-empty 2>"$tmp/apply.err" ||
	fail clone "uncommitted changes did not apply: $(head -1 "$tmp/apply.err")"
(cd "$clone" && git ls-files -z | xargs -0 touch -h -d '2001-01-01 00:00:00')
ln -s "$top/bin" "$clone/bin"
ln -s "$top/build" "$clone/build"
mkdir -p "$tmp/home"

# The blocks and their markers: $tmp/ex/NNN/{script,line,meta}.
/usr/bin/python3 - "$clone/$readme" "$tmp/ex" <<'EOF' || { fail parse "README markers"; }
import os, re, shlex, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().split("\n")
marker_re = re.compile(r"^<!-- example: (.*) -->$")
os.makedirs(out)
n, pending, errors, i = 0, None, [], 0
while i < len(lines):
    line = lines[i]
    m = marker_re.match(line)
    if m:
        if pending is not None:
            errors.append("%s:%d: marker without a code block" % (src, pending[0]))
        pending = (i + 1, m.group(1))
        i += 1
        continue
    if line.startswith("    ") and (i == 0 or lines[i - 1].strip() == "" or marker_re.match(lines[i - 1])):
        start = i
        block = []
        while i < len(lines) and (lines[i].startswith("    ") or lines[i].strip() == ""):
            block.append(lines[i][4:])
            i += 1
        while block and block[-1].strip() == "":
            block.pop()
        n += 1
        d = os.path.join(out, "%03d" % n)
        os.makedirs(d)
        open(os.path.join(d, "line"), "w").write("%d\n" % (start + 1))
        open(os.path.join(d, "script"), "w").write("\n".join(block) + "\n")
        if pending is None:
            errors.append("%s:%d: code block without an example marker" % (src, start + 1))
            meta = "missing"
        else:
            meta = pending[1]
        open(os.path.join(d, "meta"), "w").write(meta + "\n")
        pending = None
        continue
    if line.strip() != "" and pending is not None:
        errors.append("%s:%d: marker not followed by a code block" % (src, pending[0]))
        pending = None
    i += 1
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF

start_controller() {
	(cd "$clone" && bin/wakefarm-controller migrate --db var/wakefarm.db) >"$tmp/migrate.log" 2>&1 ||
		{ fail controller "migrate: $(tail -1 "$tmp/migrate.log")"; return 1; }
	(cd "$clone" && exec bin/wakefarm-controller serve --listen 127.0.0.1:0 \
		--port-file "$tmp/port" --db var/wakefarm.db --web web) >"$tmp/controller.log" 2>&1 &
	ctl=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] || { fail controller "did not come up: $(tail -1 "$tmp/controller.log")"; return 1; }
	export WAKEFARM_SERVER=http://$(cat "$tmp/port")
}

# One block: its marker's words (shell-quoted) checked, the block run, its outcome compared.
run_block() { # DIR
	local d=$1 line meta words w want_exit= timeout=120 need_ctl=0 name rc t
	local -a outs=()
	line=$(cat "$d/line")
	meta=$(cat "$d/meta")
	name="$readme:$line"
	case $meta in
	missing) fail "$name" "a code block with no <!-- example: ... --> marker"; return ;;
	"not run: "?*) echo "# not run $name: ${meta#not run: }"; return ;;
	esac
	if ! eval "words=($meta)" 2>/dev/null; then
		fail "$name" "marker does not parse: $meta"
		return
	fi
	for w in "${words[@]}"; do
		case $w in
		exit=[0-9]*) want_exit=${w#exit=} ;;
		out=?*) outs+=("${w#out=}") ;;
		timeout=[0-9]*) timeout=${w#timeout=} ;;
		controller) need_ctl=1 ;;
		*) fail "$name" "unknown word in its marker: $w"; return ;;
		esac
	done
	[ -n "$want_exit" ] || { fail "$name" "marker gives no exit=N"; return; }
	if ((need_ctl)) && [ -z "$ctl" ]; then
		start_controller || return
	fi
	(cd "$clone" && HOME=$tmp/home PATH=$clone/bin:$PATH \
		timeout "$timeout" bash -e -o pipefail "$d/script") >"$d/output" 2>&1 </dev/null
	rc=$?
	if [ "$rc" != "$want_exit" ]; then
		fail "$name" "expected exit $want_exit, got $rc; output ends: $(tail -3 "$d/output" | tr '\n' '|')"
		return
	fi
	for t in "${outs[@]}"; do
		if ! grep -qF -- "$t" "$d/output"; then
			fail "$name" "expected \"$t\" in its output, got: $(tail -3 "$d/output" | tr '\n' '|')"
			return
		fi
	done
	ok "$name (exit $rc${outs[*]:+, output holds ${#outs[@]} string(s)})"
}

for d in "$tmp"/ex/*/; do
	[ -f "$d/meta" ] && run_block "${d%/}"
done
[ -d "$tmp/ex/001" ] || fail "$readme" "no code block found"
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
