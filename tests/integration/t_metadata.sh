#!/bin/bash
# METADATA per PEP 621 and PEP 639 on maturin-style projects built with
# Debian's PyO3 0.17: with a [project] table only what it states or lists
# in dynamic (Cargo.toml fills the latter); License-Expression with
# Metadata-Version 2.4; license = {file}; maturin's default license
# files; a readme inherited from the workspace.  Each wheel is installed
# with Debian's pip into a fresh venv and read back through
# importlib.metadata.
. "$(dirname "$0")/lib.sh"

ws="$T/ws"
mkdir -p "$ws"
pyo3_offline "$ws"
cat >"$ws/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["maturinish", "filelic", "wsreadme", "dynlic"]

[workspace.package]
readme = "README.md"
license = "MIT OR Apache-2.0"
EOF
printf '# The workspace\n\nShared readme.\n' >"$ws/README.md"

# crate NAME [CARGO_PACKAGE_LINES]: a pyo3 module NAME with a function
# answer() -> 42.
crate() {
	local d="$ws/$1"
	mkdir -p "$d/src"
	cat >"$d/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.4.0-beta.1"
edition = "2021"
description = """Cargo's   description
of $1"""
authors = ["Ann Example <ann@example.org>"]
homepage = "https://example.org/$1"
keywords = ["cargo", "only"]
$2

[lib]
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.17", features = ["extension-module"] }
EOF
	cat >"$d/src/lib.rs" <<EOF
use pyo3::prelude::*;

#[pyfunction]
fn answer() -> usize {
    42
}

#[pymodule]
fn $1(_py: Python, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
EOF
}

# maturin's pyo3-mixed style: license = "MIT", readme, dynamic version;
# no description in [project], so no Summary from Cargo.toml; LICENSE and
# AUTHORS.txt found by the default patterns.
crate maturinish 'license = "Apache-2.0"
readme = "README.md"'
cat >"$ws/maturinish/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "maturinish"
requires-python = ">=3.8"
license = "MIT"
readme = "README.md"
dynamic = ["version"]

[tool.maturin]
features = ["pyo3/extension-module"]
EOF
printf '# maturinish\n\nA readme.\n' >"$ws/maturinish/README.md"
printf 'MIT License\n\nPermission is hereby granted.\n' >"$ws/maturinish/LICENSE"
printf 'Ann Example\n' >"$ws/maturinish/AUTHORS.txt"
# A folder the patterns match is no license file.
mkdir "$ws/maturinish/COPYING.d"

# license = {file}: its text is License, the file shipped; description
# is dynamic, the readme (cargo's, and its own) is not.
crate filelic 'readme = "README.md"'
cat >"$ws/filelic/pyproject.toml" <<'EOF'
[tool.maturin]

[project]
name = "filelic"
version = "1.0"
license = { file = "legal/TERMS.txt" }
license-files = ["legal/*.txt"]
dynamic = ["description"]
EOF
mkdir "$ws/filelic/legal"
printf 'Use it\nas you like.\n' >"$ws/filelic/legal/TERMS.txt"
printf 'Filelic readme\n' >"$ws/filelic/README.md"

# No pyproject: everything from Cargo.toml, the readme and license
# inherited from the workspace.  (Its [package.metadata.spoke] table, and
# the others' maturin configuration, make all four wheels.)
crate wsreadme 'readme.workspace = true
license.workspace = true

[package.metadata.spoke]'

# maturin's pyo3-pure style: license = {file} with dynamic license gives
# cargo's expression and ships the file; dynamic readme takes the
# workspace's readme.
crate dynlic 'license = "Apache-2.0"
readme.workspace = true'
cat >"$ws/dynlic/pyproject.toml" <<'EOF'
[build-system]
build-backend = "maturin"

[project]
name = "dynlic"
license = { file = "LICENSE" }
dynamic = ["version", "license", "readme", "authors"]
EOF
printf 'Apache License 2.0 (text)\n' >"$ws/dynlic/LICENSE"

# build OUT: spoke build of the workspace from its folder (cargo reads
# .cargo/config.toml from the current one).
build() { (cd "$ws" && "$SPOKE" build -q -i "$PY" -o "$1"); }

check "spoke build of the four packages" build "$T/w"

# meta NAME: the METADATA of NAME's wheel.
meta() { unzip -p "$T"/w/"$1"-*.whl '*.dist-info/METADATA'; }
# same NAME: METADATA of NAME's wheel against stdin, line by line.
same() { diff <(meta "$1") -; }

check "maturinish: METADATA line by line" same maturinish <<'EOF'
Metadata-Version: 2.4
Name: maturinish
Version: 0.4.0b1
License-Expression: MIT
License-File: AUTHORS.txt
License-File: LICENSE
Requires-Python: >=3.8
Description-Content-Type: text/markdown

# maturinish

A readme.
EOF
check "maturinish: the license files in <dist-info>/licenses/" bash -c "unzip -Z1 '$T'/w/maturinish-*.whl | grep /licenses/ | diff - <(printf 'maturinish-0.4.0b1.dist-info/licenses/AUTHORS.txt\nmaturinish-0.4.0b1.dist-info/licenses/LICENSE\n')"

check "filelic: METADATA line by line" same filelic <<'EOF'
Metadata-Version: 2.4
Name: filelic
Version: 1.0
Summary: Cargo's description of filelic
License: Use it
        as you like.
License-File: legal/TERMS.txt
EOF

check "wsreadme: METADATA line by line" same wsreadme <<'EOF'
Metadata-Version: 2.4
Name: wsreadme
Version: 0.4.0b1
Summary: Cargo's description of wsreadme
Home-page: https://example.org/wsreadme
Keywords: cargo,only
Author-email: Ann Example <ann@example.org>
License-Expression: MIT OR Apache-2.0
Project-URL: Homepage, https://example.org/wsreadme
Description-Content-Type: text/markdown

# The workspace

Shared readme.
EOF

check "dynlic: METADATA line by line" same dynlic <<'EOF'
Metadata-Version: 2.4
Name: dynlic
Version: 0.4.0b1
Author-email: Ann Example <ann@example.org>
License-Expression: Apache-2.0
License-File: LICENSE
Description-Content-Type: text/markdown

# The workspace

Shared readme.
EOF
check "every wheel is valid" "$SPOKE" show -q "$T"/w/*.whl

# Debian's pip installs Metadata-Version 2.4, and importlib.metadata
# reads License-Expression and the license files back.
v=$(make_venv meta)
check "Debian's pip installs the four wheels into a fresh venv" \
	"$v/bin/pip" install --no-index -q "$T"/w/*.whl
check "the modules import and answer" "$v/bin/python" -c '
import maturinish, filelic, wsreadme, dynlic
assert {m.answer() for m in (maturinish, filelic, wsreadme, dynlic)} == {42}'
check "importlib.metadata reads License-Expression and the license files" "$v/bin/python" -c '
import importlib.metadata as im
m = im.metadata("maturinish")
assert m["Metadata-Version"] == "2.4", m["Metadata-Version"]
assert m["License-Expression"] == "MIT", m["License-Expression"]
assert m["License"] is None and m["Summary"] is None
assert m.get_all("License-File") == ["AUTHORS.txt", "LICENSE"]
files = {str(f): f for f in im.files("maturinish")}
lic = files["maturinish-0.4.0b1.dist-info/licenses/LICENSE"]
assert lic.read_text() == "MIT License\n\nPermission is hereby granted.\n"
f = im.metadata("filelic")
assert f["License"] == "Use it\nas you like.", f["License"]
assert f["License-Expression"] is None
assert im.metadata("dynlic")["License-Expression"] == "Apache-2.0"
assert im.metadata("wsreadme").get_payload().startswith("# The workspace")'

# PEP 621: a [project] without version must list it in dynamic.
sed -i '/^version = /d' "$ws/filelic/pyproject.toml"
check_status "a [project] with no version, not dynamic, fails" 1 build "$T/bad"
check "  saying how to fix it" grep -q "has no version and does not list it in dynamic" "$T/last.out"
# license = "EXPR" must be an SPDX expression.
sed -i 's/^dynamic = .*/dynamic = ["version", "description"]/; s|^license = .*|license = "MIT/Apache-2.0"|' "$ws/filelic/pyproject.toml"
check_status "a [project] license that is no SPDX expression fails" 1 build "$T/bad"
check "  naming it" grep -q "'MIT/Apache-2.0' is not an SPDX license expression" "$T/last.out"
finish
