#!/bin/bash
# PyO3 crates: abi3 from pyo3's resolved abi3 features (cpXY-abi3 and
# .abi3.so) for the packages that use pyo3, never for a raw-FFI module
# beside them; PYO3_BUILD_EXTENSION_MODULE=1 and PYO3_PYTHON in cargo's
# environment; a [package.metadata.spoke] abi3 that disagrees with the
# features, and abi3 for a free-threaded interpreter, refused.  One
# workspace and one target directory: pyo3 compiles once per PYO3_PYTHON.
. "$(dirname "$0")/lib.sh"

ws="$T/pw"
mkdir -p "$ws/ext/src"
cp -r "$SRC/examples/pyffi" "$SRC/examples/hello" "$ws/"
# The raw-FFI module joins by its PyInit_hello export, as ext does.
sed -i '/^\[package.metadata.spoke\]/,$d' "$ws/hello/Cargo.toml"
cat >"$ws/Cargo.toml" <<'TOML'
[workspace]
resolver = "2"
members = ["ext", "pyffi", "hello"]
[profile.release]
strip = false
TOML
cat >"$ws/ext/Cargo.toml" <<'TOML'
[package]
name = "ext"
version = "0.2.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.17", features = ["extension-module", "abi3-py37"] }
TOML
# The build script records the environment cargo gives build scripts,
# which is where pyo3's own build script reads PYO3_* from.
cat >"$ws/ext/build.rs" <<'RS'
use std::fmt::Write;
fn main() {
    let mut s = String::new();
    for (k, v) in std::env::vars() {
        writeln!(s, "{}={}", k, v).unwrap();
    }
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("spoke-env.txt");
    std::fs::write(out, s).unwrap();
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=PYO3_BUILD_EXTENSION_MODULE");
}
RS
cat >"$ws/ext/src/lib.rs" <<'RS'
use pyo3::prelude::*;

#[pyfunction]
fn double(x: i64) -> i64 {
    x * 2
}

#[pymodule]
fn ext(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(double, m)?)?;
    Ok(())
}
RS
pyo3_offline "$ws"
cp311=$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
# From the workspace: cargo reads .cargo/config.toml from its cwd up.
build() { (cd "$ws" && "$SPOKE" build -q -i "${2:-$PY}" -o "$1"); }

check "spoke build of a workspace with a pyo3 abi3 crate and a raw-FFI one" build "$T/w"
ext=$(ls "$T"/w/ext-0.2.0-cp37-abi3-*.whl 2>/dev/null)
hello=$(ls "$T"/w/hello-0.1.0a1-$cp311-$cp311-*.whl 2>/dev/null)
check "  the pyo3 crate's wheel is tagged cp37-abi3 (abi3-py37)" test -n "$ext"
check "  its module is ext.abi3.so" bash -c "unzip -Z1 '$ext' | grep -qx 'ext\.abi3\.so'"
check "  WHEEL says Tag: cp37-abi3-..." bash -c "unzip -p '$ext' '*/WHEEL' | grep -q '^Tag: cp37-abi3-'"
check "  the raw-FFI module keeps $cp311-$cp311" test -n "$hello"
check "  and its interpreter suffix" bash -c "unzip -Z1 '$hello' | grep -qx 'hello\.cpython-.*\.so'"
v=$(make_venv pyo3)
check "  both install into a fresh venv and their functions run" bash -c "'$v/bin/pip' install -q --no-index '$ext' '$hello' && cd '$T' && '$v/bin/python' -c 'import ext, hello; assert ext.double(21) == 42; assert ext.__file__.endswith(\"ext.abi3.so\"); assert hello.add(1, 2) == 3'"

envf=$(find "$ws/target/release/build" -path '*/ext-*/out/spoke-env.txt' 2>/dev/null | head -1)
check "cargo's build scripts see PYO3_BUILD_EXTENSION_MODULE=1" grep -qx 'PYO3_BUILD_EXTENSION_MODULE=1' "$envf"
check "  and PYO3_PYTHON, the interpreter" grep -qx "PYO3_PYTHON=$PY" "$envf"

# The same floor stated both ways agrees; a different one is an error
# naming both, and so is an abi3 setting pyo3's features do not share.
printf '\n[package.metadata.spoke]\nabi3 = "cp37"\n' >>"$ws/ext/Cargo.toml"
check "[package.metadata.spoke] abi3 = cp37 agrees with abi3-py37" build "$T/agree"
check "  and gives the cp37-abi3 wheel" bash -c "ls '$T'/agree/ext-0.2.0-cp37-abi3-*.whl"
sed -i 's/^abi3 = .*/abi3 = "cp38"/' "$ws/ext/Cargo.toml"
check_status "[package.metadata.spoke] abi3 = cp38 with pyo3's abi3-py37 fails" 1 build "$T/bad1"
check "  naming both" bash -c "grep -q 'abi3 = \"cp38\"' '$T/last.out' && grep -q 'abi3-py37' '$T/last.out'"
sed -i '/^\[package.metadata.spoke\]/,$d' "$ws/ext/Cargo.toml"

# A free-threaded 3.13 as far as spoke's query can tell; pyo3's build
# script gets the real interpreter.
export SPOKE_STANDIN_REAL=$PY
check_status "abi3 (pyo3's abi3-py37) with a free-threaded interpreter fails" 1 build "$T/bad2" "$SRC/tests/tools/py313t.sh"
check "  and says why" bash -c "grep -q 'free-threaded' '$T/last.out' && grep -q 'cp313t' '$T/last.out'"
check "no wheel was left by the failures" bash -c "! ls '$T'/bad*/*.whl 2>/dev/null"
finish
