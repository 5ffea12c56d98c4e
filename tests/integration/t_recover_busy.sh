#!/bin/bash
# `spoke recover` while more than 64 builds exist: the coordinator must
# leave alone the artifacts of every build it is still running, not only
# the first 64 of its list.  New builds go first in that list, so the one
# left out of a short list is the oldest: the build that is staged and
# running.  Here build A (move mode, workers slowed) holds its staged
# artifacts while 64 more builds exist, one staged and 63 waiting behind
# it; recover must settle nothing (before the fix it put A's outputs back
# and removed its half-written wheel, and A failed), A must succeed, and
# every output stays at its path with its inode and bytes.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
# A builds hello1 and hello2 in move mode; the others build hello3 in link
# mode (the command refuses a path that is not there, and A's are staged
# away): the first of them stages it, the rest wait behind that one.
pre="$T/pre"
prebuilt_artifacts "$ws" "$pre" 3
entry() { echo "{\"path\": \"libhello$1.so\", \"distribution\": \"hello$1\", \"version\": \"1.0\", \"module\": \"hello\"}"; }
echo "{\"artifacts\": [$(entry 1), $(entry 2)]}" >"$pre/a.json"
echo "{\"artifacts\": [$(entry 3)]}" >"$pre/w.json"
st="$T/state"
outputs() { # the prebuilt outputs, with inode and digest
	local f
	for f in "$pre"/*.so; do
		echo "$f $(stat -c %i "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
	done
}
outputs >"$T/before"
same_outputs() {
	local now
	now=$(outputs)
	[ "$now" = "$(cat "$T/before")" ] && return 0
	diff "$T/before" <(echo "$now")
	return 1
}
build() { # build NAME FILE [options]: one --artifacts build, run with &
	local name=$1 file=$2
	shift 2
	# exec: the background job's pid is the command's, for kill.
	exec "$SPOKE" build -q -i "$PY" --state-dir "$st" --artifacts "$pre/$file" \
		-o "$T/out-$name" "$@"
}
# builds_status: the number of builds, and whether the first (A) is staged
# with a job not yet done.
builds_status() {
	"$SPOKE" status --json --state-dir "$st" 2>/dev/null | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
b = sorted(r.get("builds", []), key=lambda b: b["build"])
print(len(b), int(bool(b) and b[0]["staged"] and b[0]["done"] < b[0]["artifacts"]))'
}
a_staged() { [ "$(builds_status | cut -d' ' -f2)" = 1 ]; }
nbuilds() { [ "$(builds_status | cut -d' ' -f1)" = "$1" ]; }

# One worker, slowed at every fault point, so that build A stays staged
# while the others are started and recover is sent.  Its log is named
# coordinator.log, which finish checks for sanitizer reports.
SPOKE_FAULT_DELAY=worker:1200 "$SPOKE" serve -j 1 --idle-timeout 120 \
	--state-dir "$st" >/dev/null 2>"$T/coordinator.log" &
serve=$!
check "the coordinator starts" await_coordinator "$st" $serve

build a a.json --stage=move >"$T/a.out" 2>&1 &
a=$!
check "build A is staged and running" wait_for 30 a_staged
waiters=()
for i in $(seq 1 64); do
	build "w$i" w.json >"$T/w$i.out" 2>&1 &
	waiters+=($!)
done
all_there() { nbuilds 65 && a_staged; }
check "65 builds exist, A still staged" wait_for 30 all_there

check_status "recover while they run: exit 0" 0 "$SPOKE" recover --json --state-dir "$st"
check "  it settled nothing" "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["ok"] is True and r["artifacts"] == [], r
' "$T/last.out"
check "  A is still staged" a_staged

# The waiting builds would each take a slow worker's time: their clients
# go away, which cancels them.
{
	kill -KILL "${waiters[@]}"
	for p in "${waiters[@]}"; do wait "$p"; done
} 2>/dev/null
wait "$a"
rc=$?
[ $rc -eq 0 ] && ok "build A succeeds" || { not_ok "build A: exit $rc"; sed 's/^/#   /' "$T/a.out"; }
check "  and wrote its two wheels" bash -c "[ \$(ls '$T'/out-a/*.whl | wc -l) -eq 2 ]"
check "  which are valid" wheels_valid "$T/out-a"
check "every output is at its path with its inode and bytes" same_outputs
check "no build is left" wait_for 30 nbuilds 0
check_status "recover after: exit 0" 0 "$SPOKE" recover --json --state-dir "$st"
check "  it settled nothing" "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["ok"] is True and r["artifacts"] == [], r
' "$T/last.out"
check "the journal holds nothing unsettled" bash -c "'$SPOKE' status --json --state-dir '$st' | '$PY' -c 'import json,sys; r=json.load(sys.stdin); assert r[\"unsettled\"] == [], r'"
check "nothing left staged" bash -c "[ -z \"\$(ls -A '$st/staged' 2>/dev/null)\" ]"
finish
