#!/bin/bash
# spoke wheel, the hermetic action: under env -i, with a read-only input
# folder and no $HOME, it writes the declared wheel in one process (no
# interpreter, no coordinator, nothing left running), the same bytes in
# any folder and on any run; it fits the declared platform tag or fails
# naming what does not fit; it searches only --lib-path and $ORIGIN; its
# artifacts files get the strict errors of spoke build --artifacts; and
# spoke build --artifacts takes the declared tags too, asking no
# interpreter.  The fixtures are C extension modules built here with gcc
# against this machine's Python headers.
. "$(dirname "$0")/lib.sh"

IN="$T/in"
mkdir -p "$IN/lib" "$IN/origin/lib" "$T/src"
unset LD_LIBRARY_PATH

# A library no manylinux system has, and modules that need it.
cat >"$T/src/whelper.c" <<'EOF'
int whelper_answer(void) { return 42; }
EOF
# mod_src NAME EXTRA-BODY: a module NAME whose answer() is 42 (libm and
# libc are used, so the module needs them: the policy's libraries).
mod_src() {
	cat <<EOF
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
int whelper_answer(void);
static void *nothing(void *p) { return p; }
static PyObject *answer(PyObject *self, PyObject *args)
{
	volatile double z = 0.0;
	long bias = getenv("WMOD_NEVER_SET") ? 1000 : 0;
	$2
	return PyLong_FromLong(whelper_answer() + bias + (long)(cos(z) - 1.0));
}
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL},
				{NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "$1", NULL, -1,
				 methods};
PyMODINIT_FUNC PyInit_$1(void) { return PyModule_Create(&def); }
EOF
}
pyinc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
cc_mod() { # cc_mod OUT NAME EXTRA-BODY GCC-ARGS...
	local out=$1 name=$2 body=$3
	shift 3
	mod_src "$name" "$body" >"$T/src/$name.c"
	gcc -shared -fPIC -O2 -I"$pyinc" -o "$out" "$T/src/$name.c" "$@"
}
built=1
gcc -shared -fPIC -O2 -Wl,-soname,libwhelper.so.1 -o "$IN/lib/libwhelper.so.1" "$T/src/whelper.c" || built=0
cp "$IN/lib/libwhelper.so.1" "$IN/origin/lib/"
cc_mod "$IN/wmod.so" wmod "" -L"$IN/lib" -l:libwhelper.so.1 -lm || built=0
# pthread_create is GLIBC_2.34's since glibc moved libpthread into libc.
cc_mod "$IN/wnew.so" wnew "pthread_t t; if (bias) pthread_create(&t, NULL, nothing, NULL);" \
	-L"$IN/lib" -l:libwhelper.so.1 -lm || built=0
# Needs libffi.so.8, which is only in the system's folders here.
ffi=$(ls /usr/lib/*/libffi.so.[0-9]* /lib/*/libffi.so.[0-9]* 2>/dev/null | head -1)
cc_mod "$IN/wffi.so" wffi "" -L"$IN/lib" -l:libwhelper.so.1 -lm -Wl,--no-as-needed "$ffi" || built=0
# Finds its helper through RUNPATH $ORIGIN/lib; another through an
# absolute RUNPATH, which is no declared input.
cc_mod "$IN/origin/worig.so" worig "" -L"$IN/lib" -l:libwhelper.so.1 -lm \
	-Wl,--enable-new-dtags,-rpath,'$ORIGIN/lib' || built=0
cc_mod "$IN/wabs.so" wabs "" -L"$IN/lib" -l:libwhelper.so.1 -lm \
	-Wl,--enable-new-dtags,-rpath,"$IN/lib" || built=0
# Needs libffi through a RUNPATH that starts at $ORIGIN and climbs to the
# system's folder: still no declared input.
ffidir=$(dirname "$ffi")
cc_mod "$IN/wclimb.so" wclimb "" -L"$IN/lib" -l:libwhelper.so.1 -lm -Wl,--no-as-needed "$ffi" \
	-Wl,--enable-new-dtags,-rpath,"\$ORIGIN/../../../../../../../../..$ffidir" || built=0
check "the fixtures build (gcc, Python.h)" test "$built" = 1
ffi_so=$(basename "$ffi")
check "the fixture needs libffi ($ffi_so) from the system" bash -c "readelf -d '$IN/wffi.so' | grep -qF '[$ffi_so]'"
newest=$(nm -D "$IN/wnew.so" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n | tail -1)
echo "# wnew needs $newest at most"
check "the misfit fixture needs GLIBC_2.34 or newer (nm -D)" \
	bash -c "nm -D '$IN/wnew.so' | grep -q 'pthread_create@GLIBC_2.3[4-9]'"
check "the fitting fixture needs nothing past GLIBC_2.17" \
	bash -c "! nm -D '$IN/wmod.so' | grep -Eq 'GLIBC_2\.(1[89]|[2-9][0-9])'"
cat >"$IN/meta.json" <<'JSON'
{"summary": "A hermetic module", "requires_dist": ["six>=1"]}
JSON
cat >"$IN/artifacts.json" <<'JSON'
{"artifacts": [
  {"path": "wmod.so", "distribution": "wmod", "version": "1.0", "module": "wmod",
   "metadata": {"summary": "A hermetic module"},
   "python_tag": "cp311", "abi_tag": "cp311",
   "ext_suffix": ".cpython-311-x86_64-linux-gnu.so"}
]}
JSON
snap() { find "$IN" -type f -printf '%P %i %s %T@ ' -exec sha256sum {} \; | sort; }
snap >"$T/in.before"
chmod -R a-w "$IN"
readonly_in=$IN

TAGS=(--python-tag cp311 --abi-tag cp311 --ext-suffix .cpython-311-x86_64-linux-gnu.so)
MOD=(--module-file "$IN/wmod.so" --distribution wmod --version 1.0 --module wmod)
NAME=wmod-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl

# A fake interpreter: run, it leaves a marker.  It sits in a folder of
# its own, put on PATH and named by PYO3_PYTHON where a test says so.
mkdir -p "$T/fakebin" "$T/emptybin"
for n in python3 python python3.11 python3.12; do
	printf '#!/bin/sh\necho "$0 $*" >>"%s"\nexit 3\n' "$T/python-ran" >"$T/fakebin/$n"
	chmod +x "$T/fakebin/$n"
done

# hermetic DIR ARGS...: spoke wheel under env -i (no HOME, no
# XDG_RUNTIME_DIR, PATH with no python), the input folder bound read-only
# where a mount namespace can be had (root can write through a chmod).
# PROBE tags the environment, so a process left behind is found by it.
PROBE="spoke-wheel-probe-$$"
hermetic() {
	local path=$1
	shift
	if [ "$can_ro" = 1 ]; then
		unshare -m sh -c 'mount --bind -o ro "$0" "$0" && exec "$@"' "$readonly_in" \
			env -i PATH="$path" SPOKE_PROBE="$PROBE" PYO3_PYTHON="$T/fakebin/python3" \
			"$SPOKE" wheel "$@"
	else
		env -i PATH="$path" SPOKE_PROBE="$PROBE" PYO3_PYTHON="$T/fakebin/python3" \
			"$SPOKE" wheel "$@"
	fi
}
can_ro=0
if unshare -m sh -c 'mount --bind -o ro "$0" "$0" && ! touch "$0/.w" 2>/dev/null' "$IN" 2>/dev/null; then
	can_ro=1
	echo "# the input folder is bound read-only in a mount namespace"
else
	echo "# no mount namespace: the input folder is only chmod a-w"
fi

check_status "spoke wheel --out-dir under env -i, no python on PATH" 0 \
	hermetic "$T/emptybin" --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" \
	--metadata "$IN/meta.json" --lib-path "$IN/lib" --out-dir "$T/o1" --manifest-out "$T/o1/manifest.json" -q
check "  the declared name, and nothing else in the folder" \
	bash -c "[ \"\$(ls -A '$T/o1' | sort)\" = \"\$(printf '%s\n' $NAME manifest.json | sort)\" ]"
check_status "spoke wheel again, another folder, the fake python on PATH" 0 \
	hermetic "$T/fakebin:$T/emptybin" --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" \
	--metadata "$IN/meta.json" --lib-path "$IN/lib" --out-dir "$T/o2" --manifest-out "$T/o2/manifest.json"
check "  it said what it wrote and bundled" grep -q "bundled libwhelper.so.1 (.*) as wmod.libs/libwhelper-" "$T/last.out"
check "  no interpreter ran (no marker)" test ! -e "$T/python-ran"
check "  byte-identical wheels in two folders" cmp "$T/o1/$NAME" "$T/o2/$NAME"
check "  byte-identical manifests" cmp "$T/o1/manifest.json" "$T/o2/manifest.json"
sleep 1.1
check_status "a second run into the first folder" 0 \
	hermetic "$T/emptybin" --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" \
	--metadata "$IN/meta.json" --lib-path "$IN/lib" --out-dir "$T/o1" -q
check "  the same bytes a second later" cmp "$T/o1/$NAME" "$T/o2/$NAME"
check_status "--wheel-out writes exactly that file" 0 \
	hermetic "$T/emptybin" --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" \
	--metadata "$IN/meta.json" --lib-path "$IN/lib" --wheel-out "$T/o3/sub/$NAME" -q
check "  only that file, the same bytes" \
	bash -c "[ \"\$(ls -A '$T/o3/sub')\" = $NAME ] && cmp '$T/o3/sub/$NAME' '$T/o1/$NAME'"
check_status "--wheel-out x.whl, which pip would refuse, is refused" 1 \
	"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --wheel-out "$T/o3b/x.whl"
check "  naming the file expected" grep -qF "is named '$NAME'" "$T/last.out"
check_status "--wheel-out whose tags are not the declared ones is refused" 1 \
	"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" \
	--wheel-out "$T/o3b/wmod-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
check "  naming the file expected" grep -qF "is named '$NAME'" "$T/last.out"
check "  no wheel written" bash -c "! ls '$T'/o3b/*.whl 2>/dev/null"
check_status "--manifest-out equal to --wheel-out is refused" 1 \
	"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" \
	--wheel-out "$T/o3c/$NAME" --manifest-out "$T/o3c/$NAME"
check "  saying so" grep -qF "is the wheel" "$T/last.out"
mkdir -p "$T/o3d"
check_status "--manifest-out naming the wheel --out-dir gets (another spelling) is refused" 1 \
	"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" \
	--out-dir "$T/o3d" --manifest-out "$T/o3d/../o3d/$NAME"
check "  and nothing was written" bash -c "[ -z \"\$(find '$T/o3c' '$T/o3d' -type f 2>/dev/null)\" ]"
# Another copy of the inputs elsewhere (a build system's other output
# base), named by relative paths from there: the same bytes.
mkdir -p "$T/elsewhere/deeper"
cp -r "$IN" "$T/elsewhere/deeper/in"
check_status "the inputs copied elsewhere, relative paths" 0 bash -c "cd '$T/elsewhere/deeper/in' && env -i '$SPOKE' wheel \
	--compat manylinux_2_17 --module-file wmod.so --distribution wmod --version 1.0 --module wmod \
	${TAGS[*]} --metadata meta.json --lib-path lib --wheel-out ../../$NAME -q"
check "  the same bytes" cmp "$T/elsewhere/$NAME" "$T/o1/$NAME"
check "no process left with the probe in its environment" \
	bash -c "! grep -lsa 'SPOKE_PROBE=$PROBE' /proc/[0-9]*/environ"
check "no state directory, no socket folder in the inputs or outputs" \
	bash -c "[ -z \"\$(find '$IN' '$T/o1' '$T/o2' '$T/o3' -name '.spoke*' -o -name '*.spoke-tmp' -o -type s)\" ]"
snap >"$T/in.after"
check "the inputs are untouched (bytes, inode, mtime)" diff "$T/in.before" "$T/in.after"

# One process: strace sees one execve, the command's own (no
# interpreter, no coordinator, no helper), with no python on PATH.
if command -v strace >/dev/null 2>&1; then
	check_status "under strace -f" 0 env -i PATH="$T/emptybin" "$(command -v strace)" -f -qq \
		-e trace=execve,fork,vfork,clone,clone3 -o "$T/strace.log" \
		"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" \
		--lib-path "$IN/lib" --out-dir "$T/o4" -q
	check "  exactly one execve, the spoke command's" \
		bash -c "[ \$(grep -c 'execve(' '$T/strace.log') -eq 1 ] && grep -qF 'execve(\"$SPOKE\"' '$T/strace.log'"
	check "  no process made: no fork, no clone but threads'" \
		bash -c "! grep -E '(fork|clone3?)\(' '$T/strace.log' | grep -v CLONE_THREAD"
fi

# What is in the wheel: no absolute path, user or host name; relative
# RPATHs; the declared tags.
X="$T/x"
mkdir -p "$X" && (cd "$X" && unzip -q "$T/o1/$NAME")
check "the wheel is valid (RECORD)" wheels_valid "$T/o1"
check "  no input, output or scratch path in any file" bash -c "! grep -rlaF -e '$T' -e '$IN' '$X'"
check "  no user or host name in METADATA, WHEEL, RECORD" \
	bash -c "! grep -rwF -e \"\$(hostname)\" -e \"\$(id -un)\" '$X'/wmod-1.0.dist-info"
check "  the module's RPATH leads to wmod.libs from \$ORIGIN" \
	bash -c "readelf -d '$X/wmod.cpython-311-x86_64-linux-gnu.so' | grep -E 'R(UN)?PATH' | grep -qF '[\$ORIGIN/wmod.libs]'"
check "  the bundled library has no absolute RPATH" \
	bash -c "! readelf -d '$X'/wmod.libs/libwhelper-*.so.1 | grep -E 'R(UN)?PATH' | grep -v '\\[\\\$ORIGIN[]/]'"
check "  libm and libc are left to the system (not bundled)" \
	bash -c "[ \"\$(ls '$X/wmod.libs')\" = \"\$(ls '$X/wmod.libs' | grep libwhelper)\" ]"
check "  WHEEL carries exactly the declared tags" \
	bash -c "[ \"\$(grep ^Tag: '$X/wmod-1.0.dist-info/WHEEL')\" = \"\$(printf 'Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64')\" ]"
check "  METADATA from --metadata" grep -q '^Requires-Dist: six>=1' "$X/wmod-1.0.dist-info/METADATA"
check "  every entry dated 1980-01-01 00:00" \
	bash -c "[ -z \"\$(unzip -Z -T '$T/o1/$NAME' | awk '/^[-l]/ && \$7 != \"19800101.000000\"')\" ]"
check "the manifest lists the wheel, its sha256 and size" "$PY" -c "
import hashlib, json, os, sys
m = json.load(open('$T/o1/manifest.json'))
[w] = m['wheels']
p = os.path.join('$T/o1', w['file'])
assert w['file'] == '$NAME', w
assert w['sha256'] == hashlib.sha256(open(p, 'rb').read()).hexdigest()
assert w['size'] == os.path.getsize(p)
assert w['platform_tag'] == 'manylinux_2_17_x86_64.manylinux2014_x86_64', w
assert (w['distribution'], w['version'], w['python_tag'], w['abi_tag']) == ('wmod', '1.0', 'cp311', 'cp311'), w
"
v=$(make_venv wheel)
check "pip installs the wheel; it imports and finds its bundled library" \
	bash -c "'$v/bin/python' -m pip install -q --no-index --no-deps '$T/o1/$NAME' && cd / && env -u LD_LIBRARY_PATH '$v/bin/python' -c 'import wmod; assert wmod.answer() == 42, wmod.answer()'"

# SOURCE_DATE_EPOCH sets the time instead.
check_status "with SOURCE_DATE_EPOCH" 0 env -i SOURCE_DATE_EPOCH=1700000000 "$SPOKE" wheel \
	--compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --out-dir "$T/o5" -q
check "  its entries carry that time" \
	bash -c "unzip -Z -T '$T/o5/$NAME' | awk '/^[-l]/ {print \$7}' | sort -u | grep -qx '20231114.221320'"

# The declared tag, exactly: a module that fits manylinux_2_17 is tagged
# manylinux_2_28 when that is declared, not the older tag it also fits.
check_status "--compat manylinux_2_28 on a manylinux_2_17 module" 0 "$SPOKE" wheel --compat manylinux_2_28 \
	"${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --out-dir "$T/o6" -q
check "  is named manylinux_2_28_x86_64 and nothing older" \
	bash -c "[ \"\$(ls '$T/o6')\" = wmod-1.0-cp311-cp311-manylinux_2_28_x86_64.whl ]"

# A declared tag the objects do not fit: a clear failure, no file.
check_status "a GLIBC_2.34 module with --compat manylinux_2_17 fails" 1 "$SPOKE" wheel --compat manylinux_2_17 \
	--module-file "$IN/wnew.so" --distribution wnew --version 1.0 --module wnew "${TAGS[@]}" \
	--lib-path "$IN/lib" --out-dir "$T/o7"
check "  naming the object, --compat's tag and the symbol version" \
	bash -c "grep -F 'wnew.so' '$T/last.out' | grep -F manylinux_2_17 | grep -qF GLIBC_2.34"
check "  and the symbol" grep -qF pthread_create "$T/last.out"
check "  nothing written" bash -c "[ -z \"\$(ls -A '$T/o7' 2>/dev/null)\" ]"
check_status "the same module with --compat manylinux_2_34 is written" 0 "$SPOKE" wheel --compat manylinux_2_34 \
	--module-file "$IN/wnew.so" --distribution wnew --version 1.0 --module wnew "${TAGS[@]}" \
	--lib-path "$IN/lib" --out-dir "$T/o7" -q
check "  tagged manylinux_2_34_x86_64" test -f "$T/o7/wnew-1.0-cp311-cp311-manylinux_2_34_x86_64.whl"
check_status "a glibc module with a musllinux tag fails" 1 "$SPOKE" wheel --compat musllinux_1_2 \
	"${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --out-dir "$T/o8"
check "  saying so" grep -qF "is a musl tag" "$T/last.out"

# Libraries: only --lib-path and $ORIGIN.
check_status "without --lib-path the helper is not found, though the linker found it" 1 \
	env -i LD_LIBRARY_PATH="$IN/lib" "$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --out-dir "$T/o9"
check "  the error names the library and says where spoke wheel looks" \
	bash -c "grep -F 'cannot find libwhelper.so.1' '$T/last.out' | grep -qF 'only --lib-path folders and \$ORIGIN'"
check_status "a library only in the system's folders is an error" 1 "$SPOKE" wheel --compat manylinux_2_17 \
	--module-file "$IN/wffi.so" --distribution wffi --version 1.0 --module wffi "${TAGS[@]}" \
	--lib-path "$IN/lib" --out-dir "$T/o9"
check "  naming it" grep -qF "cannot find $ffi_so" "$T/last.out"
mkdir -p "$T/ffilib"
cp "$ffi" "$T/ffilib/"
# (This machine's libffi needs GLIBC_2.27: manylinux_2_28 fits it.)
check_status "  the control: with its folder in --lib-path it is bundled" 0 "$SPOKE" wheel --compat manylinux_2_28 \
	--module-file "$IN/wffi.so" --distribution wffi --version 1.0 --module wffi "${TAGS[@]}" \
	--lib-path "$IN/lib" --lib-path "$T/ffilib" --out-dir "$T/o9b" -q
check "  as wffi.libs/${ffi_so%%.so*}-<hash>.so..." bash -c "unzip -Z1 '$T'/o9b/wffi-*.whl | grep -q '^wffi.libs/${ffi_so%%.so*}-'"
check_status "a RUNPATH \$ORIGIN/../../..$ffidir is not searched either" 1 "$SPOKE" wheel --compat manylinux_2_28 \
	--module-file "$IN/wclimb.so" --distribution wclimb --version 1.0 --module wclimb "${TAGS[@]}" \
	--lib-path "$IN/lib" --out-dir "$T/o9c"
check "  the error names $ffi_so" grep -qF "cannot find $ffi_so" "$T/last.out"
check "  and no wheel was written" bash -c "! ls \"$T\"/o9c/*.whl 2>/dev/null"
check_status "an absolute RUNPATH is not searched" 1 "$SPOKE" wheel --compat manylinux_2_17 \
	--module-file "$IN/wabs.so" --distribution wabs --version 1.0 --module wabs "${TAGS[@]}" --out-dir "$T/o9"
check "  the error names the helper" grep -qF "cannot find libwhelper.so.1" "$T/last.out"
check_status "RUNPATH \$ORIGIN/lib is searched, with no --lib-path" 0 "$SPOKE" wheel --compat manylinux_2_17 \
	--module-file "$IN/origin/worig.so" --distribution worig --version 1.0 --module worig "${TAGS[@]}" --out-dir "$T/o10" -q
check "  and the helper found there is bundled" \
	bash -c "unzip -Z1 '$T'/o10/worig-*.whl | grep -q '^worig.libs/libwhelper-'"
check_status "--exclude: a library the user promises every target has" 0 "$SPOKE" wheel --compat manylinux_2_17 \
	"${MOD[@]}" "${TAGS[@]}" --exclude 'libwhelper.so.*' --out-dir "$T/o10b" --json
check "  is neither searched nor bundled; --json says what was written" "$PY" -c "
import json, zipfile
[r] = [json.loads(l) for l in open('$T/last.out') if l.startswith('{')]
assert r['type'] == 'result' and r['command'] == 'wheel' and r['ok'], r
assert r['wheel_name'] == '$NAME' and r['grafted'] == [], r
assert not [n for n in zipfile.ZipFile('$T/o10b/$NAME').namelist() if '.libs/' in n]
"
check_status "--json on failure" 1 "$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --out-dir "$T/o10c" --json
check "  one result line, ok false, the error" "$PY" -c "
import json
[r] = [json.loads(l) for l in open('$T/last.out') if l.startswith('{')]
assert r['ok'] is False and 'cannot find libwhelper.so.1' in r['error'], r
"
check_status "--compat linux: no repair, linux_x86_64, nothing searched" 0 "$SPOKE" wheel --compat linux \
	"${MOD[@]}" "${TAGS[@]}" --out-dir "$T/o11" -q
check "  named linux_x86_64, no .libs" \
	bash -c "[ \"\$(ls '$T/o11')\" = wmod-1.0-cp311-cp311-linux_x86_64.whl ] && ! unzip -Z1 '$T/o11'/*.whl | grep -q '\.libs/'"

# Tags for another Python than this machine's: that is the point.
check_status "cp312 tags and suffix on a machine whose python is $("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" 0 \
	"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" --python-tag cp312 --abi-tag cp312 \
	--ext-suffix .cpython-312-x86_64-linux-gnu.so --lib-path "$IN/lib" --out-dir "$T/o12" -q
N312=wmod-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
check "  the name follows the declared tags" test -f "$T/o12/$N312"
check "  WHEEL's tags are cp312" bash -c "unzip -p '$T/o12/$N312' wmod-1.0.dist-info/WHEEL | grep -qx 'Tag: cp312-cp312-manylinux_2_17_x86_64'"
check "  the module file has the declared suffix" bash -c "unzip -Z1 '$T/o12/$N312' | grep -qx 'wmod.cpython-312-x86_64-linux-gnu.so'"
check "  and RECORD holds" wheels_valid "$T/o12"
check_status "an abi3 wheel" 0 "$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" --python-tag cp38 --abi-tag abi3 \
	--ext-suffix .abi3.so --lib-path "$IN/lib" --out-dir "$T/o13" -q
check "  named cp38-abi3, module wmod.abi3.so" \
	bash -c "unzip -Z1 '$T/o13/wmod-1.0-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl' | grep -qx wmod.abi3.so"

# The artifacts file: its tags, and the same strict errors as spoke build.
check_status "--artifacts with declared tags" 0 hermetic "$T/emptybin" --compat manylinux_2_17 \
	--artifacts "$IN/artifacts.json" --lib-path "$IN/lib" --out-dir "$T/o14" -q
check "  the same wheel as from the command line" \
	bash -c "unzip -p '$T/o14/$NAME' wmod-1.0.dist-info/METADATA | grep -q '^Summary: A hermetic module' && unzip -p '$T/o14/$NAME' wmod.cpython-311-x86_64-linux-gnu.so | cmp - <(unzip -p '$T/o1/$NAME' wmod.cpython-311-x86_64-linux-gnu.so)"
B="$T/bad"
mkdir -p "$B"
cp "$IN/wmod.so" "$IN/wnew.so" "$B/"
# bad NAME MESSAGE JSON: spoke wheel and spoke build --artifacts refuse
# the file with the same message (build's comes before any interpreter
# or coordinator).
bad() {
	printf '%s\n' "$3" >"$B/$1.json"
	check_status "spoke wheel --artifacts $1: exit 1" 1 "$SPOKE" wheel --compat manylinux_2_17 \
		--artifacts "$B/$1.json" --out-dir "$T/obad"
	check "  says '$2'" grep -qF "$2" "$T/last.out"
	grep -F "$2" "$T/last.out" >"$T/bad.wheel"
	check_status "spoke build --artifacts $1: exit 1" 1 env PATH="$T/fakebin:$PATH" "$SPOKE" build -q \
		--state-dir "$T/state-bad" --artifacts "$B/$1.json"
	printf '%s\n' "$2" >"$T/bad.pattern"
	check "  the same message" bash -c "grep -Ff '$T/bad.pattern' '$T/last.out' | cmp - '$T/bad.wheel'"
}
E='"path": "wmod.so", "distribution": "wmod", "version": "1.0", "module": "wmod"'
bad unknown "artifact 0: unknown field 'python_tags'" \
	"{\"artifacts\": [{$E, \"python_tags\": \"cp311\"}]}"
bad missing-tag "artifact 0: missing field 'ext_suffix' (python_tag, abi_tag and ext_suffix go together" \
	"{\"artifacts\": [{$E, \"python_tag\": \"cp311\", \"abi_tag\": \"cp311\"}]}"
bad bad-tag "invalid python_tag 'cp-311'" \
	"{\"artifacts\": [{$E, \"python_tag\": \"cp-311\", \"abi_tag\": \"cp311\", \"ext_suffix\": \".so\"}]}"
bad bad-suffix "invalid ext_suffix '/../x.so'" \
	"{\"artifacts\": [{$E, \"python_tag\": \"cp311\", \"abi_tag\": \"cp311\", \"ext_suffix\": \"/../x.so\"}]}"
bad empty-tag "field 'abi_tag' must be a non-empty string" \
	"{\"artifacts\": [{$E, \"python_tag\": \"cp311\", \"abi_tag\": \"\", \"ext_suffix\": \".so\"}]}"
bad mixed "artifact 1 lacks python_tag, abi_tag and ext_suffix but artifact 0 does" \
	"{\"artifacts\": [{$E, \"python_tag\": \"cp311\", \"abi_tag\": \"cp311\", \"ext_suffix\": \".so\"},
	  {\"path\": \"wnew.so\", \"distribution\": \"wnew\", \"version\": \"1.0\", \"module\": \"wnew\"}]}"
check "no interpreter ran for any bad file" test ! -e "$T/python-ran"
mkfifo "$B/fifo.json"
check_status "spoke wheel --artifacts naming a FIFO: exit 1 at once" 1 timeout 20 "$SPOKE" wheel \
	--compat manylinux_2_17 --artifacts "$B/fifo.json" --out-dir "$T/obad"
check "  saying it is not a regular file" grep -qF "fifo.json' is not a regular file" "$T/last.out"
check_status "spoke build --artifacts naming a FIFO: exit 1 at once" 1 timeout 20 "$SPOKE" build -q \
	--state-dir "$T/state-bad" --artifacts "$B/fifo.json"
check "  saying it is not a regular file" grep -qF "fifo.json' is not a regular file" "$T/last.out"
check_status "spoke wheel --metadata naming a FIFO: exit 1 at once" 1 timeout 20 "$SPOKE" wheel \
	--compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --metadata "$B/fifo.json" --out-dir "$T/obad"

# License files are declared inputs of spoke wheel: a build system's
# sandbox gives them as symbolic links into its workspace, which are
# followed; spoke build --artifacts, reading a project's folder, still
# refuses a link out of it.
mkdir -p "$T/lic/ws" "$T/lic/sandbox"
printf 'The license text\n' >"$T/lic/ws/LICENSE"
cp "$IN/wmod.so" "$T/lic/sandbox/"
cp -r "$IN/lib" "$T/lic/sandbox/lib"
ln -s "$T/lic/ws/LICENSE" "$T/lic/sandbox/LICENSE"
cat >"$T/lic/sandbox/meta.json" <<'JSON'
{"summary": "A hermetic module", "license_files": ["LICENSE"]}
JSON
check_status "spoke wheel with a license file that is a symlink out of its folder" 0 "$SPOKE" wheel \
	--compat manylinux_2_17 --module-file "$T/lic/sandbox/wmod.so" --distribution wmod --version 1.0 \
	--module wmod "${TAGS[@]}" --metadata "$T/lic/sandbox/meta.json" --lib-path "$T/lic/sandbox/lib" \
	--out-dir "$T/olic" -q
check "  the wheel holds the license text and names it" bash -c \
	"unzip -p '$T/olic/$NAME' wmod-1.0.dist-info/licenses/LICENSE | grep -qx 'The license text' &&
	 unzip -p '$T/olic/$NAME' wmod-1.0.dist-info/METADATA | grep -qx 'License-File: LICENSE'"
cat >"$T/lic/sandbox/artifacts.json" <<'JSON'
{"artifacts": [{"path": "wmod.so", "distribution": "wmod", "version": "1.0", "module": "wmod",
  "linked_paths": ["lib"], "metadata": {"license_files": ["LICENSE"]},
  "python_tag": "cp311", "abi_tag": "cp311", "ext_suffix": ".cpython-311-x86_64-linux-gnu.so"}]}
JSON
check_status "  the same through spoke wheel --artifacts" 0 "$SPOKE" wheel --compat manylinux_2_17 \
	--artifacts "$T/lic/sandbox/artifacts.json" --out-dir "$T/olic2" -q
check_status "  spoke build --artifacts refuses it" 1 "$SPOKE" build -q --state-dir "$T/state-lic" \
	--artifacts "$T/lic/sandbox/artifacts.json" -o "$T/olic3"
check "  saying it is a symbolic link out of the folder" grep -qF "is a symbolic link" "$T/last.out"
"$SPOKE" stop --state-dir "$T/state-lic" >/dev/null 2>&1

# Another architecture than this machine's: with declared tags no
# interpreter runs, so the machine spoke runs on does not matter; the
# object must agree with the architecture ext_suffix names.
cross_mod() { # cross_mod CC OUT: a module needing libc (strlen)
	printf '%s\n' '#include <string.h>' 'const char *volatile cross_name = "cross";' \
		'void *PyInit_wcross(void) { return (void *)(strlen(cross_name) - 5); }' >"$T/src/wcross.c"
	"$1" -shared -fPIC -O2 -o "$2" "$T/src/wcross.c"
}
for arch in aarch64:aarch64-linux-gnu ppc64le:powerpc64le-linux-gnu; do
	a=${arch%%:*} trip=${arch#*:}
	if ! command -v "$trip-gcc" >/dev/null 2>&1; then
		echo "# $trip-gcc missing: skipping the $a module"
		continue
	fi
	mkdir -p "$T/cross-$a"
	cross_mod "$trip-gcc" "$T/cross-$a/wcross.so"
	check_status "a $a module, $a tags, on this $(uname -m) machine" 0 env -i "$SPOKE" wheel --compat manylinux_2_17 \
		--module-file "$T/cross-$a/wcross.so" --distribution wcross --version 1.0 --module wcross \
		--python-tag cp311 --abi-tag cp311 --ext-suffix ".cpython-311-$trip.so" --out-dir "$T/o-$a" -q
	check "  tagged manylinux_2_17_$a, the module named for $trip" bash -c \
		"unzip -Z1 '$T/o-$a/wcross-1.0-cp311-cp311-manylinux_2_17_$a.manylinux2014_$a.whl' | grep -qx 'wcross.cpython-311-$trip.so'"
	check_status "  an abi3 suffix names no architecture: fine" 0 env -i "$SPOKE" wheel --compat manylinux_2_17 \
		--module-file "$T/cross-$a/wcross.so" --distribution wcross --version 1.0 --module wcross \
		--python-tag cp38 --abi-tag abi3 --ext-suffix .abi3.so --out-dir "$T/o-$a-abi3" -q
	check_status "  with an x86_64 suffix it fails" 1 env -i "$SPOKE" wheel --compat manylinux_2_17 \
		--module-file "$T/cross-$a/wcross.so" --distribution wcross --version 1.0 --module wcross "${TAGS[@]}" \
		--out-dir "$T/o-$a-bad"
	check "  naming both architectures" grep -qF "is built for $a, but its extension suffix '.cpython-311-x86_64-linux-gnu.so' is for x86_64" "$T/last.out"
	check "  and writing no wheel" bash -c "! ls '$T'/o-$a-bad/*.whl 2>/dev/null"
done
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
	mkdir -p "$T/cb"
	cp "$T/cross-aarch64/wcross.so" "$T/cb/"
	cat >"$T/cb/artifacts.json" <<'JSON'
{"artifacts": [{"path": "wcross.so", "distribution": "wcross", "version": "1.0", "module": "wcross",
  "python_tag": "cp311", "abi_tag": "cp311", "ext_suffix": ".cpython-311-aarch64-linux-gnu.so"}]}
JSON
	check_status "spoke build --artifacts with declared aarch64 tags, here" 0 "$SPOKE" build -q \
		--state-dir "$T/state-cb" --compat manylinux_2_17 --artifacts "$T/cb/artifacts.json" -o "$T/cb/out"
	check "  wrote the manylinux_2_17_aarch64 wheel" \
		test -f "$T/cb/out/wcross-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
	"$SPOKE" stop --state-dir "$T/state-cb" >/dev/null 2>&1
fi

# The platform policy is compiled in: a spoke installed beside a broken
# share/spoke/policy.json, or with no source tree, reads no file for it.
mkdir -p "$T/inst/bin" "$T/inst/share/spoke"
cp "$SPOKE" "$T/inst/bin/spoke"
echo '{"format": 2, "broken' >"$T/inst/share/spoke/policy.json"
check_status "a spoke beside a broken share/spoke/policy.json ignores it" 0 env -i "$T/inst/bin/spoke" wheel \
	--compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --out-dir "$T/o14" -q
"$SPOKE" wheel --compat manylinux_2_17 "${MOD[@]}" "${TAGS[@]}" --lib-path "$IN/lib" --out-dir "$T/o14b" -q
check "  and writes the wheel the built spoke writes" cmp "$T/o14/$NAME" "$T/o14b/$NAME"
if command -v strace >/dev/null 2>&1; then
	check "  opening no policy.json at all (strace)" bash -c "strace -f -e trace=open,openat,stat,newfstatat,access \
		-o '$T/policy.trace' '$SPOKE' wheel --compat manylinux_2_17 ${MOD[*]} ${TAGS[*]} --lib-path '$IN/lib' \
		--out-dir '$T/o15' -q && ! grep -q policy.json '$T/policy.trace'"
fi

# Usage errors.
check_status "no --compat: usage error" 2 "$SPOKE" wheel "${MOD[@]}" "${TAGS[@]}" --out-dir "$T/ou"
check_status "an unknown --compat tag: usage error" 2 "$SPOKE" wheel --compat manylinux_9_99 "${MOD[@]}" "${TAGS[@]}" --out-dir "$T/ou"
check_status "--module-file without tags: usage error" 2 "$SPOKE" wheel --compat linux "${MOD[@]}" --out-dir "$T/ou"
check_status "two of the three tags: usage error" 2 "$SPOKE" wheel --compat linux "${MOD[@]}" \
	--python-tag cp311 --abi-tag cp311 --out-dir "$T/ou"
check_status "a bad --ext-suffix: usage error" 2 "$SPOKE" wheel --compat linux "${MOD[@]}" \
	--python-tag cp311 --abi-tag cp311 --ext-suffix x.so --out-dir "$T/ou"
check_status "tags on the command line and in the file: usage error" 2 "$SPOKE" wheel --compat linux \
	--artifacts "$IN/artifacts.json" "${TAGS[@]}" --out-dir "$T/ou"
check_status "--wheel-out and --out-dir: usage error" 2 "$SPOKE" wheel --compat linux "${MOD[@]}" "${TAGS[@]}" \
	--out-dir "$T/ou" --wheel-out "$T/ou/x.whl"
check_status "--wheel-out naming a folder: usage error" 2 "$SPOKE" wheel --compat linux "${MOD[@]}" "${TAGS[@]}" \
	--wheel-out "$T/ou/"
cat >"$B/two.json" <<JSON
{"artifacts": [{$E, "python_tag": "cp311", "abi_tag": "cp311", "ext_suffix": ".so"},
  {"path": "wnew.so", "distribution": "wnew", "version": "1.0", "module": "wnew",
   "python_tag": "cp311", "abi_tag": "cp311", "ext_suffix": ".so"}]}
JSON
check_status "--wheel-out with two artifacts: usage error" 2 "$SPOKE" wheel --compat linux \
	--artifacts "$B/two.json" --wheel-out "$T/ou/x.whl"
check_status "--lib-path '': usage error (it would be the working folder)" 2 "$SPOKE" wheel --compat linux \
	"${MOD[@]}" "${TAGS[@]}" --lib-path '' --out-dir "$T/ou"
check_status "spoke repair --lib-path '': usage error" 2 "$SPOKE" repair --lib-path '' -w "$T/ou" "$T/o1/$NAME"
check "nothing was written by the usage errors" test ! -e "$T/ou"
# SOURCE_DATE_EPOCH out of range (strtoll's ERANGE) is refused by each
# command that reads it, as spoke sdist refused it.
for cmd in "wheel --compat linux ${MOD[*]} ${TAGS[*]} --out-dir $T/oe" \
	"build -q --state-dir $T/state-e --artifacts $IN/artifacts.json -o $T/oe" \
	"repair -w $T/oe $T/o1/$NAME"; do
	check_status "SOURCE_DATE_EPOCH=99999999999999999999 spoke ${cmd%% *}: exit 1" 1 \
		env SOURCE_DATE_EPOCH=99999999999999999999 "$SPOKE" $cmd
	check "  naming it" grep -qF "SOURCE_DATE_EPOCH '99999999999999999999' is not a non-negative number" "$T/last.out"
done
check "  and nothing was written" bash -c "! ls '$T'/oe/*.whl 2>/dev/null"
check "--help explains the declared search and the fixed time" \
	bash -c "'$SPOKE' wheel --help | grep -q 'ld.so.conf' && '$SPOKE' wheel --help | grep -q '1980-01-01'"

# spoke build --artifacts with the tag fields asks no interpreter: the
# fake one is first on PATH and named by PYO3_PYTHON, and is not run.
mkdir -p "$T/b"
cp "$IN/wmod.so" "$T/b/"
cp -r "$IN/lib" "$T/b/lib"
chmod -R u+w "$T/b"
cat >"$T/b/artifacts.json" <<'JSON'
{"artifacts": [{"path": "wmod.so", "distribution": "wmod", "version": "1.0", "module": "wmod",
  "linked_paths": ["lib"], "python_tag": "cp312", "abi_tag": "cp312",
  "ext_suffix": ".cpython-312-x86_64-linux-gnu.so"}]}
JSON
check_status "spoke build --artifacts with declared tags" 0 env PATH="$T/fakebin:$PATH" \
	PYO3_PYTHON="$T/fakebin/python3" "$SPOKE" build -q --state-dir "$T/state-b" \
	--artifacts "$T/b/artifacts.json" -o "$T/b/out"
check "  started no interpreter" test ! -e "$T/python-ran"
check "  wrote the cp312 wheel with the declared suffix" \
	bash -c "unzip -Z1 '$T'/b/out/wmod-1.0-cp312-cp312-manylinux_*_x86_64*.whl | grep -qx 'wmod.cpython-312-x86_64-linux-gnu.so'"
check_status "  -i with declared tags: usage error" 2 "$SPOKE" build -q -i "$PY" --state-dir "$T/state-b" \
	--artifacts "$T/b/artifacts.json" -o "$T/b/out"
"$SPOKE" stop --state-dir "$T/state-b" >/dev/null 2>&1
# The control: without the tags, the fake interpreter is asked.
cat >"$T/b/untagged.json" <<'JSON'
{"artifacts": [{"path": "wmod.so", "distribution": "wmod", "version": "1.0", "module": "wmod",
  "linked_paths": ["lib"]}]}
JSON
check_status "without the tags spoke build asks the (fake) interpreter" 1 env PATH="$T/fakebin:$PATH" \
	PYO3_PYTHON="$T/fakebin/python3" "$SPOKE" build -q --state-dir "$T/state-b" \
	--artifacts "$T/b/untagged.json" -o "$T/b/out2"
check "  and the marker shows it ran (the check above can fail)" test -e "$T/python-ran"
"$SPOKE" stop --state-dir "$T/state-b" >/dev/null 2>&1

chmod -R u+w "$IN" "$T/elsewhere"
finish
