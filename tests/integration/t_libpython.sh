#!/bin/bash
# spoke build refuses an extension module that links libpython, before
# any wheel is written, saying why and what to change (pyo3's
# extension-module feature, PYO3_BUILD_EXTENSION_MODULE), and gives the
# cargo output back untouched.  The workspace's cdylib links a fake
# libpython3.11 of the test's own (soname libpython3.11.so.1.0) through its
# build script, as a pyo3 build without extension-module links the real
# one.  What `spoke repair` does with such a module (removes the
# DT_NEEDED) is t_auditwheel's.
. "$(dirname "$0")/lib.sh"

unset LD_LIBRARY_PATH
fake="$T/fakepy"
mkdir -p "$fake"
printf 'void *PyModule_Create2(void *d, int v) { (void)v; return d; }\n' >"$fake/py.c"
check "gcc builds a fake libpython3.11" \
	gcc -shared -fPIC -Wl,-soname,libpython3.11.so.1.0 -o "$fake/libpython3.11.so" "$fake/py.c"

ws="$T/ws"
mkdir -p "$ws/src"
cat >"$ws/Cargo.toml" <<TOML
[package]
name = "lp"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[package.metadata.spoke]
module = "lp"
TOML
cat >"$ws/build.rs" <<RS
fn main() {
    println!("cargo:rustc-link-search=native=$fake");
    println!("cargo:rustc-link-lib=dylib=python3.11");
}
RS
cat >"$ws/src/lib.rs" <<'RS'
extern "C" {
    fn PyModule_Create2(def: *mut u8, api: i32) -> *mut u8;
}

#[no_mangle]
pub unsafe extern "C" fn PyInit_lp() -> *mut u8 {
    PyModule_Create2(core::ptr::null_mut(), 1013)
}
RS
check "cargo builds the module" bash -c "cd '$ws' && cargo build --release --offline -q"
so="$ws/target/release/liblp.so"
check "  it needs libpython3.11.so.1.0 (readelf -d)" \
	bash -c "readelf -d '$so' | grep -q 'NEEDED.*\[libpython3.11.so.1.0\]'"
snapshot "$ws" >"$T/before"

for mode in repair skip; do
	check_status "[$mode] spoke build refuses the module" 1 \
		bash -c "cd '$ws' && '$SPOKE' build -i '$PY' --repair=$mode"
	out="$T/last.out"
	check "  it names the module and libpython" \
		grep -q "liblp.so' links libpython3.11.so.1.0" "$out"
	check "  it says why" grep -q 'an extension module must not link libpython' "$out"
	check "  it says what to change" \
		bash -c "grep -q 'extension-module' '$out' && grep -q 'PYO3_BUILD_EXTENSION_MODULE=1' '$out'"
	check "  no wheel is written" \
		bash -c "! ls '$ws/target/wheels'/*.whl 2>/dev/null | grep -q ."
	check "  the cargo output has its inode and bytes" same_snapshot "$ws" "$T/before"
	check "  nothing is left staged or half-written" no_leftovers "$ws" "$ws/target/spoke"
done

check_status "--json: the result is a failure with the reason" 1 \
	bash -c "cd '$ws' && '$SPOKE' build -i '$PY' --json"
check "  ok is false and the error names libpython" "$PY" -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
assert r["type"] == "result" and r["ok"] is False, r
assert "must not link libpython" in r["error"], r
' "$T/last.out"

finish
