#!/bin/bash
# --split-debug: the module in the wheel loses its .debug_* sections and
# gains a .gnu_debuglink; its DWARF goes, zstd-compressed (SHF_COMPRESSED,
# ELFCOMPRESS_ZSTD), to <out>/debug/.build-id/xx/rest.debug, where gdb
# finds it by build ID and resolves the module's own functions to source
# lines.  The library the repair bundles (the example's libspokehelper,
# which build.rs compiles with -g3) is split the same way: stripped before
# it is patched, its DWARF in its own build-ID file, a .gnu_debuglink
# whose CRC-32 is the debug file's.  Tried on `spoke repair` with a module
# built with full debug info, and on `spoke build`.
. "$(dirname "$0")/lib.sh"

# A workspace whose release profile carries full debug info, so that the
# module's own code (not only std's) has line tables.
export CARGO_PROFILE_RELEASE_DEBUG=true
ws=$(new_workspace wsd) || { not_ok "cargo builds the example workspace with debug info"; finish; exit 1; }
unset CARGO_PROFILE_RELEASE_DEBUG LD_LIBRARY_PATH
helper_dir=$(dirname "$(find "$ws/target/release/build" -path '*/out/libspokehelper.so.1' | head -1)")
so="$ws/target/release/libnative.so"
bid=$(readelf -n "$so" | sed -n 's/.*Build ID: //p')
check "the module has a build ID (the linker's default on this system)" test -n "$bid"

tree="$T/tree/native-0.1.0"
mkdir -p "$tree/native-0.1.0.dist-info" "$T/in"
cp "$so" "$tree/native.cpython-311-x86_64-linux-gnu.so"
printf 'Metadata-Version: 2.1\nName: native\nVersion: 0.1.0\n' >"$tree/native-0.1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' \
	>"$tree/native-0.1.0.dist-info/WHEEL"
"$PY" -m wheel pack "$tree" -d "$T/in" >/dev/null
in_whl="$T/in/native-0.1.0-cp311-cp311-linux_x86_64.whl"

check "spoke repair --split-debug succeeds" "$SPOKE" repair --split-debug -w "$T/out" --lib-path "$helper_dir" --json "$in_whl"
cp "$T/check.out" "$T/repair.json"
dbg="$T/out/debug/.build-id/${bid:0:2}/${bid:2}.debug"
check "  the debug file is named by the build ID" test -f "$dbg"
check "  --json names it" grep -q "\"debug\": *\"$dbg\"" "$T/repair.json"
out_whl=$(ls "$T"/out/*.whl)
mkdir -p "$T/x"
(cd "$T/x" && "$PY" -m zipfile -e "$out_whl" .)
mod="$T/x/native.cpython-311-x86_64-linux-gnu.so"
check "  the wheel's module has no .debug_ section" bash -c "! readelf -S -W '$mod' | grep -q '\\.debug_'"
check "  and a .gnu_debuglink naming <module>.debug" bash -c "readelf -p .gnu_debuglink '$mod' | grep -q 'native.cpython-311-x86_64-linux-gnu.so.debug'"
check "  its build ID is the original's" bash -c "readelf -n '$mod' | grep -q 'Build ID: $bid'"
check "  the debug file's .debug_info is compressed (flag C)" bash -c "readelf -S -W '$dbg' | grep -E '\\.debug_info +PROGBITS .* C '"
check "  readelf decodes the compressed DWARF" bash -c "readelf -wi '$dbg' 2>&1 | grep -q 'DW_AT_name.*native' && ! readelf -wi '$dbg' 2>&1 | grep -qi 'warning'"
# debug_ok.py DEBUG SECTION [STRIPPED]: DEBUG's SECTION is SHF_COMPRESSED,
# every compressed section has ch_type 2 (zstd), and STRIPPED's
# .gnu_debuglink holds DEBUG's CRC-32.
cat >"$T/debug_ok.py" <<'PYEOF'
import struct, sys, zlib
def sections(path):
    d = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", d, 0x3c)
    sh = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + 64 * i) for i in range(shnum)]
    strtab = sh[shstrndx]
    name = lambda s: d[strtab[4] + s[0]:d.index(b"\0", strtab[4] + s[0])].decode()
    return d, {name(s): s for s in sh}
d, sec = sections(sys.argv[1])
assert sec[sys.argv[2]][2] & 0x800, sys.argv[2] + " not SHF_COMPRESSED"
for n, s in sec.items():
    if s[2] & 0x800:
        ch_type, _, ch_size, _ = struct.unpack_from("<IIQQ", d, s[4])
        assert ch_type == 2, (n, ch_type)
if len(sys.argv) > 3:
    s, ssec = sections(sys.argv[3])
    link = ssec[".gnu_debuglink"]
    crc, = struct.unpack_from("<I", s, link[4] + link[5] - 4)
    want = zlib.crc32(d) & 0xffffffff
    assert crc == want, "debuglink CRC %08x, debug file's %08x" % (crc, want)
PYEOF
check "  the compression header says zstd" "$PY" "$T/debug_ok.py" "$dbg" .debug_info
gdb_line() {
	timeout 120 gdb -nx -batch "$@" -ex 'info line native::mul' "$mod" 2>&1
}
check "  gdb resolves native::mul to its source line through the build-id directory" \
	bash -c "$(declare -f gdb_line); mod='$mod'; gdb_line -iex 'set debug-file-directory $T/out/debug' | grep -E 'Line [0-9]+ of \"native/src/lib.rs\"'"
check "  and cannot without it" \
	bash -c "$(declare -f gdb_line); mod='$mod'; ! gdb_line -iex 'set debug-file-directory $T/nowhere' | grep -q 'lib.rs'"
check "  the module's .gnu_debuglink holds the debug file's CRC-32" "$PY" "$T/debug_ok.py" "$dbg" .debug_info "$mod"

# The bundled helper: stripped before it was patched, so the build ID and
# every address match its debug file.
helper="$helper_dir/libspokehelper.so.1"
hbid=$(readelf -n "$helper" | sed -n 's/.*Build ID: //p')
check "the helper library has a build ID and debug info" bash -c "test -n '$hbid' && readelf -S -W '$helper' | grep -q '\\.debug_info'"
graft=$(ls "$T"/x/native.libs/libspokehelper-*.so.1 2>/dev/null | head -1)
hdbg="$T/out/debug/.build-id/${hbid:0:2}/${hbid:2}.debug"
check "  the wheel bundles it" test -n "$graft"
check "  the bundled library has no .debug_ section" bash -c "test -n '$graft' && ! readelf -S -W '$graft' | grep -q '\\.debug_'"
check "  and a .gnu_debuglink naming <bundled name>.debug" bash -c "test -n '$graft' && readelf -p .gnu_debuglink '$graft' | grep -qF \"\$(basename '$graft').debug\""
check "  its build ID is the original's" bash -c "test -n '$graft' && readelf -n '$graft' | grep -q 'Build ID: $hbid'"
check "  its debug file is named by the build ID" test -f "$hdbg"
check "  --json names it" grep -q "\"debug\": *\"$hdbg\"" "$T/repair.json"
check "  the debug file's .debug_str and .debug_macro are compressed (flag C)" bash -c "readelf -S -W '$hdbg' | grep -E '\\.debug_str +PROGBITS .* MSC ' && readelf -S -W '$hdbg' | grep -E '\\.debug_macro +PROGBITS .* C '"
check "  with zstd, and the .gnu_debuglink CRC-32 matches it" "$PY" "$T/debug_ok.py" "$hdbg" .debug_str "$graft"
check "  readelf decodes the compressed DWARF" bash -c "readelf -wi '$hdbg' 2>&1 | grep -q 'DW_AT_name.*spokehelper.c' && ! readelf -wi '$hdbg' 2>&1 | grep -qi 'warning'"
ggdb_line() {
	timeout 120 gdb -nx -batch "$@" -ex 'info line spokehelper_mul' "$graft" 2>&1
}
check "  gdb resolves spokehelper_mul to its source line through the build-id directory" \
	bash -c "$(declare -f ggdb_line); graft='$graft'; ggdb_line -iex 'set debug-file-directory $T/out/debug' | grep -E 'Line [0-9]+ of \"[^\"]*spokehelper\.c\"'"
check "  and cannot without it" \
	bash -c "$(declare -f ggdb_line); graft='$graft'; ! ggdb_line -iex 'set debug-file-directory $T/nowhere' | grep -q 'spokehelper\.c'"

# A bundled library without debug info is bundled as it is: no debug file,
# no .gnu_debuglink, as for a module.  One without a build ID gets
# <out>/debug/<wheel name>/<path in the wheel>.debug, as a module does.
mkdir -p "$T/nodbg" "$T/noid"
strip --strip-debug -o "$T/nodbg/libspokehelper.so.1" "$helper"
check "spoke repair --split-debug, the helper without debug info" "$SPOKE" repair --split-debug -w "$T/out2" --lib-path "$T/nodbg" --json "$in_whl"
cp "$T/check.out" "$T/repair2.json"
mkdir -p "$T/x2"
(cd "$T/x2" && "$PY" -m zipfile -e "$T"/out2/*.whl .)
check "  it gets no debug file and no .gnu_debuglink" bash -c "g=\$(ls '$T'/x2/native.libs/libspokehelper-*.so.1) && ! readelf -S -W \$g | grep -q gnu_debuglink && test ! -e '$T/out2/debug/.build-id/${hbid:0:2}/${hbid:2}.debug' && test \$(find '$T/out2/debug' -type f | wc -l) -eq 1 && ! grep -q 'libspokehelper[^\"]*\\.debug' '$T/repair2.json'"
cc -shared -fPIC -O2 -g3 -Wl,--build-id=none -Wl,-soname,libspokehelper.so.1 -o "$T/noid/libspokehelper.so.1" "$SRC/examples/native/csrc/spokehelper.c"
check "spoke repair --split-debug, the helper without a build ID" "$SPOKE" repair --split-debug -w "$T/out3" --lib-path "$T/noid" --json "$in_whl"
mkdir -p "$T/x3"
(cd "$T/x3" && "$PY" -m zipfile -e "$T"/out3/*.whl .)
ngraft=$(cd "$T/x3" && ls native.libs/libspokehelper-*.so.1 2>/dev/null | head -1)
check "  its debug file is <out>/debug/<wheel name>/<path in the wheel>.debug" \
	"$PY" "$T/debug_ok.py" "$T/out3/debug/native-0.1.0-cp311-cp311-linux_x86_64/$ngraft.debug" .debug_str "$T/x3/$ngraft"

venv=$(make_venv split)
check "  the stripped module installs and imports" bash -c "'$venv/bin/pip' install -q --no-index '$out_whl' && '$venv/bin/python' -c 'import native; assert native.mul(6, 7) == 42'"

# Sizes, for the record: ours against objcopy's.
objcopy --only-keep-debug "$so" "$T/plain.debug"
objcopy --only-keep-debug --compress-debug-sections=zstd "$so" "$T/zstd.debug"
echo "# module $(stat -c %s "$so") bytes; debug: spoke $(stat -c %s "$dbg"), objcopy zstd $(stat -c %s "$T/zstd.debug"), uncompressed $(stat -c %s "$T/plain.debug")"
check "  the debug file is no larger than objcopy's zstd one" test "$(stat -c %s "$dbg")" -le "$(stat -c %s "$T/zstd.debug")"
objcopy --only-keep-debug "$helper" "$T/hplain.debug"
objcopy --only-keep-debug --compress-debug-sections=zstd "$helper" "$T/hzstd.debug"
echo "# helper $(stat -c %s "$helper") bytes; debug: spoke $(stat -c %s "$hdbg" 2>/dev/null), objcopy zstd $(stat -c %s "$T/hzstd.debug"), uncompressed $(stat -c %s "$T/hplain.debug")"

# spoke build --split-debug, through the request's options.
check "spoke build --split-debug succeeds" bash -c "cd '$ws' && CARGO_PROFILE_RELEASE_DEBUG=true '$SPOKE' build -i '$PY' -p spoke-native --split-debug -o '$T/b' --json >'$T/b.json'"
check "  the debug file is under <out>/debug/.build-id" test -f "$T/b/debug/.build-id/${bid:0:2}/${bid:2}.debug"
bw=$(ls "$T"/b/*.whl 2>/dev/null | head -1)
mkdir -p "$T/bx"
(cd "$T/bx" && "$PY" -m zipfile -e "$bw" .)
check "  the wheel's module is stripped and linked" bash -c "m=\$(ls '$T'/bx/*.so); ! readelf -S -W \$m | grep -q '\\.debug_' && readelf -S \$m | grep -q gnu_debuglink"
check "  the wheel is valid" "$SPOKE" show "$bw"
check "  cargo's output keeps its debug info" bash -c "readelf -S -W '$so' | grep -q '\\.debug_info'"
bgraft=$(ls "$T"/bx/spoke_native.libs/libspokehelper-*.so.1 2>/dev/null | head -1)
bhdbg="$T/b/debug/.build-id/${hbid:0:2}/${hbid:2}.debug"
check "  the bundled helper is stripped and linked" bash -c "test -n '$bgraft' && ! readelf -S -W '$bgraft' | grep -q '\\.debug_' && readelf -p .gnu_debuglink '$bgraft' | grep -qF \"\$(basename '$bgraft').debug\""
check "  its debug file is under <out>/debug/.build-id, zstd, CRC-32 in the link" "$PY" "$T/debug_ok.py" "$bhdbg" .debug_str "$bgraft"
check "  --json names it" "$PY" -c "
import json, sys
r = [json.loads(l) for l in open('$T/b.json')][-1]
g = [g for w in r['wheels'] for g in w['grafted']]
assert [x.get('debug') for x in g] == ['$bhdbg'], g
"
graft=$bgraft
check "  gdb resolves spokehelper_mul through the build-id directory" \
	bash -c "$(declare -f ggdb_line); graft='$graft'; ggdb_line -iex 'set debug-file-directory $T/b/debug' | grep -E 'Line [0-9]+ of \"[^\"]*spokehelper\.c\"'"
check "  and cannot without it" \
	bash -c "$(declare -f ggdb_line); graft='$graft'; ! ggdb_line -iex 'set debug-file-directory $T/nowhere' | grep -q 'spokehelper\.c'"
bvenv=$(make_venv splitbuild)
check "  the wheel installs and imports with no LD_LIBRARY_PATH" bash -c "'$bvenv/bin/pip' install -q --no-index '$bw' && '$bvenv/bin/python' -c 'import native; assert native.mul(6, 7) == 42'"
finish
