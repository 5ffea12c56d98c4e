#!/bin/bash
# The PEP 517 backend names the base interpreter to spoke (and so to pyo3
# as PYO3_PYTHON): installing a pyo3 crate from a second environment
# compiles no pyo3 crate again (pyo3 issue 6113: every pip build in a new
# environment rebuilt pyo3).  Debian's PyO3 0.17, offline.
. "$(dirname "$0")/lib.sh"

crate="$T/warm"
mkdir -p "$crate/src"
cat >"$crate/Cargo.toml" <<'TOML'
[package]
name = "warm"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.17", features = ["extension-module"] }
TOML
cat >"$crate/src/lib.rs" <<'RS'
use pyo3::prelude::*;

#[pyfunction]
fn double(x: i64) -> i64 {
    x * 2
}

#[pymodule]
fn warm(_py: Python, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(double, m)?)?;
    Ok(())
}
RS
printf '[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n\n[project]\nname = "warm"\nversion = "0.1.0"\n' >"$crate/pyproject.toml"
pyo3_offline "$crate"
export SPOKE

a=$(make_venv a)
b=$(make_venv b)
for v in "$a" "$b"; do
	"$v/bin/pip" install -q --no-index --no-build-isolation "$SRC/python" >/dev/null 2>&1
done
check "pip install . from a first venv" bash -c "cd '$crate' && '$a/bin/pip' install -q --no-index --no-build-isolation ."
check "  the module works" bash -c "cd '$T' && '$a/bin/python' -c 'import warm; assert warm.double(21) == 42'"
check "  pyo3 was compiled" bash -c "ls '$crate'/target/release/deps/libpyo3-*.rlib"
touch "$T/marker"
check "pip install . from a second venv" bash -c "cd '$crate' && '$b/bin/pip' install -q --no-index --no-build-isolation ."
check "  the module works there" bash -c "cd '$T' && '$b/bin/python' -c 'import warm; assert warm.double(2) == 4'"
check "  no pyo3 crate was compiled again" bash -c "out=\$(find '$crate/target/release' \\( -name 'libpyo3*' -o -name 'output' -path '*pyo3*' \\) -newer '$T/marker'); [ -z \"\$out\" ] || { echo \"rebuilt: \$out\"; exit 1; }"
check "  cargo finds everything fresh for that interpreter" bash -c "cd '$crate' && PYO3_PYTHON='$(readlink -f "$PY")' cargo build --release --offline -v 2>&1 | tee '$T/fresh.out' | grep -q 'Fresh pyo3 ' && ! grep -q 'Compiling pyo3' '$T/fresh.out'"
finish
