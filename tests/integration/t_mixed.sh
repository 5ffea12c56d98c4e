#!/bin/bash
# Mixed Rust/Python packages (examples/mixed): the Python package goes into
# the wheel with the extension inside it, stubs and py.typed kept, console
# scripts in entry_points.txt, license files under licenses/.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
mixed="$ws/mixed"
# Leftovers a developer's tree has: none of them may reach the wheel.
mkdir -p "$mixed/mixedpkg/__pycache__" "$mixed/mixedpkg/.hidden"
echo junk >"$mixed/mixedpkg/__pycache__/cli.cpython-311.pyc"
echo junk >"$mixed/mixedpkg/.hidden/x.py"
echo junk >"$mixed/mixedpkg/_native.cpython-311-x86_64-linux-gnu.so"

build() { "$SPOKE" build -q -i "$PY" --manifest-path "$1/Cargo.toml" -o "$2"; }

check "spoke build of the mixed package" build "$mixed" "$T/w"
whl=$(ls "$T"/w/mixedpkg-0.3.0-*.whl 2>/dev/null)
check "one wheel, named after [project] name" test -n "$whl"
unzip -Z1 "$whl" >"$T/names" 2>/dev/null
want='mixedpkg/__init__.py
mixedpkg/_native.cpython-*.so
mixedpkg/_native.pyi
mixedpkg/cli.py
mixedpkg/py.typed
mixedpkg-0.3.0.dist-info/METADATA
mixedpkg-0.3.0.dist-info/WHEEL
mixedpkg-0.3.0.dist-info/entry_points.txt
mixedpkg-0.3.0.dist-info/licenses/LICENSE
mixedpkg-0.3.0.dist-info/licenses/NOTICE.txt
mixedpkg-0.3.0.dist-info/RECORD'
check "entries: sources sorted with the extension in its place, dist-info last" \
	bash -c "[ \$(wc -l <'$T/names') -eq 11 ] && paste -d' ' '$T/names' <(echo '$want') | while read -r n p; do [[ \$n == \$p ]] || { echo \"\$n != \$p\"; exit 1; }; done"
check "no __pycache__, hidden or stale .so files" bash -c "! grep -E '__pycache__|hidden|\\.pyc' '$T/names' && [ \$(grep -c '\\.so\$' '$T/names') -eq 1 ]"
meta=$(unzip -p "$whl" mixedpkg-0.3.0.dist-info/METADATA)
check "Metadata-Version 2.4 with License-File lines" bash -c "grep -qx 'Metadata-Version: 2.4' <<<'$meta' && [ \"\$(grep '^License-File: ' <<<'$meta')\" = \$'License-File: LICENSE\\nLicense-File: NOTICE.txt' ]"
check "entry_points.txt has the console script" bash -c "unzip -p '$whl' mixedpkg-0.3.0.dist-info/entry_points.txt | diff - <(printf '[console_scripts]\\nmixedpkg-hello = mixedpkg.cli:main\\n\\n')"
check "the wheel is valid (RECORD holds)" wheels_valid "$T/w"
check "spoke show says the wheel is valid" "$SPOKE" show -q "$whl"
check "python -m wheel unpack verifies it" bash -c "cd '$T' && '$PY' -m wheel unpack -d unpack '$whl'"
v=$(make_venv mixed)
check "pip installs it" "$v/bin/pip" install --no-index -q "$whl"
check "the package imports its native part" "$v/bin/python" -c '
import mixedpkg, mixedpkg._native as n, importlib.metadata as m
assert mixedpkg.quadruple(3) == 12 and n.double(4) == 8
assert m.metadata("mixedpkg").get_all("License-File") == ["LICENSE", "NOTICE.txt"]
import os; d = os.path.dirname(mixedpkg.__file__)
assert os.path.exists(os.path.join(d, "py.typed")) and os.path.exists(os.path.join(d, "_native.pyi"))
'
check "the console script runs" bash -c "'$v/bin/mixedpkg-hello' 5 | grep -qx 'mixedpkg says 20'"

# A package without license files but with cargo's license = "MIT" is
# Metadata-Version 2.4 for its License-Expression.
check "spoke build of hello" build "$ws/hello" "$T/h"
check "hello's METADATA is 2.4 for License-Expression, with no License-File" bash -c "unzip -p '$T'/h/hello-*.whl '*/METADATA' | grep -qx 'Metadata-Version: 2.4' && unzip -p '$T'/h/hello-*.whl '*/METADATA' | grep -qx 'License-Expression: MIT' && ! unzip -p '$T'/h/hello-*.whl '*/METADATA' | grep -q '^License-File'"

# Reproducible with python files too.
SOURCE_DATE_EPOCH=1700000000 build "$mixed" "$T/r1" >/dev/null 2>&1
SOURCE_DATE_EPOCH=1700000000 build "$mixed" "$T/r2" >/dev/null 2>&1
check "two builds with SOURCE_DATE_EPOCH are identical" \
	bash -c "ls '$T/r1'/*.whl >/dev/null && diff <(cd '$T/r1' && sha256sum *.whl) <(cd '$T/r2' && sha256sum *.whl)"

# python-source names another folder; without license-files, cargo's
# license-file is shipped with the files the default globs find.
mkdir "$mixed/python" && mv "$mixed/mixedpkg" "$mixed/python/"
sed -i 's/^module = "mixedpkg._native"$/&\npython-source = "python"/' "$mixed/Cargo.toml"
sed -i '/^license-files/d' "$mixed/pyproject.toml"
rm -rf "$T/ps"
check "python-source = \"python\" builds" build "$mixed" "$T/ps"
check "  the sources come from python/" bash -c "unzip -Z1 '$T'/ps/mixedpkg-*.whl | grep -qx mixedpkg/cli.py"
check "  cargo's license-file and NOTICE.txt are the License-Files" bash -c "unzip -p '$T'/ps/mixedpkg-*.whl '*/METADATA' | grep '^License-File' | diff - <(printf 'License-File: LICENSE\nLicense-File: NOTICE.txt\n')"

sed -i 's/^python-source = "python"$/python-source = "..\/elsewhere"/' "$mixed/Cargo.toml"
check_status "python-source outside the package fails" 1 build "$mixed" "$T/bad1"
check "  and says why" grep -q "python-source must be a relative path" "$T/last.out"
sed -i 's/^python-source = .*$/python-source = "nowhere"/' "$mixed/Cargo.toml"
check_status "a python-source folder that does not exist fails" 1 build "$mixed" "$T/bad2"
check "  and says why" grep -q "python-source 'nowhere': no such folder '$mixed/nowhere'" "$T/last.out"
mkdir "$mixed/empty"
sed -i 's/^python-source = .*$/python-source = "empty"/' "$mixed/Cargo.toml"
check_status "python-source without the module's package folder fails" 1 build "$mixed" "$T/bad4"
check "  and says why" grep -q "python-source 'empty' has no folder 'mixedpkg' for module 'mixedpkg._native'" "$T/last.out"
sed -i 's/^python-source = .*$/python-source = "python"/' "$mixed/Cargo.toml"
sed -i 's/^requires-python.*$/&\nlicense-files = ["COPYING*"]/' "$mixed/pyproject.toml"
check_status "a license-files glob that matches nothing fails" 1 build "$mixed" "$T/bad3"
check "  and says why" grep -q "license-files pattern 'COPYING\*' matches no file" "$T/last.out"
check "no wheel was left by the failures" bash -c "! ls '$T'/bad*/*.whl 2>/dev/null"
finish
