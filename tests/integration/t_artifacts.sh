#!/bin/bash
# spoke build --artifacts: prebuilt shared objects, no cargo; strict
# validation of the file, each error naming the entry and the field.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
d="$T/pre"
mkdir -p "$d/lib"
cp "$ws/target/release/libhello.so" "$ws/target/release/libcounter.so" "$d/lib/"
sha_before=$(sha256sum "$d"/lib/*.so)
cat >"$d/artifacts.json" <<'JSON'
{"artifacts": [
  {"path": "lib/libhello.so", "distribution": "hello-prebuilt", "version": "1.2.3", "module": "hello",
   "metadata": {"summary": "Prebuilt hello"}},
  {"path": "lib/libcounter.so", "distribution": "counter", "version": "2.0rc1", "module": "counter"}
]}
JSON
check "build --artifacts succeeds from another directory" bash -c "cd '$T' && '$SPOKE' build -q -i '$PY' --artifacts '$d/artifacts.json'"
check "wheels land in wheels/ beside the file" bash -c "ls '$d'/wheels/hello_prebuilt-1.2.3-*.whl '$d'/wheels/counter-2.0rc1-*.whl"
check "state directory defaults to .spoke/ beside the file" test -f "$d/.spoke/journal.db"
check "the shared objects are untouched" bash -c "[ \"\$(sha256sum '$d'/lib/*.so)\" = '$sha_before' ]"
check "nothing left staged" bash -c "[ -z \"\$(ls -A '$d/.spoke/staged')\" ]"
check "the wheels are valid" wheels_valid "$d/wheels"
v=$(make_venv art)
check "they install and import" bash -c "'$v/bin/pip' install -q --no-index '$d'/wheels/*.whl && '$v/bin/python' -c 'import hello, counter; assert hello.add(1, 2) == 3'"
check "metadata from the file reaches METADATA" bash -c "unzip -p '$d'/wheels/hello_prebuilt-*.whl 'hello_prebuilt-1.2.3.dist-info/METADATA' | grep -q '^Summary: Prebuilt hello'"
"$SPOKE" stop --state-dir "$d/.spoke" >/dev/null 2>&1

# A module that needs a library from a relative linked_paths entry: the
# entry is relative to the file, as "path" is, not to the coordinator.
helper=$(ls "$ws"/target/release/build/spoke-native-*/out/libspokehelper.so.1 | head -1)
mkdir -p "$T/lp/lib" "$T/lp/helper"
cp "$ws/target/release/libnative.so" "$T/lp/lib/"
cp "$helper" "$T/lp/helper/"
cat >"$T/lp/artifacts.json" <<'JSON'
{"artifacts": [{"path": "lib/libnative.so", "distribution": "native-prebuilt",
  "version": "1.0", "module": "native", "linked_paths": ["helper"]}]}
JSON
check "a relative linked_paths entry is found beside the file" \
	bash -c "cd '$T' && '$SPOKE' build -q -i '$PY' --artifacts '$T/lp/artifacts.json' && unzip -Z1 '$T'/lp/wheels/native_prebuilt-*.whl | grep -q '^native_prebuilt.libs/libspokehelper-'"
"$SPOKE" stop --state-dir "$T/lp/.spoke" >/dev/null 2>&1

# Bad files: each a clear error naming the entry and the field.
bad() { # bad NAME EXPECTED-MESSAGE JSON
	printf '%s\n' "$3" >"$d/$1.json"
	check_status "--artifacts $1: exit 1" 1 "$SPOKE" build -q -i "$PY" --artifacts "$d/$1.json"
	check "--artifacts $1: says '$2'" grep -qF "$2" "$T/last.out"
}
bad missing-field "artifact 0: missing field 'version'" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "x", "module": "hello"}]}'
bad wrong-type "artifact 0: field 'version' must be a non-empty string" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "x", "version": 1, "module": "hello"}]}'
bad no-such-path "lib/nope.so" \
	'{"artifacts": [{"path": "lib/nope.so", "distribution": "x", "version": "1", "module": "m"}]}'
bad bad-name "is not a valid distribution name" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "../evil", "version": "1", "module": "hello"}]}'
bad bad-version "is not a PEP 440 version" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "x", "version": "one", "module": "hello"}]}'
bad bad-module "is not a Python module name" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "x", "version": "1", "module": "a/b"}]}'
bad unknown-field "unknown field 'pth'" \
	'{"artifacts": [{"pth": "lib/libhello.so", "path": "lib/libhello.so", "distribution": "x", "version": "1", "module": "hello"}]}'
bad duplicate-path "artifact 1 ('lib/libhello.so'): duplicate path (also artifact 0)" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "x", "version": "1", "module": "hello"}, {"path": "lib/libhello.so", "distribution": "y", "version": "1", "module": "hello"}]}'
bad duplicate-dist "duplicate distribution (also artifact 0)" \
	'{"artifacts": [{"path": "lib/libhello.so", "distribution": "Same.Name", "version": "1", "module": "hello"}, {"path": "lib/libcounter.so", "distribution": "same-name", "version": "1", "module": "counter"}]}'
bad not-json "cannot read" '{"artifacts": ['
bad empty "no artifacts" '{"artifacts": []}'
bad not-python "does not export PyInit_" \
	"{\"artifacts\": [{\"path\": \"$(readlink -f /lib/x86_64-linux-gnu/libz.so.1)\", \"distribution\": \"z\", \"version\": \"1\", \"module\": \"z\"}]}"
# More entries than one build may carry (BUILD_MAX_ARTIFACTS, 4096): refused
# before any entry is checked, naming the file and the limit; 4096 are not
# refused for their number (here the second entry repeats the first).
many() { # many N: a file of N entries naming the same shared object
	"$PY" -c 'import json, sys
e = {"path": "lib/libhello.so", "distribution": "x", "version": "1", "module": "hello"}
json.dump({"artifacts": [e] * int(sys.argv[1])}, sys.stdout)' "$1" >"$d/many-$1.json"
}
many 4097
check_status "--artifacts with 4097 entries: exit 1" 1 "$SPOKE" build -q -i "$PY" --artifacts "$d/many-4097.json"
check "... names the file and the limit" \
	grep -qE "'[^']*/many-4097.json': 4097 artifacts, more than the limit of 4096 per build" "$T/last.out"
many 4096
check_status "--artifacts with 4096 entries: exit 1" 1 "$SPOKE" build -q -i "$PY" --artifacts "$d/many-4096.json"
check "... for the duplicate, not for their number" \
	bash -c "grep -q 'artifact 1 .*duplicate path' '$T/last.out' && ! grep -q limit '$T/last.out'"
check "after the bad files nothing is staged" bash -c "[ -z \"\$(ls -A '$d/.spoke/staged')\" ]"
check_status "--artifacts with cargo options is a usage error" 2 "$SPOKE" build --artifacts "$d/artifacts.json" -p hello
finish
