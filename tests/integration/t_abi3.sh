#!/bin/bash
# abi3 = "cp38" in [package.metadata.spoke]: a stable-ABI wheel.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
hello="$ws/hello"
sed -i 's/^module = "hello"$/&\nabi3 = "cp38"/' "$hello/Cargo.toml"
build() { "$SPOKE" build -q -i "$PY" --manifest-path "$hello/Cargo.toml" -o "$1"; }

check "spoke build of an abi3 package" build "$T/w"
whl=$(ls "$T"/w/hello-0.1.0a1-cp38-abi3-*.whl 2>/dev/null)
check "  the wheel is tagged cp38-abi3" test -n "$whl"
check "  the module is hello.abi3.so" bash -c "unzip -Z1 '$whl' | grep -qx hello.abi3.so"
check "  WHEEL says Tag: cp38-abi3-..." bash -c "unzip -p '$whl' '*/WHEEL' | grep -q '^Tag: cp38-abi3-'"
check "  spoke show: valid" "$SPOKE" show -q "$whl"
v=$(make_venv abi3)
check "  pip installs it and it imports" bash -c "'$v/bin/pip' install -q --no-index '$whl' && cd '$T' && '$v/bin/python' -c 'import hello; assert hello.add(1, 2) == 3; assert hello.__file__.endswith(\"hello.abi3.so\")'"

# A free-threaded CPython has no stable ABI: tests/tools/py313t.sh answers
# spoke's query as python3.13t would.
ft() { "$SPOKE" build -q -i "$SRC/tests/tools/py313t.sh" --manifest-path "$hello/Cargo.toml" -o "$1"; }
export SPOKE_STANDIN_REAL=$PY
check_status "abi3 with a free-threaded interpreter fails" 1 ft "$T/bad0"
check "  and says why, naming the setting" bash -c "grep -q 'free-threaded interpreter cp313t' '$T/last.out' && grep -q 'abi3 = \"cp38\"' '$T/last.out'"

sed -i 's/^abi3 = .*$/abi3 = "cp399"/' "$hello/Cargo.toml"
check_status "abi3 newer than the interpreter fails" 1 build "$T/bad1"
check "  and says so" grep -q 'needs Python 3.99 or newer' "$T/last.out"
sed -i 's/^abi3 = .*$/abi3 = "py3"/' "$hello/Cargo.toml"
check_status "an abi3 that is not a cp3X tag fails" 1 build "$T/bad2"
check "  and says so" grep -q 'abi3 must be a CPython tag' "$T/last.out"
check "no wheel was left by the failures" bash -c "! ls '$T'/bad*/*.whl 2>/dev/null"
finish
