#!/bin/bash
# maturin's wheel layout for packages with [tool.maturin] (issue 18, item 2):
# fixtures shaped like maturin's test crates (pyo3-mixed, -py-subdir, -src,
# -workspace, -include-exclude, pyo3-pure with its stub, with-data), built
# with Debian's PyO3 0.17, installed into fresh virtual environments,
# imported and called, and their file lists checked against what maturin's
# check_installed.py and wheel tests expect.
. "$(dirname "$0")/lib.sh"

# One target folder for every fixture: pyo3 compiles once.
export CARGO_TARGET_DIR="$T/target"
pyo3_offline "$T"
cd "$T" || exit 1

# crate DIR PACKAGE LIB MODFN: a cdylib crate PACKAGE (lib LIB) whose
# #[pymodule] is named MODFN and has get_42().
crate() {
	mkdir -p "$1/src"
	cat >"$1/Cargo.toml" <<TOML
[package]
name = "$2"
version = "2.1.3"
edition = "2021"

[lib]
name = "$3"
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.17", features = ["extension-module"] }
TOML
	cat >"$1/src/lib.rs" <<RS
use pyo3::prelude::*;

/// Returns 42.
#[pyfunction]
fn get_42() -> usize {
    42
}

#[pymodule]
#[pyo3(name = "$4")]
fn init(_py: Python, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(get_42, m)?)?;
    Ok(())
}
RS
}

# ffi_crate DIR PACKAGE LIB MODNAME: the same module on hand-written FFI
# (examples/pyffi), where pyo3 would add nothing but build time.
cp -r "$SRC/examples/pyffi" "$T/pyffi"
ffi_crate() {
	mkdir -p "$1/src"
	cat >"$1/Cargo.toml" <<TOML
[package]
name = "$2"
version = "2.1.3"
edition = "2021"

[lib]
name = "$3"
crate-type = ["cdylib"]

[dependencies]
pyffi = { path = "$T/pyffi" }
TOML
	cat >"$1/src/lib.rs" <<RS
use pyffi::*;
use std::os::raw::c_char;
use std::ptr::{addr_of_mut, null_mut};

const METH_NOARGS: std::os::raw::c_int = 0x0004;

unsafe extern "C" fn get_42(_m: *mut PyObject, _a: *mut PyObject) -> *mut PyObject {
    PyLong_FromLong(42)
}

static METHODS: MethodTable<2> = MethodTable([
    PyMethodDef {
        ml_name: b"get_42\0".as_ptr() as *const c_char,
        ml_meth: get_42 as OneArg as *const _,
        ml_flags: METH_NOARGS,
        ml_doc: b"Returns 42.\0".as_ptr() as *const c_char,
    },
    PY_METHOD_DEF_SENTINEL,
]);

static mut DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"$4\0".as_ptr() as *const c_char,
    m_doc: std::ptr::null(),
    m_size: -1,
    m_methods: &METHODS.0 as *const PyMethodDef,
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_$4() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(DEF), PYTHON_API_VERSION)
}
RS
}

# pyproj DIR NAME [TOOL-MATURIN-LINES...]: DIR/pyproject.toml.
pyproj() {
	local d=$1 n=$2
	shift 2
	{
		printf '[build-system]\nrequires = ["maturin>=1.0,<2.0"]\nbuild-backend = "maturin"\n\n'
		printf '[project]\nname = "%s"\nversion = "2.1.3"\n\n[tool.maturin]\n' "$n"
		printf '%s\n' "$@"
	} >"$d/pyproject.toml"
}

build() { "$SPOKE" build -q -i "$PY" --manifest-path "$1" -o "$2"; }

# names WHEEL: the wheel's entries, the extension's suffix as <EXT>, the
# dist-info's RECORD, WHEEL and METADATA left out, sorted.
names() {
	unzip -Z1 "$1" | sed -E 's/\.cpython-[0-9]+-[a-z0-9_]+-linux-gnu\.so$/.<EXT>/' |
		grep -vE '\.dist-info/(RECORD|WHEEL|METADATA)$' | LC_ALL=C sort
}

# same_names WHEEL EXPECTED: the entries are exactly EXPECTED (one a line).
same_names() {
	diff <(names "$1") <(printf '%s\n' "$2" | LC_ALL=C sort)
}

# bare_venv NAME: a fresh venv without pip of its own (ensurepip takes
# seconds per venv on a loaded machine); the system pip installs into it.
bare_venv() {
	local v="$T/venv-$1"
	"$PY" -m venv --without-pip "$v" >/dev/null || return 1
	echo "$v"
}
venv_install() { "$PY" -m pip --python "$1/bin/python" install --no-index -q "$2"; }

# installs NAME WHEEL PYCODE: a fresh venv holds WHEEL and runs PYCODE.
installs() {
	local v
	v=$(bare_venv "$1") && venv_install "$v" "$2" && "$v/bin/python" -c "$3"
}

# pyo3-mixed: the package folder named as the module, which goes inside it.
crate mixed mx-mixed mx_mixed mx_mixed
mkdir -p mixed/mx_mixed/python_module mixed/mx_mixed/assets
printf 'from .mx_mixed import get_42\nfrom .python_module.double import double\n' >mixed/mx_mixed/__init__.py
: >mixed/mx_mixed/python_module/__init__.py
printf 'def double(x):\n    return 2 * x\n' >mixed/mx_mixed/python_module/double.py
echo asset >mixed/mx_mixed/assets/asset.txt
pyproj mixed mx-mixed 'include = ["mx_mixed/assets/*"]'
check "mixed: builds" build mixed/Cargo.toml "$T/w/mixed"
whl=$(ls "$T"/w/mixed/mx_mixed-2.1.3-*.whl)
check "  the extension is mx_mixed/mx_mixed.<EXT>, not beside the folder" same_names "$whl" \
'mx_mixed/__init__.py
mx_mixed/assets/asset.txt
mx_mixed/mx_mixed.<EXT>
mx_mixed/python_module/__init__.py
mx_mixed/python_module/double.py'
check "  installs, imports and calls get_42" installs mixed "$whl" '
import mx_mixed, importlib.resources as r
assert mx_mixed.get_42() == 42 and mx_mixed.double(21) == 42
assert r.files("mx_mixed").joinpath("assets/asset.txt").read_text() == "asset\n"'

# pyo3-mixed-py-subdir: module-name with a dot, python-source = "python",
# an include from the pyproject's folder.
ffi_crate subdir mx-subdir mx_subdir _native
mkdir -p subdir/python/mx_subdir subdir/assets
printf 'from ._native import get_42\n' >subdir/python/mx_subdir/__init__.py
echo extra >subdir/assets/extra_data.txt
pyproj subdir mx-subdir 'module-name = "mx_subdir._native"' 'python-source = "python"' \
	'include = ["assets/extra_data.txt"]'
check "py-subdir: builds" build subdir/Cargo.toml "$T/w/subdir"
whl=$(ls "$T"/w/subdir/mx_subdir-2.1.3-*.whl)
check "  sources from python/, the include at the root" same_names "$whl" \
'assets/extra_data.txt
mx_subdir/__init__.py
mx_subdir/_native.<EXT>'
check "  installs, imports and calls get_42" installs subdir "$whl" '
import mx_subdir; assert mx_subdir.get_42() == 42'

# pyo3-mixed-src: pyproject.toml above rust/Cargo.toml, the Python package
# in src/, python-packages shipping tests/ too.
ffi_crate srclayout/rust mx-src mx_src mx_src
mkdir -p srclayout/src/mx_src srclayout/src/tests
printf 'from .mx_src import get_42\n' >srclayout/src/mx_src/__init__.py
printf 'def test_it():\n    pass\n' >srclayout/src/tests/test_mx_src.py
pyproj srclayout mx-src 'python-packages = ["mx_src", "tests"]'
check "src layout: builds" build srclayout/rust/Cargo.toml "$T/w/src"
whl=$(ls "$T"/w/src/mx_src-2.1.3-*.whl)
check "  src/mx_src and src/tests shipped, the extension inside mx_src" same_names "$whl" \
'mx_src/__init__.py
mx_src/mx_src.<EXT>
tests/test_mx_src.py'
check "  installs, imports and calls get_42" installs src "$whl" '
import mx_src; assert mx_src.get_42() == 42'

# pyo3-mixed-workspace: the pyproject at the top names a workspace member
# with manifest-path; python-packages from the src layout.
mkdir -p ws/rust
printf '[workspace]\nmembers = ["core", "py"]\nresolver = "2"\n' >ws/rust/Cargo.toml
mkdir -p ws/rust/core/src
printf '[package]\nname = "mx-ws-core"\nversion = "2.1.3"\nedition = "2021"\n' >ws/rust/core/Cargo.toml
printf 'pub fn get_42() -> usize {\n    42\n}\n' >ws/rust/core/src/lib.rs
ffi_crate ws/rust/py mx-ws-py mx_ws_py mx_ws_py
printf 'mx-ws-core = { path = "../core" }\n' >>ws/rust/py/Cargo.toml
sed -i 's/PyLong_FromLong(42)/PyLong_FromLong(mx_ws_core::get_42() as _)/' ws/rust/py/src/lib.rs
mkdir -p ws/src/mx_ws ws/src/tests
printf 'from .mx_ws_py import get_42\n' >ws/src/mx_ws/__init__.py
: >ws/src/tests/__init__.py
pyproj ws mx-ws 'python-packages = ["mx_ws", "tests"]' 'module-name = "mx_ws.mx_ws_py"' \
	'manifest-path = "rust/py/Cargo.toml"'
check "workspace: builds" build ws/rust/py/Cargo.toml "$T/w/ws"
whl=$(ls "$T"/w/ws/mx_ws-2.1.3-*.whl)
check "  the member's extension in src/'s package" same_names "$whl" \
'mx_ws/__init__.py
mx_ws/mx_ws_py.<EXT>
tests/__init__.py'
check "  installs, imports and calls get_42" installs ws "$whl" '
import mx_ws; assert mx_ws.get_42() == 42'

# python-source = "../src": out of the crate's folder, within its cargo
# workspace; one that leaves the workspace is refused.
mkdir -p rel/src/mx_rel
printf '[workspace]\nmembers = ["crate"]\nresolver = "2"\n' >rel/Cargo.toml
ffi_crate rel/crate mx-rel mx_rel _native
printf 'from ._native import get_42\n' >rel/src/mx_rel/__init__.py
pyproj rel/crate mx-rel 'module-name = "mx_rel._native"' 'python-source = "../src"'
check "python-source ../src: builds" build rel/crate/Cargo.toml "$T/w/rel"
whl=$(ls "$T"/w/rel/mx_rel-2.1.3-*.whl)
check "  the package from ../src" same_names "$whl" \
'mx_rel/__init__.py
mx_rel/_native.<EXT>'
check "  installs, imports and calls get_42" installs rel "$whl" '
import mx_rel; assert mx_rel.get_42() == 42'
mkdir -p elsewhere/mx_rel && cp rel/src/mx_rel/__init__.py elsewhere/mx_rel/
sed -i 's|^python-source = .*|python-source = "../../elsewhere"|' rel/crate/pyproject.toml
check_status "  a python-source out of the workspace is refused" 1 build rel/crate/Cargo.toml "$T/w/rel2"
check "  naming the folder and the root" grep -q "elsewhere.*outside the project root '$T/rel'" "$T/last.out"

# pyo3-mixed-include-exclude: maturin's own patterns, out-dir included.
ffi_crate ie mx-ie mx_ie mx_ie
mkdir -p ie/mx_ie/python_module ie/tests/deep
printf 'from .mx_ie import get_42\n' >ie/mx_ie/__init__.py
: >ie/mx_ie/python_module/__init__.py
: >ie/mx_ie/python_module/double.py
: >ie/mx_ie/include_this_file
: >ie/mx_ie/exclude_this_file
: >ie/tests/deep/test_x.py
echo readme >ie/README.md
# A build script's output, shipped by include {from = "out-dir"}.
cat >ie/build.rs <<'RS'
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/generated_info.txt"), "hello from build.rs").unwrap();
}
RS
pyproj ie mx-ie \
	'include = ["mx_ie/include_this_file", "missing", "README.md", {path = "tests/**/*", format = "sdist"}, {path = "generated_info.txt", from = "out-dir", to = "mx_ie/"}]' \
	'exclude = ["mx_ie/exclude_this_file", "mx_ie/.gitignore", "tests/**/*", "unused", {path = "mx_ie/python_module/double.py", format = "sdist"}]'
check "include/exclude: builds" build ie/Cargo.toml "$T/w/ie"
whl=$(ls "$T"/w/ie/mx_ie-2.1.3-*.whl)
check "  the files maturin's wheel test lists" same_names "$whl" \
'README.md
mx_ie/__init__.py
mx_ie/generated_info.txt
mx_ie/include_this_file
mx_ie/mx_ie.<EXT>
mx_ie/python_module/__init__.py
mx_ie/python_module/double.py'
check "  installs, imports and calls get_42" installs ie "$whl" '
import mx_ie, importlib.resources as r
assert mx_ie.get_42() == 42
assert r.files("mx_ie").joinpath("generated_info.txt").read_text() == "hello from build.rs"'

# pyo3-pure with a stub: the module becomes a package.
crate pure mx_pure mx_pure mx_pure
printf 'def get_42() -> int: ...\n' >pure/mx_pure.pyi
pyproj pure mx_pure 'bindings = "pyo3"'
check "pure with a stub: builds" build pure/Cargo.toml "$T/w/pure"
whl=$(ls "$T"/w/pure/mx_pure-2.1.3-*.whl)
check "  __init__.py, the extension, __init__.pyi and py.typed in mx_pure/" same_names "$whl" \
'mx_pure/__init__.py
mx_pure/__init__.pyi
mx_pure/mx_pure.<EXT>
mx_pure/py.typed'
check "  installs, imports and calls get_42; the stub and py.typed are there" installs pure "$whl" '
import os, mx_pure
assert mx_pure.get_42() == 42 and mx_pure.__doc__ == mx_pure.mx_pure.__doc__
d = os.path.dirname(mx_pure.__file__)
assert os.path.exists(os.path.join(d, "__init__.pyi")) and os.path.exists(os.path.join(d, "py.typed"))'
rm pure/mx_pure.pyi
check "pure without a stub: builds" build pure/Cargo.toml "$T/w/pure2"
# maturin makes every pure pyo3 module a package (its pyo3 binding
# generator), a stub or not; the stub and py.typed come with a stub.
check "  still a package: __init__.py and the extension, no stub or py.typed" same_names "$(ls "$T"/w/pure2/mx_pure-2.1.3-*.whl)" \
'mx_pure/__init__.py
mx_pure/mx_pure.<EXT>'
check "  installs, imports and calls get_42" installs pure2 "$(ls "$T"/w/pure2/mx_pure-2.1.3-*.whl)" '
import mx_pure
assert mx_pure.get_42() == 42'

# with-data: <module>.data/ goes to <dist>-<version>.data/; a link inside
# the project is followed, a link out of it refused.
ffi_crate data mx-data mx_data mx_data
mkdir -p data/mx_data.data/data/data_subdir data/mx_data.data/headers data/mx_data.data/scripts data/shared
echo 'Hi!' >data/shared/hello.txt
ln -s ../../../shared/hello.txt data/mx_data.data/data/data_subdir/hello.txt
: >data/mx_data.data/headers/empty.h
printf '#!/bin/sh\necho from-data-script\n' >data/mx_data.data/scripts/mx-data-hello
chmod 755 data/mx_data.data/scripts/mx-data-hello
pyproj data mx-data
check "with-data: builds" build data/Cargo.toml "$T/w/data"
whl=$(ls "$T"/w/data/mx_data-2.1.3-*.whl)
check "  data, headers and scripts under mx_data-2.1.3.data/" same_names "$whl" \
'mx_data-2.1.3.data/data/data_subdir/hello.txt
mx_data-2.1.3.data/headers/empty.h
mx_data-2.1.3.data/scripts/mx-data-hello
mx_data/__init__.py
mx_data/mx_data.<EXT>'
v=$(bare_venv data)
check "  installs" venv_install "$v" "$whl"
check "  imports and calls get_42; the files are where with-data's check looks" "$v/bin/python" -c '
import sys, pathlib, mx_data
assert mx_data.get_42() == 42
root = pathlib.Path(sys.prefix)
assert root.joinpath("data_subdir", "hello.txt").read_text() == "Hi!\n"
v = sys.version_info
assert root.joinpath("include", "site", f"python{v.major}.{v.minor}", "mx-data", "empty.h").is_file()'
check "  the script runs" bash -c "'$v/bin/mx-data-hello' | grep -qx from-data-script"
echo secret >"$T/outside.txt"
ln -s "$T/outside.txt" data/mx_data.data/headers/leak.h
check_status "  a data file linked out of the project is refused" 1 build data/Cargo.toml "$T/w/data2"
check "  naming the link" grep -q "leak.h.*outside the project root" "$T/last.out"

finish
