#!/bin/bash
# auditwheel's expectations on its own test wheels (its
# tests/integration/test_bundled_wheels.py and test_nonplatform_wheel.py),
# ported as facts: which libraries are bundled, which needs are removed,
# which error or reason is given.  Every object is built here with gcc;
# none of auditwheel's wheels or code is used.  Tags are checked for their
# libc family and architecture only: which manylinux_2_N an object gets is
# the policy's business (t_repair), not these cases'.
#
#  - cffi: a Python 2 module (init_cffi_backend) needing libffi.so.5 and
#    libpython2.7.so.1.0, fake libraries of the test's own in $L, and the
#    --exclude globs auditwheel tries on it.  auditwheel counts
#    libpython2.7 as an external library in every case; spoke never
#    bundles libpython and removes the DT_NEEDED instead (issue 17, item
#    3), so the expected sets below hold libffi.so.5 alone.
#  - fpe: a Python 3 module using PyFPE_jbuf: linux only; show gives the
#    reason, repair fails naming the symbol and the object.  ucs2: the
#    same for a Python 2 module calling PyUnicodeUCS2_AsUTF8String.
#  - pure: a py3-none-any wheel.  auditwheel exits 1 on it in both show
#    and repair ("not a platform wheel" is its error); spoke exits 0 in
#    both, since a pure wheel is valid and needs no repair (issue 17, item
#    6): that expectation is not ported.
#  - libpython: auditwheel's case is an aarch64 module; here an x86_64
#    one needing a fake libpython3.11.so.1.0: the repaired module no
#    longer needs it, nothing is bundled, a message says so, and the
#    module imports in a venv.
. "$(dirname "$0")/lib.sh"

unset LD_LIBRARY_PATH
L="$T/libs"
mkdir -p "$L" "$T/src" "$T/other" "$T/fakepy"

cat >"$T/src/ffi.c" <<'C'
int ffi_call(void) { return 5; }
C
cat >"$T/src/py27.c" <<'C'
int Py_InitModule4_64(void) { return 0; }
int PyUnicodeUCS2_AsUTF8String(void) { return 0; }
C
cat >"$T/src/cffi.c" <<'C'
int ffi_call(void);
int Py_InitModule4_64(void);
void init_cffi_backend(void) { ffi_call(); Py_InitModule4_64(); }
C
cat >"$T/src/fpe.c" <<'C'
extern char PyFPE_jbuf[];
int PyInit_fpe(void) { return PyFPE_jbuf[0]; }
C
cat >"$T/src/u2.c" <<'C'
int PyUnicodeUCS2_AsUTF8String(void);
void initu2(void) { PyUnicodeUCS2_AsUTF8String(); }
C
cat >"$T/src/py311.c" <<'C'
void *PyModule_Create2(void *def, int api) { (void)api; return def; }
C
# A module without Python.h: PyModuleDef written out (the stable ABI's
# layout), created through PyModule_Create2, which the interpreter
# provides once the DT_NEEDED on libpython is gone.
cat >"$T/src/lp.c" <<'C'
typedef long ssz;
struct obj { ssz refcnt; void *type; };
struct def {
	struct obj ob; void *init; ssz index; void *copy;
	const char *name, *doc; ssz size;
	void *methods, *slots, *traverse, *clear, *free;
};
extern void *PyModule_Create2(struct def *d, int api);
static struct def d = {{1, 0}, 0, 0, 0, "lp", 0, -1, 0, 0, 0, 0, 0};
void *PyInit_lp(void) { return PyModule_Create2(&d, 1013); }
C
build() {
	gcc -shared -fPIC -Wl,-soname,libffi.so.5 -o "$L/libffi.so.5" "$T/src/ffi.c" &&
		cp "$L/libffi.so.5" "$T/other/" &&
		gcc -shared -fPIC -Wl,-soname,libpython2.7.so.1.0 -o "$L/libpython2.7.so.1.0" "$T/src/py27.c" &&
		gcc -shared -fPIC -Wl,--no-as-needed -o "$T/src/_cffi_backend.so" "$T/src/cffi.c" \
			-L"$L" -l:libffi.so.5 -l:libpython2.7.so.1.0 &&
		gcc -shared -fPIC -o "$T/src/fpe.cpython-35m-x86_64-linux-gnu.so" "$T/src/fpe.c" &&
		gcc -shared -fPIC -o "$T/src/u2.so" "$T/src/u2.c" -L"$L" -l:libpython2.7.so.1.0 &&
		gcc -shared -fPIC -Wl,-soname,libpython3.11.so.1.0 -o "$T/fakepy/libpython3.11.so" "$T/src/py311.c" &&
		cp "$T/fakepy/libpython3.11.so" "$T/fakepy/libpython3.11.so.1.0" &&
		gcc -shared -fPIC -o "$T/src/lp.so" "$T/src/lp.c" -L"$T/fakepy" -lpython3.11
}
check "gcc builds the fixtures" build

# pack NAME VERSION TAG FILE...: a wheel of NAME holding FILE... at its
# root, made by the wheel package, in $T/in.
pack() {
	local name=$1 ver=$2 tag=$3 tree="$T/tree-$1" purelib=false
	shift 3
	[[ $tag == *-any ]] && purelib=true
	rm -rf "$tree"
	mkdir -p "$tree/$name-$ver/$name-$ver.dist-info" "$T/in"
	cp "$@" "$tree/$name-$ver/"
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$name" "$ver" \
		>"$tree/$name-$ver/$name-$ver.dist-info/METADATA"
	printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: %s\nTag: %s\n' "$purelib" "$tag" \
		>"$tree/$name-$ver/$name-$ver.dist-info/WHEEL"
	"$PY" -m wheel pack "$tree/$name-$ver" -d "$T/in" >/dev/null
}
printf 'x = 1\n' >"$T/src/pure.py"
check "the wheels are packed" bash -c "
$(declare -f pack); T='$T'; PY='$PY'
pack cffi 1.5.0 cp27-none-linux_x86_64 '$T/src/_cffi_backend.so' &&
pack fpewheel 0.0.0 cp35-cp35m-linux_x86_64 '$T/src/fpe.cpython-35m-x86_64-linux-gnu.so' &&
pack ucs2 0.0.0 cp27-cp27mu-linux_x86_64 '$T/src/u2.so' &&
pack pure 1.0 py3-none-any '$T/src/pure.py' &&
pack lp 0.1.0 py3-none-linux_x86_64 '$T/src/lp.so'"
cffi="$T/in/cffi-1.5.0-cp27-none-linux_x86_64.whl"
fpe="$T/in/fpewheel-0.0.0-cp35-cp35m-linux_x86_64.whl"
ucs2="$T/in/ucs2-0.0.0-cp27-cp27mu-linux_x86_64.whl"
pure="$T/in/pure-1.0-py3-none-any.whl"
lp="$T/in/lp-0.1.0-py3-none-linux_x86_64.whl"

# verdict JSON GRAFTED: the one module of the --json result in JSON
# bundled exactly the sonames GRAFTED (space-separated), no longer needs
# libpython2.7 (the report says it removed it), and the tag is a
# manylinux x86_64 one.
verdict() {
	"$PY" - "$@" <<'PYEOF'
import json, re, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["ok"], r
(m,) = r["modules"]
got = sorted(g["soname"] for g in m["grafted"])
assert got == sorted(sys.argv[2].split()), (got, sys.argv[2])
assert "libpython2.7.so.1.0" not in m["needed"], m["needed"]
assert m["repair"]["removed"] == [{"soname": "libpython2.7.so.1.0",
                                    "from": "_cffi_backend.so"}], m["repair"]
assert re.fullmatch(r"manylinux_\d+_\d+_x86_64(\..*)?", r["platform_tag"]), r
PYEOF
}

# cffi CASE GRAFTED ARGS...: spoke repair of the cffi wheel with ARGS
# bundles GRAFTED.
n=0
cffi_case() {
	local what=$1 want=$2
	shift 2
	n=$((n + 1))
	check "cffi, $what: spoke repair succeeds" \
		"$SPOKE" repair -w "$T/out-cffi$n" --json "$@" "$cffi"
	cp "$T/check.out" "$T/cffi$n.json"
	check "  bundles {${want// /, }} and removes libpython2.7" verdict "$T/cffi$n.json" "$want"
}
cffi_case "no --exclude" "libffi.so.5" --lib-path "$L"
cffi_case "--exclude libffi.so.5" "" --lib-path "$L" --exclude libffi.so.5
cffi_case "--exclude libffi.so.5 libpython2.7.so.1.0" "" --lib-path "$L" \
	--exclude libffi.so.5 --exclude libpython2.7.so.1.0
cffi_case "--exclude libffi.so.noexist 'libnoexist.so.*'" "libffi.so.5" --lib-path "$L" \
	--exclude libffi.so.noexist --exclude 'libnoexist.so.*'
cffi_case "--exclude 'libffi.so.[4,5]'" "" --lib-path "$L" --exclude 'libffi.so.[4,5]'
cffi_case "--exclude 'libffi.so.[6,7]'" "libffi.so.5" --lib-path "$L" --exclude 'libffi.so.[6,7]'
cffi_case "--exclude 'libffi.so.*'" "" --lib-path "$L" --exclude 'libffi.so.*'
cffi_case "--exclude '*'" "" --lib-path "$L" --exclude '*'
# A path glob: the library is left out when it is found in that folder
# (LD_LIBRARY_PATH, or auditwheel's AUDITWHEEL_LD_LIBRARY_PATH, which
# --lib-path stands for here), bundled when it is found elsewhere.
n=$((n + 1))
check "cffi, --exclude '\$L/*', found through LD_LIBRARY_PATH: spoke repair succeeds" \
	env LD_LIBRARY_PATH="$L" "$SPOKE" repair -w "$T/out-cffi$n" --json --exclude "$L/*" "$cffi"
cp "$T/check.out" "$T/cffi$n.json"
check "  bundles nothing and removes libpython2.7" verdict "$T/cffi$n.json" ""
cffi_case "--exclude '\$L/*', found through --lib-path \$L" "" --lib-path "$L" --exclude "$L/*"
cffi_case "--exclude '\$L/*', found elsewhere" "libffi.so.5" --lib-path "$T/other" --exclude "$L/*"
# A relative path pattern means a folder below the current one (spoke
# makes it absolute, as the paths libraries are found at are), whether
# the library is found through LD_LIBRARY_PATH or a relative --lib-path.
n=$((n + 1))
check "cffi, --exclude 'libs/*' in \$T, found through LD_LIBRARY_PATH: spoke repair succeeds" \
	bash -c "cd '$T' && LD_LIBRARY_PATH='$L' '$SPOKE' repair -w '$T/out-cffi$n' --json --exclude 'libs/*' '$cffi'"
cp "$T/check.out" "$T/cffi$n.json"
check "  bundles nothing and removes libpython2.7" verdict "$T/cffi$n.json" ""
n=$((n + 1))
check "cffi, --exclude './libs/*' --lib-path libs in \$T: spoke repair succeeds" \
	bash -c "cd '$T' && '$SPOKE' repair -w '$T/out-cffi$n' --json --lib-path libs --exclude './libs/*' '$cffi'"
cp "$T/check.out" "$T/cffi$n.json"
check "  bundles nothing and removes libpython2.7" verdict "$T/cffi$n.json" ""
n=$((n + 1))
check "cffi, --exclude 'other/*' --lib-path libs in \$T: spoke repair succeeds" \
	bash -c "cd '$T' && '$SPOKE' repair -w '$T/out-cffi$n' --json --lib-path libs --exclude 'other/*' '$cffi'"
cp "$T/check.out" "$T/cffi$n.json"
check "  bundles {libffi.so.5} and removes libpython2.7" verdict "$T/cffi$n.json" "libffi.so.5"
# Not found at all: auditwheel lists it as external (with no path) and
# its repair fails; spoke's fails at once, saying what it tried.
check_status "cffi, --exclude '\$L/*', not found: spoke repair fails" 1 \
	"$SPOKE" repair -w "$T/out-cffi-nf" --exclude "$L/*" "$cffi"
check "  naming libffi.so.5" grep -q 'cannot find libffi.so.5' "$T/last.out"

# PyFPE_jbuf: show says why the module is linux only (and exits 0: the
# wheel itself is valid); repair fails naming the symbol and the object.
check_status "fpe: spoke show exits 0" 0 "$SPOKE" show "$fpe"
check "  and gives the PyFPE_jbuf reason" grep -q 'linux only: uses PyFPE_jbuf' "$T/last.out"
check "fpe: spoke show --json" bash -c "'$SPOKE' show --json '$fpe' >'$T/fpe.json'"
check "  the shared object's linux_only names PyFPE_jbuf" "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["ok"], r
(so,) = r["shared_objects"]
assert "PyFPE_jbuf" in so["linux_only"], so
' "$T/fpe.json"
# The wheel's tag is linux_x86_64 (auditwheel: "consistent with
# linux_x86_64"); the policy's own tag stays visible.
check "  the platform's tag is linux_x86_64, its policy null" "$PY" -c '
import json, sys
p = json.loads(open(sys.argv[1]).read().splitlines()[-1])["platform"]
assert p["tag"] == "linux_x86_64" and p["policy"] is None, p
assert p["policy_fit"].startswith("manylinux_"), p
assert "PyFPE_jbuf" in p["linux_only"]["reason"], p
' "$T/fpe.json"
check "  and says so for people" bash -c "'$SPOKE' show '$fpe' | grep -q '^  platform tag: linux_x86_64: .*PyFPE_jbuf.*; without that: manylinux_'"
check_status "fpe: spoke repair fails" 1 "$SPOKE" repair -w "$T/out-fpe" "$fpe"
check "  for manylinux, with linux_x86_64 only" grep -q "cannot repair '.*fpe.*' for manylinux: .*so only a linux_x86_64 tag fits it" "$T/last.out"
check_status "fpe: spoke repair fails" 1 "$SPOKE" repair -w "$T/out-fpe" "$fpe"
check "  naming the symbol and the object" \
	bash -c "grep -q 'fpe.cpython-35m-x86_64-linux-gnu.so.*PyFPE_jbuf' '$T/last.out'"
check "  and writing nothing" bash -c "! ls '$T/out-fpe'/*.whl 2>/dev/null | grep -q ."

# UCS2: the same for a Python 2 module of a narrow-unicode build.
check_status "ucs2: spoke show exits 0" 0 "$SPOKE" show "$ucs2"
check "  and gives the UCS2 reason" \
	grep -q 'linux only: uses PyUnicodeUCS2_AsUTF8String' "$T/last.out"
check_status "ucs2: spoke repair fails" 1 "$SPOKE" repair -w "$T/out-ucs2" --lib-path "$L" "$ucs2"
check "  naming the symbol and the object" \
	bash -c "grep -q 'u2.so.*PyUnicodeUCS2_AsUTF8String' '$T/last.out'"

# A pure wheel: nothing to repair, not a platform wheel; both exit 0.
check_status "pure: spoke repair exits 0" 0 "$SPOKE" repair -w "$T/out-pure" "$pure"
check "  says there is nothing to repair" grep -q 'nothing to repair' "$T/last.out"
check "  and writes nothing" bash -c "! ls '$T/out-pure'/*.whl 2>/dev/null | grep -q ."
check_status "pure: spoke show exits 0" 0 "$SPOKE" show "$pure"
check "  says it is not a platform wheel" grep -q 'not a platform wheel' "$T/last.out"

# libpython: removed from the repaired module, never bundled, even when
# it can be found.
check_status "libpython: spoke repair succeeds" 0 \
	"$SPOKE" repair -w "$T/out-lp" --lib-path "$T/fakepy" "$lp"
check "  says it removed the dependency" \
	grep -q 'removed DT_NEEDED libpython3.11.so.1.0 from lp.so' "$T/last.out"
out_lp=$(ls "$T"/out-lp/lp-0.1.0-py3-none-manylinux_*_x86_64*.whl 2>/dev/null)
check "  the wheel has a manylinux x86_64 tag" test -n "$out_lp"
check "  and bundles nothing" bash -c "! unzip -l '$out_lp' | grep -q 'lp.libs/'"
rm -rf "$T/x" && mkdir -p "$T/x" && unzip -q -d "$T/x" "$out_lp" 2>/dev/null
check "  the module no longer needs libpython (readelf -d)" \
	bash -c "readelf -d '$T/x/lp.so' >'$T/x/dyn' && ! grep -q 'NEEDED.*libpython' '$T/x/dyn'"
venv=$(make_venv lp) || not_ok "a venv is made"
check "  pip installs it" "$venv/bin/pip" install -q --no-index "$out_lp"
check "  and the module imports" env -u LD_LIBRARY_PATH "$venv/bin/python" -c "import lp; assert lp.__name__ == 'lp'"

# A bundled library that links libpython (a Boost.Python, say) loses
# that DT_NEEDED too: auditwheel leaves it there, where it asks for a
# library manylinux systems do not have.
mkdir -p "$T/bp"
printf 'void *PyModule_Create2(void *, int);\nvoid *bp_make(void *d) { return PyModule_Create2(d, 1013); }\n' >"$T/src/libbp.c"
# The module lp's, creating itself through libbp.
{
	sed -n '1,/^};/p' "$T/src/lp.c"
	cat <<'C'
void *bp_make(void *d);
static struct def d = {{1, 0}, 0, 0, 0, "bp", 0, -1, 0, 0, 0, 0, 0};
void *PyInit_bp(void) { return bp_make(&d); }
C
} >"$T/src/bp.c"
check "gcc builds a module needing libbp.so.1, which links libpython3.11" bash -c "
gcc -shared -fPIC -Wl,-soname,libbp.so.1 -o '$T/bp/libbp.so.1' '$T/src/libbp.c' -L'$T/fakepy' -lpython3.11 &&
gcc -shared -fPIC -o '$T/src/bp.so' '$T/src/bp.c' -L'$T/bp' -l:libbp.so.1 &&
readelf -d '$T/bp/libbp.so.1' | grep -q 'NEEDED.*libpython3.11.so.1.0'"
check "  packed" bash -c "$(declare -f pack); T='$T'; PY='$PY'; pack bp 0.1.0 py3-none-linux_x86_64 '$T/src/bp.so'"
check_status "bp: spoke repair succeeds" 0 \
	"$SPOKE" repair -w "$T/out-bp" --json --lib-path "$T/bp" "$T/in/bp-0.1.0-py3-none-linux_x86_64.whl"
check "  bundles libbp.so.1 and removes libpython from the bundled copy" "$PY" -c '
import json, re, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
(m,) = r["modules"]
(g,) = m["grafted"]
assert g["soname"] == "libbp.so.1", g
assert m["repair"]["removed"] == [{"soname": "libpython3.11.so.1.0",
                                    "from": g["wheel_path"]}], m["repair"]
' "$T/last.out"
out_bp=$(ls "$T"/out-bp/bp-0.1.0-*.whl 2>/dev/null)
rm -rf "$T/xbp" && mkdir -p "$T/xbp" && unzip -q -d "$T/xbp" "$out_bp" 2>/dev/null
check "  the bundled copy no longer needs libpython (readelf -d)" \
	bash -c "readelf -d '$T'/xbp/bp.libs/libbp-*.so.1 >'$T/xbp/dyn' && ! grep -q 'NEEDED.*libpython' '$T/xbp/dyn'"
venv=$(make_venv bp) || not_ok "a venv is made"
check "  pip installs it" "$venv/bin/pip" install -q --no-index "$out_bp"
check "  and the module imports" env -u LD_LIBRARY_PATH "$venv/bin/python" -c "import bp"

finish
