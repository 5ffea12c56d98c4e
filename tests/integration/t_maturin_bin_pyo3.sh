#!/bin/bash
# A Rust program that embeds Python (maturin's test crate pyo3-bin: a bin
# that depends on pyo3 with auto-initialize), found as a program with
# bindings unset: its wheel is tagged for the interpreter it embeds
# (cp311-cp311, not py3-none), it keeps its link to libpython (which a
# module would lose), and the installed command runs Python.  Debian's
# PyO3 0.17, offline.
. "$(dirname "$0")/lib.sh"

export CARGO_TARGET_DIR="$T/target"
mkdir -p "$T/pb/src"
pyo3_offline "$T/pb"
cat >"$T/pb/Cargo.toml" <<'CARGO'
[package]
name = "pyo3-bin"
version = "0.1.0"
edition = "2021"

[dependencies]
pyo3 = { version = "0.17", features = ["auto-initialize"] }
CARGO
cat >"$T/pb/src/main.rs" <<'RUST'
use pyo3::prelude::*;

fn main() -> PyResult<()> {
    Python::with_gil(|py| {
        let v: String = py
            .eval("'Hello from Python %d.%d' % __import__('sys').version_info[:2]", None, None)?
            .extract()?;
        println!("{}", v);
        Ok(())
    })
}
RUST
cat >"$T/pb/pyproject.toml" <<'TOML'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "pyo3-bin"
version = "0.1.0"
TOML

tag=$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
check "spoke build of a program that embeds Python" \
	bash -c "cd '$T/pb' && '$SPOKE' build -q -i '$PY' -o '$T/w'"
whl=$(ls "$T"/w/pyo3_bin-0.1.0-$tag-$tag-manylinux_2_*_x86_64.whl 2>/dev/null)
check "one wheel tagged $tag-$tag (the interpreter it embeds)" \
	bash -c "[ -n '$whl' ] && [ \$(ls '$T/w' | wc -l) -eq 1 ]"
check "the program is at <dist>.data/scripts/pyo3-bin" \
	bash -c "unzip -Z1 '$whl' | grep -qx 'pyo3_bin-0.1.0.data/scripts/pyo3-bin'"
check "it still links libpython" \
	bash -c "cd '$T' && rm -rf x && mkdir x && cd x && unzip -qq '$whl' && readelf -d pyo3_bin-0.1.0.data/scripts/pyo3-bin | grep -q 'NEEDED.*\\[libpython3'"
v=$(make_venv pb)
check "pip installs it" "$v/bin/pip" install --no-index -q "$whl"
libdir=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
check "the installed command runs Python" \
	bash -c "[ \"\$(LD_LIBRARY_PATH='$libdir' '$v/bin/pyo3-bin')\" = \"Hello from Python \$('$PY' -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])')\" ]"

finish
