#!/bin/bash
# spoke sdist: a reproducible source distribution that builds on its own.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
mixed="$ws/mixed"
# Leftovers that must stay out of an sdist.
mkdir -p "$mixed/mixedpkg/__pycache__" "$mixed/dist" "$mixed/.git"
echo x >"$mixed/mixedpkg/__pycache__/a.pyc"
echo x >"$mixed/dist/old.whl"
echo x >"$mixed/.git/HEAD"
echo x >"$mixed/mixedpkg/_native.cpython-311-x86_64-linux-gnu.so"

check "spoke sdist" bash -c "cd '$mixed' && SOURCE_DATE_EPOCH=1700000000 '$SPOKE' sdist -i '$PY' -o '$T/s1' >'$T/path'"
sd="$T/s1/mixedpkg-0.3.0.tar.gz"
check "  prints the path of <name>-<version>.tar.gz" bash -c "[ \"\$(cat '$T/path')\" = '$sd' ] && [ -f '$sd' ]"
check "  --json names it" bash -c "cd '$mixed' && SOURCE_DATE_EPOCH=1700000000 '$SPOKE' sdist -i '$PY' -o '$T/s2' --json | '$PY' -c 'import json,sys; r=json.load(sys.stdin); assert r[\"ok\"] and r[\"sdist\"].endswith(\"/mixedpkg-0.3.0.tar.gz\"), r'"
check "two sdists with the same SOURCE_DATE_EPOCH are byte-identical" cmp "$sd" "$T/s2/mixedpkg-0.3.0.tar.gz"
tar tzf "$sd" >"$T/list" 2>/dev/null
check "  entries sorted, under mixedpkg-0.3.0/" bash -c "sort -c '$T/list' && ! grep -v '^mixedpkg-0.3.0/' '$T/list'"
check "  PKG-INFO, pyproject.toml, Cargo.toml, Cargo.lock at the top" bash -c "for f in PKG-INFO pyproject.toml Cargo.toml Cargo.lock; do grep -qx \"mixedpkg-0.3.0/\$f\" '$T/list' || exit 1; done"
check "  the crate and its Python sources" bash -c "for f in mixed/Cargo.toml mixed/src/lib.rs mixed/mixedpkg/__init__.py mixed/mixedpkg/_native.pyi mixed/mixedpkg/py.typed mixed/LICENSE; do grep -qx \"mixedpkg-0.3.0/\$f\" '$T/list' || exit 1; done"
check "  no other workspace member, caches, .git, dist or .so" bash -c "! grep -E '/(hello|counter|native)/|__pycache__|\\.git/|/dist/|\\.so\$|/target/' '$T/list'"
check "  owner 0/0 and the epoch as mtime" "$PY" -c '
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.uid == 0 and m.gid == 0 and m.mtime == 1700000000, (m.name, m.uid, m.mtime)
' "$sd"
check "  PKG-INFO is the METADATA" bash -c "tar xzOf '$sd' mixedpkg-0.3.0/PKG-INFO | grep -qx 'Name: mixedpkg'"
# members: read as TOML (the file is written by spoke's emitter).
members() { tar xzOf "$1" mixedpkg-0.3.0/Cargo.toml | "$PY" -c 'import sys, tomllib; print(" ".join(tomllib.loads(sys.stdin.read())["workspace"]["members"]))'; }
m=$(members "$sd")
check "  the generated workspace lists just the crate and its dependency" test "$m" = "mixed pyffi"
check "  and keeps the workspace's [profile.release]" bash -c "tar xzOf '$sd' mixedpkg-0.3.0/Cargo.toml | grep -qx 'strip = false'"

mkdir "$T/empty"
check "spoke build in the unpacked sdist, in an empty folder" \
	bash -c "cd '$T/empty' && tar xzf '$sd' && cd mixedpkg-0.3.0 && '$SPOKE' build -q -i '$PY' -o '$T/fromsd'"
"$SPOKE" stop --state-dir "$T/empty/mixedpkg-0.3.0/target/spoke" >/dev/null 2>&1
v=$(make_venv sd)
check "  its wheel installs and imports" bash -c "'$v/bin/pip' install -q --no-index '$T'/fromsd/mixedpkg-*.whl && cd '$T' && '$v/bin/python' -c 'import mixedpkg; assert mixedpkg.quadruple(5) == 20'"

# A path dependency inside the workspace comes along, at its place.
mkdir -p "$ws/libs/helper/src"
printf '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n' >"$ws/libs/helper/Cargo.toml"
echo 'pub fn factor() -> i64 { 2 }' >"$ws/libs/helper/src/lib.rs"
sed -i 's|^members = \[\(.*\)\]$|members = [\1, "libs/helper"]|' "$ws/Cargo.toml"
# (mixed already has a [dependencies] table: pyffi, itself a path
# dependency, which every sdist above carried along.)
sed -i 's|^\[dependencies\]$|[dependencies]\nhelper = { path = "../libs/helper" }|' "$mixed/Cargo.toml"
sed -i 's/v.checked_mul(2)/v.checked_mul(helper::factor())/' "$mixed/src/lib.rs"
check "sdist of a package with a path dependency" bash -c "cd '$mixed' && '$SPOKE' sdist -q -i '$PY' -o '$T/pd'"
pd="$T/pd/mixedpkg-0.3.0.tar.gz"
m=$(members "$pd")
check "  holds the dependency and lists it as a member" bash -c "tar tzf '$pd' | grep -qx mixedpkg-0.3.0/libs/helper/src/lib.rs && [ '$m' = 'libs/helper mixed pyffi' ]"
mkdir "$T/empty2"
check "  and builds on its own" bash -c "cd '$T/empty2' && tar xzf '$pd' && cd mixedpkg-0.3.0 && '$SPOKE' build -q -i '$PY' -o '$T/frompd' && ls '$T'/frompd/mixedpkg-*.whl"
"$SPOKE" stop --state-dir "$T/empty2/mixedpkg-0.3.0/target/spoke" >/dev/null 2>&1

check_status "sdist of a virtual workspace manifest fails" 1 "$SPOKE" sdist -i "$PY" --manifest-path "$ws/Cargo.toml" -o "$T/bad"
check "  and says what to do" grep -q "not a package's manifest" "$T/last.out"
check_status "sdist with no Cargo.toml fails" 1 bash -c "cd '$T/empty' && '$SPOKE' sdist -i '$PY'"
check_status "sdist with an argument is a usage error" 2 "$SPOKE" sdist extra
finish
