#!/bin/bash
# The platform policies as auditwheel has them, on modules built here with
# cc and musl-gcc: the tag rule (the oldest manylinux tag, with its
# aliases), ZLIB symbol versions (crc32_z@ZLIB_1.2.9: manylinux_2_27), the
# symbol blacklist (a black-listed libz symbol is refused by repair and
# by check, and named by show; a weak reference is not), --compat and its
# spellings, musl modules (musllinux_1_2, or musllinux_1_1 when asked), and
# show on a wheel without shared objects.
. "$(dirname "$0")/lib.sh"

unset LD_LIBRARY_PATH
if ! command -v cc >/dev/null; then
	ok "# SKIP no C compiler"
	finish
	exit 0
fi

# module NAME CODE [cc args...]: $T/NAME.cpython-311-x86_64-linux-gnu.so,
# with PyInit_NAME, built from CODE, packed as $T/in/NAME-...linux_x86_64.
module() {
	local name=$1 code=$2 so="$T/$1.cpython-311-x86_64-linux-gnu.so"
	shift 2
	printf '%s\nvoid *PyInit_%s(void) { return 0; }\n' "$code" "$name" >"$T/$name.c"
	cc -shared -fPIC -O1 -fno-builtin -o "$so" "$T/$name.c" "$@" &&
		pack "$name" linux_x86_64 "$so"
}
in_whl() { echo "$T/in/$1-0.1.0-cp311-cp311-linux_x86_64.whl"; }
# out_tag DIR NAME: the platform tag of the one wheel of NAME in DIR.
out_tag() {
	local w
	w=$(ls "$1"/"$2"-0.1.0-cp311-cp311-*.whl 2>/dev/null) || return 1
	w=${w##*-cp311-cp311-}
	echo "${w%.whl}"
}

# The tag rule: x86_64's first glibc version is GLIBC_2.2.5, which
# manylinux_2_5 lists; the wheel gets the tag and its alias.
check "a module needing only GLIBC_2.2.5 builds" \
	module plain '#include <string.h>
unsigned long f(const char *s) { return strlen(s); }'
check "  readelf: it needs no GLIBC version but 2.2.5" bash -c "! readelf -V -W '$T/plain.cpython-311-x86_64-linux-gnu.so' | grep -o 'Name: GLIBC_[0-9.]*' | grep -v 'GLIBC_2.2.5\$'"
check "spoke repair tags it manylinux_2_5 with manylinux1" "$SPOKE" repair -w "$T/o-plain" "$(in_whl plain)"
check "  plain-...-manylinux_2_5_x86_64.manylinux1_x86_64.whl" test "$(out_tag "$T/o-plain" plain)" = manylinux_2_5_x86_64.manylinux1_x86_64
check "  show gives the same tag, glibc and x86_64" bash -c "'$SPOKE' show '$T'/o-plain/*.whl | grep -q '^  platform: glibc, x86_64\$' && '$SPOKE' show '$T'/o-plain/*.whl | grep -q '^  platform tag: manylinux_2_5_x86_64.manylinux1_x86_64\$'"

# --compat: exactly the tag asked for, with its aliases, in every
# spelling maturin and auditwheel users type.
compat() { # compat OPTION VALUE WANT
	rm -rf "$T/o-c"
	check "repair $1 $2 gives $3" bash -c "'$SPOKE' repair -w '$T/o-c' $1 '$2' '$(in_whl plain)' && test \"\$(ls '$T/o-c')\" = 'plain-0.1.0-cp311-cp311-$3.whl'"
}
compat --compat manylinux1 manylinux_2_5_x86_64.manylinux1_x86_64
compat --compat manylinux2010 manylinux_2_12_x86_64.manylinux2010_x86_64
compat --compatibility manylinux2014 manylinux_2_17_x86_64.manylinux2014_x86_64
compat --manylinux manylinux2014_x86_64 manylinux_2_17_x86_64.manylinux2014_x86_64
compat --compat manylinux_2_28 manylinux_2_28_x86_64
compat --compatibility manylinux_2_12_x86_64 manylinux_2_12_x86_64.manylinux2010_x86_64
check_status "--compat musllinux_1_2 on a glibc module is refused" 1 "$SPOKE" repair -w "$T/o-bad" --compat musllinux_1_2 "$(in_whl plain)"
check "  saying which libc it is built for" grep -q "is built for glibc: --compat musllinux_1_2 is a musl tag" "$T/last.out"
check_status "--compat manylinux_2_17_aarch64 on an x86_64 module is refused" 1 "$SPOKE" repair -w "$T/o-bad" --compat manylinux_2_17_aarch64 "$(in_whl plain)"
check "  naming the architecture" grep -q "not for this architecture (x86_64)" "$T/last.out"
check "  and nothing was written" test ! -e "$T/o-bad/plain-0.1.0-cp311-cp311-manylinux_2_17_aarch64.whl"
check_status "an unknown --compat tag is a usage error for spoke repair" 2 "$SPOKE" repair -w "$T/o-bad" --compat manylinux_2_99 "$(in_whl plain)"
check "  listing the tags there are" grep -q "unknown platform tag 'manylinux_2_99' (known, .*manylinux1, .*musllinux_1_2)" "$T/last.out"

# ZLIB: Debian 12's zlib gives crc32_z the version ZLIB_1.2.9, which
# manylinux_2_27 is the first to list (manylinux2014's zlib is 1.2.7).
if [ -e /usr/include/zlib.h ] && check "a module using crc32_z builds (-lz)" \
	module crc '#include <zlib.h>
unsigned long f(const unsigned char *p, size_t n) { return crc32_z(0, p, n); }' -lz; then
	check "  readelf: it needs crc32_z@ZLIB_1.2.9" bash -c "readelf -V -W '$T/crc.cpython-311-x86_64-linux-gnu.so' | grep -q 'Name: ZLIB_1.2.9'"
	check "spoke repair tags it manylinux_2_27, as auditwheel does" "$SPOKE" repair -w "$T/o-crc" "$(in_whl crc)"
	cp "$T/check.out" "$T/repair-crc.out"
	check "  and says why not manylinux_2_26" grep -q "^    not manylinux_2_26: 'crc.cpython-311-x86_64-linux-gnu.so' needs ZLIB_1.2.9 (crc32_z)\$" "$T/repair-crc.out"
	check "  crc-...-manylinux_2_27_x86_64.whl" test "$(out_tag "$T/o-crc" crc)" = manylinux_2_27_x86_64
	check "  libz.so.1 is left to the system" bash -c "! unzip -l '$T'/o-crc/*.whl | grep -q '\\.libs/'"
	"$SPOKE" show "$T"/o-crc/*.whl >"$T/show-crc.out"
	check "  show: manylinux_2_26 lacks ZLIB_1.2.9, used by crc32_z" grep -q "^    manylinux_2_26: 'crc.cpython-311-x86_64-linux-gnu.so' needs ZLIB_1.2.9 (crc32_z)\$" "$T/show-crc.out"
	check "  show: manylinux_2_5 lists no ZLIB version at all" grep -q "^    manylinux_2_5: .* needs ZLIB_1.2.9 (crc32_z)" "$T/show-crc.out"
	check_status "--compat manylinux2014 is refused" 1 "$SPOKE" repair -w "$T/o-crc17" --compat manylinux2014 "$(in_whl crc)"
	check "  naming the version and the symbol" grep -q "does not fit --compat manylinux_2_17: '[^']*crc[^']*' needs ZLIB_1.2.9 (crc32_z)" "$T/last.out"

	# uncompress2 is exported by Debian's zlib and black-listed up to
	# manylinux_2_31: the blacklist alone sets the tag.
	check "a module using uncompress2 builds" module unc '#include <zlib.h>
int f(unsigned char *d, unsigned long *dn, const unsigned char *s, unsigned long *sn) { return uncompress2(d, dn, s, sn); }' -lz
	check "spoke repair tags it manylinux_2_34" "$SPOKE" repair -w "$T/o-unc" "$(in_whl unc)"
	check "  unc-...-manylinux_2_34_x86_64.whl" test "$(out_tag "$T/o-unc" unc)" = manylinux_2_34_x86_64
	check "  show: manylinux_2_31 black-lists it" bash -c "'$SPOKE' show '$T'/o-unc/*.whl | grep -q \"^    manylinux_2_31: .*depends on black-listed symbols: libz.so.1: uncompress2\""
	check "  show --json: the reason, as data" "$PY" -c "
import json, subprocess, sys
r = json.loads(subprocess.run([sys.argv[1], 'show', '--json', sys.argv[2]], capture_output=True, text=True).stdout)
p = r['platform']
assert p['platform_wheel'] and p['libc'] == 'glibc' and p['architecture'] == 'x86_64', p
assert p['tag'] == 'manylinux_2_34_x86_64' and p['policy'] == 'manylinux_2_34', p
o = {t['tag']: t for t in p['older_tags']}
b = o['manylinux_2_31']['reasons']['blacklisted']
assert not o['manylinux_2_31']['fits']
assert b == [{'object': 'unc.cpython-311-x86_64-linux-gnu.so', 'library': 'libz.so.1', 'symbols': ['uncompress2']}], b
" "$SPOKE" "$(ls "$T"/o-unc/*.whl)"
fi

# A symbol every tag black-lists: Debian's zlib exports none of them, so
# a stand-in libz.so.1 does (with a version manylinux_2_12 lists), found
# through --lib-path.
mkdir -p "$T/fakez"
printf 'ZLIB_1.2.2 { global: _tr_init; inflate_fast; z_ok; local: *; };\n' >"$T/fakez/z.map"
printf 'void _tr_init(void *s) { (void)s; }\nvoid inflate_fast(void *s) { (void)s; }\nint z_ok(void) { return 1; }\n' >"$T/fakez/z.c"
check "a stand-in libz.so.1 exporting _tr_init builds" \
	cc -shared -fPIC -o "$T/fakez/libz.so.1" -Wl,-soname,libz.so.1 -Wl,--version-script="$T/fakez/z.map" "$T/fakez/z.c"
check "a module calling _tr_init builds" module black 'void _tr_init(void *);
void f(void *s) { _tr_init(s); }' "$T/fakez/libz.so.1"
check_status "spoke repair refuses it" 1 "$SPOKE" repair -w "$T/o-black" --lib-path "$T/fakez" "$(in_whl black)"
check "  saying it depends on black-listed symbols: libz.so.1: _tr_init" grep -q "fits no platform tag; for the newest, manylinux_2_[0-9]*: '[^']*black[^']*' depends on black-listed symbols: libz.so.1: _tr_init\$" "$T/last.out"
check "  and writes no wheel" bash -c "! ls '$T'/o-black/*.whl 2>/dev/null"
"$SPOKE" show "$T/in/black-0.1.0-cp311-cp311-linux_x86_64.whl" >"$T/show-black.out"
# The wheel's tag is then linux_x86_64, as auditwheel says ("consistent
# with linux_x86_64"); the policy's reasons stay.
check "show: linux_x86_64, no manylinux tag fits" grep -q '^  platform tag: linux_x86_64: no manylinux tag fits$' "$T/show-black.out"
check "  --json: tag linux_x86_64, policy null" bash -c "'$SPOKE' show --json '$T/in/black-0.1.0-cp311-cp311-linux_x86_64.whl' | '$PY' -c 'import json, sys; p = json.load(sys.stdin)[\"platform\"]; assert p[\"tag\"] == \"linux_x86_64\" and p[\"policy\"] is None and p[\"policy_fit\"] is None and p[\"older_tags\"] and not any(t[\"fits\"] for t in p[\"older_tags\"]), p'"
check "  each tag named with the black-listed symbol" bash -c "[ \$(grep -c 'depends on black-listed symbols: libz.so.1: _tr_init' '$T/show-black.out') -eq \$(python3 -c \"import json; print(sum(1 for p in json.load(open('$SRC/data/policy.json'))['policies'] if p['libc'] == 'glibc' and 'x86_64' in p['symbol_versions']))\") ]"

# A library no tag lists: show says a repair would bundle it.
printf 'int mine(void) { return 2; }\n' >"$T/fakez/mine.c"
check "a module needing libmine.so.1 builds" bash -c "cc -shared -fPIC -o '$T/fakez/libmine.so.1' -Wl,-soname,libmine.so.1 '$T/fakez/mine.c' && printf 'int mine(void);\nint f(void) { return mine(); }\nvoid *PyInit_mine(void) { return 0; }\n' >'$T/mine.c' && cc -shared -fPIC -o '$T/mine.cpython-311-x86_64-linux-gnu.so' '$T/mine.c' '$T/fakez/libmine.so.1'"
check "  and packs" pack mine linux_x86_64 "$T/mine.cpython-311-x86_64-linux-gnu.so"
check "show: a repair would bundle libmine.so.1" bash -c "'$SPOKE' show '$(in_whl mine)' | grep -q \"^  would bundle: libmine.so.1 (not on manylinux_2_[0-9]*'s list)\$\""
check "  --json: would_bundle" bash -c "'$SPOKE' show --json '$(in_whl mine)' | '$PY' -c 'import json, sys; p = json.load(sys.stdin)[\"platform\"]; assert p[\"would_bundle\"] == [\"libmine.so.1\"], p'"

# libpython is the interpreter's: show never says a repair would bundle
# it (the repair removes it), and it keeps no tag from the wheel.
check "a module needing libpython3.11.so.1.0 builds" bash -c "printf 'void *PyModule_Create2(void *d, int v) { (void)v; return d; }\n' >'$T/fakez/py.c' && cc -shared -fPIC -o '$T/fakez/libpython3.11.so.1.0' -Wl,-soname,libpython3.11.so.1.0 '$T/fakez/py.c'"
check "  and packs" module pyl 'void *PyModule_Create2(void *, int);
void *g(void) { return PyModule_Create2(0, 1013); }' "$T/fakez/libpython3.11.so.1.0"
"$SPOKE" show "$(in_whl pyl)" >"$T/show-pyl.out"
check "show: nothing would be bundled, libpython is the interpreter's" bash -c "! grep -q 'would bundle' '$T/show-pyl.out' && grep -q '^  left to the interpreter: libpython3.11.so.1.0 ' '$T/show-pyl.out' && grep -q '^  platform tag: manylinux_2_5_x86_64.manylinux1_x86_64\$' '$T/show-pyl.out'"
check "  --json: would_bundle empty, removed names it" bash -c "'$SPOKE' show --json '$(in_whl pyl)' | '$PY' -c 'import json, sys; p = json.load(sys.stdin)[\"platform\"]; assert p[\"would_bundle\"] == [] and p[\"removed\"] == [\"libpython3.11.so.1.0\"] and p[\"policy\"] == \"manylinux_2_5\", p'"

# Every ELF object of the wheel counts, executables too (auditwheel
# judges the whole platlib): a module needing only GLIBC_2.2.5 beside
# <dist>.data/scripts/tool, which needs pthread_create@GLIBC_2.34, makes
# the wheel manylinux_2_34.
tree="$T/tree-exe/exe-0.1.0"
mkdir -p "$tree/exe-0.1.0.dist-info" "$tree/exe-0.1.0.data/scripts"
printf '#include <pthread.h>\nstatic void *run(void *a) { return a; }\nint main(void) { pthread_t t; return pthread_create(&t, 0, run, 0); }\n' >"$T/tool.c"
check "an executable needing pthread_create@GLIBC_2.34 builds" bash -c "cc -O1 -o '$tree/exe-0.1.0.data/scripts/tool' '$T/tool.c' -pthread && readelf -V -W '$tree/exe-0.1.0.data/scripts/tool' | grep -q 'Name: GLIBC_2.34'"
printf 'void *PyInit_exe(void) { return 0; }\n' >"$T/exe.c"
check "  beside a module needing no GLIBC version but 2.2.5" cc -shared -fPIC -O1 -o "$tree/exe.cpython-311-x86_64-linux-gnu.so" "$T/exe.c"
printf 'Metadata-Version: 2.1\nName: exe\nVersion: 0.1.0\n' >"$tree/exe-0.1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' >"$tree/exe-0.1.0.dist-info/WHEEL"
check "  packed" "$PY" -m wheel pack "$tree" -d "$T/in"
check "show: the executable makes it manylinux_2_34" bash -c "'$SPOKE' show '$(in_whl exe)' | grep -q '^  platform tag: manylinux_2_34_x86_64\$'"
check "  --json: policy manylinux_2_34, the tool's GLIBC_2.34 named" bash -c "'$SPOKE' show --json '$(in_whl exe)' | '$PY' -c 'import json, sys; p = json.load(sys.stdin)[\"platform\"]; assert p[\"policy\"] == \"manylinux_2_34\", p; o = {t[\"tag\"]: t for t in p[\"older_tags\"]}; v = o[\"manylinux_2_31\"][\"reasons\"][\"symbol_versions\"]; assert [(x[\"object\"], x[\"version\"]) for x in v] == [(\"exe-0.1.0.data/scripts/tool\", \"GLIBC_2.34\")], v'"

# check mode refuses it as well: spoke build --repair=check on the
# prebuilt module.
mkdir -p "$T/art"
cp "$T/black.cpython-311-x86_64-linux-gnu.so" "$T/art/libblack.so"
cat >"$T/art/artifacts.json" <<JSON
{"artifacts": [{"path": "libblack.so", "distribution": "black", "version": "0.1.0", "module": "black",
  "linked_paths": ["$T/fakez"]}]}
JSON
check_status "spoke build --repair=check refuses it" 1 "$SPOKE" build -i "$PY" --repair=check --artifacts "$T/art/artifacts.json"
check "  with the blacklist's reason" grep -q "depends on black-listed symbols: libz.so.1: _tr_init" "$T/last.out"
"$SPOKE" stop --state-dir "$T/art/.spoke" >/dev/null 2>&1

# A weak reference is optional: the module runs without the symbol, and
# no tag black-lists it (auditwheel issue 663).  z_ok makes libz.so.1
# needed, with ZLIB_1.2.2, which manylinux_2_12 lists and manylinux_2_5
# does not.
check "a module with a weak reference to _tr_init builds" module weak 'void _tr_init(void *) __attribute__((weak));
int z_ok(void);
int f(void *s) { if (_tr_init) _tr_init(s); return z_ok(); }' "$T/fakez/libz.so.1"
check "  readelf: it needs libz.so.1, and _tr_init is weak" bash -c "readelf -d '$T/weak.cpython-311-x86_64-linux-gnu.so' | grep -q 'NEEDED.*libz.so.1' && readelf --dyn-syms -W '$T/weak.cpython-311-x86_64-linux-gnu.so' | grep -q 'WEAK .* UND _tr_init'"
check "spoke repair tags it manylinux_2_12" "$SPOKE" repair -w "$T/o-weak" --lib-path "$T/fakez" "$(in_whl weak)"
check "  weak-...-manylinux_2_12_x86_64.manylinux2010_x86_64.whl" test "$(out_tag "$T/o-weak" weak)" = manylinux_2_12_x86_64.manylinux2010_x86_64

# musl: musl-gcc -shared writes DT_NEEDED libc.so and no PT_INTERP; musl
# distributions name the library libc.musl-<arch>.so.1.
if command -v musl-gcc >/dev/null; then
	so="$T/m/mus.cpython-311-x86_64-linux-musl.so"
	mkdir -p "$T/m"
	printf '#include <string.h>\nunsigned long f(const char *s) { return strlen(s); }\nvoid *PyInit_mus(void) { return 0; }\n' >"$T/m/mus.c"
	check "a musl module builds (musl-gcc -shared)" musl-gcc -shared -fPIC -o "$T/m/raw.so" "$T/m/mus.c"
	check "  its libc renamed to libc.musl-x86_64.so.1" "$SPOKE" patch-elf "$T/m/raw.so" -o "$so" --replace-needed libc.so libc.musl-x86_64.so.1
	check "  and packed" pack mus linux_x86_64 "$so"
	check "spoke repair tags it musllinux_1_2" "$SPOKE" repair -w "$T/o-mus" "$(in_whl mus)"
	check "  mus-...-musllinux_1_2_x86_64.whl, nothing bundled" bash -c "test \"\$(ls '$T/o-mus')\" = mus-0.1.0-cp311-cp311-musllinux_1_2_x86_64.whl && ! unzip -l '$T'/o-mus/*.whl | grep -q '\\.libs/'"
	check "--compat musllinux_1_1 asks for the older tag" "$SPOKE" repair -w "$T/o-mus11" --compat musllinux_1_1 "$(in_whl mus)"
	check "  mus-...-musllinux_1_1_x86_64.whl" test "$(out_tag "$T/o-mus11" mus)" = musllinux_1_1_x86_64
	check_status "--compat manylinux2014 on a musl module is refused" 1 "$SPOKE" repair -w "$T/o-musbad" --compat manylinux2014 "$(in_whl mus)"
	check "  saying it is built for musl" grep -q "is built for musl: --compat manylinux2014 is a glibc tag" "$T/last.out"
	check "show --json: musl, musllinux_1_2, and musllinux_1_1 fits too" "$PY" -c "
import json, subprocess, sys
r = json.loads(subprocess.run([sys.argv[1], 'show', '--json', sys.argv[2]], capture_output=True, text=True).stdout)
p = r['platform']
assert p['libc'] == 'musl' and p['tag'] == 'musllinux_1_2_x86_64', p
assert [(t['tag'], t['fits']) for t in p['older_tags']] == [('musllinux_1_1', True)], p
" "$SPOKE" "$(in_whl mus)"
	# A musl module using PyFPE_jbuf is refused for musllinux.
	printf 'extern char PyFPE_jbuf[];\nchar *g(void) { return PyFPE_jbuf; }\nvoid *PyInit_mfpe(void) { return 0; }\n' >"$T/m/mfpe.c"
	check "a musl module using PyFPE_jbuf builds" bash -c "musl-gcc -shared -fPIC -o '$T/m/rawfpe.so' '$T/m/mfpe.c' && '$SPOKE' patch-elf '$T/m/rawfpe.so' -o '$T/m/mfpe.cpython-311-x86_64-linux-musl.so' --replace-needed libc.so libc.musl-x86_64.so.1"
	check "  and packs" pack mfpe linux_x86_64 "$T/m/mfpe.cpython-311-x86_64-linux-musl.so"
	check_status "spoke repair refuses it" 1 "$SPOKE" repair -w "$T/o-mfpe" "$(in_whl mfpe)"
	check "  for musllinux, naming linux_x86_64" grep -q "cannot repair '[^']*mfpe[^']*' for musllinux: it uses PyFPE_jbuf.*so only a linux_x86_64 tag fits it" "$T/last.out"
	# check mode on a musl module that needs a library to bundle.
	mkdir -p "$T/martt"
	check "a musl module needing libmine.so.1" "$SPOKE" patch-elf "$so" -o "$T/martt/libmus.so" --add-needed libmine.so.1
	printf '{"artifacts": [{"path": "libmus.so", "distribution": "mus", "version": "0.1.0", "module": "mus", "linked_paths": ["%s"]}]}\n' "$T/fakez" >"$T/martt/artifacts.json"
	check_status "spoke build --repair=check refuses it" 1 "$SPOKE" build -i "$PY" --repair=check --artifacts "$T/martt/artifacts.json"
	check "  it is not musllinux-compliant: it needs libmine.so.1" grep -q "is not musllinux-compliant: it needs libmine.so.1 (.*), which musllinux systems do not provide" "$T/last.out"
	"$SPOKE" stop --state-dir "$T/martt/.spoke" >/dev/null 2>&1
else
	ok "# SKIP musl-gcc is not installed"
fi

# A wheel without shared objects: show says it is not a platform wheel
# and exits 0.  auditwheel show exits 1 there (NonPlatformWheelError);
# that expectation is not ported: the wheel is valid, only not a
# platform wheel, and spoke's exit status is about validity.
mkdir -p "$T/pure"
printf 'X = 1\n' >"$T/pure/pure.py"
check "a pure wheel packs" pack pure any "$T/pure/pure.py"
pure=$(ls "$T"/in/pure-0.1.0-*.whl)
check_status "show on a pure wheel exits 0" 0 "$SPOKE" show "$pure"
check "  saying it is not a platform wheel" grep -q '^  not a platform wheel: it holds no shared object$' "$T/last.out"
check "  --json: platform_wheel false" bash -c "'$SPOKE' show --json '$pure' | '$PY' -c 'import json, sys; r = json.load(sys.stdin); assert r[\"platform\"] == {\"platform_wheel\": False}, r'"

finish
