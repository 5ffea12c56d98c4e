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

# A module that does not link libpython itself but needs a library that
# does (a Boost.Python, say) is built: the repair bundles that library
# and removes its DT_NEEDED on libpython, and says so.
bp="$T/bp"
mkdir -p "$bp" "$T/ws2/src"
printf 'void *PyModule_Create2(void *d, int v);\nvoid *bp_make(void *d) { return PyModule_Create2(d, 1013); }\n' >"$bp/bp.c"
check "gcc builds libbp.so.1, which links the fake libpython" bash -c "
gcc -shared -fPIC -Wl,-soname,libbp.so.1 -o '$bp/libbp.so' '$bp/bp.c' -L'$fake' -lpython3.11 &&
cp '$bp/libbp.so' '$bp/libbp.so.1'"
sed -e 's/^name = "lp"/name = "bpm"/' -e 's/^module = "lp"/module = "bpm"/' "$ws/Cargo.toml" >"$T/ws2/Cargo.toml"
cat >"$T/ws2/build.rs" <<RS
fn main() {
    println!("cargo:rustc-link-search=native=$bp");
    println!("cargo:rustc-link-search=native=$fake");
    println!("cargo:rustc-link-lib=dylib=bp");
}
RS
cat >"$T/ws2/src/lib.rs" <<'RS'
extern "C" {
    fn bp_make(def: *mut u8) -> *mut u8;
}

#[no_mangle]
pub unsafe extern "C" fn PyInit_bpm() -> *mut u8 {
    bp_make(core::ptr::null_mut())
}
RS
check_status "spoke build of a module needing libbp succeeds" 0 \
	bash -c "cd '$T/ws2' && '$SPOKE' build -i '$PY'"
check "  it says it removes libpython from the bundled libbp" \
	grep -Eq 'removes DT_NEEDED libpython3.11.so.1.0 from bpm.libs/libbp-[0-9a-f]{8}.so.1' "$T/last.out"
whl=$(ls "$T"/ws2/target/wheels/bpm-0.1.0-*.whl 2>/dev/null)
rm -rf "$T/x" && mkdir -p "$T/x" && unzip -q -d "$T/x" "$whl" 2>/dev/null
check "  the bundled copy no longer needs libpython (readelf -d)" \
	bash -c "readelf -d '$T'/x/bpm.libs/libbp-*.so.1 >'$T/x/dyn' && ! grep -q 'NEEDED.*libpython' '$T/x/dyn'"

finish
