#!/bin/bash
# maturin_crates.sh - spoke on maturin's own test crates (test-crates/ in
# its source), pinned to Debian's PyO3 0.17.3, as a table: for each crate,
# whether `spoke build` run in its folder with no flags gives wheels,
# whether they install into a fresh venv with no network, and whether
# the crate's check_installed/check_installed.py (or, where it has none,
# the facts maturin's own tests check) passes.  With --sdist, each crate's
# `spoke sdist` is unpacked in a clean folder, built there, and that
# wheel compared with the tree's (file list, METADATA), and the sdist's
# files with the list maturin's tests/run/sdist.rs expects, where it has
# one.  Not a benchmark and not in CI (it needs maturin's source): a
# parity check to run by hand while the maturin drop-in (issue 18) lands.
#
# usage: bench/maturin_crates.sh [--spoke SPOKE] [--sdist] [--work DIR]
#                                [--only CRATE]...
# Environment: MATURIN_SRC, a checkout of PyO3/maturin (default: the
# bare mirror /work/.mirror/PyO3+maturin/repo, its HEAD).  --work keeps
# the folder (and cargo's shared target directory) for the next run.
#
# The crates are ported to PyO3 0.17 by the rewrites listed in port()
# below, applied to a fresh copy every run; a crate they cannot bring to
# 0.17 is reported "not portable" with the reason.  Dependencies that a
# check imports (boltons) are tiny local stand-ins, named in the output.
set -uo pipefail
SPOKE= SDIST= WORK= ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$(readlink -f "$2"); shift 2 ;;
	--sdist) SDIST=1; shift ;;
	--work) mkdir -p "$2" && WORK=$(readlink -f "$2") || exit 2; shift 2 ;;
	--only) ONLY="$ONLY $2 "; shift 2 ;;
	-h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "maturin_crates: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
cd "$(dirname "$0")/.."
for s in "$SPOKE" ./spoke build/spoke; do
	[ -n "$s" ] && [ -x "$s" ] && { SPOKE=$(readlink -f "$s"); break; }
done
[ -x "$SPOKE" ] || { echo "maturin_crates: no spoke binary (--spoke)" >&2; exit 2; }
PY=/usr/bin/python3
if [ -n "$WORK" ]; then
	W=$WORK
else
	W=$(mktemp -d /tmp/spoke-maturin.XXXXXX) || exit 2
	trap 'rm -rf "$W"' EXIT
fi
TGT=$W/target
export CARGO_TARGET_DIR=$TGT CARGO_BUILD_JOBS=1

# maturin's sources: test-crates/ and the top README.md, which hello-world
# names as its readme (../../README.md).
MIRROR=/work/.mirror/PyO3+maturin/repo
rm -rf "$W/m" "$W/sdist" "$W/venv" "$W/log" && mkdir -p "$W/m" "$W/log" || exit 2
if [ -n "${MATURIN_SRC:-}" ]; then
	cp -a "$MATURIN_SRC/test-crates" "$MATURIN_SRC/README.md" "$W/m/" || exit 2
	REV=$(git -C "$MATURIN_SRC" describe --always 2>/dev/null || echo "$MATURIN_SRC")
else
	git -C "$MIRROR" archive HEAD test-crates README.md | tar -x -C "$W/m" || exit 2
	REV="$(git -C "$MIRROR" log -1 --format='%h %cs') ($MIRROR)"
fi
C=$W/m/test-crates

# Cargo finds a .cargo/config.toml in every folder above the one it runs
# in, so one file in $W serves the crates and the unpacked sdists alike:
# crates.io is Debian's registry (librust-*-dev), with no network, as
# tests/integration/lib.sh's pyo3_offline.
mkdir -p "$W/.cargo"
cat >"$W/.cargo/config.toml" <<'CFG'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
CFG

# port: the rewrites that bring the crates from PyO3 0.2x to Debian's
# 0.17.3, each one a regular expression with why it is needed.  Prints
# "crate<TAB>reason" for every crate it cannot port.
port() {
	"$PY" - "$C" <<'PYEOF'
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
def sub(path, pattern, repl, flags=0):
    text = path.read_text()
    new = re.sub(pattern, repl, text, flags=flags)
    if new != text:
        path.write_text(new)

for f in root.rglob("Cargo.toml"):
    # R1: pyo3 and pyo3-ffi at Debian's version, whatever the crate asked
    # for (0.25 to 0.29); their features (abi3-py38, auto-initialize...)
    # all exist in 0.17.
    sub(f, r'^(pyo3(?:-ffi)?\s*=\s*\{\s*version\s*=\s*")[^"]*"', r'\g<1>0.17.3"', re.M)
    sub(f, r'^(pyo3(?:-ffi)?\s*=\s*")[^"]*"', r'\g<1>0.17.3"', re.M)
    # R2: workspace-inheritance asks for rand 0.9; Debian has rand 0.8.5,
    # whose small_rng feature the crate also asks for.  (The crate does
    # not use rand: only resolution must succeed.)
    sub(f, r'^(rand\s*=\s*)"0\.9"', r'\g<1>"0.8"', re.M)
    # R8: pyo3 0.26+ leaves libpython unlinked when the build tool sets
    # PYO3_BUILD_EXTENSION_MODULE=1 (maturin does, spoke does), so the
    # crates no longer list the `extension-module` feature; 0.17 ignores
    # that variable and needs the feature.  Added to the pyo3 (pyo3-ffi)
    # dependency of cdylib crates only: not to pyo3-no-extension-module,
    # whose point is to lack it, nor to binaries (pyo3-bin), which link
    # libpython.
    text = f.read_text()
    if "cdylib" in text and f.parent.name != "pyo3-no-extension-module":
        sub(f, r'^(pyo3(?:-ffi)?\s*=\s*\{\s*version\s*=\s*"[^"]*")(\s*,\s*features\s*=\s*\[)?',
            lambda m: m.group(1) + ', features = ["extension-module"'
                      + (", " if m.group(2) else "]"), re.M)
# R3: the lock files pin crates.io's pyo3 0.2x with checksums; cargo
# resolves again against Debian's registry without them.
for f in root.rglob("Cargo.lock"):
    f.unlink()

for f in root.rglob("*.rs"):
    # R4: 0.21+'s module function `m: &Bound<'_, PyModule>` is 0.17's
    # `_py: Python<'_>, m: &PyModule`; the calls in its body (add_class,
    # add, add_wrapped, add_function(wrap_pyfunction!(f, m)?)) exist in
    # 0.17 with the same spelling.
    sub(f, r"\(\s*(\w+)\s*:\s*&Bound<(?:'_,\s*)?PyModule>\s*\)", r"(_py: Python<'_>, \1: &PyModule)")
    # R5: 0.26's Python::attach is 0.17's Python::with_gil.
    sub(f, r"Python::attach\(", "Python::with_gil(")
    # R6: imports of the Bound API: Bound becomes Python (needed by R4),
    # the PyModuleMethods trait does not exist in 0.17.
    sub(f, r"(use pyo3::\{[^}]*)\bBound\b", r"\1Python")
    sub(f, r"use pyo3::types::\{PyModule,\s*PyModuleMethods\};", "use pyo3::types::PyModule;")
    # R7: a declarative module (0.22+: `#[pymodule] mod m { ... }`) with
    # only `use` items and #[pyfunction]s becomes 0.17's function module
    # adding each function.
    text = f.read_text()
    m = re.search(r"#\[pymodule\]\s*mod\s+(\w+)\s*\{(.*)\}\s*$", text, re.S)
    if m:
        name, body = m.group(1), m.group(2)
        uses = [u for u in re.findall(r"^\s*(use [^;]+;)", body, re.M)
                if u != "use pyo3::pyfunction;"]
        rest = re.sub(r"^\s*use [^;]+;\s*$", "", body, flags=re.M)
        fns = re.findall(r"#\[pyfunction\]\s*(?:pub\s+)?fn\s+(\w+)", rest)
        left = re.sub(r"#\[pyfunction\]\s*(?:pub\s+)?fn\s+\w+\s*\([^)]*\)[^{]*\{[^}]*\}", "", rest)
        if left.strip():
            print("%s\tdeclarative #[pymodule] mod with more than functions"
                  % f.relative_to(root).parts[0])
            continue
        adds = "".join("    m.add_function(wrap_pyfunction!(%s, m)?)?;\n" % n for n in fns)
        f.write_text(text[:m.start()] + "\n".join(uses) + "\n" + rest.strip("\n")
                     + "\n\n#[pymodule]\nfn %s(_py: Python<'_>, m: &PyModule) -> PyResult<()> {\n%s    Ok(())\n}\n"
                     % (name, adds))
# R9: abi3t (the free-threaded stable ABI of Python 3.15, PyO3 0.28+) does
# not exist in 0.17.  Beside an abi3-pyXY feature it is dropped: a build
# for 3.11 uses abi3 alone, and the crate's 3.15 code is behind
# #[cfg(Py_3_15)].  A crate asking for abi3t alone is not portable.  Its
# build script's pyo3-build-config is pinned as pyo3 is (use_pyo3_cfgs
# exists in 0.17).
for f in root.rglob("Cargo.toml"):
    text = f.read_text()
    if re.search(r'"abi3-py3\d+"', text):
        sub(f, r'\s*"abi3t[^"]*",?', "")
    sub(f, r'^(pyo3-build-config\s*=\s*\{\s*version\s*=\s*")[^"]*"', r'\g<1>0.17.3"', re.M)
    hit = re.search(r'"(abi3t[^"]*)"', f.read_text())
    if hit:
        print("%s\t%s: asks for %s, the free-threaded stable ABI (PyO3 0.28+)"
              % (f.relative_to(root).parts[0], f.relative_to(root), hit.group(1)))
# What R1-R9 leave on a 0.2x API is not portable by small changes.
later = re.compile(r"\bBound<|\bPy<PyAny>::|\.into_pyobject\(|\bpyo3::sync::PyOnceLock|IntoPyObject\b")
for f in root.rglob("*.rs"):
    hit = later.search(f.read_text())
    if hit:
        print("%s\t%s: uses %s (PyO3 0.21+)" % (f.relative_to(root).parts[0],
              f.relative_to(root), hit.group(0)))
PYEOF
}
port >"$W/log/not-portable" || exit 2

# Stand-ins for what the checks import from PyPI: a wheel written here
# with zipfile, so pip installs it offline with no build backend.
standin() { # name version [path source]...
	"$PY" - "$W/standins" "$@" <<'PYEOF'
import base64, hashlib, os, sys, zipfile
out, name, version = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
di = "%s-%s.dist-info" % (name, version)
files = dict(zip(sys.argv[4::2], sys.argv[5::2]))
files.update({di + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: stand-in written by spoke's bench/maturin_crates.sh\n" % (name, version),
         di + "/WHEEL": "Wheel-Version: 1.0\nGenerator: maturin_crates.sh\nRoot-Is-Purelib: true\nTag: py3-none-any\n"})
record = ""
for p, s in files.items():
    d = hashlib.sha256(s.encode()).digest()
    record += "%s,sha256=%s,%d\n" % (p, base64.urlsafe_b64encode(d).rstrip(b"=").decode(), len(s.encode()))
record += di + "/RECORD,,\n"
with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (out, name, version), "w") as z:
    for p, s in files.items():
        z.writestr(p, s)
    z.writestr(di + "/RECORD", record)
PYEOF
}
rm -rf "$W/standins"
# boltons: pyo3-mixed's check calls boltons.strutils.slugify and expects
# "first_post_hi_1" for "First post! Hi!!!!~1    ".
standin boltons 25.0.0 boltons/__init__.py '' boltons/strutils.py 'import re
def slugify(text, delim="_", lower=True):
    words = [w for w in re.split(r"[^0-9A-Za-z]+", text) if w]
    s = delim.join(words)
    return s.lower() if lower else s
' || exit 2

# The crates: name, the folder `spoke build` runs in (from test-crates/),
# and what is checked.  check: "installed" runs check_installed.py (the
# folder's, else its parent's, as maturin's tests do); "py:CODE" runs
# CODE in the venv; "fail:TEXT" is an expected failure, passed when the
# build fails with TEXT in its output; "wheel:REGEX" checks the wheel's
# file name.  Facts are those maturin's tests/ check for the crate.
# Expected failures: pyo3-no-extension-module (maturin refuses a module
# that links libpython: "Your library links libpython"), pyo3-feature
# (no bindings unless built with --features pyo3), with-data (maturin
# finds no pyo3 and builds cffi bindings, which spoke refuses by design;
# its check also imports cffi, which no offline venv here has).
CRATES=(
	"pyo3-pure|pyo3-pure|installed"
	"pyo3-mixed|pyo3-mixed|installed"
	"pyo3-mixed-src|pyo3-mixed-src|installed"
	"pyo3-mixed-py-subdir|pyo3-mixed-py-subdir|installed"
	"pyo3-mixed-include-exclude|pyo3-mixed-include-exclude|installed"
	"pyo3-mixed-workspace|pyo3-mixed-workspace|installed"
	"pyo3-bin|pyo3-bin|installed"
	"hello-world|hello-world|installed"
	"with-data|with-data|fail:cffi"
	"workspace-inheritance|workspace-inheritance/python|py:import importlib.metadata as m; assert m.version('workspace-inheritance') == '0.1.0'"
	"lib_with_path_dep|lib_with_path_dep|py:from lib_with_path_dep import add; assert add(2, 2) == 4"
	"license-test|license-test|installed"
	"readme-duplication|readme-duplication/readme-py|installed"
	"sdist_with_path_dep|sdist_with_path_dep|py:from sdist_with_path_dep import add; assert add(2, 2) == 4"
	"workspace_with_path_dep|workspace_with_path_dep/python|py:import workspace_with_path_dep as w; assert w.sum_as_string(2, 2) == '4'"
	"workspace-inverted-order|workspace-inverted-order/path-dep-with-root|installed"
	"pyo3-abi3-without-version|pyo3-abi3-without-version|wheel:-cp37-abi3-"
	"pyo3-no-extension-module|pyo3-no-extension-module|fail:libpython"
	"pyo3-feature|pyo3-feature|fail:"
	"pyo3-ffi-pure|pyo3-ffi-pure|installed"
)
# The files maturin's tests/run/sdist.rs expects in the sdists of the
# crates it lists (cargo's generator), read from the same source, keyed by
# the crate's top folder, without the sdist's top folder.
declare -A SDIST_LIST=()
if [ -n "${MATURIN_SRC:-}" ]; then
	cat "$MATURIN_SRC/tests/run/sdist.rs"
else
	git -C "$MIRROR" show HEAD:tests/run/sdist.rs
fi 2>/dev/null | "$PY" -c '
import re, sys
s = sys.stdin.read()
pat = (r"package:\s*\"test-crates/([^\"/]+)[^\"]*\",\s*generator:\s*SdistGenerator::Cargo,"
       r"\s*\},\s*expect!\[\[r#\"\s*\{(.*?)\}\s*\"#\]\]")
for m in re.finditer(pat, s, re.S):
    files = [f.split("/", 1)[1] for f in re.findall(r"\"([^\"]+)\"", m.group(2))]
    print(m.group(1) + "\t" + " ".join(sorted(files)))
' >"$W/log/sdist-lists"
while IFS=$'\t' read -r k v; do SDIST_LIST[$k]=$v; done <"$W/log/sdist-lists"

# why LOG: the first line of a failure: spoke's own error, else cargo's,
# else a Python exception, else the last line.
why() {
	local l
	if grep -q '^Traceback' "$1"; then
		# A Python traceback: its exception, where it was raised and
		# that line of code (an assert says nothing by itself).
		l=$(awk '/^  File "/ { f = $0; getline; c = $0 } END { print }' "$1")
		l="$l at $(awk '/^  File "/ { f = $0; getline; c = $0 } END {
			sub(/^  File "/, "", f); n = f; sub(/".*/, "", n); m = f
			sub(/.*line /, "", m); sub(/,.*/, "", m); gsub(/^ +/, "", c)
			k = split(n, p, "/"); print p[k] ":" m ": " c }' "$1")"
		echo "${l:0:150}"
		return
	fi
	# spoke's "cargo ... failed" says less than cargo's own first error.
	if grep -q -E '^spoke: cargo .*failed' "$1" && grep -q '^error' "$1"; then
		l="cargo: $(grep -m1 -E '^error' "$1")"
		grep -q '^Caused by:' "$1" &&
			l="$l: $(grep -A1 '^Caused by:' "$1" | grep -v -E '^(Caused by:|--)' |
				tail -n1 | sed 's/^ *//')"
	else
		l=$(grep -m1 -E '^spoke: ' "$1") || l=$(grep -m1 -E '^error' "$1") ||
		l=$(grep -m1 -E '^[A-Za-z.]*(Error|Exception)\b' "$1") ||
		l=$(grep -v '^\s*$' "$1" | tail -n1)
	fi
	l=${l//$C\//}
	l=${l//$TGT/<target>}
	l=${l//$W\//}
	echo "${l:0:150}"
}

# build_in DIR LOG: `spoke build` as a user runs it, in DIR with no flags;
# prints the wheels it wrote.
build_in() {
	rm -rf "$TGT/wheels"
	(cd "$1" && nice -n 10 "$SPOKE" build) >"$2" 2>&1 || return 1
	ls "$TGT"/wheels/*.whl 2>/dev/null
}

# install NAME WHEELS...: a fresh venv with the wheels (and stand-ins).
install() {
	local v=$W/venv/$1; shift
	rm -rf "$v" && "$PY" -m venv "$v" >/dev/null &&
		"$v/bin/pip" install -q --disable-pip-version-check --no-index \
			--find-links "$W/standins" "$@"
}

# check NAME DIR CHECK: what the crate's tests check, in its venv.
check() {
	local v=$W/venv/$1 d=$2 c=$3 f
	case $c in
	installed)
		f=$d/check_installed/check_installed.py
		[ -f "$f" ] || f=$(dirname "$d")/check_installed/check_installed.py
		(cd "$d" && env PATH="$v/bin" "$v/bin/python" "$f") ;;
	py:*) (cd "$W" && "$v/bin/python" -c "${c#py:}") ;;
	esac
}

# zip_names WHEEL: the wheel's member names, sorted; metadata WHEEL: its
# METADATA; for comparing two wheels of the same crate.
zip_names() {
	"$PY" -c 'import sys, zipfile
for n in sorted(zipfile.ZipFile(sys.argv[1]).namelist()): print(n)' "$1"
}
metadata() {
	"$PY" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(z.read([n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]).decode(), end="")' "$1"
}

echo "spoke:   $SPOKE ($(git -C "$(dirname "$SPOKE")" log -1 --format='%h %s' 2>/dev/null | cut -c1-70))"
echo "maturin: $REV"
echo "pyo3:    Debian's 0.17.3 (/usr/share/cargo/registry), work folder $W"
echo "stand-ins (not the real packages): boltons (strutils.slugify only)"
echo
(cd "$C" && "$SPOKE" stop >/dev/null 2>&1)
printf '%-28s %-6s %-9s %-6s %s\n' crate built installed check "why not"
for row in "${CRATES[@]}"; do
	IFS='|' read -r name dir chk <<<"$row"
	[ -n "$ONLY" ] && [[ $ONLY != *" $name "* ]] && continue
	d=$C/$dir log=$W/log/$name.build
	b=no i=- k=- r=
	rm -rf "$W/wheels/$name"
	np=$(awk -F'\t' -v n="$name" '$1 == n { print $2; exit }' "$W/log/not-portable")
	if [ -n "$np" ]; then
		r="not portable: $np"
	elif wheels=$(build_in "$d" "$log") && [ -n "$wheels" ]; then
		b=yes
		mkdir -p "$W/wheels/$name"
		cp $wheels "$W/wheels/$name/"
		if [ "${chk%%:*}" = fail ]; then
			k=FAIL r="built, where maturin refuses it"
		elif [ "${chk%%:*}" = wheel ]; then
			i=-
			if [[ $(basename $wheels) =~ ${chk#wheel:} ]]; then k=ok; else
				k=FAIL r="wheel $(basename $wheels | head -n1) is not ${chk#wheel:}"
			fi
		elif install "$name" "$W/wheels/$name"/*.whl >"$W/log/$name.install" 2>&1; then
			i=yes
			if check "$name" "$d" "$chk" >"$W/log/$name.check" 2>&1; then k=ok; else
				k=FAIL r=$(why "$W/log/$name.check")
			fi
		else
			i=no r=$(why "$W/log/$name.install")
		fi
	else
		r=$(why "$log")
		[ -z "$r" ] && r="no wheel written"
		if [ "${chk%%:*}" = fail ]; then
			if grep -q -- "${chk#fail:}" "$log"; then k=ok r="expected failure: $r"; else
				k=FAIL r="failed, but not naming '${chk#fail:}': $r"
			fi
		fi
	fi
	printf '%-28s %-6s %-9s %-6s %s\n' "$name" "$b" "$i" "$k" "$r"
done | tee "$W/table"
echo
echo "$(grep -c ' ok ' "$W/table") of $(wc -l <"$W/table") crates pass; logs in $W/log$([ -n "$WORK" ] || echo " (removed at exit: keep them with --work DIR)")"

if [ -n "$SDIST" ]; then
	# The sdist round trip: spoke sdist in the crate's folder, unpacked in
	# a clean folder under $W (so the offline config applies), built
	# there, and the wheel compared with the one from the tree.
	echo
	printf '%-28s %-6s %-6s %-6s %-6s %s\n' crate sdist built files META "why not / differences"
	for row in "${CRATES[@]}"; do
		IFS='|' read -r name dir chk <<<"$row"
		[ -n "$ONLY" ] && [[ $ONLY != *" $name "* ]] && continue
		[ "${chk%%:*}" = fail ] && continue
		d=$C/$dir log=$W/log/$name.sdist s=no b=- fl=- md=- r= r2=
		rm -rf "$TGT/wheels" "$W/sdist/$name" && mkdir -p "$W/sdist/$name"
		if (cd "$d" && nice -n 10 "$SPOKE" sdist) >"$log" 2>&1 &&
			sd=$(ls "$TGT"/wheels/*.tar.gz 2>/dev/null | head -n1) && [ -n "$sd" ]; then
			s=yes
			tar -xzf "$sd" -C "$W/sdist/$name"
			u=$(ls -d "$W/sdist/$name"/*/ | head -n1)
			if [ -n "${SDIST_LIST[${dir%%/*}]:-}" ]; then
				want=$(tr ' ' '\n' <<<"${SDIST_LIST[${dir%%/*}]}" | LC_ALL=C sort)
				have=$(cd "$u" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
				[ "$want" = "$have" ] || r2="sdist files differ from maturin's: $(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ' | cut -c1-160)"
			fi
			if wheels=$(build_in "$u" "$log.build") && [ -n "$wheels" ]; then
				b=yes
				tree=$(ls "$W/wheels/$name"/*.whl 2>/dev/null | head -n1)
				if [ -z "$tree" ]; then
					r=${r:-"no wheel from the tree to compare"}
				else
					w=$(echo "$wheels" | head -n1)
					if diff <(zip_names "$tree") <(zip_names "$w") >"$log.files"; then fl=same; else
						fl=DIFF r=${r:-"files: $(grep '^[<>]' "$log.files" | head -n3 | tr '\n' ' ')"}
					fi
					if diff <(metadata "$tree") <(metadata "$w") >"$log.meta"; then md=same; else
						md=DIFF r="${r:+$r; }METADATA: $(grep '^[<>]' "$log.meta" | head -n3 | tr '\n' ' ')"
					fi
				fi
			else
				b=no r=$(why "$log.build")
			fi
		else
			r=$(why "$log")
		fi
		# The wheel's story first, then how the sdist's files differ
		# from the list maturin's tests expect.
		[ -n "$r2" ] && r="${r:+$r; }$r2"
		printf '%-28s %-6s %-6s %-6s %-6s %s\n' "$name" "$s" "$b" "$fl" "$md" "${r:0:200}"
	done | tee "$W/sdist-table"
	echo
	echo "$(grep -c -E ' yes +yes +same +same' "$W/sdist-table") of $(wc -l <"$W/sdist-table")" \
		"sdists build a wheel with the tree's files and METADATA"
fi
(cd "$C" && "$SPOKE" stop >/dev/null 2>&1)
exit 0
