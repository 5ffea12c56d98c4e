#!/bin/bash
# maturin's build flags on `spoke build`: each is accepted with maturin's
# meaning and has its effect (the example workspace: raw FFI, offline).
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
in_ws() { (cd "$ws" && "$@"); }

# greets WHEEL WANT: the wheel's hello module, unpacked, greets as WANT.
greets() {
	local d="$T/unpacked.$$.$RANDOM"
	mkdir -p "$d" && (cd "$d" && unzip -q "$1") &&
		(cd "$T" && PYTHONPATH="$d" "$PY" -c "import hello, sys; g = hello.greet('x'); assert g == sys.argv[1], g" "$2")
}

check "--help lists maturin's flags" bash -c "'$SPOKE' build --help >'$T/help' && for f in -r,\\ --release -o,\\ --out -m,\\ --manifest-path -f,\\ --find-interpreter --auditwheel --compatibility --manylinux --strip --locked --frozen --no-default-features --all-features '--target TRIPLE' --sdist warn; do grep -q -- \"\$f\" '$T/help' || { echo \"missing \$f\"; exit 1; }; done"

# -r/--release is accepted (the default); with another profile it is a
# contradiction, as in maturin.
check "--release -p hello -o DIR" in_ws "$SPOKE" build -q -i "$PY" --release -p hello -o "$T/rel"
check "  wrote the wheel to -o" bash -c "ls '$T/rel'/hello-*.whl"
check_status "-r --profile dev: a usage error" 2 in_ws "$SPOKE" build -q -i "$PY" -r --profile dev -p hello

check "-m MANIFEST --out DIR from another folder" bash -c "cd '$T' && '$SPOKE' build -q -i '$PY' -m '$ws/hello/Cargo.toml' --out '$T/m'"
check "  the wheel is in --out" bash -c "ls '$T/m'/hello-*.whl"

# --auditwheel is --repair; two different modes are a usage error.
check_status "--repair=check --auditwheel=skip: a usage error" 2 in_ws "$SPOKE" build -q -i "$PY" -p hello --repair=check --auditwheel=skip
check "  naming both" grep -q "'check' and 'skip'" "$T/last.out"
check "--repair=skip --auditwheel skip (the same mode twice)" in_ws "$SPOKE" build -q -i "$PY" -p hello --repair=skip --auditwheel skip -o "$T/skip"
check "  a linux_x86_64 wheel" bash -c "ls '$T/skip'/hello-*-linux_x86_64.whl"
check_status "--auditwheel nonsense: a usage error" 2 in_ws "$SPOKE" build -q -i "$PY" -p hello --auditwheel nonsense

# --auditwheel warn: says what repair would bundle, does not fail, and
# writes the wheel unrepaired (only linux_<arch> fits it then).
check_status "--auditwheel warn with a library to bundle succeeds" 0 in_ws "$SPOKE" build -i "$PY" -p spoke-native --auditwheel warn -o "$T/warn"
check "  and warns, naming --repair=repair" grep -q "not bundled (--repair=warn).*use --repair=repair" "$T/last.out"
check "  the wheel is linux_x86_64" bash -c "ls '$T/warn'/spoke_native-*-linux_x86_64.whl"
check "  with no library bundled" bash -c "! unzip -Z1 '$T'/warn/spoke_native-*.whl | grep -q '\\.libs/'"
check_status "--auditwheel check with a library to bundle fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p spoke-native --auditwheel check -o "$T/chk"
check "--auditwheel warn with nothing to bundle keeps the manylinux tag" in_ws "$SPOKE" build -q -i "$PY" -p hello --auditwheel warn -o "$T/warn2"
check "  (manylinux)" bash -c "ls '$T/warn2'/hello-*-manylinux_*.whl"

# --compatibility / --manylinux: linux and off mean no repair.
check "--compatibility linux: no repair" in_ws "$SPOKE" build -q -i "$PY" -p hello --compatibility linux -o "$T/clinux"
check "  a linux_x86_64 wheel" bash -c "ls '$T/clinux'/hello-*-linux_x86_64.whl"
check "--manylinux off: no repair" in_ws "$SPOKE" build -q -i "$PY" -p hello --manylinux off -o "$T/coff"
check "  a linux_x86_64 wheel" bash -c "ls '$T/coff'/hello-*-linux_x86_64.whl"
check_status "--compatibility linux --auditwheel check: a usage error" 2 in_ws "$SPOKE" build -q -i "$PY" -p hello --compatibility linux --auditwheel check
check "--manylinux manylinux_2_34 is --compat" in_ws "$SPOKE" build -q -i "$PY" -p hello --manylinux manylinux_2_34 -o "$T/c234"
check "  (manylinux_2_34)" bash -c "ls '$T/c234'/hello-*-manylinux_2_34_x86_64.whl"
check_status "--compatibility manylinux2014 --manylinux musllinux_1_2: a usage error" 2 in_ws "$SPOKE" build -q -i "$PY" -p hello --compatibility manylinux2014 --manylinux musllinux_1_2
check "  naming both" grep -q "'manylinux2014' and 'musllinux_1_2'" "$T/last.out"
check "--compatibility pypi: the default rule" in_ws "$SPOKE" build -q -i "$PY" -p hello --compatibility pypi -o "$T/cpypi"
check "  (a manylinux tag)" bash -c "ls '$T/cpypi'/hello-*-manylinux_*.whl"

# [tool.maturin] auditwheel and compatibility, when the command line
# says nothing; the command line wins, as in maturin.
pyp="$ws/hello/pyproject.toml"
printf '[project]\nname = "hello"\nversion = "0.1.0a1"\n\n[tool.maturin]\nauditwheel = "skip"\n' >"$pyp"
check "[tool.maturin] auditwheel = \"skip\"" in_ws "$SPOKE" build -q -i "$PY" -p hello -o "$T/tm1"
check "  a linux_x86_64 wheel" bash -c "ls '$T/tm1'/hello-*-linux_x86_64.whl"
check "  --auditwheel repair on the command line wins" in_ws "$SPOKE" build -q -i "$PY" -p hello --auditwheel repair -o "$T/tm2"
check "  (manylinux)" bash -c "ls '$T/tm2'/hello-*-manylinux_*.whl"
printf '[project]\nname = "hello"\nversion = "0.1.0a1"\n\n[tool.maturin]\ncompatibility = "manylinux_2_36"\n' >"$pyp"
check "[tool.maturin] compatibility = \"manylinux_2_36\"" in_ws "$SPOKE" build -q -i "$PY" -p hello -o "$T/tm3"
check "  the wheel has that tag" bash -c "ls '$T/tm3'/hello-*-manylinux_2_36_x86_64.whl"
check "  --compatibility pypi on the command line wins (the default rule)" in_ws "$SPOKE" build -q -i "$PY" -p hello --compatibility pypi -o "$T/tm4"
check "  (not manylinux_2_36)" bash -c "ls '$T'/tm4/hello-*-manylinux_*.whl && ! ls '$T'/tm4/*manylinux_2_36* 2>/dev/null"
printf '[project]\nname = "hello"\nversion = "0.1.0a1"\n\n[tool.maturin]\ncompatibility = "linux"\n' >"$pyp"
check "[tool.maturin] compatibility = \"linux\": no repair" in_ws "$SPOKE" build -q -i "$PY" -p hello -o "$T/tm5"
check "  a linux_x86_64 wheel" bash -c "ls '$T/tm5'/hello-*-linux_x86_64.whl"
printf '[project]\nname = "hello"\nversion = "0.1.0a1"\n\n[tool.maturin]\ncompatibility = "linux"\nauditwheel = "check"\n' >"$pyp"
check_status "compatibility = \"linux\" with auditwheel = \"check\" fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello
check "  naming both" grep -q 'compatibility = "linux" means no repair; it conflicts with auditwheel = "check"' "$T/last.out"
rm -f "$pyp"

# Features: hello's greeting is loud with its "loud" feature.
check "--all-features reaches cargo" in_ws "$SPOKE" build -q -i "$PY" -p hello --all-features -o "$T/all"
check "  the module is loud" greets "$(ls "$T"/all/hello-*.whl)" "HELLO, x"
check "-F loud --features '' (repeatable, they add up) and --offline" in_ws "$SPOKE" build -q -i "$PY" -p hello -F loud --features '' --offline -o "$T/F"
check "  the module is loud" greets "$(ls "$T"/F/hello-*.whl)" "HELLO, x"
sed -i 's/^loud = \[\]$/loud = []\ndefault = ["loud"]/' "$ws/hello/Cargo.toml"
check "--no-default-features reaches cargo" in_ws "$SPOKE" build -q -i "$PY" -p hello --no-default-features -o "$T/nodef"
check "  the module is quiet although loud is a default" greets "$(ls "$T"/nodef/hello-*.whl)" "hello, x"
sed -i '/^default = \["loud"\]$/d' "$ws/hello/Cargo.toml"

# --locked and --frozen: a Cargo.lock that would change fails as cargo's
# own build does.
cp "$ws/Cargo.lock" "$T/Cargo.lock.good"
sed -i 's/^version = "0.1.0-alpha.1"/version = "0.1.0-alpha.2"/' "$ws/hello/Cargo.toml"
check_status "--locked with a stale Cargo.lock fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --locked
check "  with cargo's reason" grep -q "cannot update the lock file" "$T/last.out"
check_status "--frozen with a stale Cargo.lock fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --frozen
check "  with cargo's reason" grep -q "cannot update the lock file" "$T/last.out"
check "  Cargo.lock is untouched" cmp "$ws/Cargo.lock" "$T/Cargo.lock.good"
sed -i 's/^version = "0.1.0-alpha.2"/version = "0.1.0-alpha.1"/' "$ws/hello/Cargo.toml"
check "--locked with an up-to-date Cargo.lock builds" in_ws "$SPOKE" build -q -i "$PY" -p hello --locked -o "$T/locked"

# --strip: cargo strips the module's symbols (the example's profile
# keeps them on purpose).
check "--strip" in_ws "$SPOKE" build -q -i "$PY" -p hello --strip -o "$T/strip"
check "  the module has no symbol table" bash -c "! readelf -S '$ws/target/release/libhello.so' | grep -q '\\.symtab'"
check "  and still imports" greets "$(ls "$T"/strip/hello-*.whl)" "hello, x"
check "without --strip the symbols are back" in_ws "$SPOKE" build -q -i "$PY" -p hello -o "$T/nostrip"
check "  (.symtab)" bash -c "readelf -S '$ws/target/release/libhello.so' | grep -q '\\.symtab'"

# --target: the host's triple builds under target/<triple>/; a triple
# whose standard library is missing fails before cargo runs.
host=$(rustc -vV | sed -n 's/^host: //p')
check "--target $host" in_ws "$SPOKE" build -q -i "$PY" -p hello --target "$host" -o "$T/triple"
check "  cargo's output is under target/$host/release" test -f "$ws/target/$host/release/libhello.so"
check "  no folder named after the triple beside Cargo.toml" test ! -e "$ws/$host"
check "  the wheel imports" greets "$(ls "$T"/triple/hello-*.whl)" "hello, x"
check "  the output is given back in place" bash -c "ls '$ws/target/$host/release/libhello.so' && ! ls '$ws/target/spoke/staged/'* 2>/dev/null"
other=
for t in x86_64-unknown-linux-musl x86_64-unknown-linux-gnux32; do
	ls "$(rustc --print target-libdir --target "$t" 2>/dev/null)"/libstd-*.rlib >/dev/null 2>&1 || { other=$t; break; }
done
if [ -n "$other" ]; then
	check_status "--target $other (no standard library installed) fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --target "$other"
	check "  saying so, with the command that installs it" grep -q "standard library for target '$other' is not installed.*rustup target add $other" "$T/last.out"
	check "  before cargo ran" test ! -e "$ws/target/$other"
else
	ok "# SKIP every candidate triple has its standard library here"
fi
if [ "$(uname -m)" = x86_64 ]; then
	check_status "--target aarch64-unknown-linux-gnu for an x86_64 interpreter fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --target aarch64-unknown-linux-gnu
	check "  saying cross builds are not supported" grep -q "builds for aarch64, but the interpreter is for x86_64.*cross builds are not supported" "$T/last.out"
	# An interpreter of another architecture (a stand-in that answers spoke's
	# query as an aarch64 Python would): the wheel would be tagged for it.
	printf '#!/bin/sh\n"%s" "$@" | sed "s/x86_64/aarch64/g"\n' "$(readlink -f "$PY")" >"$T/py-aarch64"
	chmod +x "$T/py-aarch64"
	check_status "--target $host with an aarch64 interpreter fails" 1 in_ws "$SPOKE" build -q -i "$T/py-aarch64" -p hello --target "$host"
	check "  saying cross builds are not supported" grep -q "builds for x86_64, but the interpreter is for aarch64.*cross builds are not supported" "$T/last.out"
else
	ok "# SKIP the architecture checks are written for an x86_64 host"
fi
check_status "--target no-such-triple fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --target no-such-triple
check "  naming the triple" grep -q "target 'no-such-triple'" "$T/last.out"

# -f/--find-interpreter: python3.X names on PATH, one build per version;
# a pyenv shim for a version pyenv lacks is skipped, as maturin skips it.
mkdir -p "$T/bin"
ln -s "$(readlink -f "$PY")" "$T/bin/python3.11"
printf '#!/bin/sh\necho "pyenv: python3.9: command not found" >&2\nexit 127\n' >"$T/bin/python3.9"
chmod +x "$T/bin/python3.9"
fpath="$T/bin:$(dirname "$(command -v cargo)"):/usr/bin:/bin"
check_status "-f with -i: a usage error" 2 in_ws env PATH="$fpath" "$SPOKE" build -q -f -i "$PY" -p hello
check_status "-f" 0 in_ws env PATH="$fpath" "$SPOKE" build -f -p hello -o "$T/find"
check "  skipped the pyenv shim, with a warning" grep -q "skipping '$T/bin/python3.9'" "$T/last.out"
check "  a cp311 wheel" bash -c "ls '$T/find'/hello-*-cp311-cp311-*.whl"
mkdir -p "$T/empty"
check_status "-f with no interpreter on PATH fails" 1 in_ws env PATH="$T/empty:$(dirname "$(command -v cargo)")" "$SPOKE" build -q -f -p hello
check "  and says to use -i" grep -q "give one with -i" "$T/last.out"

# --sdist: the sdist too, into the wheels' folder.
check_status "--sdist -m mixed/Cargo.toml" 0 in_ws "$SPOKE" build -q -i "$PY" -m mixed/Cargo.toml --sdist -o "$T/sd" --json
check "  the result names the sdist" bash -c "tail -1 '$T/last.out' | grep -q '\"sdist\":\"$T/sd/mixedpkg-0.3.0.tar.gz\"'"
check "  the wheel and the sdist are there" bash -c "ls '$T/sd'/mixedpkg-0.3.0-*.whl '$T/sd/mixedpkg-0.3.0.tar.gz'"
check_status "--sdist at a virtual workspace's root fails" 1 in_ws "$SPOKE" build -q -i "$PY" -p hello --sdist -o "$T/sdv"
check "  saying why" grep -q -- "--sdist: .*not a package's manifest" "$T/last.out"
check "  before any wheel was written (the sdist comes first, as in maturin)" bash -c "! ls '$T/sdv'/*.whl 2>/dev/null"
check_status "--sdist --target-dir DIR: the sdist goes to DIR/wheels" 0 bash -c "cd '$ws/mixed' && '$SPOKE' build -q -i '$PY' --sdist --target-dir '$T/sdtd'"
check "  (with the wheel)" bash -c "ls '$T/sdtd/wheels/mixedpkg-0.3.0.tar.gz' '$T/sdtd/wheels'/mixedpkg-0.3.0-*.whl"
"$SPOKE" stop --target-dir "$T/sdtd" >/dev/null 2>&1
check_status "--sdist with --artifacts: a usage error" 2 in_ws "$SPOKE" build --artifacts x.json --sdist

finish
