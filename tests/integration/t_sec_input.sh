#!/bin/bash
# Hostile input (issue 15, finding 4 and Deliver item 5): wheels whose
# WHEEL, RECORD, METADATA or entry_points.txt is empty, white space, holds
# a NUL, has CRLF line ends or is one byte long are a clear problem in
# `spoke show` and a clear error in `spoke repair`, never a crash; RECORD
# is CSV (a comma in a file name survives build, show and pip); names a
# wheel cannot hold are refused before packaging; symlinks out of the
# project are refused in the wheel and the sdist; a License-File is a
# place in the wheel.
. "$(dirname "$0")/lib.sh"

cat >"$T/gen.py" <<'PYEOF'
# gen.py OUT FILE TEXT: a small pure wheel whose dist-info FILE (WHEEL,
# RECORD, METADATA or entry_points.txt) holds TEXT (Python escapes
# allowed: \x00, \r, \n); FILE "-" leaves every file valid.  With
# EXTRA_NAME set, one more file of that name goes in.
import base64, csv, hashlib, io, os, sys, zipfile
def h(b):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
out, which, raw = sys.argv[1], sys.argv[2], sys.argv[3]
text = raw.encode().decode("unicode_escape").encode("latin-1")
di = "demo-1.0.dist-info"
files = {"demo/__init__.py": b"x = 1\n",
         di + "/METADATA": os.environ.get("META", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n").encode(),
         di + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
         di + "/entry_points.txt": b"[console_scripts]\ndemo = demo:main\n"}
if os.environ.get("EXTRA_NAME"):
    files[os.environ["EXTRA_NAME"]] = b"y = 2\n"
if which not in ("-", "RECORD"):
    files[di + "/" + which] = text
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
for n, d in files.items():
    w.writerow([n, h(d), len(d)])
w.writerow([di + "/RECORD", "", ""])
with zipfile.ZipFile(out, "w") as z:
    for n, d in files.items():
        z.writestr(n, d)
    z.writestr(di + "/RECORD", text if which == "RECORD" else buf.getvalue().encode())
PYEOF
gen() { "$PY" "$T/gen.py" "$T/demo-1.0-py3-none-any.whl" "$@"; }
W="$T/demo-1.0-py3-none-any.whl"

check "the generator's valid wheel is valid" bash -c "'$PY' '$T/gen.py' '$W' - '' && '$SPOKE' show -q '$W'"
# Each variant: a problem naming the file in show (exit 1, never a signal)
# and an error naming it in repair, with nothing written.
for f in WHEEL RECORD METADATA entry_points.txt; do
	for v in "|is empty" ' \n\t\n|holds only white space' 'A\x00B\n|holds a NUL byte' \
		'Key: v\r\nOther: w\r\n|has a carriage return' 'x|line 1 is'; do
		text=${v%%|*} want=${v#*|}
		# RECORD is CSV, whose rows may end in CRLF: what is wrong
		# with this variant there is its first line.
		case "$f:$want" in
		RECORD:has\ a\ carriage\ return) want="line 1 is" ;;
		esac
		gen "$f" "$text"
		check_status "show, $f '$text': exit 1" 1 "$SPOKE" show "$W"
		check "  names $f: $want" grep -qF "'demo-1.0.dist-info/$f': $want" "$T/last.out"
		check_status "repair, $f '$text': exit 1" 1 "$SPOKE" repair "$W" -w "$T/rep"
		check "  names $f: $want" grep -qF "is not a valid wheel: 'demo-1.0.dist-info/$f': $want" "$T/last.out"
		check "  nothing written" bash -c "! ls '$T'/rep/*.whl 2>/dev/null"
	done
done
# CRLF in the description body of METADATA is the author's text, not a
# line end of its headers.
META=$'Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\nline one\r\nline two\r\n' gen - ""
check "CRLF in METADATA's description is no problem" "$SPOKE" show -q "$W"

# A quoted RECORD name: Python's csv module quotes a comma.
EXTRA_NAME='demo/a,b.py' gen - ""
check "show reads a quoted RECORD line (comma in a name)" "$SPOKE" show -q "$W"
check_status "show: a quote never closed is a clear problem" 1 \
	bash -c "'$PY' '$T/gen.py' '$W' RECORD '\"demo/__init__.py,sha256=x,6\n' && '$SPOKE' show '$W'"
check "  naming the line" grep -q "RECORD': is not valid CSV: line 1 has a quote that is never closed" "$T/last.out"

# License-File: the file's place in the wheel's licenses/ folder.
META=$'Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-File: ../../etc/passwd\n' gen - ""
check_status "show: License-File ../../etc/passwd is a problem" 1 "$SPOKE" show "$W"
check "  saying why" grep -q "License-File '../../etc/passwd' is not a file's place in the wheel's licenses/ folder: the name has a '..' component" "$T/last.out"
META=$'Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-File: LICENSE\n' gen - ""
check_status "show: a License-File not in the wheel is a problem" 1 "$SPOKE" show "$W"
check "  naming it" grep -q "License-File 'LICENSE' is not in the wheel (no 'demo-1.0.dist-info/licenses/LICENSE')" "$T/last.out"

# Names printed for people are escaped: an ESC in a member name is a
# terminal escape sequence.  --json keeps JSON's own escaping.
esc=$(printf '\033')
EXTRA_NAME=$'demo/\033[2Jevil.py' gen - ""
check_status "show: a member name with ESC is a problem" 1 "$SPOKE" show "$W"
check "  printed escaped, in the entry list and the problem" \
	bash -c "[ \$(grep -cF 'demo/\\x1b[2Jevil.py' '$T/last.out') -ge 2 ]"
check "  and no raw ESC byte reaches the terminal" bash -c "! grep -q '$esc' '$T/last.out'"
check_status "show -q: the same" 1 "$SPOKE" show -q "$W"
check "  no raw ESC byte" bash -c "grep -qF '\\x1b' '$T/last.out' && ! grep -q '$esc' '$T/last.out'"
check_status "repair: the same wheel is refused" 1 "$SPOKE" repair "$W" -w "$T/rep"
check "  its message escaped" bash -c "grep -qF '\\x1b' '$T/last.out' && ! grep -q '$esc' '$T/last.out'"
check "show --json keeps JSON's escaping" bash -c "'$SPOKE' show --json '$W' | grep -qiF 'demo/\\u001b[2Jevil.py'"
mkdir -p "$T/b" && (cd "$T/b" && echo '{"spoke": "x"}' >summary.json && echo hi >"evil$esc]0;owned$(printf '\007').txt" &&
	tar --zstd -cf "$T/evil.tar.zst" summary.json evil*)
check_status "bundle --read: a member name with ESC" 0 "$SPOKE" bundle --read "$T/evil.tar.zst"
check "  printed escaped" grep -qF 'evil\x1b]0;owned\x07.txt' "$T/last.out"
check "  no raw ESC or BEL byte" bash -c "! grep -q '$esc' '$T/last.out' && ! grep -q \$'\\a' '$T/last.out'"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
mixed="$ws/mixed"
build() { "$SPOKE" build -q -i "$PY" --manifest-path "$1/Cargo.toml" -o "$2"; }

# The comma: built, shown valid, installed by pip.
cp "$mixed/mixedpkg/cli.py" "$mixed/mixedpkg/a,b.py"
check "spoke build with mixedpkg/a,b.py" build "$mixed" "$T/comma"
whl=$(ls "$T"/comma/mixedpkg-*.whl 2>/dev/null)
check "  spoke show calls the wheel valid" "$SPOKE" show -q "$whl"
check "  RECORD quotes the name as Python's csv module does" \
	bash -c "unzip -p '$whl' '*/RECORD' | grep -q '^\"mixedpkg/a,b.py\",sha256='"
check "  its RECORD holds (read with the csv module)" wheels_valid "$T/comma"
v=$(make_venv sec)
check "  pip installs it" "$v/bin/pip" install --no-index -q "$whl"
check "  and the file is there" test -f "$("$v/bin/python" -c 'import mixedpkg,os; print(os.path.dirname(mixedpkg.__file__))')/a,b.py"
rm "$mixed/mixedpkg/a,b.py"

# A name a wheel cannot hold: refused before packaging, naming the file.
touch "$mixed/mixedpkg/$(printf 'bad\nname.py')"
check_status "a newline in a python source's name is refused" 1 build "$mixed" "$T/nl"
check "  naming the file" grep -q "python source 'mixedpkg/bad" "$T/last.out"
check "  no wheel" bash -c "! ls '$T'/nl/*.whl 2>/dev/null"
rm "$mixed/mixedpkg/bad"?"name.py"

# Symlinks out of the project (the pyproject.toml's folder).
secret="$T/outside/secret.txt"
mkdir -p "$T/outside/pkg" && echo "root only" >"$secret" && chmod 600 "$secret"
echo 'x = 1' >"$T/outside/pkg/__init__.py"
ln -s "$secret" "$mixed/mixedpkg/leak.py"
check_status "build: a python source linked out of the project is refused" 1 build "$mixed" "$T/l1"
check "  naming the link" grep -q "python source '$mixed/mixedpkg/leak.py' is a symbolic link (or lies below one) to '$secret', outside the project root" "$T/last.out"
check_status "sdist: the same link is refused" 1 "$SPOKE" sdist -q -i "$PY" --manifest-path "$mixed/Cargo.toml" -o "$T/s1"
check "  naming the link" grep -q "'$mixed/mixedpkg/leak.py' is a symbolic link" "$T/last.out"
check "  no wheel and no sdist" bash -c "! ls '$T'/l1/* '$T'/s1/* 2>/dev/null"
rm "$mixed/mixedpkg/leak.py"
ln -s ../README.md "$mixed/mixedpkg/readme_link.py"
check "a link inside the project is still followed" build "$mixed" "$T/l2"
rm "$mixed/mixedpkg/readme_link.py"
ln -s "$secret" "$mixed/NOTICE-leak"
check_status "build: a license file linked out of the project is refused" 1 build "$mixed" "$T/l3"
check "  naming the link" grep -q "license file '$mixed/NOTICE-leak' is a symbolic link" "$T/last.out"
check_status "sdist: the same license link is refused" 1 "$SPOKE" sdist -q -i "$PY" --manifest-path "$mixed/Cargo.toml" -o "$T/s3"
rm "$mixed/NOTICE-leak"
# The readme goes into METADATA: it must lie in the package's folder or
# its workspace, whether named by an absolute path or through a link.
# Cargo's readme is read only when [project] lists readme in dynamic
# (PEP 621).
cp "$mixed/Cargo.toml" "$T/mixed-Cargo.toml"
cp "$mixed/pyproject.toml" "$T/mixed-pyproject.toml"
sed -i 's/^name = "mixedpkg"$/&\ndynamic = ["readme"]/' "$mixed/pyproject.toml"
sed -i "s|^publish = false|&\nreadme = \"$secret\"|" "$mixed/Cargo.toml"
check_status "build: a readme outside the workspace is refused" 1 build "$mixed" "$T/r1"
check "  naming it" grep -q "the readme '$secret' resolves to '$secret', outside the package and its workspace" "$T/last.out"
check_status "sdist: the same readme is refused" 1 "$SPOKE" sdist -q -i "$PY" --manifest-path "$mixed/Cargo.toml" -o "$T/rs1"
check "  no wheel and no sdist" bash -c "! ls '$T'/r1/* '$T'/rs1/* 2>/dev/null"
ln -s "$secret" "$mixed/README-leak.md"
sed -i "s|^readme = .*|readme = \"README-leak.md\"|" "$mixed/Cargo.toml"
check_status "build: a readme linked out of the workspace is refused" 1 build "$mixed" "$T/r2"
check "  naming the link and where it leads" grep -q "the readme '$mixed/README-leak.md' resolves to '$secret'" "$T/last.out"
rm "$mixed/README-leak.md"
sed -i "s|^readme = .*|readme = \"../hello/README.md\"|" "$mixed/Cargo.toml"
check "a readme elsewhere in the workspace is still read" build "$mixed" "$T/r3"
check "  into METADATA" bash -c "unzip -p '$T'/r3/mixedpkg-*.whl '*/METADATA' | grep -q '^Description-Content-Type: text/markdown'"
cp "$T/mixed-Cargo.toml" "$mixed/Cargo.toml"
cp "$T/mixed-pyproject.toml" "$mixed/pyproject.toml"
# A symlinked top-level package (python-source pointing at a folder that
# is a link out).
mkdir -p "$mixed/py"
ln -s "$T/outside/pkg" "$mixed/py/mixedpkg"
sed -i 's/^module = .*/&\npython-source = "py"/' "$mixed/Cargo.toml"
check_status "build: a top-level package linked out of the project is refused" 1 build "$mixed" "$T/l4"
check "  naming the link" grep -q "python package folder '$mixed/py/mixedpkg' is a symbolic link" "$T/last.out"
check "  no wheel" bash -c "! ls '$T'/l4/*.whl 2>/dev/null"

# --artifacts: metadata.license_files are places in licenses/, and files
# beside the artifacts file.
a="$T/art"
mkdir -p "$a"
cp "$ws/target/release/libhello.so" "$a/"
echo "MIT" >"$a/LICENSE"
art() {
	printf '{"artifacts": [{"path": "libhello.so", "distribution": "hello", "version": "1.0", "module": "hello", "metadata": {"license_files": [%s]}}]}\n' "$1" >"$a/artifacts.json"
	"$SPOKE" build -q -i "$PY" --artifacts "$a/artifacts.json"
}
check_status "--artifacts: License-File ../../etc/passwd is refused" 1 art '"../../etc/passwd"'
check "  saying why" grep -q "a License-File is a path inside the wheel's licenses/ folder: license file '../../etc/passwd' cannot go in a wheel: the name has a '..' component" "$T/last.out"
check_status "--artifacts: an absolute License-File is refused" 1 art '"/etc/passwd"'
ln -s "$secret" "$a/LEAK"
check_status "--artifacts: a license file linked out of its folder is refused" 1 art '"LEAK"'
check "  naming the link" grep -q "license file '$a/LEAK' is a symbolic link" "$T/last.out"
check "  no wheel" bash -c "! ls '$a'/wheels/*.whl 2>/dev/null"
check "--artifacts: License-File LICENSE is copied to its place" art '"LICENSE"'
check "  licenses/LICENSE is in the wheel" bash -c "unzip -p '$a'/wheels/hello-1.0-*.whl hello-1.0.dist-info/licenses/LICENSE | grep -qx MIT"
check "  and spoke show calls it valid" bash -c "'$SPOKE' show -q '$a'/wheels/hello-1.0-*.whl"
"$SPOKE" stop --state-dir "$a/.spoke" >/dev/null 2>&1

# spoke log prints cargo paths, which may hold any byte: escaped too.
e="$T/esc${esc}[31m"
mkdir -p "$e"
cp "$ws/target/release/libhello.so" "$e/"
echo '{"artifacts": [{"path": "libhello.so", "distribution": "hello", "version": "1.0", "module": "hello"}]}' >"$e/artifacts.json"
check "--artifacts from a folder whose name holds ESC" "$SPOKE" build -q -i "$PY" --artifacts "$e/artifacts.json"
check_status "spoke log of that build" 0 "$SPOKE" log --state-dir "$e/.spoke"
check "  prints the path escaped" grep -qF 'esc\x1b[31m/libhello.so' "$T/last.out"
check "  and no raw ESC byte" bash -c "! grep -q '$esc' '$T/last.out'"
"$SPOKE" stop --state-dir "$e/.spoke" >/dev/null 2>&1

# getopt_long() took a prefix of a long option: --target became
# --target-dir and cargo's output went to a folder named after the triple.
# (--target is now an option of its own, maturin's; t_cli_maturin.sh
# tests it.  A prefix of --target-dir is still refused.)
check_status "build --target-d TRIPLE: a usage error" 2 \
	bash -c "cd '$ws' && '$SPOKE' build -q -i '$PY' --target-d x86_64-unknown-linux-gnu"
check "  naming the option" grep -q "option '--target-d' must be spelled out in full (did you mean '--target-dir'?)" "$T/last.out"
check "  no folder named after the triple" test ! -e "$ws/x86_64-unknown-linux-gnu"
for cmd in "show --qui x.whl" "repair --out x x.whl" "sdist --manifest x" \
	"bundle --out x" "status --state x" "recover --target x" \
	"stop --manifest x" "log --state x" "serve --idle 5" "build --artifact=x"; do
	check_status "spoke $cmd: an abbreviation is a usage error" 2 bash -c "cd '$T' && '$SPOKE' $cmd"
	check "  naming it" grep -q "must be spelled out in full" "$T/last.out"
done
check_status "an option's argument that looks like a prefix is no abbreviation" 1 \
	bash -c "cd '$T' && '$SPOKE' repair -w --jso nosuch.whl"
check "  (it is the folder)" grep -q "nosuch.whl" "$T/last.out"
check_status "nor is an operand after --" 1 bash -c "cd '$T' && '$SPOKE' show -- --jso"
check "  (it is the wheel's path)" grep -q "'--jso'" "$T/last.out"

finish
