#!/bin/bash
# spoke repair on wheels that ship ELF executables, as auditwheel repairs
# them: every executable outside <dist>.libs/ is repaired like a module
# (its libraries bundled once with the module's, its DT_NEEDED renamed, an
# RPATH set), and counts for the tag.  An executable in
# <dist>.data/scripts/ that needs bundled libraries moves to
# <pkg>.scripts/<name> in platlib, a Python launcher taking its place;
# one that needs nothing is written unchanged.  Every fixture is built
# with gcc here; the repaired wheels are installed with pip and run.
. "$(dirname "$0")/lib.sh"

unset LD_LIBRARY_PATH
B="$T/build"
mkdir -p "$B/lib"

# The library no policy has, and what uses it: a module, a tool, a helper.
cat >"$B/toolhelper.c" <<'EOF'
int toolhelper_answer(void) { return 42; }
EOF
cat >"$B/mod.c" <<'EOF'
int toolhelper_answer(void);
void *PyInit_exemod(void) { return toolhelper_answer() == 42 ? 0 : 0; }
EOF
cat >"$B/tool.c" <<'EOF'
#include <stdio.h>
int toolhelper_answer(void);
int main(int argc, char **argv)
{
	printf("helper says %d, %d args\n", toolhelper_answer(), argc - 1);
	(void)argv;
	return 0;
}
EOF
cat >"$B/sys.c" <<'EOF'
#include <stdio.h>
#include <math.h>
int main(int argc, char **argv)
{
	(void)argv;
	printf("%.0f\n", pow(2.0, (double)argc));
	return 0;
}
EOF
cat >"$B/threads.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
static void *run(void *a) { return a; }
int main(void)
{
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, run, (void *)7) || pthread_join(t, &r))
		return 1;
	printf("%ld\n", (long)r);
	return 0;
}
EOF
build_all() {
	gcc -shared -fPIC -Wl,-soname,libtoolhelper.so.1 -o "$B/lib/libtoolhelper.so.1" "$B/toolhelper.c" &&
		gcc -shared -fPIC -o "$B/exemod.cpython-311-x86_64-linux-gnu.so" "$B/mod.c" -L"$B/lib" -l:libtoolhelper.so.1 &&
		gcc -pie -fPIE -o "$B/tool-pie" "$B/tool.c" -L"$B/lib" -l:libtoolhelper.so.1 &&
		gcc -no-pie -fno-PIE -o "$B/tool-nopie" "$B/tool.c" -L"$B/lib" -l:libtoolhelper.so.1 &&
		gcc -o "$B/sys" "$B/sys.c" -lm &&
		gcc -pthread -o "$B/threads" "$B/threads.c"
}
check "gcc builds the fixtures" build_all
# A script's mode in the wheel does not matter to installers (they make
# every script executable): the nopie tool is packed without its x bits,
# and must still run once moved into platlib.
cp "$B/tool-nopie" "$B/tool-nopie-script" && chmod 0644 "$B/tool-nopie-script"
cp "$B/tool-pie" "$B/tool-pie-script"

# wheel NAME FILE:ENTRY...: packs a linux_x86_64 wheel of distribution
# NAME holding each FILE at ENTRY (mode kept).
wheel() {
	local name=$1 tree="$T/tree-$1" f
	shift
	rm -rf "$tree"
	mkdir -p "$tree/$name-0.1.0/$name-0.1.0.dist-info" "$T/in"
	for f in "$@"; do
		mkdir -p "$(dirname "$tree/$name-0.1.0/${f#*:}")"
		cp -p "${f%%:*}" "$tree/$name-0.1.0/${f#*:}" || return 1
	done
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: 0.1.0\n' "$name" \
		>"$tree/$name-0.1.0/$name-0.1.0.dist-info/METADATA"
	printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' \
		>"$tree/$name-0.1.0/$name-0.1.0.dist-info/WHEEL"
	"$PY" -m wheel pack "$tree/$name-0.1.0" -d "$T/in" >/dev/null
}

# member WHEEL ENTRY OUT: extracts one entry.
member() {
	"$PY" -c "
import sys, zipfile
open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))
" "$@"
}

for kind in pie nopie; do
	name="exe_$kind"
	check "($kind) the input wheel packs" wheel "$name" \
		"$B/exemod.cpython-311-x86_64-linux-gnu.so:exemod.cpython-311-x86_64-linux-gnu.so" \
		"$B/tool-$kind-script:$name-0.1.0.data/scripts/tool" \
		"$B/tool-$kind:pkg/bin/helper" \
		"$B/sys:$name-0.1.0.data/scripts/systool" \
		"$B/sys:pkg/bin/sys"
	in_whl="$T/in/$name-0.1.0-cp311-cp311-linux_x86_64.whl"
	out="$T/out-$kind"
	check "($kind) spoke repair succeeds" "$SPOKE" repair -w "$out" --lib-path "$B/lib" --json "$in_whl"
	cp "$T/check.out" "$T/repair-$kind.json"
	out_whl=$(ls "$out"/$name-0.1.0-cp311-cp311-manylinux_*_x86_64*.whl 2>/dev/null)
	check "  one manylinux wheel" test -n "$out_whl" -a "$(ls "$out" | wc -l)" -eq 1
	check "  the library is bundled once; the tool moves; the launcher takes its place" "$PY" -c "
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
n = z.namelist()
libs = [x for x in n if x.startswith(sys.argv[2] + '.libs/')]
assert len(libs) == 1 and re.fullmatch(r'[a-z_]+\.libs/libtoolhelper-[0-9a-f]{8}\.so\.1', libs[0]), n
assert sys.argv[2] + '.scripts/tool' in n, n
s = sys.argv[2] + '-0.1.0.data/scripts/tool'
text = z.read(s)
assert text.startswith(b'#!python\n') and b'sysconfig' in text, text
assert z.getinfo(s).external_attr >> 16 & 0o777 == 0o755, oct(z.getinfo(s).external_attr >> 16)
assert z.getinfo(sys.argv[2] + '.scripts/tool').external_attr >> 16 & 0o111, 'not executable'
assert sys.argv[2] + '.scripts/systool' not in n, n
" "$out_whl" "$name"
	check "  every RECORD line holds" wheels_valid "$out"
	check "  spoke show says valid, with the tag the repair gave" bash -c "
		'$SPOKE' show '$out_whl' >'$T/show.out' &&
		grep -q '^  valid\$' '$T/show.out' &&
		grep -qF \"platform tag: \$(basename '$out_whl' .whl | sed 's/.*-//')\" '$T/show.out'"
	check "  --json lists the executables" "$PY" -c "
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
m = {x['entry']: x for x in r['modules']}
t = m[sys.argv[2] + '-0.1.0.data/scripts/tool']
assert t['executable'] and t['moved_to'] == sys.argv[2] + '.scripts/tool', t
assert 'moved_to' not in m['pkg/bin/helper'], m
assert m['pkg/bin/sys']['patch'] == 'none', m
" "$T/repair-$kind.json" "$name"
	check "  the moved tool's RPATH leads to the libraries" member "$out_whl" "$name.scripts/tool" "$T/tool-$kind.out"
	check "    readelf -d: RPATH \$ORIGIN/../$name.libs" bash -c "readelf -d '$T/tool-$kind.out' | grep -E '\((RPATH|RUNPATH)\)' | grep -qF '[\$ORIGIN/../$name.libs]'"
	check "    readelf -d: NEEDED is the hashed name" bash -c "readelf -d '$T/tool-$kind.out' | grep -q 'NEEDED.*\[libtoolhelper-[0-9a-f]*\.so\.1\]'"
	check "  the helper inside the package is patched in place" member "$out_whl" pkg/bin/helper "$T/helper-$kind.out"
	check "    readelf -d: RPATH \$ORIGIN/../../$name.libs" bash -c "readelf -d '$T/helper-$kind.out' | grep -E '\((RPATH|RUNPATH)\)' | grep -qF '[\$ORIGIN/../../$name.libs]'"
	check "  an executable needing system libraries only is unchanged (script and package)" bash -c "
		'$PY' -c \"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
open(sys.argv[2], 'wb').write(z.read(sys.argv[3] + '-0.1.0.data/scripts/systool'))
open(sys.argv[2] + '2', 'wb').write(z.read('pkg/bin/sys'))
\" '$out_whl' '$T/sys-$kind.out' '$name' &&
		cmp '$B/sys' '$T/sys-$kind.out' && cmp '$B/sys' '$T/sys-$kind.out2'"

	venv=$(make_venv "$kind") || not_ok "a venv is made"
	check "  pip installs the repaired wheel" "$venv/bin/pip" install -q --no-index "$out_whl"
	check "  the tool runs through its launcher with no LD_LIBRARY_PATH" \
		bash -c "env -u LD_LIBRARY_PATH '$venv/bin/tool' a b >'$T/run.out' 2>&1 && grep -qx 'helper says 42, 2 args' '$T/run.out' || { cat '$T/run.out'; false; }"
	site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
	check "  the helper runs from site-packages with no LD_LIBRARY_PATH" \
		bash -c "env -u LD_LIBRARY_PATH '$site/pkg/bin/helper' x | grep -qx 'helper says 42, 1 args'"
	check "  the unchanged script runs" bash -c "'$venv/bin/systool' a | grep -qx 4"

	# The repaired wheel repairs again to the same entries: the moved
	# tool finds its bundled library through its RPATH, the launcher is
	# not ELF, and nothing is bundled twice.
	check "  the repaired wheel repairs again" "$SPOKE" repair -w "$T/again-$kind" "$out_whl"
	check "    to the same entries" "$PY" -c "
import sys, zipfile
a = zipfile.ZipFile(sys.argv[1]).namelist()
b = zipfile.ZipFile(sys.argv[2]).namelist()
assert a == b, (a, b)
" "$out_whl" "$T/again-$kind/$(basename "$out_whl")"
done

# --split-debug strips the module and the bundled library (split by
# every object that needs it, written once); executables are left whole.
check "--split-debug repairs the wheel of executables" "$SPOKE" repair -w "$T/out-split" --split-debug \
	--lib-path "$B/lib" "$T/in/exe_pie-0.1.0-cp311-cp311-linux_x86_64.whl"
check "  the moved tool is there" "$PY" -c "
import glob, sys, zipfile
w, = glob.glob(sys.argv[1] + '/exe_pie-*.whl')
assert 'exe_pie.scripts/tool' in zipfile.ZipFile(w).namelist()
" "$T/out-split"

# An executable is counted for the tag: pthread_create@GLIBC_2.34 makes
# the wheel manylinux_2_34, though it needs nothing bundled.
# A static executable (no dynamic section) needs nothing: it rides along,
# unchanged.  Static glibc may be missing: then the wheel has none.
statics=()
gcc -static -o "$B/static" "$B/sys.c" -lm 2>/dev/null && statics=("$B/static:pkg/bin/static")
check "(tag) the input wheel packs" wheel exe_tag "$B/threads:pkg/bin/threads" "${statics[@]}"
check "(tag) spoke repair succeeds" "$SPOKE" repair -w "$T/out-tag" "$T/in/exe_tag-0.1.0-cp311-cp311-linux_x86_64.whl"
check "  the tag is manylinux_2_34" test -f "$T/out-tag/exe_tag-0.1.0-cp311-cp311-manylinux_2_34_x86_64.whl"
check "  the executable is unchanged" bash -c "
	'$PY' -c \"
import sys, zipfile
open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('pkg/bin/threads'))
\" '$T/out-tag/exe_tag-0.1.0-cp311-cp311-manylinux_2_34_x86_64.whl' '$T/threads.out' && cmp '$B/threads' '$T/threads.out'"
if [ ${#statics[@]} -gt 0 ]; then
	check "  the static executable is unchanged" bash -c "
	'$PY' -c \"
import sys, zipfile
open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('pkg/bin/static'))
\" '$T/out-tag/exe_tag-0.1.0-cp311-cp311-manylinux_2_34_x86_64.whl' '$T/static.out' && cmp '$B/static' '$T/static.out'"
fi

# spoke show reads executables as the repair does: their needs, run
# paths, and the libraries a repair would bundle for them.
check "(show) a wheel whose only object is an executable packs" wheel exe_show "$B/tool-pie:pkg/bin/helper"
check "  spoke show lists the executable's needs and what a repair would bundle" bash -c "
	'$SPOKE' show '$T/in/exe_show-0.1.0-cp311-cp311-linux_x86_64.whl' >'$T/show-exe.out' &&
	grep -q '^      needed: libtoolhelper.so.1, libc.so.6\$' '$T/show-exe.out' &&
	grep -q '^  would bundle: libtoolhelper.so.1 ' '$T/show-exe.out' &&
	! grep -q 'cannot inspect' '$T/show-exe.out'"

# A script cannot move over an entry the wheel already has.
check "(collision) the input wheel packs" wheel exe_col "$B/tool-pie:exe_col-0.1.0.data/scripts/tool" \
	"$B/sys:exe_col.scripts/tool"
check_status "a script that would move over an entry is refused" 1 \
	"$SPOKE" repair -w "$T/out-col" --lib-path "$B/lib" "$T/in/exe_col-0.1.0-cp311-cp311-linux_x86_64.whl"
check "  naming both" grep -qF "cannot move the executable 'exe_col-0.1.0.data/scripts/tool' to 'exe_col.scripts/tool'" "$T/last.out"
check "  nothing is written" test -z "$(ls -A "$T/out-col" 2>/dev/null)"

# Without --lib-path the tool's library cannot be found, and is named.
check_status "a missing library of an executable is refused" 1 \
	"$SPOKE" repair -w "$T/out-missing" "$T/in/exe_pie-0.1.0-cp311-cp311-linux_x86_64.whl"
check "  naming the library" grep -q "cannot find libtoolhelper.so.1" "$T/last.out"

finish
