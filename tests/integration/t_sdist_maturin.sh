#!/bin/bash
# spoke sdist of the layouts maturin's test crates exercise
# (workspace-inheritance, sdist_with_path_dep with some_path_dep and
# transitive_path_dep, pyo3-mixed-src, include/exclude), with fixtures of
# our own: each sdist is unpacked in a clean folder and built there, and
# its wheel must be the tree's, file for file and METADATA line for line.
. "$(dirname "$0")/lib.sh"

# One target folder for every build (a crate compiles once per path), in
# a place cleanup() finds the coordinator of.
export CARGO_TARGET_DIR="$T/shared/target"

# One virtual environment for every wheel (each has its own name).
v=$(make_venv sd)

# module_src NAME: the example hello module renamed NAME.
module_src() { sed "s/hello/$1/g" "$SRC/examples/hello/src/lib.rs"; }

# same_wheel A B: two wheels with the same files and the same METADATA.
same_wheel() {
	diff <(unzip -Z1 "$1" | sort) <(unzip -Z1 "$2" | sort) &&
		diff <(unzip -p "$1" '*.dist-info/METADATA') <(unzip -p "$2" '*.dist-info/METADATA')
}

# from_sdist SDIST DIR OUT: unpacks SDIST in the empty folder DIR and
# builds it there with spoke into OUT.
from_sdist() {
	mkdir -p "$2" && cd "$2" && tar xzf "$1" && cd "$(ls)" &&
		"$SPOKE" build -q -i "$PY" -o "$3"
}

# --- A workspace whose package inherits version, edition, license,
# authors, description, readme, a dependency and its lints; a member it
# does not need; the dependency nested in crates/.
w=$T/wsi
mkdir -p "$w/py/src" "$w/crates" "$w/unrelated/src"
cp -r "$SRC/examples/pyffi" "$w/crates/ffi"
cat >"$w/Cargo.toml" <<'TOML'
[workspace]
resolver = "2"
members = ["py", "crates/ffi", "unrelated"]

[workspace.package]
version = "1.2.0"
edition = "2021"
license = "MIT"
authors = ["Ada Example <ada@example.org>"]
description = "Workspace inheritance, carried into an sdist"
readme = "README.md"

[workspace.dependencies]
pyffi = { path = "crates/ffi" }

[workspace.lints.rust]
unsafe_op_in_unsafe_fn = "allow"

[profile.release]
strip = false
TOML
printf '# wsinh\n\nThe long description, from the workspace root.\n' >"$w/README.md"
cat >"$w/py/Cargo.toml" <<'TOML'
[package]
name = "wsinh"
version.workspace = true
edition.workspace = true
license.workspace = true
authors.workspace = true
description.workspace = true
readme.workspace = true

[lib]
crate-type = ["cdylib"]

[dependencies]
pyffi.workspace = true

[lints]
workspace = true

[package.metadata.spoke]
module = "wsinh"
TOML
module_src wsinh >"$w/py/src/lib.rs"
printf '[package]\nname = "unrelated"\nversion = "0.1.0"\nedition = "2021"\n' >"$w/unrelated/Cargo.toml"
: >"$w/unrelated/src/lib.rs"

check "workspace inheritance: the tree builds" "$SPOKE" build -q -i "$PY" --manifest-path "$w/py/Cargo.toml" -o "$T/w1"
check "  spoke sdist" "$SPOKE" sdist -q -i "$PY" --manifest-path "$w/py/Cargo.toml" -o "$T/s1"
s1=$T/s1/wsinh-1.2.0.tar.gz
tar tzf "$s1" >"$T/l1" 2>&1
check "  carries the package, its nested dependency and the root README" bash -c "for f in py/Cargo.toml py/src/lib.rs crates/ffi/Cargo.toml crates/ffi/src/lib.rs README.md Cargo.toml Cargo.lock; do grep -qx \"wsinh-1.2.0/\$f\" '$T/l1' || exit 1; done"
check "  leaves out the member it does not need" bash -c "! grep -q unrelated '$T/l1' && ! tar xzOf '$s1' wsinh-1.2.0/Cargo.toml | grep -q unrelated"
tar xzOf "$s1" wsinh-1.2.0/py/Cargo.toml >"$T/m1" 2>&1
check "  the package's manifest inherits nothing" bash -c "! grep -Eq 'workspace *=|\\.workspace' '$T/m1'"
check "  and holds the workspace's values" "$PY" -c '
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
p = m["package"]
assert p["version"] == "1.2.0" and p["edition"] == "2021" and p["license"] == "MIT", p
assert p["readme"] == "../README.md", p
assert m["dependencies"]["pyffi"] == {"path": "../crates/ffi"}, m["dependencies"]
assert m["lints"] == {"rust": {"unsafe_op_in_unsafe_fn": "allow"}}, m.get("lints")
' "$T/m1"
check "  spoke build in the unpacked sdist" from_sdist "$s1" "$T/c1" "$T/w1s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w1/wsinh-*.whl "$T"/w1s/wsinh-*.whl
check "  which installs and imports" bash -c "'$v/bin/pip' install -q --no-index '$T'/w1s/wsinh-*.whl && cd '$T' && '$v/bin/python' -c 'import wsinh; assert wsinh.add(2, 3) == 5'"

# --- Path dependencies outside the package's workspace: one beside it,
# one reached through another (transitive), and that one inheriting from
# a workspace the sdist does not carry.
o=$T/out
mkdir -p "$o/app/src" "$o/helper/src" "$o/libs/transitive/src"
cp -r "$SRC/examples/pyffi" "$o/pyffi"
cat >"$o/app/Cargo.toml" <<'TOML'
[package]
name = "pdapp"
version = "0.5.0"
edition = "2021"
description = "Path dependencies outside the workspace"
license = "MIT"

[lib]
crate-type = ["cdylib"]

[dependencies]
pyffi = { path = "../pyffi" }
helper = { path = "../helper" }

[package.metadata.spoke]
module = "pdapp"
TOML
printf '[project]\nname = "pdapp"\nversion = "0.5.0"\n\n[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n' >"$o/app/pyproject.toml"
{ module_src pdapp; printf '\n#[no_mangle]\npub extern "C" fn pdapp_factor() -> i64 {\n    helper::factor()\n}\n'; } >"$o/app/src/lib.rs"
printf '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ntransitive = { path = "../libs/transitive" }\n' >"$o/helper/Cargo.toml"
echo 'pub fn factor() -> i64 { transitive::base() * 2 }' >"$o/helper/src/lib.rs"
printf '[workspace]\nmembers = ["transitive"]\n\n[workspace.package]\nversion = "0.4.0"\nedition = "2021"\n' >"$o/libs/Cargo.toml"
printf '[package]\nname = "transitive"\nversion.workspace = true\nedition.workspace = true\n' >"$o/libs/transitive/Cargo.toml"
echo 'pub fn base() -> i64 { 21 }' >"$o/libs/transitive/src/lib.rs"

check "outside path dependencies: the tree builds" "$SPOKE" build -q -i "$PY" --manifest-path "$o/app/Cargo.toml" -o "$T/w2"
check "  spoke sdist" "$SPOKE" sdist -q -i "$PY" --manifest-path "$o/app/Cargo.toml" -o "$T/s2"
s2=$T/s2/pdapp-0.5.0.tar.gz
tar tzf "$s2" >"$T/l2" 2>&1
check "  carries every dependency at its place beside the package" bash -c "for f in app/Cargo.toml app/src/lib.rs app/pyproject.toml pyffi/src/lib.rs helper/src/lib.rs libs/transitive/Cargo.toml libs/transitive/src/lib.rs pyproject.toml Cargo.toml Cargo.lock PKG-INFO; do grep -qx \"pdapp-0.5.0/\$f\" '$T/l2' || exit 1; done"
check "  but not the workspace the transitive one came from" bash -c "! grep -qx pdapp-0.5.0/libs/Cargo.toml '$T/l2'"
tar xzOf "$s2" pdapp-0.5.0/libs/transitive/Cargo.toml >"$T/m2" 2>&1
check "  whose inherited version is resolved" "$PY" -c '
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))["package"]
assert p["version"] == "0.4.0" and p["edition"] == "2021", p
' "$T/m2"
check "  spoke build in the unpacked sdist" from_sdist "$s2" "$T/c2" "$T/w2s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w2/pdapp-*.whl "$T"/w2s/pdapp-*.whl
check "  which installs and imports" bash -c "'$v/bin/pip' install -q --no-index '$T'/w2s/pdapp-*.whl && cd '$T' && '$v/bin/python' -c 'import pdapp; assert pdapp.add(20, 22) == 42'"
check "two sdists of it with the same SOURCE_DATE_EPOCH are byte-identical" bash -c "for d in e1 e2; do SOURCE_DATE_EPOCH=1700000000 '$SPOKE' sdist -q -i '$PY' --manifest-path '$o/app/Cargo.toml' -o '$T/'\$d || exit 1; done; cmp '$T/e1/pdapp-0.5.0.tar.gz' '$T/e2/pdapp-0.5.0.tar.gz'"

# --- A package at its workspace's root whose [workspace] members name a
# folder the sdist leaves out, and a nested member it needs.
r=$T/rootpkg
mkdir -p "$r/src" "$r/inner/src" "$r/tools/src"
cp -r "$SRC/examples/pyffi" "$r/inner/pyffi"
cat >"$r/Cargo.toml" <<'TOML'
# The package and its workspace in one manifest.
[package]
name = "rootpkg"
version = "0.7.0"
edition = "2021"
description = "A package at the workspace root"
license = "MIT"

[lib]
crate-type = ["cdylib"]

[dependencies]
pyffi = { path = "inner/pyffi" }

[workspace]
members = ["inner/pyffi", "tools"]

[package.metadata.spoke]
module = "rootpkg"
TOML
module_src rootpkg >"$r/src/lib.rs"
printf '[package]\nname = "tools"\nversion = "0.1.0"\nedition = "2021"\n' >"$r/tools/Cargo.toml"
: >"$r/tools/src/lib.rs"
check "root package: the tree builds" "$SPOKE" build -q -i "$PY" --manifest-path "$r/Cargo.toml" -o "$T/w4"
check "  spoke sdist" "$SPOKE" sdist -q -i "$PY" --manifest-path "$r/Cargo.toml" -o "$T/s4"
s4=$T/s4/rootpkg-0.7.0.tar.gz
tar xzOf "$s4" rootpkg-0.7.0/Cargo.toml >"$T/m4" 2>&1
check "  its members are the ones the sdist carries" "$PY" -c '
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
assert m["workspace"]["members"] == ["inner/pyffi"], m["workspace"]
assert m["package"]["name"] == "rootpkg", m
' "$T/m4"
check "  and tools/ is not carried" bash -c "! tar tzf '$s4' | grep -q tools/"
check "  spoke build in the unpacked sdist" from_sdist "$s4" "$T/c4" "$T/w4s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w4/rootpkg-*.whl "$T"/w4s/rootpkg-*.whl

printf '\n[patch.crates-io]\nlibc = { path = "tools" }\n' >>"$r/Cargo.toml"
check_status "  a [patch] with a path is refused" 1 "$SPOKE" sdist -q -i "$PY" --manifest-path "$r/Cargo.toml" -o "$T/s4b"
check "  by name" grep -q "\\[patch.crates-io\\] 'libc' has a path" "$T/last.out"

# --- maturin's manifest-path, with a path dependency outside the
# project folder: the sdist root is above pyproject.toml, so the copy at
# the top must point at the crate from there.
mo=$T/mono
mkdir -p "$mo/py/rust/src" "$mo/shared"
cp -r "$SRC/examples/pyffi" "$mo/shared/pyffi"
printf '[project]\nname = "mono"\nversion = "0.2.0"\n\n[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n\n[tool.maturin]\nmanifest-path = "rust/Cargo.toml"\n' >"$mo/py/pyproject.toml"
printf '[package]\nname = "mono"\nversion = "0.2.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\npyffi = { path = "../../shared/pyffi" }\n' >"$mo/py/rust/Cargo.toml"
module_src mono >"$mo/py/rust/src/lib.rs"
check "manifest-path and an outside dependency: the tree builds" bash -c "cd '$mo/py' && '$SPOKE' build -q -i '$PY' -o '$T/w6'"
check "  spoke sdist" bash -c "cd '$mo/py' && '$SPOKE' sdist -q -i '$PY' -o '$T/s6'"
s6=$T/s6/mono-0.2.0.tar.gz
check "  the top pyproject.toml names the crate from the top" bash -c "tar xzOf '$s6' mono-0.2.0/pyproject.toml | '$PY' -c 'import sys, tomllib; m = tomllib.loads(sys.stdin.read())[\"tool\"][\"maturin\"]; assert m[\"manifest-path\"] == \"py/rust/Cargo.toml\", m'"
check "  the project's own is carried as it is" bash -c "tar xzOf '$s6' mono-0.2.0/py/pyproject.toml | cmp - '$mo/py/pyproject.toml'"
check "  spoke build at the top of the unpacked sdist" from_sdist "$s6" "$T/c6" "$T/w6s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w6/mono-*.whl "$T"/w6s/mono-*.whl

# --- maturin's pyo3-mixed-workspace: pyproject.toml on top without
# python-source (src/ by maturin's src-layout rule, which needs
# rust/Cargo.toml), a workspace in rust/, manifest-path to a member.  The
# sdist's one workspace Cargo.toml at the top takes rust/Cargo.toml's
# place, so the top pyproject.toml must say python-source itself.
mw=$T/mixws
mkdir -p "$mw/src/mixws/sub" "$mw/rust/python/mixws-py/src"
cp -r "$SRC/examples/pyffi" "$mw/rust/pyffi"
printf '[project]\nname = "mixws"\nversion = "0.3.0"\n\n[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n\n[tool.maturin]\nmodule-name = "mixws.mixws_py"\nmanifest-path = "rust/python/mixws-py/Cargo.toml"\n' >"$mw/pyproject.toml"
printf '[workspace]\nresolver = "2"\nmembers = ["python/mixws-py", "pyffi"]\n' >"$mw/rust/Cargo.toml"
printf '[package]\nname = "mixws-py"\nversion = "0.3.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\npyffi = { path = "../../pyffi" }\n' >"$mw/rust/python/mixws-py/Cargo.toml"
module_src mixws_py >"$mw/rust/python/mixws-py/src/lib.rs"
echo 'from .mixws_py import add' >"$mw/src/mixws/__init__.py"
echo 'X = 1' >"$mw/src/mixws/sub/__init__.py"
check "src layout with a workspace: the tree builds, with its Python package" bash -c "cd '$mw' && '$SPOKE' build -q -i '$PY' -o '$T/w7' && unzip -Z1 '$T'/w7/mixws-*.whl | grep -qx mixws/sub/__init__.py"
check "  spoke sdist" bash -c "cd '$mw' && '$SPOKE' sdist -q -i '$PY' -o '$T/s7'"
s7=$T/s7/mixws-0.3.0.tar.gz
check "  the top pyproject.toml says python-source" bash -c "tar xzOf '$s7' mixws-0.3.0/pyproject.toml | '$PY' -c 'import sys, tomllib; m = tomllib.loads(sys.stdin.read())[\"tool\"][\"maturin\"]; assert m[\"python-source\"] == \"src\", m'"
check "  spoke build at the top of the unpacked sdist" from_sdist "$s7" "$T/c7" "$T/w7s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w7/mixws-*.whl "$T"/w7s/mixws-*.whl

# --- The src layout: pyproject.toml above rust/Cargo.toml, the Python
# package in src/, with [tool.maturin] exclude and an sdist-only include.
l=$T/srcl
mkdir -p "$l/rust/src" "$l/src/srclay"
cp -r "$SRC/examples/pyffi" "$l/rust/pyffi"
cat >"$l/pyproject.toml" <<'TOML'
[project]
name = "srclay"
version = "0.1.0"
readme = "README.md"

[build-system]
requires = []
build-backend = "spoke_build"

[tool.maturin]
python-source = "src"
module-name = "srclay._native"
exclude = ["src/srclay/secret.txt", "**/*.tmp"]
include = [{ path = ".notes", format = "sdist" }, { path = ".wheel-only", format = "wheel" }, "**/.keep", "assets/*"]
TOML
echo 'The src layout.' >"$l/README.md"
echo 'notes' >"$l/.notes"
echo 'wheel' >"$l/.wheel-only"
printf '[package]\nname = "srclay"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\npyffi = { path = "pyffi" }\n' >"$l/rust/Cargo.toml"
module_src _native >"$l/rust/src/lib.rs"
echo 'from ._native import add' >"$l/src/srclay/__init__.py"
echo 'data' >"$l/src/srclay/data.txt"
echo 'secret' >"$l/src/srclay/secret.txt"
echo 'scratch' >"$l/src/srclay/x.tmp"
# Matched as the wheel matches them: "**" through two folders, '*' a
# leading dot (glob(3) did neither, and the sdist's wheel lost them).
mkdir -p "$l/src/srclay/deep/er" "$l/assets"
echo 'keep' >"$l/src/srclay/deep/er/.keep"
echo 'hidden' >"$l/assets/.hidden"

check "src layout: spoke sdist" "$SPOKE" sdist -q -i "$PY" --manifest-path "$l/rust/Cargo.toml" -o "$T/s3"
s3=$T/s3/srclay-0.1.0.tar.gz
tar tzf "$s3" >"$T/l3" 2>&1
check "  carries the project folder whole, as it is laid out" bash -c "for f in pyproject.toml README.md rust/Cargo.toml rust/src/lib.rs rust/pyffi/src/lib.rs src/srclay/__init__.py src/srclay/data.txt Cargo.toml PKG-INFO; do grep -qx \"srclay-0.1.0/\$f\" '$T/l3' || exit 1; done"
check "  PKG-INFO has the readme beside pyproject.toml, above the crate" bash -c "tar xzOf '$s3' srclay-0.1.0/PKG-INFO | grep -qx 'The src layout.'"
check "  the pyproject.toml is the project's own" bash -c "tar xzOf '$s3' srclay-0.1.0/pyproject.toml | cmp - '$l/pyproject.toml'"
check "  leaves out what exclude names" bash -c "! grep -E 'secret.txt|x.tmp' '$T/l3'"
check "  takes an sdist include, and a wheel-only one (an input of the wheel)" bash -c "grep -qx srclay-0.1.0/.notes '$T/l3' && grep -qx srclay-0.1.0/.wheel-only '$T/l3'"
check "  matches '**' through any number of folders and '*' a leading dot" bash -c "grep -qx srclay-0.1.0/src/srclay/deep/er/.keep '$T/l3' && grep -qx srclay-0.1.0/assets/.hidden '$T/l3'"
check "  the tree builds (spoke build beside pyproject.toml)" bash -c "cd '$l' && '$SPOKE' build -q -i '$PY' -o '$T/w3'"
check "  spoke build in the unpacked sdist" from_sdist "$s3" "$T/c3" "$T/w3s"
check "  gives the same wheel (files and METADATA)" same_wheel "$T"/w3/srclay-*.whl "$T"/w3s/srclay-*.whl
check "  which installs and imports" bash -c "'$v/bin/pip' install -q --no-index '$T'/w3s/srclay-*.whl && cd '$T' && '$v/bin/python' -c 'from srclay._native import add; assert add(1, 2) == 3'"
# --- Nothing outside the project: a python-source that leads out of it,
# and files a crate names through "..", are refused, even where an
# outside path dependency widens the sdist root to hold them (the
# package's own readme and license are pkgmeta's to refuse).
# Nothing here is built: the sdist is refused before.
x=$T/esc
mkdir -p "$x/proj/src" "$x/secret" "$x/dep/src" "$x/libs/inh/src"
echo 'PRIVATE KEY' >"$x/secret/id_rsa"
printf '[package]\nname = "escp"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\ndep = { path = "../dep" }\n' >"$x/proj/Cargo.toml"
module_src escp >"$x/proj/src/lib.rs"
printf '[package]\nname = "dep"\nversion = "0.1.0"\nedition = "2021"\n' >"$x/dep/Cargo.toml"
: >"$x/dep/src/lib.rs"
esc_pp() { printf '[project]\nname = "escp"\nversion = "0.1.0"\n%s\n[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n\n[tool.maturin]\n%s\n' "$1" "$2" >"$x/proj/pyproject.toml"; }
esc_sdist() { "$SPOKE" sdist -q -i "$PY" --manifest-path "$x/proj/Cargo.toml" -o "$T/sx"; }

esc_pp "" 'python-source = "../secret"'
check_status "python-source outside the project: spoke sdist refuses it" 1 esc_sdist
check "  naming the setting, the file and the project root" grep -q "python-source '$x/secret' (in '$x/proj/pyproject.toml').*project root '$x/proj'" "$T/last.out"
check "  and writes no sdist" test ! -e "$T/sx/escp-0.1.0.tar.gz"

esc_pp "" ''
printf 'license-file = "../secret/id_rsa"\n' >>"$x/dep/Cargo.toml"
check_status "an outside path dependency's license file outside its folder is refused" 1 esc_sdist
check "  by name" grep -q "license-file '$x/secret/id_rsa'.*outside '$x/dep'" "$T/last.out"

sed -i '/^license-file = /d' "$x/dep/Cargo.toml"

# Include and exclude patterns for sdists pass the wheel's check.
esc_pp "" 'include = ["../secret/id_rsa"]'
check_status "an include pattern with '..' is refused" 1 esc_sdist
check "  naming the pattern and the file" grep -q "'$x/proj/pyproject.toml': \\[tool.maturin\\] include pattern '../secret/id_rsa'" "$T/last.out"
esc_pp "" 'exclude = [{ path = "../secret", format = "sdist" }]'
check_status "an exclude pattern with '..' is refused" 1 esc_sdist
check "  naming the pattern and the file" grep -q "'$x/proj/pyproject.toml': \\[tool.maturin\\] exclude pattern '../secret'" "$T/last.out"
esc_pp "" 'include = ["/etc/hostname"]'
check_status "an absolute include pattern is refused" 1 esc_sdist
check "  naming it" grep -q "include pattern '/etc/hostname' must be a relative path" "$T/last.out"
esc_pp "" ''

# What an outside crate inherits comes from its own workspace root (as
# maturin's parent_workspace_sdist has it).
printf '[workspace]\nmembers = ["inh"]\n\n[workspace.package]\nreadme = "README.md"\n' >"$x/libs/Cargo.toml"
echo '# libs' >"$x/libs/README.md"
printf '[package]\nname = "inh"\nversion = "0.1.0"\nedition = "2021"\nreadme.workspace = true\n' >"$x/libs/inh/Cargo.toml"
: >"$x/libs/inh/src/lib.rs"
printf 'inh = { path = "../libs/inh" }\n' >>"$x/proj/Cargo.toml"
check "an outside crate's readme inherited from its own workspace root is carried" bash -c "$(declare -f esc_sdist); SPOKE='$SPOKE' PY='$PY' x='$x' T='$T' esc_sdist && tar tzf '$T/sx/escp-0.1.0.tar.gz' | grep -qx escp-0.1.0/libs/README.md && ! tar tzf '$T/sx/escp-0.1.0.tar.gz' | grep -q secret"
finish
