#!/bin/bash
# [tool.maturin] as configuration: which pyproject.toml configures which
# package (beside its Cargo.toml, above it with manifest-path, the src
# layout's rust/Cargo.toml), what it adds to cargo's command, and what is
# refused by name.  The layouts of maturin's test crates (pyo3-mixed-src,
# pyo3-mixed-workspace) with raw-FFI modules: no crate from a registry.
. "$(dirname "$0")/lib.sh"

# fixture DIR NAME MODULE: a cdylib crate NAME in DIR whose module
# exports PyInit_MODULE, on a copy of the examples' pyffi crate in
# DIR/../pyffi (hello's code; `greet` says HELLO with feature "loud").
fixture() {
	local dir=$1 name=$2 mod=$3
	mkdir -p "$dir/src"
	[ -d "$(dirname "$dir")/pyffi" ] || cp -r "$SRC/examples/pyffi" "$(dirname "$dir")/pyffi"
	sed -e "s/PyInit_hello/PyInit_$mod/" -e "s/b\"hello\\\\0\"/b\"$mod\\\\0\"/" \
		"$SRC/examples/hello/src/lib.rs" >"$dir/src/lib.rs"
	cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$name"
version = "1.2.3"
edition = "2021"
description = "from Cargo.toml"

[features]
loud = []

[dependencies]
pyffi = { path = "../pyffi" }

[lib]
crate-type = ["cdylib"]
EOF
}

# --- src layout: pyproject.toml on top, the crate in rust/ --------------
p="$T/srcl"
mkdir -p "$p/src/src_proj"
fixture "$p/rust" src-proj-rs hello
echo 'from .hello import greet' >"$p/src/src_proj/__init__.py"
cat >"$p/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "src-proj"
dynamic = ["version"]

[tool.maturin]
module-name = "src_proj.hello"
features = ["loud"]
EOF
(cd "$p" && "$SPOKE" build -q -i "$PY" -o "$T/w1") >"$T/out1" 2>&1
check "spoke build in a src-layout project finds rust/Cargo.toml" bash -c "ls '$T'/w1/src_proj-1.2.3-*.whl"
check "  the module goes where module-name says" bash -c "unzip -Z1 '$T'/w1/src_proj-*.whl | grep -q '^src_proj/hello\\.cpython-.*\\.so\$'"
v=$(make_venv srcl)
check "  [tool.maturin] features reach cargo (the module says HELLO)" bash -c "
	'$v/bin/pip' install -q --no-index '$T'/w1/src_proj-*.whl &&
	'$v/bin/python' -c 'import src_proj.hello as h; assert h.greet(\"x\") == \"HELLO, x\", h.greet(\"x\")'"

# --- a workspace below, manifest-path naming one member -----------------
p="$T/mws"
mkdir -p "$p/rust"
cat >"$p/rust/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["a", "b", "pyffi"]
EOF
fixture "$p/rust/a" member-a member_a
fixture "$p/rust/b" member-b mb
cat >"$p/pyproject.toml" <<'EOF'
[project]
name = "mws-dist"
dynamic = ["version"]

[tool.maturin]
manifest-path = "rust/b/Cargo.toml"
module-name = "mb"
EOF
(cd "$p" && "$SPOKE" build -q -i "$PY" -o "$T/w2") >"$T/out2" 2>&1
check "manifest-path: spoke build in the pyproject's folder builds that member" bash -c "ls '$T'/w2/mws_dist-1.2.3-*.whl"
check "  and only it" bash -c "[ \$(ls '$T/w2' | wc -l) -eq 1 ]"
check "  without the feature, the module says hello" bash -c "
	v=\$('$PY' -c 'print(1)' >/dev/null; echo '$T/venv-mws'); '$PY' -m venv \"\$v\" &&
	\"\$v/bin/pip\" install -q --no-index '$T'/w2/*.whl &&
	\"\$v/bin/python\" -c 'import mb; assert mb.greet(\"x\") == \"hello, x\"'"
# -m to the member, from elsewhere: the pyproject above it still
# configures it (maturin looks up to the workspace root's parent).
(cd "$T" && "$SPOKE" build -q -i "$PY" --manifest-path "$p/rust/b/Cargo.toml" -o "$T/w3") >"$T/out3" 2>&1
check "--manifest-path to the member finds the pyproject.toml above the workspace" bash -c "ls '$T'/w3/mws_dist-1.2.3-*.whl"
# The other member has no pyproject: cargo's own name.
(cd "$T" && "$SPOKE" build -q -i "$PY" --manifest-path "$p/rust/a/Cargo.toml" -o "$T/w4") >"$T/out4" 2>&1
check "  the member it does not name keeps its own name" bash -c "ls '$T'/w4/member_a-1.2.3-*.whl"

# --- refusals: never a silently different wheel --------------------------
p="$T/bad"
fixture "$p/crate" bad-crate hello
build_bad() { (cd "$p/crate" && "$SPOKE" build -q -i "$PY" -o "$T/wbad"); }
printf '[tool.maturin]\nbindings = "cffi"\n' >"$p/crate/pyproject.toml"
check_status "bindings = \"cffi\" is refused" 1 build_bad
check "  naming the key and the file" grep -q "$p/crate/pyproject.toml: \[tool.maturin\] bindings = \"cffi\" is not supported" "$T/last.out"
printf '[tool.maturin]\nmodule-nam = "x"\n' >"$p/crate/pyproject.toml"
check_status "an unknown [tool.maturin] key is refused" 1 build_bad
check "  naming it" grep -q "unknown key 'module-nam'" "$T/last.out"
printf '[tool.maturin]\nmodule-name = "other"\n' >"$p/crate/pyproject.toml"
printf '\n[package.metadata.spoke]\nmodule = "hello"\n' >>"$p/crate/Cargo.toml"
check_status "module-name and [package.metadata.spoke] module disagreeing is an error" 1 build_bad
check "  naming both" grep -q 'module-name = "other" .* and \[package.metadata.spoke\] module = "hello" disagree' "$T/last.out"
printf '[tool.maturin]\nmodule-name = "hello"\n' >"$p/crate/pyproject.toml"
check "  the same module in both builds" build_bad
check_status "a bad pyproject.toml fails the package it configures" 1 \
	bash -c "printf '[tool.maturin\n' >'$p/crate/pyproject.toml'; cd '$p/crate' && '$SPOKE' build -q -i '$PY' --manifest-path Cargo.toml -o '$T/wbad2'"
check "  saying which file" grep -q "cannot read '$p/crate/pyproject.toml'" "$T/last.out"

# No PyInit and no pyo3: maturin would make cffi bindings of it; spoke
# says so rather than only that the symbol is missing.
p="$T/cffi"
fixture "$p/crate" cffi-like other
printf '[tool.maturin]\n' >"$p/crate/pyproject.toml"
check_status "a cdylib maturin would bind with cffi is refused" 1 bash -c "cd '$p/crate' && '$SPOKE' build -q -i '$PY' -o '$T/wcffi'"
check "  naming cffi" grep -q "does not export PyInit_cffi_like.*maturin would build cffi bindings for it" "$T/last.out"

# A broken pyproject.toml beside a member nobody builds does not stop
# another member's build.
p="$T/ws2"
mkdir -p "$p"
printf '[workspace]\nresolver = "2"\nmembers = ["good", "broken", "pyffi"]\n' >"$p/Cargo.toml"
fixture "$p/good" good-crate good_crate
fixture "$p/broken" broken-crate hello2
printf 'not toml [\n' >"$p/broken/pyproject.toml"
check "a broken pyproject.toml of an unselected member is not read as an error" \
	bash -c "cd '$p' && '$SPOKE' build -q -i '$PY' -p good-crate -o '$T/w5' && ls '$T'/w5/good_crate-*.whl"
check_status "  but is when that member is built" 1 bash -c "cd '$p' && '$SPOKE' build -q -i '$PY' -p broken-crate -o '$T/w6'"
check "  naming the file" grep -q "package 'broken-crate': cannot read '$p/broken/pyproject.toml'" "$T/last.out"

# profile from [tool.maturin]: the artifact comes from target/<profile>/.
p="$T/prof"
fixture "$p/crate" prof-crate prof_crate
printf '\n[profile.dist]\ninherits = "release"\n' >>"$p/crate/Cargo.toml"
printf '[tool.maturin]\nprofile = "dist"\n' >"$p/crate/pyproject.toml"
check "[tool.maturin] profile builds with that cargo profile" \
	bash -c "cd '$p/crate' && '$SPOKE' build -q -i '$PY' -o '$T/w7' && ls '$T'/w7/prof_crate-*.whl && test -f '$p/crate/target/dist/libprof_crate.so'"

# editable-profile: an editable build's profile (PEP 660, spoke develop),
# else profile; --profile wins; spoke develop's default stays dev.
printf '\n[profile.edit]\ninherits = "release"\n' >>"$p/crate/Cargo.toml"
printf '[tool.maturin]\nprofile = "dist"\neditable-profile = "edit"\n' >"$p/crate/pyproject.toml"
check "spoke build --editable builds with editable-profile" \
	bash -c "cd '$p/crate' && '$SPOKE' build -q -i '$PY' --editable -o '$T/w8' && test -f '$p/crate/target/edit/libprof_crate.so'"
check "  --profile wins over it" \
	bash -c "cd '$p/crate' && '$SPOKE' build -q -i '$PY' --editable --profile release -o '$T/w9' && test -f '$p/crate/target/release/libprof_crate.so'"
v=$(make_venv prof)
check "  spoke develop builds with it too" \
	bash -c "cd '$p/crate' && rm -rf target/edit && VIRTUAL_ENV='$v' '$SPOKE' develop -q && test -f '$p/crate/target/edit/libprof_crate.so'"
printf '[tool.maturin]\n' >"$p/crate/pyproject.toml"
check "  without either, spoke develop builds with dev" \
	bash -c "cd '$p/crate' && VIRTUAL_ENV='$v' '$SPOKE' develop -q && test -f '$p/crate/target/debug/libprof_crate.so'"

# The command line's features replace [tool.maturin] features (maturin).
p="$T/feat"
fixture "$p/crate" feat-crate feat_crate
printf '\nother = []\n' >>"$p/crate/Cargo.toml"
sed -i 's/^\[features\]$/[features]\nother = []/; $d' "$p/crate/Cargo.toml"
printf '[tool.maturin]\nfeatures = ["loud"]\n' >"$p/crate/pyproject.toml"
vf=$(make_venv feat)
check "--features on the command line replaces [tool.maturin] features" \
	bash -c "cd '$p/crate' && '$SPOKE' build -q -i '$PY' --features other -o '$T/wf' && '$vf/bin/pip' install -q --no-index '$T'/wf/feat_crate-*.whl && '$vf/bin/python' -c 'import feat_crate; assert feat_crate.greet(\"x\") == \"hello, x\"'"

finish
