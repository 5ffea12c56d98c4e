#!/bin/bash
# A lost output stays reported (issue 15, finding 5).  A move-mode build
# is killed with every output staged; while no coordinator runs, one
# staged copy is deleted (lost) and another changed (quarantined).  Each
# stays listed by `spoke recover` and `spoke status`, which exit 1, every
# time they run, with and without a coordinator, until it is acknowledged
# (`spoke recover --forget PATH`) or back at its path.  `spoke build`
# warns about them and exits on its own result.
. "$(dirname "$0")/lib.sh"
prune_hard

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
st="$T/state"
rel="$ws/target/release"
hello="$rel/libhello.so"
counter="$rel/libcounter.so"
cp "$counter" "$T/counter.orig"
prebuilt_artifacts "$ws" "$T/pre" 1
build() { (cd "$ws" && "$SPOKE" build -q -i "$PY" --state-dir "$st" "$@"); }

# The coordinator's crash points of a clean move-mode build: it is killed
# at the first job it sends, when every output is staged (moved).
SPOKE_FAULT_LOG="$T/faults" build --stage=move >/dev/null 2>&1
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
k=$(awk '$1 == "server" && $3 == "job" { print $2; exit }' "$T/faults")
# --force: unchanged, the wheels would be reused and nothing staged
# (docs/incremental.md).
SPOKE_CRASH_AT="server:$k" build --stage=move --force >"$T/crash.out" 2>&1
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
if [ ! -e "$hello" ] && [ ! -e "$counter" ] &&
	ls "$st"/staged/*-libhello.so "$st"/staged/*-libcounter.so >/dev/null 2>&1; then
	ok "killed at point $k, the outputs are staged (moved)"
else
	not_ok "killed at point $k, the outputs are staged (moved)"
	sed 's/^/#   /' "$T/crash.out"
fi
rm -f "$st"/staged/*-libhello.so
printf 'x' >>"$(ls "$st"/staged/*-libcounter.so)"

# lists FILE PATH...: FILE names every PATH.
lists() {
	local f=$1 p
	shift
	for p in "$@"; do
		grep -qF -- "$p" "$f" || { echo "'$p' not in:"; cat "$f"; return 1; }
	done
}
# losses_json FILE PATH...: the last JSON line of FILE has ok false and
# exactly these cargo paths in "losses", each with what to do.
losses_json() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
got = sorted(l["cargo_path"] for l in r.get("losses", []))
assert got == sorted(sys.argv[2:]), got
assert r["ok"] is (len(got) == 0), r
for l in r["losses"]:
    assert l["state"] in ("lost", "quarantined"), l
    assert "cargo build --release" in l["rebuild"], l
    assert "spoke build" in l["todo"], l
PYEOF
}

check_status "recover without a coordinator: exit 1" 1 \
	"$SPOKE" recover --state-dir "$st"
check "it reports both, with the cargo command and --forget" \
	lists "$T/last.out" "$hello" "$counter" "cargo build --release" \
	"--forget" "quarantined"
check "the outputs it could put back are back" \
	test -e "$rel/libnative.so" -a -e "$rel/libmixed.so"
check_status "recover again: exit 1 (the loss is not forgotten)" 1 \
	"$SPOKE" recover --state-dir "$st"
check "it lists both again" lists "$T/last.out" "$hello" "$counter"
check_status "recover --json: exit 1" 1 \
	"$SPOKE" recover --json --state-dir "$st"
check "its result lists both losses" losses_json "$T/last.out" "$hello" "$counter"
check_status "status without a coordinator: exit 1" 1 \
	"$SPOKE" status --state-dir "$st"
check "status lists both" lists "$T/last.out" "$hello" "$counter" "--forget"
check_status "status --json: exit 1" 1 "$SPOKE" status --json --state-dir "$st"
check "its result lists both losses" losses_json "$T/last.out" "$hello" "$counter"

# A build that does not rebuild them (prebuilt artifacts, no cargo run)
# warns and succeeds.
check_status "a build of other outputs succeeds (exit 0)" 0 \
	"$SPOKE" build -q -i "$PY" --state-dir "$st" --artifacts "$T/pre/artifacts.json"
check "and warns about both" lists "$T/last.out" "$hello" "$counter" "--forget"
"$SPOKE" build --json -i "$PY" --state-dir "$st" \
	--artifacts "$T/pre/artifacts.json" >"$T/build.json" 2>"$T/build.err"
check "build --json: ok, with a losses event and field" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
r = lines[-1]
assert r["ok"] is True, r
assert len(r["losses"]) == 2, r
assert any(l.get("event") == "losses" for l in lines[:-1]), lines
' "$T/build.json"

# The coordinator that build started answers recover and status now.
check_status "recover through the coordinator: exit 1" 1 \
	"$SPOKE" recover --state-dir "$st"
check "it lists both" lists "$T/last.out" "$hello" "$counter"
check_status "status with a coordinator: exit 1" 1 \
	"$SPOKE" status --json --state-dir "$st"
check "its result lists both losses" losses_json "$T/last.out" "$hello" "$counter"

check_status "--forget of a path that is no loss: exit 1" 1 \
	"$SPOKE" recover --state-dir "$st" --forget "$rel/libnative.so"
check "it says so" lists "$T/last.out" "is no lost cargo output"
check_status "and forgets nothing" 1 "$SPOKE" status --json --state-dir "$st"
check "both are still listed" losses_json "$T/last.out" "$hello" "$counter"

# Forgetting one, by a path relative to the workspace.
check_status "recover --forget libhello.so: exit 1 (libcounter left)" 1 \
	sh -c 'cd "$1" && "$SPOKE" recover --state-dir "$2" --forget target/release/libhello.so' \
	sh "$ws" "$st"
check_status "status: exit 1" 1 "$SPOKE" status --json --state-dir "$st"
check "only libcounter.so is listed" losses_json "$T/last.out" "$counter"
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
check_status "status without a coordinator: exit 1" 1 \
	"$SPOKE" status --json --state-dir "$st"
check "only libcounter.so is listed" losses_json "$T/last.out" "$counter"

# The other reappears at its path (as when cargo rebuilds it): no longer
# reported, without being acknowledged.
cp "$T/counter.orig" "$counter"
check_status "status: exit 0 once it is back" 0 "$SPOKE" status --state-dir "$st"
check_status "recover: exit 0" 0 "$SPOKE" recover --state-dir "$st"
check "every cargo output is at its path" lists "$T/last.out" "every cargo output is at its path"
rm -f "$counter"
check_status "gone again later: no longer reported" 0 \
	"$SPOKE" recover --state-dir "$st"
check "spoke log shows the acknowledgement" sh -c \
	'"$1" log 2 --state-dir "$2" | grep -q "loss forgotten"' sh "$SPOKE" "$st"

# --forget-lost, after a new loss.
(cd "$ws" && cargo build --release --offline -q)
SPOKE_CRASH_AT="server:$k" build --stage=move --force >"$T/crash.out" 2>&1
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
rm -f "$st"/staged/*-libhello.so
check_status "a new loss: recover exit 1" 1 "$SPOKE" recover --state-dir "$st"
check_status "recover --forget-lost: exit 0" 0 \
	"$SPOKE" recover --state-dir "$st" --forget-lost
check_status "status: exit 0" 0 "$SPOKE" status --state-dir "$st"
(cd "$ws" && cargo build --release --offline -q)
check "cargo rebuilt everything" cargo_fresh "$ws"

finish
