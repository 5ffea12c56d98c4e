#!/bin/bash
# spoke build on the example workspace, in both staging modes: wheels that
# pip installs and Python imports, cargo outputs untouched (same inode,
# same bytes), cargo still fresh afterwards.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
state="$ws/target/spoke"

for mode in link move; do
	rm -rf "$ws/target/wheels"
	check "[$mode] spoke build succeeds" \
		bash -c "cd '$ws' && '$SPOKE' build -i '$PY' --stage=$mode"
	n=$(ls "$ws/target/wheels"/*.whl 2>/dev/null | wc -l)
	[ "$n" -eq 4 ] && ok "[$mode] four wheels written" || not_ok "[$mode] four wheels written (got $n)"
	check "[$mode] cargo outputs have their inode and bytes" same_snapshot "$ws" "$T/before"
	check "[$mode] nothing left staged or half-written" no_leftovers "$ws" "$state"
	check "[$mode] cargo build -v says Fresh" cargo_fresh "$ws"
	check "[$mode] wheels are valid zips with a true RECORD" wheels_valid "$ws/target/wheels"
	v=$(make_venv "$mode")
	check "[$mode] pip installs the wheels" "$v/bin/pip" install --no-index -q "$ws"/target/wheels/*.whl
	check "[$mode] the modules import and work" "$v/bin/python" -c '
import hello, counter
assert hello.greet("spoke") == "hello, spoke", hello.greet("spoke")
assert hello.add(2, 3) == 5
print(counter.__name__)
'
	check "[$mode] python -m wheel unpack verifies RECORD" \
		bash -c "cd '$T' && rm -rf unpack && mkdir unpack && for w in '$ws'/target/wheels/*.whl; do '$PY' -m wheel unpack -d unpack \"\$w\" || exit 1; done"
	check "[$mode] unzip -t" bash -c "for w in '$ws'/target/wheels/*.whl; do unzip -tq \"\$w\" || exit 1; done"
done

# Names, tags and metadata.
whl_hello=$(ls "$ws"/target/wheels/hello-0.1.0a1-cp3*-*linux_*.whl 2>/dev/null)
check "semver 0.1.0-alpha.1 becomes 0.1.0a1 in the wheel name" test -n "$whl_hello"
whl_counter=$(ls "$ws"/target/wheels/spoke_counter-0.2.0-*.whl 2>/dev/null)
check "pyproject.toml [project] name and version win" test -n "$whl_counter"
meta=$(unzip -p "$whl_counter" 'spoke_counter-0.2.0.dist-info/METADATA')
check "METADATA has Requires-Python from pyproject" grep -q '^Requires-Python: >=3.8' <<<"$meta"
check "METADATA has a Classifier from pyproject" grep -q '^Classifier: ' <<<"$meta"
check "METADATA has no readme: [project] does not list it in dynamic" bash -c "! grep -q '^Description-Content-Type' <<<\"\$1\"" _ "$meta"
meta=$(unzip -p "$whl_hello" 'hello-0.1.0a1.dist-info/METADATA')
check "METADATA has Summary from Cargo.toml" grep -q '^Summary: ' <<<"$meta"
check "METADATA has License-Expression from Cargo.toml" grep -qx 'License-Expression: MIT' <<<"$meta"
check "METADATA has the repository as Project-URL" grep -q '^Project-URL: ' <<<"$meta"

# --json: one object per line, the last one the result.
check "build --json" bash -c "cd '$ws' && '$SPOKE' build -i '$PY' --json >'$T/json.out'"
check "--json lines all parse, last is an ok result" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["type"] == "result" and lines[-1]["ok"] is True, lines[-1]
assert len(lines[-1]["wheels"]) == 4
assert all(l["type"] == "event" for l in lines[:-1])
' "$T/json.out"

# Reproducible: same inputs and SOURCE_DATE_EPOCH, same bytes.
SOURCE_DATE_EPOCH=1700000000 "$SPOKE" build -q -i "$PY" --manifest-path "$ws/Cargo.toml" -o "$T/r1" >/dev/null 2>&1
SOURCE_DATE_EPOCH=1700000000 "$SPOKE" build -q -i "$PY" --manifest-path "$ws/Cargo.toml" -o "$T/r2" >/dev/null 2>&1
check "two builds with SOURCE_DATE_EPOCH give identical wheels" \
	bash -c "ls '$T/r1'/*.whl >/dev/null && diff <(cd '$T/r1' && sha256sum *.whl) <(cd '$T/r2' && sha256sum *.whl)"

# A module of more than one deflate chunk (worker/zip/pdeflate.h): hello with
# a 10 MB section appended (random bytes, then text), so that some chunks
# are stored and some deflated.  Each thread count gets a coordinator of its
# own (SPOKE_ZIP_THREADS reaches the workers through it); the bytes must be
# the same, and unzip, zipfile and spoke show must all find it valid.
big="$T/big"
mkdir -p "$big/lib"
{ head -c 3000000 /dev/urandom; yes 'spoke deflates big modules in chunks' | head -c 7000000; } >"$T/blob.bin"
objcopy --add-section .spoke_blob="$T/blob.bin" "$ws/target/release/libhello.so" "$big/lib/libhello.so"
echo '{"artifacts": [{"path": "lib/libhello.so", "distribution": "hello-big", "version": "1.0", "module": "hello"}]}' >"$big/artifacts.json"
for t in 1 2; do
	check "a 10 MB module builds with SPOKE_ZIP_THREADS=$t" env SPOKE_ZIP_THREADS=$t SOURCE_DATE_EPOCH=1700000000 \
		"$SPOKE" build -q -i "$PY" --artifacts "$big/artifacts.json" --state-dir "$big/state$t" -o "$big/w$t"
	"$SPOKE" stop --state-dir "$big/state$t" >/dev/null 2>&1
done
check "its wheel has the same bytes on one thread and on two" \
	bash -c "ls '$big/w1'/*.whl >/dev/null && diff <(cd '$big/w1' && sha256sum *.whl) <(cd '$big/w2' && sha256sum *.whl)"
check "its wheel passes unzip -t" bash -c "unzip -tq '$big'/w2/*.whl"
check "its wheel passes zipfile's testzip" "$PY" -c '
import glob, sys, zipfile
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/*.whl")[0])
assert z.testzip() is None
so = [i for i in z.infolist() if i.filename.endswith(".so")][0]
assert so.compress_type == zipfile.ZIP_DEFLATED and so.file_size > 10000000, so
' "$big/w2"
check "spoke show finds it valid" bash -c "'$SPOKE' show -q '$big'/w2/*.whl"
check "the module comes out of it byte for byte" \
	bash -c "unzip -p '$big'/w2/*.whl 'hello*.so' | cmp - '$big/lib/libhello.so'"

# Without the knob the coordinator sets each job's thread budget: -j 1
# means one thread, and the only job of a -j 2 build gets both slots.
# strace counts the threads the workers start (clone with CLONE_THREAD).
threads_used() { # threads_used JOBS
	rm -rf "$big/st" "$big/wt"
	strace -f -qq -e trace=clone,clone3 -o "$big/clone.out" \
		"$SPOKE" serve --state-dir "$big/st" --idle-timeout 30 >/dev/null 2>&1 &
	local srv=$!
	if ! await_coordinator "$big/st" $srv; then
		echo "no coordinator under strace"
		kill $srv 2>/dev/null
		return
	fi
	"$SPOKE" build -q -i "$PY" --artifacts "$big/artifacts.json" --state-dir "$big/st" -o "$big/wt" -j "$1" >/dev/null 2>&1 || echo "build failed" >&2
	"$SPOKE" stop --state-dir "$big/st" >/dev/null 2>&1
	wait $srv
	grep -c CLONE_THREAD "$big/clone.out"
}
unset SPOKE_ZIP_THREADS
n1=$(threads_used 1)
n2=$(threads_used 2)
echo "# deflate threads started: -j 1: $n1, -j 2: $n2"
check "-j 1: the worker deflates on its own thread only" test "$n1" -eq 0
check "-j 2, one job: the worker deflates on a second thread too" test "$n2" -ge 1

check "spoke status: no artifact waiting" bash -c "cd '$ws' && '$SPOKE' status | grep -q 'no artifact is waiting'"
check "spoke recover with nothing to do exits 0" bash -c "cd '$ws' && '$SPOKE' recover"
check "spoke stop stops the coordinator" bash -c "cd '$ws' && '$SPOKE' stop | grep -q 'coordinator stopped'"
check "spoke stop when none runs exits 0" bash -c "cd '$ws' && '$SPOKE' stop | grep -q 'no coordinator running'"
check "spoke status without a coordinator reads the journal" bash -c "cd '$ws' && '$SPOKE' status --json | '$PY' -c 'import json,sys; r=json.load(sys.stdin); assert r[\"coordinator\"] is False and r[\"unsettled\"] == []'"
check "no coordinator was started by stop or status" bash -c "! '$SPOKE' status --state-dir '$state' | grep -q 'running (pid'"
check "cargo outputs still untouched" same_snapshot "$ws" "$T/before"
finish
