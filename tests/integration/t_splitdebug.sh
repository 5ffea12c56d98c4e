#!/bin/bash
# --split-debug: the module in the wheel loses its .debug_* sections and
# gains a .gnu_debuglink; its DWARF goes, zstd-compressed (SHF_COMPRESSED,
# ELFCOMPRESS_ZSTD), to <out>/debug/.build-id/xx/rest.debug, where gdb
# finds it by build ID and resolves the module's own functions to source
# lines.  Tried on `spoke repair` with a module built with full debug
# info, and on `spoke build`.
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
check "  the compression header says zstd" "$PY" - "$dbg" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<Q", d, 0x28)
shnum, shstrndx = struct.unpack_from("<HH", d, 0x3c)
sh = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + 64 * i) for i in range(shnum)]
strtab = sh[shstrndx]
name = lambda s: d[strtab[4] + s[0]:d.index(b"\0", strtab[4] + s[0])].decode()
info = [s for s in sh if name(s) == ".debug_info"][0]
assert info[2] & 0x800, "not SHF_COMPRESSED"
ch_type, _, ch_size, _ = struct.unpack_from("<IIQQ", d, info[4])
assert ch_type == 2, ch_type
PYEOF
gdb_line() {
	timeout 120 gdb -nx -batch "$@" -ex 'info line native::mul' "$mod" 2>&1
}
check "  gdb resolves native::mul to its source line through the build-id directory" \
	bash -c "$(declare -f gdb_line); mod='$mod'; gdb_line -iex 'set debug-file-directory $T/out/debug' | grep -E 'Line [0-9]+ of \"native/src/lib.rs\"'"
check "  and cannot without it" \
	bash -c "$(declare -f gdb_line); mod='$mod'; ! gdb_line -iex 'set debug-file-directory $T/nowhere' | grep -q 'lib.rs'"
venv=$(make_venv split)
check "  the stripped module installs and imports" bash -c "'$venv/bin/pip' install -q --no-index '$out_whl' && '$venv/bin/python' -c 'import native; assert native.mul(6, 7) == 42'"

# Sizes, for the record: ours against objcopy's.
objcopy --only-keep-debug "$so" "$T/plain.debug"
objcopy --only-keep-debug --compress-debug-sections=zstd "$so" "$T/zstd.debug"
echo "# module $(stat -c %s "$so") bytes; debug: spoke $(stat -c %s "$dbg"), objcopy zstd $(stat -c %s "$T/zstd.debug"), uncompressed $(stat -c %s "$T/plain.debug")"
check "  the debug file is no larger than objcopy's zstd one" test "$(stat -c %s "$dbg")" -le "$(stat -c %s "$T/zstd.debug")"

# spoke build --split-debug, through the request's options.
check "spoke build --split-debug succeeds" bash -c "cd '$ws' && CARGO_PROFILE_RELEASE_DEBUG=true '$SPOKE' build -i '$PY' -p spoke-native --split-debug -o '$T/b' --json >'$T/b.json'"
check "  the debug file is under <out>/debug/.build-id" test -f "$T/b/debug/.build-id/${bid:0:2}/${bid:2}.debug"
bw=$(ls "$T"/b/*.whl 2>/dev/null | head -1)
mkdir -p "$T/bx"
(cd "$T/bx" && "$PY" -m zipfile -e "$bw" .)
check "  the wheel's module is stripped and linked" bash -c "m=\$(ls '$T'/bx/*.so); ! readelf -S -W \$m | grep -q '\\.debug_' && readelf -S \$m | grep -q gnu_debuglink"
check "  the wheel is valid" "$SPOKE" show "$bw"
check "  cargo's output keeps its debug info" bash -c "readelf -S -W '$so' | grep -q '\\.debug_info'"
finish
