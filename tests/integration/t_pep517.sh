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
check "  and says the Cargo.toml is missing" grep -q "no Cargo.toml in $T/nocrate" "$T/last.out"

export SPOKE=/nonexistent/spoke
check_status "a missing spoke binary fails the build" 1 bash -c "cd '$mixed' && '$v/bin/python' -c 'import spoke_build; spoke_build.build_wheel(\"$T/x\")'"
check "  and says how to fix it" bash -c "grep -q 'spoke' '$T/last.out'"
export SPOKE=$(readlink -f "$1")
finish
