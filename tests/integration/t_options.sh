#!/bin/bash
# spoke build's cargo options reach cargo, and the target directory is
# found the way cargo finds it: --target-dir, CARGO_TARGET_DIR, default.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
in_ws() { (cd "$ws" && "$@"); }

check "-p hello builds only hello's wheel" in_ws "$SPOKE" build -q -i "$PY" -p hello -o "$T/only"
check "  and it is there" bash -c "ls '$T/only'/hello-*.whl"
check "  and counter's is not" bash -c "! ls '$T/only'/spoke_counter-*.whl 2>/dev/null"

check "--target-dir puts cargo's output and the state there" in_ws "$SPOKE" build -q -i "$PY" --target-dir "$T/tdir"
check "  wheels in <target-dir>/wheels" bash -c "ls '$T/tdir/wheels'/*.whl"
check "  journal in <target-dir>/spoke" test -f "$T/tdir/spoke/journal.db"
check "  recover finds the same state directory" in_ws "$SPOKE" recover --target-dir "$T/tdir"
in_ws "$SPOKE" stop --target-dir "$T/tdir" >/dev/null 2>&1

check "CARGO_TARGET_DIR is honoured" in_ws env CARGO_TARGET_DIR="$T/envdir" "$SPOKE" build -q -i "$PY"
check "  wheels in \$CARGO_TARGET_DIR/wheels" bash -c "ls '$T/envdir/wheels'/*.whl"
check "  status finds the state directory through it" in_ws env CARGO_TARGET_DIR="$T/envdir" "$SPOKE" status
in_ws env CARGO_TARGET_DIR="$T/envdir" "$SPOKE" stop >/dev/null 2>&1

check "--manifest-path from elsewhere" bash -c "cd '$T' && '$SPOKE' build -q -i '$PY' --manifest-path '$ws/Cargo.toml' -o '$T/mp'"
check "  four wheels" bash -c "[ \$(ls '$T/mp'/*.whl | wc -l) -eq 4 ]"

check "--features reaches cargo" in_ws "$SPOKE" build -q -i "$PY" -p hello --features loud -o "$T/loud"
v=$(make_venv loud)
check "  the featured module says so" bash -c "'$v/bin/pip' install -q --no-index '$T'/loud/hello-*.whl && '$v/bin/python' -c 'import hello; assert hello.greet(\"x\") == \"HELLO, x\", hello.greet(\"x\")'"

check "--profile dev builds the dev profile" in_ws "$SPOKE" build -q -i "$PY" --profile dev -o "$T/dev"
check "  from target/debug" bash -c "ls '$ws/target/debug/libhello.so' && ls '$T/dev'/hello-*.whl"

check "--state-dir elsewhere" in_ws "$SPOKE" build -q -i "$PY" --state-dir "$T/state-x" -o "$T/sx"
check "  journal there" test -f "$T/state-x/journal.db"
"$SPOKE" stop --state-dir "$T/state-x" >/dev/null 2>&1

# A state directory on another filesystem: staging falls back to a copy
# (rename gives EXDEV) and the cargo output never leaves its path.
shm=/dev/shm
if [ -d "$shm" ] && [ -w "$shm" ] && [ "$(stat -c %d "$shm")" != "$(stat -c %d "$ws")" ]; then
	snapshot "$ws" >"$T/before"
	sx=$(mktemp -d "$shm/spoke-test.XXXXXX")
	check_status "state directory on another filesystem: build works" 0 in_ws "$SPOKE" build -i "$PY" --json --stage=move --state-dir "$sx/state" -o "$T/exdev"
	check "  staged by copy" grep -q '"mode":"copy"' "$T/last.out"
	check "  cargo outputs kept their inode and bytes" same_snapshot "$ws" "$T/before"
	check "  no staged copy left" bash -c "[ -z \"\$(ls -A '$sx/state/staged')\" ]"
	"$SPOKE" stop --state-dir "$sx/state" >/dev/null 2>&1
	rm -rf "$sx"
else
	ok "# SKIP no second filesystem at $shm for the EXDEV case"
fi
finish
