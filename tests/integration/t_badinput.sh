#!/bin/bash
# Bad input: each gives a clear message and a non-zero exit, and leaves
# nothing staged and every cargo output in place.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
state="$ws/target/spoke"
in_ws() { (cd "$ws" && "$@"); }

check_status "usage error: unknown command exits 2" 2 "$SPOKE" frobnicate
check_status "usage error: unknown option exits 2" 2 "$SPOKE" build --no-such-option
check_status "usage error: bad --stage exits 2" 2 "$SPOKE" build --stage=sideways
# --jobs is serve's: the other admin commands refuse it, as they refuse -j.
for cmd in status stop recover log; do
	check_status "usage error: $cmd --jobs exits 2" 2 in_ws "$SPOKE" $cmd --jobs 2
done
check "spoke --help explains the commands" bash -c "'$SPOKE' --help | grep -q recover"
check "spoke build --help explains --stage" bash -c "'$SPOKE' build --help | grep -q -- --stage"

mkdir -p "$T/empty"
check_status "no Cargo.toml: exit 1" 1 bash -c "cd '$T/empty' && '$SPOKE' build -i '$PY'"
check "no Cargo.toml: the message says so" grep -q "could not find Cargo.toml" "$T/last.out"

check_status "missing interpreter: exit 1" 1 in_ws "$SPOKE" build -i /nonexistent/python3
check "missing interpreter: the message names it" grep -q "/nonexistent/python3" "$T/last.out"

# cargo's build fails: cargo's own error is shown.
cp -a "$ws" "$T/broken"
echo 'this is not rust' >>"$T/broken/hello/src/lib.rs"
check_status "cargo build fails: exit 1" 1 bash -c "cd '$T/broken' && '$SPOKE' build -i '$PY'"
check "cargo build fails: cargo's error is shown" grep -q "error" "$T/last.out"
check "cargo build fails: spoke says cargo failed" grep -q "cargo build failed" "$T/last.out"

# A workspace with no cdylib.
mkdir -p "$T/nolib/src"
printf '[package]\nname = "plain"\nversion = "0.1.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$T/nolib/Cargo.toml"
echo 'pub fn f() {}' >"$T/nolib/src/lib.rs"
check_status "no cdylib: exit 1" 1 bash -c "cd '$T/nolib' && '$SPOKE' build -i '$PY'"
check "no cdylib: the message says so" grep -q "no cdylib" "$T/last.out"

# A cdylib selected by [package.metadata.spoke] that is no Python module.
cp -a "$ws" "$T/nomod"
sed -i 's/^module = .*/module = "not_hello"/' "$T/nomod/hello/Cargo.toml"
check_status "module without PyInit_<module>: exit 1" 1 bash -c "cd '$T/nomod' && '$SPOKE' build -i '$PY'"
check "module without PyInit_<module>: the message names it" grep -q "PyInit_not_hello" "$T/last.out"
check "module without PyInit_<module>: nothing staged" no_leftovers "$T/nomod" "$T/nomod/target/spoke"
"$SPOKE" stop --state-dir "$T/nomod/target/spoke" >/dev/null 2>&1

# A journal that is not an SQLite database: named, with what to do, and a
# staged file with no journal row is never deleted.
check "a first build creates the journal" in_ws "$SPOKE" build -q -i "$PY"
in_ws "$SPOKE" stop >/dev/null 2>&1
mkdir -p "$state/staged"
cp "$ws/target/release/libhello.so" "$state/staged/orphan.so"
printf 'this is not a database, not at all......................................................................' >"$state/journal.db"
rm -f "$state/journal.db-wal" "$state/journal.db-shm"
check_status "corrupt journal: recover exits 1" 1 in_ws "$SPOKE" recover
check "corrupt journal: the message names the file" grep -q "$state/journal.db" "$T/last.out"
check "corrupt journal: the message says what to do" grep -q "Move the journal aside" "$T/last.out"
check_status "corrupt journal: build exits 1" 1 in_ws "$SPOKE" build -q -i "$PY"
check "corrupt journal: the staged file without a row is kept" test -f "$state/staged/orphan.so"
check "corrupt journal: cargo outputs untouched" same_snapshot "$ws" "$T/before"
mv "$state/journal.db" "$state/journal.db.broken"
rm -f "$state/staged/orphan.so"
check "after moving the journal aside, a build works" in_ws "$SPOKE" build -q -i "$PY"
check "cargo outputs untouched at the end" same_snapshot "$ws" "$T/before"
check "cargo still fresh at the end" cargo_fresh "$ws"
finish
