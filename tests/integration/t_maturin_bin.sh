#!/bin/bash
# Rust programs shipped as wheels (maturin's bindings = "bin", as ruff and
# uv are): the package a pyproject.toml configures, with a bin target and
# no cdylib (or bindings = "bin"), becomes a py3-none wheel holding its
# program at <dist>.data/scripts/<name>, which pip installs as a command.
# A program that links a library its build script made gets it bundled,
# and runs from platlib behind a launcher.  A helper bin of the workspace
# (an xtask) is no wheel; a cdylib module beside a bin wins when bindings
# is unset.  cargo's executable is given back, as a module is, after a
# build and after a crash.
. "$(dirname "$0")/lib.sh"

# One target folder for every fixture: they share nothing else.
export CARGO_TARGET_DIR="$T/target"
build() { (cd "$1" && "$SPOKE" build -q -i "$PY" -o "$2" "${@:3}"); }

# hello-bin: a plain program; only [build-system] names maturin, so the
# bin is found, not declared.
mkdir -p "$T/hello/src"
cat >"$T/hello/Cargo.toml" <<'EOF'
[package]
name = "hello-bin"
version = "0.1.0"
edition = "2021"
description = "Says hello"

[dependencies]
EOF
cat >"$T/hello/src/main.rs" <<'EOF'
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("Hello from a wheel! {}", args.join(" "));
}
EOF
cat >"$T/hello/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "hello-bin"
version = "0.1.0"
EOF

check "spoke build of a bin crate" build "$T/hello" "$T/w1"
whl=$(ls "$T"/w1/hello_bin-0.1.0-py3-none-*.whl 2>/dev/null)
check "one wheel, tagged py3-none (the program needs no Python)" \
	bash -c "[ \$(ls '$T/w1' | wc -l) -eq 1 ] && [ -n '$whl' ]"
check "the platform tag is manylinux" bash -c "[[ '$whl' == *-py3-none-manylinux_2_*_x86_64.whl ]]"
unzip -Z1 "$whl" >"$T/names1" 2>/dev/null
check "the program is at <dist>.data/scripts/<bin name>, nothing else but dist-info" \
	diff "$T/names1" - <<'EOF'
hello_bin-0.1.0.data/scripts/hello-bin
hello_bin-0.1.0.dist-info/METADATA
hello_bin-0.1.0.dist-info/WHEEL
hello_bin-0.1.0.dist-info/RECORD
EOF
check "its mode in the wheel is 0755" bash -c "'$PY' -c 'import zipfile,sys; i = zipfile.ZipFile(sys.argv[1]).getinfo(\"hello_bin-0.1.0.data/scripts/hello-bin\"); sys.exit((i.external_attr >> 16) & 0o777 != 0o755)' '$whl'"
check "it is cargo's executable, byte for byte" bash -c "unzip -p '$whl' hello_bin-0.1.0.data/scripts/hello-bin | cmp - '$CARGO_TARGET_DIR/release/hello-bin'"
check "WHEEL says Tag: py3-none-manylinux" bash -c "unzip -p '$whl' hello_bin-0.1.0.dist-info/WHEEL | grep -q '^Tag: py3-none-manylinux_2_'"
check "the wheel is valid (RECORD holds)" wheels_valid "$T/w1"
v=$(make_venv hello)
check "pip installs it into a fresh venv" "$v/bin/pip" install --no-index -q "$whl"
check "the installed command runs and prints what it should" \
	bash -c "[ \"\$('$v/bin/hello-bin' a b)\" = 'Hello from a wheel! a b' ]"
check "... found on PATH as a command" \
	bash -c "PATH='$v/bin':\$PATH; [ \"\$(hello-bin)\" = 'Hello from a wheel! ' ]"

# Crash safety: cargo's executable stays at its path with its inode and
# bytes after a build, after a worker dies mid-job, and after the
# coordinator dies with the program staged; in both staging modes.
state="$CARGO_TARGET_DIR/spoke"
export SNAPSHOT_NAME='hello-bin'
snapshot "$T" >"$T/before"
check "the snapshot sees cargo's executable" grep -q '^hello-bin ' "$T/before"
check "after the build, the executable is back (same inode and bytes)" same_snapshot "$T" "$T/before"
# The coordinator's crash point where it hands the job to a worker: the
# program is staged then (in move mode, away from cargo's path).
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
rm -f "$T/faults"
SPOKE_FAULT_LOG="$T/faults" build "$T/hello" "$T/w2" >/dev/null 2>&1
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
at=$(awk '$1 == "server" && $3 == "job" { print $2; exit }' "$T/faults")
check "the coordinator has a crash point at the job's hand-over ($at)" test -n "$at"
for mode in link move; do
	rm -rf "$T/w2"
	SPOKE_CRASH_AT="worker:2" build "$T/hello" "$T/w2" --stage=$mode >"$T/crash.out" 2>&1
	check "[$mode] a worker killed mid-job fails the build" test $? -eq 1
	check "[$mode] ... and the executable is back already" same_snapshot "$T" "$T/before"
	"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
	SPOKE_CRASH_AT="server:${at:-1}" build "$T/hello" "$T/w2" --stage=$mode >"$T/crash.out" 2>&1
	check "[$mode] the coordinator killed with the program staged: the build fails" test $? -ne 0
	(cd "$T/hello" && "$SPOKE" recover --state-dir "$state") >"$T/recover.out" 2>&1
	check "[$mode] spoke recover gives the executable back" same_snapshot "$T" "$T/before"
	check "[$mode] then a build succeeds" build "$T/hello" "$T/w2" --stage=$mode
	check "[$mode] ... and gives it back" same_snapshot "$T" "$T/before"
	"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
done
check "cargo is still fresh" bash -c "cd '$T/hello' && cargo build --release --offline -v 2>&1 | grep -q 'Fresh hello-bin' && ! cargo build --release --offline -v 2>&1 | grep -Eq '^ *(Compiling|Dirty)'"
unset SNAPSHOT_NAME

# greet: bindings = "bin" declared; the program links libgreet.so, which
# its build script compiles from bundled C: the repair grafts it, the
# program moves to platlib beside it and a launcher runs it.
mkdir -p "$T/greet/src" "$T/greet/csrc"
cat >"$T/greet/Cargo.toml" <<'EOF'
[package]
name = "greet"
version = "1.2.0"
edition = "2021"
build = "build.rs"
EOF
cat >"$T/greet/csrc/greet.c" <<'EOF'
#include <stdio.h>
void greet(const char *who) { printf("Greetings, %s, from bundled C\n", who); fflush(stdout); }
EOF
cat >"$T/greet/build.rs" <<'EOF'
use std::{env, path::PathBuf, process::Command};
fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let ok = Command::new("cc")
        .args(["-shared", "-fPIC", "-Wl,-soname,libgreet.so", "-o"])
        .arg(out.join("libgreet.so"))
        .arg("csrc/greet.c")
        .status()
        .unwrap()
        .success();
    assert!(ok, "cc failed");
    println!("cargo:rerun-if-changed=csrc/greet.c");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib=greet");
}
EOF
cat >"$T/greet/src/main.rs" <<'EOF'
use std::ffi::CString;
use std::os::raw::c_char;
extern "C" {
    fn greet(who: *const c_char);
}
fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    let c = CString::new(who).unwrap();
    unsafe { greet(c.as_ptr()) };
}
EOF
cat >"$T/greet/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "greet"
version = "1.2.0"

[tool.maturin]
bindings = "bin"
EOF
check "spoke build of a program that links a library its build script made" build "$T/greet" "$T/w3"
whl=$(ls "$T"/w3/greet-1.2.0-py3-none-manylinux_2_*.whl 2>/dev/null)
check "one py3-none manylinux wheel" test -n "$whl"
unzip -Z1 "$whl" >"$T/names3" 2>/dev/null
check "libgreet is bundled into greet.libs/, the program in greet.scripts/, a launcher in scripts" \
	bash -c "grep -qx 'greet.libs/libgreet-[0-9a-f]\{8\}.so' '$T/names3' && grep -qx 'greet.scripts/greet' '$T/names3' && grep -qx 'greet-1.2.0.data/scripts/greet' '$T/names3'"
check "the launcher is a #!python script" bash -c "unzip -p '$whl' greet-1.2.0.data/scripts/greet | head -1 | grep -qx '#!python'"
check "the wheel is valid (RECORD holds)" wheels_valid "$T/w3"
v=$(make_venv greet)
check "pip installs it" "$v/bin/pip" install --no-index -q "$whl"
check "the installed command runs the program with the bundled library" \
	bash -c "[ \"\$('$v/bin/greet' spoke)\" = 'Greetings, spoke, from bundled C' ]"

# A program beside a Python package (maturin's bin-with-python-module):
# module-name names the package, which the wheel holds beside the program.
mkdir -p "$T/bwp/src" "$T/bwp/bin_with_py"
cat >"$T/bwp/Cargo.toml" <<'EOF'
[package]
name = "bin-with-py"
version = "0.3.0"
edition = "2021"
EOF
echo 'fn main() { println!("bin-with-py {}", env!("CARGO_PKG_VERSION")); }' >"$T/bwp/src/main.rs"
printf 'def get_version():\n    return "0.3.0"\n' >"$T/bwp/bin_with_py/__init__.py"
cat >"$T/bwp/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "bin-with-py"
version = "0.3.0"

[tool.maturin]
bindings = "bin"
module-name = "bin_with_py"
EOF
check "spoke build of a program with a Python package" build "$T/bwp" "$T/w8"
whl=$(ls "$T"/w8/bin_with_py-0.3.0-py3-none-*.whl 2>/dev/null)
check "the wheel holds the program and the package" \
	bash -c "unzip -Z1 '$whl' | grep -qx 'bin_with_py-0.3.0.data/scripts/bin-with-py' && unzip -Z1 '$whl' | grep -qx 'bin_with_py/__init__.py'"
v=$(make_venv bwp)
check "pip installs it" "$v/bin/pip" install --no-index -q "$whl"
check "the package imports and the command runs" \
	bash -c "'$v/bin/python' -c 'from bin_with_py import get_version; assert get_version() == \"0.3.0\"' && [ \"\$('$v/bin/bin-with-py')\" = 'bin-with-py 0.3.0' ]"

# A workspace: the package its pyproject configures ships its program;
# the xtask helper bin beside it is no wheel.
mkdir -p "$T/ws/app/src" "$T/ws/xtask/src"
cat >"$T/ws/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["app", "xtask"]
EOF
cat >"$T/ws/app/Cargo.toml" <<'EOF'
[package]
name = "app"
version = "0.2.0"
edition = "2021"
EOF
echo 'fn main() { println!("app here"); }' >"$T/ws/app/src/main.rs"
cat >"$T/ws/app/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "ws-app"
version = "0.2.0"
EOF
cat >"$T/ws/xtask/Cargo.toml" <<'EOF'
[package]
name = "xtask"
version = "0.1.0"
edition = "2021"
EOF
echo 'fn main() { println!("xtask"); }' >"$T/ws/xtask/src/main.rs"
check "spoke build of the workspace" build "$T/ws" "$T/w4"
check "cargo linked the xtask too" test -x "$CARGO_TARGET_DIR/release/xtask"
check "exactly one wheel: the app's" bash -c "w=\$(cd '$T/w4' && ls ws_app-0.2.0-py3-none-*.whl) && [ \"\$(ls '$T/w4')\" = \"\$w\" ]"
check "it holds the app alone" bash -c "unzip -Z1 '$T'/w4/ws_app-*.whl | grep -c 'data/scripts/' | grep -qx 1 && unzip -Z1 '$T'/w4/ws_app-*.whl | grep -qx 'ws_app-0.2.0.data/scripts/app'"
# A member that ships a program of its own, which the app also uses as a
# library: built with -p app, cargo compiles its lib alone, and it makes
# no wheel (nor an error about its program).
mkdir -p "$T/ws/tool/src"
cat >"$T/ws/tool/Cargo.toml" <<'EOF'
[package]
name = "tool"
version = "0.1.0"
edition = "2021"
EOF
echo 'pub fn word() -> &'"'"'static str { "tool" }' >"$T/ws/tool/src/lib.rs"
echo 'fn main() { println!("{}", tool::word()); }' >"$T/ws/tool/src/main.rs"
printf '[build-system]\nbuild-backend = "maturin"\n\n[project]\nname = "ws-tool"\nversion = "0.1.0"\n' >"$T/ws/tool/pyproject.toml"
sed -i 's/"app", "xtask"/"app", "xtask", "tool"/' "$T/ws/Cargo.toml"
printf '\n[dependencies]\ntool = { path = "../tool" }\n' >>"$T/ws/app/Cargo.toml"
echo 'fn main() { println!("app here, with {}", tool::word()); }' >"$T/ws/app/src/main.rs"
check "spoke build -p app: the app's program alone" build "$T/ws" "$T/w9" -p app
check "... one wheel, the app's" bash -c "w=\$(cd '$T/w9' && ls ws_app-0.2.0-py3-none-*.whl) && [ \"\$(ls '$T/w9')\" = \"\$w\" ]"
check "spoke build of the whole workspace: the app's wheel and the tool's" build "$T/ws" "$T/w10"
check "... two wheels, no xtask" bash -c "ls '$T/w10' | sort | tr '\n' ' ' | grep -Eqx 'ws_app-0\.2\.0-py3-none-[^ ]*\.whl ws_tool-0\.1\.0-py3-none-[^ ]*\.whl '"

# A package with a cdylib module and a bin, bindings unset: the module
# wins, as with maturin (the module here is raw FFI, no pyo3).
mkdir -p "$T/both/src/bin"
cat >"$T/both/Cargo.toml" <<'EOF'
[package]
name = "both"
version = "0.1.0"
edition = "2021"

[lib]
name = "both"
crate-type = ["cdylib"]
EOF
cat >"$T/both/src/lib.rs" <<'EOF'
#[no_mangle]
pub extern "C" fn PyInit_both() -> *mut std::ffi::c_void {
    std::ptr::null_mut()
}
EOF
echo 'fn main() { println!("tool"); }' >"$T/both/src/bin/both-tool.rs"
cat >"$T/both/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "both"
version = "0.1.0"
EOF
check "spoke build of a package with a cdylib and a bin" build "$T/both" "$T/w5"
check "the module wins: one cp311 wheel with the extension and no script" \
	bash -c "w=\$(ls '$T'/w5/both-0.1.0-cp*.whl) && unzip -Z1 \"\$w\" | grep -q '^both/both\\.cpython-.*\\.so\$\\|^both\\.cpython-.*\\.so\$' && ! unzip -Z1 \"\$w\" | grep -q 'scripts/'"
# Declared, the bin wins instead.
printf '\n[tool.maturin]\nbindings = "bin"\n' >>"$T/both/pyproject.toml"
check "with bindings = \"bin\", the program is packaged instead" build "$T/both" "$T/w6"
check "... one py3-none wheel with the program, no module" \
	bash -c "w=\$(ls '$T'/w6/both-0.1.0-py3-none-*.whl) && unzip -Z1 \"\$w\" | grep -qx 'both-0.1.0.data/scripts/both-tool' && ! unzip -Z1 \"\$w\" | grep -q '\\.so\$'"

# Two programs in one package: refused, naming them (spoke's jobs put
# one program in a wheel).
echo 'fn main() { println!("foo"); }' >"$T/both/src/bin/foo.rs"
check_status "two bins: refused" 1 build "$T/both" "$T/w7"
check "... naming both" grep -q "2 programs (both-tool, foo)\|2 programs (foo, both-tool)" "$T/last.out"

finish
