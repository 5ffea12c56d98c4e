#!/bin/bash
# Incremental packaging (docs/incremental.md): a wheel whose inputs are
# unchanged is not written again, and a change of any input writes it
# again with the change in it.  On the example workspace: a second build
# reuses every wheel (same inode, mtime and ctime; "reused" in --json;
# "unchanged" for people; "wheel reused" in spoke log); then each input
# is changed in turn (the artifact, a Python source, a license file, a
# data file, Cargo.toml's metadata, the compression, SOURCE_DATE_EPOCH,
# the repair mode and --compat, a bundled library, the wheel itself
# removed or overwritten, --force, another output folder, cargo's file
# rewritten in place with its mtime put back, a library of the same name
# put in a folder searched earlier) and the wheels
# it goes into are written again, holding the change, while the others
# are reused.  Last, the coordinator is killed at each point of a build
# that reuses some wheels and writes one: cargo's outputs stay intact and
# the next build is right, with the journal pruned as hard as it goes.
#
# SPOKE_CRASH_STRIDE=N runs every N-th crash point of the build that
# writes one wheel (default 4, for CI; 1: all of them).
. "$(dirname "$0")/lib.sh"

STRIDE=${SPOKE_CRASH_STRIDE:-4}
ws="$T/ws"
mkdir -p "$ws"
(cd "$SRC/examples" && tar cf - --exclude=./target .) | (cd "$ws" && tar xf -)
# A data file for mixedpkg ([tool.maturin] data: <dist>-<version>.data/).
printf '\n[tool.maturin]\ndata = "extra"\n' >>"$ws/mixed/pyproject.toml"
mkdir -p "$ws/mixed/extra/data"
echo "note one" >"$ws/mixed/extra/data/note.txt"
(cd "$ws" && cargo build --release --offline -q) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
state="$ws/target/spoke"
wheels="$ws/target/wheels"
unset LD_LIBRARY_PATH

# build NAME [OPTIONS]: spoke build --json into $T/NAME.json.
build() {
	local name=$1
	shift
	(cd "$ws" && "$SPOKE" build -i "$PY" --json "$@") >"$T/$name.json" 2>"$T/$name.err"
}

# marks NAME: "<module>=<reused> ..." from the result, sorted by module,
# and every wheel's path, one per line, into $T/NAME.paths.
marks() {
	"$PY" - "$T/$1.json" "$T/$1.paths" <<'PYEOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
assert r["type"] == "result" and r["ok"], r
ws = r["wheels"]
# The "wheel" events carry the same mark.
ev = {e["module"]: bool(e.get("reused")) for e in
      (json.loads(l) for l in open(sys.argv[1]))
      if e.get("type") == "event" and e.get("event") == "wheel"}
for w in ws:
    assert ev[w["module"]] == bool(w.get("reused")), (w, ev)
open(sys.argv[2], "w").write("".join(w["path"] + "\n" for w in ws))
print(" ".join(sorted("%s=%d" % (w["module"], bool(w.get("reused"))) for w in ws)))
PYEOF
}

# ident: inode, size, mtime and ctime (ns) of every wheel in the folder.
ident() {
	local d=${1:-$wheels}
	find "$d" -maxdepth 1 -name '*.whl' -printf '%f %i %s %T@ %C@\n' | sort
}

# ident_of GLOB: the same for one wheel.
ident_of() { stat -c '%i %s %.9Y %.9Z' $wheels/$1 2>/dev/null; }

member() { unzip -p "$1" "$2"; }
whl() { ls $wheels/$1 2>/dev/null | head -1; }

all_reused="counter=1 hello=1 mixedpkg._native=1 native=1"
only() { # only MODULE: that module written, the others reused
	local out="" m
	for m in counter hello mixedpkg._native native; do
		out="$out $m=$([ "$m" = "$1" ] && echo 0 || echo 1)"
	done
	echo "${out# }"
}
expect() { # expect WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: wanted '$2', got '$3'"; sed 's/^/#   /' "$T/last.err" 2>/dev/null | tail -5; fi
}
step() { # step NAME [OPTIONS]: a build, and its marks
	build "$@" || { cp "$T/$1.err" "$T/last.err"; echo "build-failed"; return; }
	marks "$1"
}

# 1. A first build writes every wheel; a second reuses every one.
got=$(step b1)
expect "the first build writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
ident >"$T/ident1"
got=$(step b2)
expect "the second build reuses every wheel (--json and its events say so)" "$all_reused" "$got"
check "  every wheel keeps its inode, size, mtime and ctime" diff "$T/ident1" <(ident)
check "  the result lists every wheel" test "$(wc -l <"$T/b2.paths")" -eq 4
check "  nothing staged: no 'staged' event" bash -c "! grep -q '\"event\":\"staged\"' '$T/b2.json'"
(cd "$ws" && "$SPOKE" build -i "$PY") >"$T/human.out" 2>&1
check "  for people: every wheel listed as unchanged, and the count" bash -c "
	[ \$(grep -c '^unchanged .*\.whl\$' '$T/human.out') -eq 4 ] &&
	grep -q '^4 wheel(s) in .* (4 unchanged)\$' '$T/human.out'"
(cd "$ws" && "$SPOKE" log) >"$T/log.out" 2>&1
check "  spoke log shows each reused wheel" bash -c "[ \$(grep -c 'wheel reused .*\.whl' '$T/log.out') -eq 4 ]"
# The journal has each; the coordinator's log counts them in one line a
# turn: a line a wheel was most of a monorepo's log and 100 writes on the
# build's critical path.
check "  the coordinator's log counts them in one line, names none" bash -c "
	grep -q 'reused 4 wheel(s)' '$state/log/coordinator.log' &&
	! grep -q \"reused '\" '$state/log/coordinator.log'"
check "  cargo is still fresh" cargo_fresh "$ws"

# 2. The artifact: touched (cargo recompiles the same code: a new file),
# then really changed.
hello_so="$ws/target/release/libhello.so"
before=$(ident_of 'hello-*.whl')
touch "$ws/hello/src/lib.rs"
got=$(step art1)
expect "a touched lib.rs (cargo builds the artifact again) writes its wheel only" "$(only hello)" "$got"
check "  the hello wheel is a new file" test "$before" != "$(ident_of 'hello-*.whl')"
# cargo compiled hello in this run (the request says so), so its wheel
# goes to a worker before the other three are checked for reuse.
(cd "$ws" && "$SPOKE" log) >"$T/log_art1.out" 2>&1
check "  the wheel to write went to a worker before any wheel was reused" bash -c "
	w=\$(grep -n 'wheel writing .*libhello\.so' '$T/log_art1.out' | head -1 | cut -d: -f1)
	r=\$(grep -n 'wheel reused' '$T/log_art1.out' | head -1 | cut -d: -f1)
	[ -n \"\$w\" ] && [ -n \"\$r\" ] && [ \"\$w\" -lt \"\$r\" ]"
printf '\n#[no_mangle]\npub extern "C" fn spoke_incremental_marker() -> u32 { 7 }\n' >>"$ws/hello/src/lib.rs"
old_sha=$(member "$(whl 'hello-*.whl')" 'hello.cpython-*.so' | sha256sum)
got=$(step art2)
expect "a changed artifact writes its wheel only" "$(only hello)" "$got"
new_sha=$(member "$(whl 'hello-*.whl')" 'hello.cpython-*.so' | sha256sum)
check "  the wheel holds the new artifact" bash -c "[ '$new_sha' != '$old_sha' ] && [ '$new_sha' = \"\$(sha256sum <'$hello_so')\" ]"

# cargo's file rewritten in place, its size and mtime put back: only its
# ctime says so (the ctime recorded once spoke gave it back).
got=$(step art3)
expect "  the next build reuses every wheel (the ctime recorded after the give-back)" "$all_reused" "$got"
cp -p "$hello_so" "$T/hello.so.keep"
dd if="$T/hello.so.keep" of="$hello_so" bs=4096 conv=notrunc status=none
touch -r "$T/hello.so.keep" "$hello_so"
got=$(step art4)
expect "cargo's file rewritten in place (size and mtime kept): its wheel only" "$(only hello)" "$got"
got=$(step art5)
expect "  and reused next time" "$all_reused" "$got"

# 3. Python source, license file, data file: content changed.
echo "# changed" >>"$ws/mixed/mixedpkg/cli.py"
got=$(step py)
expect "a Python source changed: its wheel only" "$(only mixedpkg._native)" "$got"
check "  the wheel holds the new source" bash -c "unzip -p '$(whl 'mixedpkg-*.whl')' mixedpkg/cli.py | tail -1 | grep -qx '# changed'"
echo "extra license line" >>"$ws/mixed/LICENSE"
got=$(step lic)
expect "a license file changed: its wheel only" "$(only mixedpkg._native)" "$got"
check "  the wheel holds the new license" bash -c "unzip -p '$(whl 'mixedpkg-*.whl')' mixedpkg-0.3.0.dist-info/licenses/LICENSE | tail -1 | grep -qx 'extra license line'"
echo "note two" >"$ws/mixed/extra/data/note.txt"
got=$(step data)
expect "a data file changed: its wheel only" "$(only mixedpkg._native)" "$got"
check "  the wheel holds the new data file" bash -c "unzip -p '$(whl 'mixedpkg-*.whl')' mixedpkg-0.3.0.data/data/note.txt | grep -qx 'note two'"
# The same bytes written again: its identity changed, so it is written.
before=$(ident_of 'mixedpkg-*.whl')
echo "note two" >"$ws/mixed/extra/data/note.txt"
got=$(step data2)
expect "a data file written again with the same bytes: its wheel only" "$(only mixedpkg._native)" "$got"
check "  as a new file" test "$before" != "$(ident_of 'mixedpkg-*.whl')"

# 4. Metadata: Cargo.toml's description.
sed -i 's/^description = .*/description = "A changed summary"/' "$ws/hello/Cargo.toml"
got=$(step meta)
expect "Cargo.toml's description changed: its wheel only" "$(only hello)" "$got"
check "  METADATA has the new summary" bash -c "unzip -p '$(whl 'hello-*.whl')' '*.dist-info/METADATA' | grep -qx 'Summary: A changed summary'"

# 5. Options: compression, SOURCE_DATE_EPOCH.
size_default=$(stat -c %s "$(whl 'hello-*.whl')")
got=$(step fast --compression fast)
expect "--compression fast writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  with other bytes" test "$size_default" != "$(stat -c %s "$(whl 'hello-*.whl')")"
got=$(step fast2 --compression fast)
expect "  and the same option again reuses them" "$all_reused" "$got"
got=$(step def)
expect "  back to the default writes them again" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  with the default's size" test "$size_default" = "$(stat -c %s "$(whl 'hello-*.whl')")"
export SOURCE_DATE_EPOCH=1700000000
got=$(step sde1)
expect "SOURCE_DATE_EPOCH set writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  its entries carry that time" bash -c "unzip -l '$(whl 'hello-*.whl')' | grep -q '2023-11-14'"
got=$(step sde2)
expect "  the same SOURCE_DATE_EPOCH reuses them" "$all_reused" "$got"
export SOURCE_DATE_EPOCH=1700086400
got=$(step sde3)
expect "  another SOURCE_DATE_EPOCH writes them" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  with the new time" bash -c "unzip -l '$(whl 'hello-*.whl')' | grep -q '2023-11-15'"
unset SOURCE_DATE_EPOCH
got=$(step nosde)
expect "  unset again writes them" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
ident >"$T/ident_nosde"
sleep 1.1
got=$(step nosde2)
expect "time is no input: a second later, every wheel reused" "$all_reused" "$got"
check "  with the time it was written with" diff "$T/ident_nosde" <(ident)

# 6. Repair: skip writes linux_x86_64 wheels beside the manylinux ones;
# the default then finds its own wheels untouched and reuses them.
got=$(step skip --repair skip)
expect "--repair skip writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  as linux_x86_64 wheels" bash -c "[ \$(grep -c 'linux_x86_64.whl\$' '$T/skip.paths') -eq 4 ] && ! grep -q manylinux '$T/skip.paths'"
check "  the native wheel bundles nothing" bash -c "! unzip -Z1 '$(whl 'spoke_native-*-linux_x86_64.whl')' | grep -q '\.libs/'"
got=$(step back)
expect "the default again reuses its manylinux wheels" "$all_reused" "$got"
check "  which are manylinux wheels" bash -c "[ \$(grep -c manylinux '$T/back.paths') -eq 4 ]"
tag=$(sed -n 's/.*-\(manylinux_[0-9]*_[0-9]*\)_x86_64\.whl$/\1/p' "$T/back.paths" | sort | tail -1)
before=$(ident_of "hello-*-${tag}_x86_64.whl")
got=$(step compat --compat "$tag")
expect "--compat $tag (the tag chosen anyway) writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  at the same paths" bash -c "diff <(sort '$T/back.paths') <(sort '$T/compat.paths')"
check "  as new files" test "$before" != "$(ident_of "hello-*-${tag}_x86_64.whl")"
got=$(step compat2 --compat "$tag")
expect "  and reuses them next time" "$all_reused" "$got"
got=$(step back2)
expect "  without --compat, written again" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"

# 7. A bundled library changes in place (same inode): the native wheel,
# which bundles it, is written again with the new library.
helper=$(find "$ws/target/release/build" -path '*/out/libspokehelper.so.1' | head -1)
old_lib=$(unzip -Z1 "$(whl "spoke_native-*-${tag}_x86_64.whl")" | grep '^spoke_native.libs/libspokehelper')
check "the native wheel bundles the helper ($old_lib)" test -n "$old_lib"
ino=$(stat -c %i "$helper")
printf '\0' >>"$helper"
check "  the helper changed in place" test "$ino" = "$(stat -c %i "$helper")"
got=$(step lib)
expect "a bundled library changed: its wheel only" "$(only native)" "$got"
new_lib=$(unzip -Z1 "$(whl "spoke_native-*-${tag}_x86_64.whl")" | grep '^spoke_native.libs/libspokehelper')
check "  the wheel bundles the new library ($new_lib)" bash -c "[ -n '$new_lib' ] && [ '$new_lib' != '$old_lib' ]"
got=$(step lib2)
expect "  and reuses it next time" "$all_reused" "$got"
# A library of the same name put in a folder searched before the one it
# was found in (LD_LIBRARY_PATH, searched before cargo's link paths).
mkdir -p "$T/shadow"
export LD_LIBRARY_PATH="$T/shadow"
step ldp1 >/dev/null
got=$(step ldp2)
expect "LD_LIBRARY_PATH naming an empty folder: reused the second time" "$all_reused" "$got"
cp "$helper" "$T/shadow/libspokehelper.so.1"
printf '\1' >>"$T/shadow/libspokehelper.so.1"
got=$(step ldp3)
expect "a library put in a folder searched earlier: the wheel bundling it only" "$(only native)" "$got"
shadow_lib=$(unzip -Z1 "$(whl "spoke_native-*-${tag}_x86_64.whl")" | grep '^spoke_native.libs/libspokehelper')
check "  the wheel bundles the earlier one ($shadow_lib)" bash -c "[ -n '$shadow_lib' ] && [ '$shadow_lib' != '$new_lib' ]"
unset LD_LIBRARY_PATH

# 8. The wheel itself: removed, or overwritten (same size, mtime put
# back: only its ctime says so).  With SOURCE_DATE_EPOCH, so that each
# wheel written again has the same bytes.
export SOURCE_DATE_EPOCH=1700000000
got=$(step sde8)
expect "SOURCE_DATE_EPOCH set again writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
w=$(whl 'spoke_counter-*manylinux*.whl')
rm -f "$w"
got=$(step rm)
expect "a removed wheel is written again" "$(only counter)" "$got"
check "  and is there" test -f "$w"
sum=$(sha256sum <"$w")
cp -p "$w" "$T/keep.whl"
dd if=/dev/zero of="$w" bs=1 count=64 seek=100 conv=notrunc status=none
touch -r "$T/keep.whl" "$w"
got=$(step over)
expect "a wheel overwritten in place (size and mtime kept) is written again" "$(only counter)" "$got"
check "  with its own bytes" test "$sum" = "$(sha256sum <"$w")"
echo garbage >"$w"
got=$(step over2)
expect "a wheel replaced by other bytes is written again" "$(only counter)" "$got"
check "  with its own bytes" test "$sum" = "$(sha256sum <"$w")"

unset SOURCE_DATE_EPOCH

# 9. --force, and another output folder.
ident >"$T/ident_force"
got=$(step force --force)
expect "--force writes every wheel" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  as new files" bash -c "! diff -q '$T/ident_force' <(find '$wheels' -maxdepth 1 -name '*.whl' -printf '%f %i %s %T@ %C@\n' | sort) >/dev/null"
got=$(step other -o "$T/other")
expect "another output folder gets wheels of its own" "counter=0 hello=0 mixedpkg._native=0 native=0" "$got"
check "  four of them there" test "$(ls "$T/other"/*.whl | wc -l)" -eq 4
got=$(step home)
expect "  and the first folder's wheels are still reused" "$all_reused" "$got"
check "every wheel valid" wheels_valid "$wheels"
check "cargo is still fresh" cargo_fresh "$ws"
check "nothing left staged or half-written" no_leftovers "$ws" "$state"

# 10. Kill the coordinator at each point of a build that reuses three
# wheels and writes one (hello's artifact rebuilt), in both staging modes;
# then of a build that reuses all four.  After the next build: cargo's
# outputs are intact, nothing is left over, every wheel is valid, the
# other three were reused, and hello's wheel holds cargo's artifact.
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
# From here on the coordinators prune as hard as they can (replay and
# reuse must not depend on pruned rows), keeping two builds: the one
# killed and the one before, whose wheels the next build reuses when the
# killed one died before saying it reused them.
prune_hard
export SPOKE_KEEP_BUILDS=2
# The builds above are a backlog that a coordinator pruning a row a
# transaction takes hundreds of commits to clear, each a crash point: the
# counts below would depend on how much of it one build's idle time gets
# through before `spoke stop` (faster pruning, more points, a matrix of
# hundreds).  So it is cleared first, and the counts are those of a
# steady journal.
# pruned: the journal's rows no longer change (the idle pruning is done),
# over half a second.
journal_rows() {
	"$PY" -c '
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(sum(db.execute("SELECT count(*) FROM " + t).fetchone()[0]
          for t in ("builds", "artifacts", "wheels", "events", "reuse")))
' "$state/journal.db"
}
pruned() {
	local n
	n=$(journal_rows) || return 1
	[ "$n" = "$(cat "$T/rows" 2>/dev/null)" ] && return 0
	echo "$n" >"$T/rows"
	sleep 0.5
	return 1
}
(cd "$ws" && "$SPOKE" build -q -i "$PY") >/dev/null 2>&1
check "the journal's backlog is pruned in the coordinator's idle time" \
	wait_for 120 pruned
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
change_hello() {
	printf '// %s\n' "$RANDOM$RANDOM" >>"$ws/hello/src/lib.rs"
	(cd "$ws" && cargo build --release --offline -q)
}
change_hello
rm -f "$T/faults"
(cd "$ws" && SPOKE_FAULT_LOG="$T/faults" "$SPOKE" build -q -i "$PY") >/dev/null 2>&1
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
nmixed=$(awk '$1 == "server"' "$T/faults" | wc -l)
rm -f "$T/faults"
(cd "$ws" && SPOKE_FAULT_LOG="$T/faults" "$SPOKE" build -q -i "$PY") >/dev/null 2>&1
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
nall=$(awk '$1 == "server"' "$T/faults" | wc -l)
# hello's source changed and compiled by spoke's own cargo run: the
# request marks it compiled, and its job is staged and started before the
# other three are checked for reuse (two turns of staging).
edit_hello() { printf '// %s\n' "$RANDOM$RANDOM" >>"$ws/hello/src/lib.rs"; }
edit_hello
rm -f "$T/faults"
(cd "$ws" && SPOKE_FAULT_LOG="$T/faults" "$SPOKE" build -q -i "$PY") >/dev/null 2>&1
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
nturns=$(awk '$1 == "server"' "$T/faults" | wc -l)
echo "# coordinator crash points: $nmixed (one wheel written), $nall (all reused), $nturns (one compiled and written first)"
check "crash points of a build that writes one wheel ($nmixed)" test "$nmixed" -gt 5
check "crash points of a build that stages its compiled artifact first ($nturns)" test "$nturns" -gt 5

# crash_case WHAT MODE K CHANGE: CHANGE 0 none, 1 hello rebuilt by cargo
# first, 2 hello's source edited (spoke's cargo run rebuilds it, so its
# files are left out of the snapshot: cargo_fresh and the wheel's bytes
# check them).
crash_case() {
	local what=$1 mode=$2 k=$3 rc skip='^$'
	[ "$4" = 1 ] && change_hello
	[ "$4" = 2 ] && edit_hello && skip=hello
	snapshot "$ws" | grep -v "$skip" >"$T/before"
	(cd "$ws" && SPOKE_CRASH_AT="server:$k" "$SPOKE" build -q -i "$PY" --stage="$mode") >"$T/crash.out" 2>&1
	# A point in the idle pruning after the build may not be reached
	# yet: that coordinator still carries SPOKE_CRASH_AT, stop it.
	"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
	build next --stage="$mode"
	rc=$?
	got=$(marks next 2>&1)
	if [ $rc -eq 0 ] &&
		diff "$T/before" <(snapshot "$ws" | grep -v "$skip") >"$T/settled.out" 2>&1 &&
		no_leftovers "$ws" "$state" >>"$T/settled.out" 2>&1 &&
		wheels_valid "$wheels" >>"$T/settled.out" 2>&1 &&
		cargo_fresh "$ws" >>"$T/settled.out" 2>&1 &&
		[[ "$got" == "counter=1 hello="?" mixedpkg._native=1 native=1" ]] &&
		[ "$(member "$(whl "hello-*-${tag}_x86_64.whl")" 'hello.cpython-*.so' | sha256sum)" = "$(sha256sum <"$hello_so")" ]; then
		ok "[$mode] $what: coordinator killed at point $k, the next build is right"
	else
		not_ok "[$mode] $what: coordinator killed at point $k (exit $rc, marks '$got')"
		sed 's/^/#   /' "$T/crash.out" "$T/next.err" "$T/settled.out" | tail -20
	fi
	"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
}
for mode in link move; do
	for ((k = 1; k <= nmixed; k += STRIDE)); do
		crash_case "three reused, one written" "$mode" "$k" 1
	done
done
for ((k = 1; k <= nall; k++)); do
	crash_case "all reused" link "$k" 0
done
for mode in link move; do
	for ((k = 1; k <= nturns; k += STRIDE)); do
		crash_case "one compiled and written first, three reused" "$mode" "$k" 2
	done
done

finish
