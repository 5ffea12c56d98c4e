#!/bin/bash
# The PEP 517 / 660 backend (python/spoke_build): pip and python -m build
# build the mixed example through it with Debian's tools, offline.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
mixed="$ws/mixed"
export SPOKE
# The backend is plain Python built with setuptools and wheel, which only
# the system site-packages have (no PyPI here).
v="$T/venv"
"$PY" -m venv --system-site-packages "$v" >/dev/null
cp -r "$SRC/python" "$T/backend"
check "pip installs the backend (no index, no isolation)" \
	bash -c "cd '$T' && '$v/bin/pip' install -q --no-index --no-build-isolation ./backend"
check "spoke_build has the PEP 517 and 660 hooks" "$v/bin/python" -c '
import spoke_build as b
for h in ("build_wheel", "build_sdist", "build_editable", "prepare_metadata_for_build_wheel",
          "get_requires_for_build_wheel", "get_requires_for_build_editable"):
    assert callable(getattr(b, h)), h
assert b.get_requires_for_build_wheel() == [] and b.get_requires_for_build_editable() == []
'
check "prepare_metadata_for_build_wheel writes the dist-info" bash -c "cd '$mixed' && '$v/bin/python' -c '
import os, spoke_build
d = spoke_build.prepare_metadata_for_build_wheel(\"$T/md\")
assert d == \"mixedpkg-0.3.0.dist-info\", d
assert os.path.exists(os.path.join(\"$T/md\", d, \"METADATA\"))
assert os.path.exists(os.path.join(\"$T/md\", d, \"entry_points.txt\"))
'"

check "pip install . (no isolation) in the mixed example" \
	bash -c "cd '$mixed' && '$v/bin/pip' install -q --no-index --no-build-isolation ."
check "the package imports" bash -c "cd '$T' && '$v/bin/python' -c 'import mixedpkg; assert mixedpkg.quadruple(2) == 8'"
check "the console script runs" bash -c "'$v/bin/mixedpkg-hello' 3 | grep -qx 'mixedpkg says 12'"
check "the backend stopped the coordinator it started" \
	bash -c "! '$SPOKE' status --state-dir '$ws/target/spoke' | grep -q 'running (pid'"

rm -rf "$mixed/dist"
check "python -m build --no-isolation --wheel" \
	bash -c "cd '$mixed' && '$v/bin/python' -m build --no-isolation --wheel"
whl=$(ls "$mixed"/dist/mixedpkg-0.3.0-*.whl 2>/dev/null)
check "  wrote dist/*.whl" test -n "$whl"
check "  spoke show: the wheel is valid" "$SPOKE" show -q "$whl"
check "python -m build --no-isolation --sdist" \
	bash -c "cd '$mixed' && '$v/bin/python' -m build --no-isolation --sdist"
check "  wrote dist/mixedpkg-0.3.0.tar.gz" test -f "$mixed/dist/mixedpkg-0.3.0.tar.gz"
check "  the sdist holds no dist/ of its own" bash -c "! tar tzf '$mixed/dist/mixedpkg-0.3.0.tar.gz' | grep -q '/dist/'"

"$v/bin/pip" uninstall -q -y mixedpkg >/dev/null 2>&1
check "pip installs the sdist (built through the backend)" \
	bash -c "cd '$T' && '$v/bin/pip' install -q --no-index --no-build-isolation '$mixed/dist/mixedpkg-0.3.0.tar.gz'"
check "  and it works" bash -c "cd '$T' && '$v/bin/mixedpkg-hello' 1 | grep -qx 'mixedpkg says 4'"

"$v/bin/pip" uninstall -q -y mixedpkg >/dev/null 2>&1
check "pip install -e . (PEP 660)" \
	bash -c "cd '$mixed' && '$v/bin/pip' install -q --no-index --no-build-isolation -e ."
check "  the package imports from the source tree" bash -c "cd '$T' && '$v/bin/python' -c '
import mixedpkg; assert mixedpkg.__file__ == \"$mixed/mixedpkg/__init__.py\", mixedpkg.__file__
assert mixedpkg.quadruple(1) == 4'"
echo 'EDITED = True' >>"$mixed/mixedpkg/__init__.py"
check "  an edit to the Python code shows without reinstalling" bash -c "cd '$T' && '$v/bin/python' -c 'import mixedpkg; assert mixedpkg.EDITED'"
check "  the console script runs" bash -c "'$v/bin/mixedpkg-hello' 2 | grep -qx 'mixedpkg says 8'"
check "  a wheel built after it does not take the copied extension twice" \
	bash -c "'$SPOKE' build -q -i '$PY' --manifest-path '$mixed/Cargo.toml' -o '$T/after' && [ \$(unzip -Z1 '$T'/after/*.whl | grep -c '\\.so\$') -eq 1 ]"

# A project that names the backend but has no crate beside pyproject.toml.
mkdir "$T/nocrate"
printf '[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n\n[project]\nname = "nocrate"\nversion = "1.0"\n' >"$T/nocrate/pyproject.toml"
check_status "pip install of a backend project with no Cargo.toml fails" 1 \
	bash -c "cd '$T/nocrate' && '$v/bin/pip' install -q --no-index --no-build-isolation ."
check "  and spoke says the Cargo.toml is missing" grep -q "could not find Cargo.toml in '$T/nocrate'" "$T/last.out"

# The backend builds itself with the standard library alone: a plain venv
# (no system site packages: no wheel, which setuptools needed for
# bdist_wheel) installs it offline.
pv=$(make_venv plain)
check "  a plain venv has no wheel package" "$pv/bin/python" -c '
import importlib.util as u; assert not u.find_spec("wheel")'
check "pip installs the backend into a plain venv (no index, no isolation)" \
	bash -c "cd '$T' && '$pv/bin/pip' install -q --no-index --no-build-isolation ./backend"
check "  and with build isolation (it needs nothing)" \
	bash -c "cd '$T' && '$pv/bin/pip' install -q --no-index --force-reinstall ./backend"
check "  and editable" bash -c "cd '$T' && '$pv/bin/pip' install -q --no-index --no-build-isolation -e ./backend && cd / && '$pv/bin/python' -c 'import spoke_build; assert spoke_build.__file__ == \"$T/backend/spoke_build/__init__.py\", spoke_build.__file__'"
check "  its sdist builds, and its wheel from the sdist" bash -c "cd '$T/backend' && '$v/bin/python' -m build --no-isolation -o '$T/bkdist' && ls '$T/bkdist'/spoke_build-0.1.0-py3-none-any.whl '$T/bkdist'/spoke_build-0.1.0.tar.gz"
check "  the wheel is valid" "$SPOKE" show -q "$T"/bkdist/spoke_build-0.1.0-py3-none-any.whl
"$pv/bin/pip" install -q --no-index --no-build-isolation "$T/backend" >/dev/null 2>&1

# PEP 517 config_settings build-args, and SPOKE_PEP517_ARGS, reach spoke
# build and so cargo: hello's "loud" feature changes its greeting.
printf '[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n' >"$ws/hello/pyproject.toml"
loud() { (cd "$T" && "$pv/bin/python" -c "import hello; assert hello.greet('x') == '$1', hello.greet('x')"); }
check "config_settings build-args=--features loud" \
	bash -c "cd '$ws/hello' && '$pv/bin/pip' install -q --no-index --no-build-isolation --config-settings=build-args='--features loud' ."
check "  the feature reached cargo" loud "HELLO, x"
check "config_settings win over SPOKE_PEP517_ARGS" \
	bash -c "cd '$ws/hello' && SPOKE_PEP517_ARGS='--no-such-flag' '$pv/bin/pip' install -q --no-index --no-build-isolation --force-reinstall --config-settings=build-args='--release' ."
check "  (without the feature, the module is quiet)" loud "hello, x"
check "SPOKE_PEP517_ARGS='--features loud'" \
	bash -c "cd '$ws/hello' && SPOKE_PEP517_ARGS='--features loud' '$pv/bin/pip' install -q --no-index --no-build-isolation --force-reinstall ."
check "  the feature reached cargo" loud "HELLO, x"

# What the backend hands spoke: a stand-in spoke records its arguments.
mkdir -p "$T/src-layout/rust" "$T/src-layout/src"
printf '[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n' >"$T/src-layout/pyproject.toml"
printf '[package]\nname = "x"\nversion = "0.1.0"\n' >"$T/src-layout/rust/Cargo.toml"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s"\nexit 1\n' "$T/args" >"$T/fake-spoke"
chmod +x "$T/fake-spoke"
(cd "$T/src-layout" && SPOKE="$T/fake-spoke" "$pv/bin/python" -c 'import spoke_build; spoke_build.build_wheel("out")' >/dev/null 2>&1)
check "the src layout: the backend names rust/Cargo.toml" grep -qx "$T/src-layout/rust/Cargo.toml" "$T/args"
check "  and the base interpreter, not the venv's" bash -c "grep -qx '$(readlink -f "$PY")' '$T/args' && ! grep -q '$pv' '$T/args'"
rm -f "$T/args"
printf '[build-system]\nrequires = []\nbuild-backend = "spoke_build"\n[tool.maturin]\nmanifest-path = "crates/x/Cargo.toml"\n' >"$T/src-layout/pyproject.toml"
(cd "$T/src-layout" && SPOKE="$T/fake-spoke" SPOKE_PEP517_ARGS="-i /some/python --locked" "$pv/bin/python" -c 'import spoke_build; spoke_build.build_wheel("out")' >/dev/null 2>&1)
check "[tool.maturin] manifest-path is passed on" grep -qx "$T/src-layout/crates/x/Cargo.toml" "$T/args"
check "  an -i in the build-args replaces the base interpreter" bash -c "grep -qx /some/python '$T/args' && ! grep -qx '$(readlink -f "$PY")' '$T/args' && grep -qx -- --locked '$T/args'"

export SPOKE=/nonexistent/spoke
check_status "a missing spoke binary fails the build" 1 bash -c "cd '$mixed' && '$v/bin/python' -c 'import spoke_build; spoke_build.build_wheel(\"$T/x\")'"
check "  and says how to fix it" bash -c "grep -q 'spoke' '$T/last.out'"
export SPOKE=$(readlink -f "$1")
finish
