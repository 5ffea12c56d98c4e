#!/bin/bash
# spoke develop: build, then install into the active virtual environment
# with its pip, as maturin develop does (the example workspace, offline).
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
unset VIRTUAL_ENV CONDA_PREFIX
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
v=$(make_venv dev)
in_ws() { (cd "$ws" && "$@"); }
imports() { # imports VENV PYTHON-CODE
	(cd "$T" && "$1/bin/python" -c "$2")
}

check "spoke develop --help" bash -c "'$SPOKE' develop --help | grep -q 'virtual environment'"
check "spoke --help lists develop" bash -c "'$SPOKE' --help | grep -q '^  develop'"

check_status "without a virtual environment spoke develop refuses" 1 in_ws "$SPOKE" develop -p hello
check "  saying how to get one" grep -q "no virtual environment: activate one (VIRTUAL_ENV)" "$T/last.out"
check "  before building anything" test ! -e "$ws/target/debug/libhello.so"
check_status "VIRTUAL_ENV and CONDA_PREFIX that differ: refused" 1 in_ws env VIRTUAL_ENV="$v" CONDA_PREFIX=/nonexistent "$SPOKE" develop -p hello
check "  naming both" grep -q "both VIRTUAL_ENV" "$T/last.out"
check_status "--uv: a usage error" 2 in_ws env VIRTUAL_ENV="$v" "$SPOKE" develop --uv

mkdir -p "$T/devtmp"
check "VIRTUAL_ENV=venv spoke develop -p hello" in_ws env VIRTUAL_ENV="$v" TMPDIR="$T/devtmp" "$SPOKE" develop -q -p hello
check "  the module imports in the venv" imports "$v" 'import hello; assert hello.greet("x") == "hello, x"'
check "  built with cargo's dev profile" test -f "$ws/target/debug/libhello.so"
check "  pip knows the package" bash -c "'$v/bin/python' -m pip show hello | grep -q '^Version: 0.1.0a1'"
check "  the wheel and its temporary folder are removed" bash -c "[ -z \"\$(ls -A '$T/devtmp')\" ]"

check "-r --features loud: release, and the features reach cargo" in_ws env VIRTUAL_ENV="$v" "$SPOKE" develop -q -r -p hello --features loud
check "  the reinstalled module is loud" imports "$v" 'import hello; assert hello.greet("x") == "HELLO, x"'
check "  built in release" test -f "$ws/target/release/libhello.so"

# A .venv in the current folder or one above, when nothing is active.
"$PY" -m venv "$ws/.venv" >/dev/null
check "a .venv above the current folder is found" bash -c "cd '$ws/hello' && '$SPOKE' develop -q"
check "  and the module is installed there" imports "$ws/.venv" 'import hello'
check "  not in the other venv's place" bash -c "! '$v/bin/python' -m pip show hello 2>/dev/null | grep -q 'Location: $ws/.venv'"

# Dependencies: pip installs them, and those of --extras, from a local
# wheel folder (no index).
mkdir -p "$T/links" "$T/depx"
"$PY" - "$T/links" <<'PYEOF'
import base64, hashlib, sys, zipfile
out = sys.argv[1]
files = {"depx.py": b"VALUE = 7\n",
         "depx-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: depx\nVersion: 1.0\n",
         "depx-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
rec = ""
for n, d in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    rec += "%s,sha256=%s,%d\n" % (n, h, len(d))
rec += "depx-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(out + "/depx-1.0-py3-none-any.whl", "w") as z:
    for n, d in files.items():
        z.writestr(n, d)
    z.writestr("depx-1.0.dist-info/RECORD", rec)
PYEOF
printf '[project]\nname = "hello"\nversion = "0.1.0a1"\n\n[project.optional-dependencies]\nfancy = ["depx"]\n' >"$ws/hello/pyproject.toml"
check "spoke develop without --extras" in_ws env VIRTUAL_ENV="$v" PIP_FIND_LINKS="$T/links" "$SPOKE" develop -q -p hello
check "  does not install the extra's dependency" bash -c "! '$v/bin/python' -m pip show depx >/dev/null 2>&1"
check "spoke develop -E fancy" in_ws env VIRTUAL_ENV="$v" PIP_FIND_LINKS="$T/links" "$SPOKE" develop -q -p hello -E fancy
check "  installs the extra's dependency" imports "$v" 'import depx; assert depx.VALUE == 7'
check "  and the package" imports "$v" 'import hello'
# A wheel after one with dependencies is installed as the first was
# (the dependency step once left pip's arguments cut short).
check "spoke develop -E fancy -p hello -p spoke-native: both wheels" in_ws env VIRTUAL_ENV="$v" PIP_FIND_LINKS="$T/links" "$SPOKE" develop -q -p hello -p spoke-native -E fancy
check "  the one after hello is installed too" bash -c "'$v/bin/python' -m pip show spoke-native | grep -q '^Version: 0.1.0'"
rm "$ws/hello/pyproject.toml"

# The environment's python is named to cargo by the file it links to:
# PYO3_PYTHON is the same from one venv to the next, and a crate whose
# build script watches it (as pyo3's does) is not compiled again.
cat >"$ws/hello/build.rs" <<'RS'
fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let p = std::env::var("PYO3_PYTHON").unwrap_or_default();
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/pyo3_python.txt"), p).unwrap();
}
RS
v2=$(make_venv dev2)
check "spoke develop into one venv" in_ws env VIRTUAL_ENV="$v" "$SPOKE" develop -q -p hello
check "  PYO3_PYTHON is the interpreter the venv's python links to" bash -c "[ \"\$(cat '$ws/hello/pyo3_python.txt')\" = '$(readlink -f "$v/bin/python")' ]"
touch "$T/marker2"
check "spoke develop into another venv" in_ws env VIRTUAL_ENV="$v2" "$SPOKE" develop -q -p hello
check "  the module imports there" imports "$v2" 'import hello'
check "  hello was not compiled again" bash -c "[ -z \"\$(find '$ws/target/debug' -maxdepth 1 -name 'libhello.so' -newer '$T/marker2')\" ]"
rm -f "$ws/hello/build.rs" "$ws/hello/pyo3_python.txt"

# No pip in the environment: refused before cargo runs.
nopip=$(make_venv nopip)
"$nopip/bin/python" -m pip uninstall -q -y pip >/dev/null 2>&1
touch "$T/marker"
check_status "an environment without pip is refused" 1 in_ws env VIRTUAL_ENV="$nopip" "$SPOKE" develop -p hello --features loud
check "  saying so" grep -q "no pip in the virtual environment '$nopip'" "$T/last.out"
check "  before cargo ran" bash -c "[ -z \"\$(find '$ws/target' -name 'libhello.so' -newer '$T/marker')\" ]"
finish
