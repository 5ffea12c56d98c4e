#!/bin/bash
# The coordinator under valgrind (memcheck) for three builds of the example
# workspace: no memory error in it or in the workers it forks (valgrind
# follows a fork), and nothing definitely lost.  Skipped without valgrind
# and in the sanitizer build (ASan and valgrind do not mix).
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "ok 1 # SKIP valgrind is not installed"
	echo "1..1"
	exit 0
fi
if grep -q '^SPOKE_SANITIZE:BOOL=ON' \
	"${SPOKE_TEST_BUILD_DIR:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
	echo "ok 1 # SKIP sanitizer build: valgrind runs on the plain build"
	echo "1..1"
	exit 0
fi

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
st="$T/state"
mkdir -p "$T/vg"

valgrind -q --leak-check=full --show-possibly-lost=no \
	--errors-for-leak-kinds=definite \
	--error-exitcode=99 --log-file="$T/vg/%p.log" \
	"$SPOKE" serve --state-dir "$st" --idle-timeout 300 2>"$T/serve.err" &
vg_pid=$!
check "the coordinator starts under valgrind" await_coordinator "$st" "$vg_pid" 60

for n in 1 2 3; do
	mode=link
	[ $n -eq 2 ] && mode=move
	rm -rf "$ws/target/wheels"
	check "build $n (--stage=$mode) under valgrind" \
		bash -c "cd '$ws' && '$SPOKE' build -q -i '$PY' --state-dir '$st' --stage=$mode"
	check "build $n: wheels valid" wheels_valid "$ws/target/wheels"
done
check "status under valgrind" "$SPOKE" status --state-dir "$st"
check "recover under valgrind" "$SPOKE" recover --state-dir "$st"
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
wait "$vg_pid"
rc=$?
check_status "the coordinator exits 0 under valgrind (99: errors)" 0 test $rc -eq 0
nlogs=$(ls "$T/vg" | wc -l)
echo "# valgrind logs: $nlogs (the coordinator and its workers)"
# With -q, valgrind logs nothing but errors and leaks.
if cat "$T"/vg/*.log | grep -q .; then
	not_ok "valgrind reports no errors and nothing definitely lost"
	cat "$T"/vg/*.log | head -60 | sed 's/^/#   /'
else
	ok "valgrind reports no errors and nothing definitely lost"
fi
check "cargo outputs intact" same_snapshot "$ws" "$T/before"
check "nothing left over" no_leftovers "$ws" "$st"
finish
