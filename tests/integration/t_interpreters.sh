#!/bin/bash
# -i/--interpreter given several times: one cargo build and one wheel per
# interpreter, each cargo run with PYO3_PYTHON set to its interpreter;
# abi3 wheels and interpreters with the same tags built once; interpreters
# that are missing or not Python 3 refused before anything is built.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
hello="$ws/hello"

# A second CPython 3 whose tags differ from $PY's (and that can make a
# venv): pyenv's, or another python3.X on PATH.
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PY2=
for c in /root/.pyenv/versions/3.*/bin/python3.* $(compgen -c python3. | sort -u); do
	p=$(command -v "$c" 2>/dev/null) || continue
	case $p in *-config) continue ;; esac
	v=$("$p" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
	[ "$v" != "$PYVER" ] && { PY2=$(readlink -f "$p"); break; }
done

# hello remembers the PYO3_PYTHON its build script saw: greet() returns it.
cat >"$hello/build.rs" <<'EOF'
fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rustc-env=HELLO_BUILT_FOR={}", std::env::var("PYO3_PYTHON").unwrap_or_default());
}
EOF
sed -i 's|out.extend_from_slice(b"hello, ");|out.extend_from_slice(concat!(env!("HELLO_BUILT_FOR"), " ").as_bytes());|' "$hello/src/lib.rs"
build() { (cd "$ws" && "$SPOKE" build -p hello "$@"); }

if [ -z "$PY2" ]; then
	ok "# SKIP no second Python 3 (other than $PYVER) on this machine: several -i not tested"
else
	echo "# interpreters: $PY ($PYVER) and $PY2"
	tag() { "$1" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'; }
	t1=$(tag "$PY") t2=$(tag "$PY2")
	build -i "$PY" -i "$PY2" -o "$T/w" >"$T/multi.out" 2>&1
	check "build -i $PY -i $PY2" test $? -eq 0
	check "  one wheel per interpreter" bash -c "ls '$T'/w/hello-*-$t1-$t1-*.whl && ls '$T'/w/hello-*-$t2-$t2-*.whl && [ \$(ls '$T'/w/*.whl | wc -l) -eq 2 ]"
	check "  the output names each interpreter" bash -c "grep -qx '== interpreter $PY' '$T/multi.out' && grep -qx '== interpreter $PY2' '$T/multi.out'"
	for p in "$PY" "$PY2"; do
		t=$(tag "$p")
		v=$T/venv-$t
		"$p" -m venv "$v" >/dev/null 2>&1
		check "  the $t wheel installs into a $t venv, and its cargo run had PYO3_PYTHON=$p" \
			bash -c "'$v/bin/pip' install -q --no-index '$T'/w/hello-*-$t-$t-*.whl && cd '$T' && '$v/bin/python' -c 'import hello, sys; got = hello.greet(\"x\"); assert got == sys.argv[1] + \" x\", got' '$p'"
	done
	check "  nothing staged or temporary is left" no_leftovers "$ws" "$ws/target/spoke"

	check "--json: one result with both wheels and both builds" \
		bash -c "cd '$ws' && '$SPOKE' build -p hello -i '$PY' -i '$PY2' -o '$T/j' --json >'$T/j.out' && '$PY' -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
res = [l for l in lines if l.get(\"type\") == \"result\"]
assert len(res) == 1, res
r = res[0]
assert r[\"ok\"] is True and len(r[\"wheels\"]) == 2 and len(r[\"builds\"]) == 2, r
' '$T/j.out'"

	check "PYO3_PYTHON in the environment is the target when no -i is given" \
		bash -c "cd '$ws' && PYO3_PYTHON='$PY2' '$SPOKE' build -q -p hello -o '$T/env' && ls '$T'/env/hello-*-$t2-$t2-*.whl"

	# abi3: one wheel serves both.
	cp "$hello/Cargo.toml" "$T/Cargo.toml.orig"
	sed -i 's/^module = "hello"$/&\nabi3 = "cp38"/' "$hello/Cargo.toml"
	build -i "$PY" -i "$PY2" -o "$T/abi3" >"$T/abi3.out" 2>&1
	check "abi3: build -i $PY -i $PY2" test $? -eq 0
	check "  one cp38-abi3 wheel" bash -c "[ \$(ls '$T'/abi3/*.whl | wc -l) -eq 1 ] && ls '$T'/abi3/hello-*-cp38-abi3-*.whl"
	check "  and it says why the second made none" grep -q "nothing new for $PY2" "$T/abi3.out"
	cp "$T/Cargo.toml.orig" "$hello/Cargo.toml"
fi

# The same interpreter twice (or two with the same tags): one wheel.
build -i "$PY" -i "$PY" -o "$T/same" >"$T/same.out" 2>&1
check "the same tags twice: built once" test $? -eq 0
check "  and says so" grep -q "has the tags of '$PY'" "$T/same.out"
check "  one wheel" bash -c "[ \$(ls '$T'/same/*.whl | wc -l) -eq 1 ]"

# Interpreters that cannot be targets fail before cargo runs: cargo would
# otherwise have rebuilt hello (its build script reads PYO3_PYTHON).
touch "$T/stamp"
sleep 1
check_status "a missing second interpreter fails" 1 build -i "$PY" -i /nonexistent/python3 -o "$T/bad1"
check "  and names it" grep -q "'/nonexistent/python3' not found" "$T/last.out"
check "  before anything was built" bash -c "! ls '$T'/bad1/*.whl 2>/dev/null && [ -z \"\$(find '$ws/target/release' -maxdepth 1 -name '*.so' -newer '$T/stamp')\" ]"
check_status "a shell as the interpreter fails" 1 build -i /bin/sh -o "$T/bad2"
check "  and says it is not Python" grep -q "'/bin/sh' does not look like a Python interpreter" "$T/last.out"
check_status "a program that prints nothing as the interpreter fails" 1 build -i /bin/true -o "$T/bad3"
check "  and says it is not Python" grep -q "'/bin/true' does not look like a Python interpreter" "$T/last.out"
py27=$(ls /root/.pyenv/versions/2.*/bin/python2.7 /usr/bin/python2.7 2>/dev/null | head -1)
if [ -n "$py27" ] && "$py27" -c 'import json, sysconfig' 2>/dev/null; then
	check_status "Python 2 as the interpreter fails" 1 build -i "$py27" -o "$T/bad4"
	check "  and says spoke builds for Python 3" grep -q "is Python 2.7: spoke builds wheels for Python 3" "$T/last.out"
else
	ok "# SKIP no Python 2.7 here"
fi
check_status "--artifacts with two -i is a usage error" 2 \
	"$SPOKE" build --artifacts "$T/none.json" -i "$PY" -i "$PY"
check "no wheel was left by the failures" bash -c "! ls '$T'/bad*/*.whl 2>/dev/null"
finish
