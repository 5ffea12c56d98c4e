#!/bin/bash
# PyO3 crates: PYO3_BUILD_EXTENSION_MODULE=1 and PYO3_PYTHON in the
# environment of cargo's build scripts, seen by one that records it.
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

check "spoke build of a workspace with a pyo3 crate and a raw-FFI one" build "$T/w"

envf=$(find "$ws/target/release/build" -path '*/ext-*/out/spoke-env.txt' 2>/dev/null | head -1)
check "cargo's build scripts see PYO3_BUILD_EXTENSION_MODULE=1" grep -qx 'PYO3_BUILD_EXTENSION_MODULE=1' "$envf"
check "  and PYO3_PYTHON, the interpreter" grep -qx "PYO3_PYTHON=$PY" "$envf"
finish
