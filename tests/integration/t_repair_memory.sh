#!/bin/bash
# spoke repair's memory does not grow with the objects it patches (issue
# 17, item 7): a wheel whose 60 MB module needs an 80 MB library that
# manylinux does not promise is repaired with a peak RSS below a bound
# well under the two objects' size together (the repair that read both
# whole and held patched copies of both peaked near twice that).  And
# what it writes is right: the bundled library and the module are, byte
# for byte, what `spoke patch-elf` makes of the originals with the same
# edits, and the module, loaded from the unpacked wheel with no
# LD_LIBRARY_PATH, finds the bundled library and calls into it.
#
# The RSS check is skipped in a sanitizer build, whose shadow memory
# changes RSS; the content checks run there too.
. "$(dirname "$0")/lib.sh"

MOD_MB=60
LIB_MB=80
# The bound, in KiB.  The repair that held everything peaked above the
# module and the library together (140 MB) at these sizes.
BOUND_KB=$((120 * 1024))
# The zip writer's memory is a few chunks per thread: fixed here, so that
# the bound does not depend on the machine's CPUs.
export SPOKE_ZIP_THREADS=2
unset LD_LIBRARY_PATH

sanitized=0
if ldd "$SPOKE" 2>/dev/null | grep -q 'libasan'; then
	sanitized=1
fi

# blob FILE MB SYM: FILE.o, a .rodata array SYM of MB megabytes of real
# machine code (tests/tools/blob.sh, shared with bench/bench_repair.sh).
blob() { bash "$SRC/tests/tools/blob.sh" "$@"; }

mkdir -p "$T/lib" "$T/tree/bigmod-0.1.0.dist-info" "$T/tmp"
cat >"$T/lib.c" <<'EOF'
extern const unsigned char lib_blob[];
int bigdep_byte(unsigned long i) { return lib_blob[i]; }
EOF
cat >"$T/mod.c" <<'EOF'
extern const unsigned char mod_blob[];
int bigdep_byte(unsigned long i);
void *PyInit_bigmod(void);
void *PyInit_bigmod(void)
{
	return (void *)(long)(bigdep_byte(12345) * 256 + mod_blob[54321]);
}
EOF
mod=bigmod.cpython-311-x86_64-linux-gnu.so
blob "$T/libblob" $LIB_MB lib_blob &&
	blob "$T/modblob" $MOD_MB mod_blob &&
	gcc -shared -fPIC -O2 -Wl,-soname,libbigdep.so.1 -o "$T/lib/libbigdep.so.1" "$T/lib.c" "$T/libblob.o" &&
	gcc -shared -fPIC -O2 -o "$T/tree/$mod" "$T/mod.c" "$T/modblob.o" -L"$T/lib" -l:libbigdep.so.1
check "the fixture builds: a ${LIB_MB} MB library, a ${MOD_MB} MB module needing it" \
	test -f "$T/lib/libbigdep.so.1" -a -f "$T/tree/$mod"
want=$("$PY" -c "
import sys
l = open(sys.argv[1], 'rb').read()[12345]
m = open(sys.argv[2], 'rb').read()[54321]
print(l * 256 + m)" "$T/libblob.bin" "$T/modblob.bin")
rm -f "$T"/libblob* "$T"/modblob*

in_whl="$T/in/bigmod-0.1.0-cp311-cp311-linux_x86_64.whl"
check "the input wheel is packed" "$PY" - "$T/tree" "$in_whl" <<'EOF'
import base64, hashlib, os, sys, zipfile
tree, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(out), exist_ok=True)
names = ['bigmod.cpython-311-x86_64-linux-gnu.so',
         'bigmod-0.1.0.dist-info/METADATA', 'bigmod-0.1.0.dist-info/WHEEL']
open(os.path.join(tree, names[1]), 'w').write(
    'Metadata-Version: 2.1\nName: bigmod\nVersion: 0.1.0\n')
open(os.path.join(tree, names[2]), 'w').write(
    'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\n'
    'Tag: cp311-cp311-linux_x86_64\n')
rec = []
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    for n in names:
        b = open(os.path.join(tree, n), 'rb').read()
        d = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=')
        rec.append('%s,sha256=%s,%d' % (n, d.decode(), len(b)))
        z.writestr(n, b)
    rec.append('bigmod-0.1.0.dist-info/RECORD,,')
    z.writestr('bigmod-0.1.0.dist-info/RECORD', '\n'.join(rec) + '\n')
EOF

# The repair, its peak RSS (KiB) measured by the kernel for the process
# and its children.
check "spoke repair grafts the library" "$PY" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL)
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$T/rss" env TMPDIR="$T/tmp" "$SPOKE" repair -w "$T/out" --lib-path "$T/lib" --json "$in_whl"
rss=$(cat "$T/rss" 2>/dev/null || echo 0)
echo "# peak RSS of spoke repair: $((rss / 1024)) MiB (bound $((BOUND_KB / 1024)) MiB; objects $((MOD_MB + LIB_MB)) MB)"
if [ "$sanitized" = 1 ]; then
	ok "# SKIP peak RSS below the bound: a sanitizer build's RSS is its shadow memory's"
else
	check "  its peak RSS stays below $((BOUND_KB / 1024)) MiB" test "$rss" -gt 0 -a "$rss" -lt "$BOUND_KB"
fi

out_whl=$(ls "$T"/out/bigmod-0.1.0-cp311-cp311-manylinux_*.whl 2>/dev/null | head -1)
check "  one repaired wheel" test -n "$out_whl"
check "  spoke show says valid" bash -c "'$SPOKE' show '$out_whl' | grep -q '^  valid\$'"
check "  every RECORD line holds (python zipfile)" wheels_valid "$T/out"
check "  no temporary file is left in the output folder" test -z "$(find "$T/out" -name '.*')"
check "  nothing is left in TMPDIR" test -z "$(ls -A "$T/tmp")"

mkdir -p "$T/unpacked"
check "the repaired wheel unpacks" "$PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$out_whl" "$T/unpacked"
bundled=$(cd "$T/unpacked" && ls bigmod.libs/libbigdep-*.so.1 2>/dev/null)
check "  it holds the bundled library under a hashed name" test -n "$bundled"
name=$(basename "$bundled")
check "  the bundled library is the original patched as patch-elf patches it" bash -c "
	'$SPOKE' patch-elf '$T/lib/libbigdep.so.1' -o '$T/lib.want' --set-rpath '\$ORIGIN' --force-rpath --set-soname '$name' &&
	cmp '$T/lib.want' '$T/unpacked/$bundled'"
check "  so is the module" bash -c "
	'$SPOKE' patch-elf '$T/tree/$mod' -o '$T/mod.want' --set-rpath '\$ORIGIN/bigmod.libs' --force-rpath --replace-needed libbigdep.so.1 '$name' &&
	cmp '$T/mod.want' '$T/unpacked/$mod'"
check "  the module loads with no LD_LIBRARY_PATH and calls into the bundled library" \
	env -u LD_LIBRARY_PATH "$PY" -c "
import ctypes, sys
f = ctypes.CDLL(sys.argv[1]).PyInit_bigmod
f.restype = ctypes.c_void_p
got = f()
assert got == int(sys.argv[2]), (got, sys.argv[2])" "$T/unpacked/$mod" "$want"

# A full disk where the scratch files go: the repair fails naming the
# folder and ENOSPC, writes no wheel, and leaves nothing behind.  Big
# enough for the extracted module, not for its patched copy beside it.
# (Smaller, the check of the input, wheel_read.h, fails first: it copies
# each shared object to TMPDIR too.)
mnt="$T/small"
mkdir -p "$mnt"
trap 'umount "$mnt" 2>/dev/null; cleanup' EXIT
mod_kb=$(du -k "$T/tree/$mod" | cut -f1)
full_disk() {
	local what=$1 size_kb=$2 rc
	umount "$mnt" 2>/dev/null
	if ! mount -t tmpfs -o size=${size_kb}k,mode=700 tmpfs "$mnt" 2>/dev/null; then
		ok "# SKIP full disk ($what): cannot mount a tmpfs (not root?)"
		return
	fi
	rm -rf "$T/out-full"
	TMPDIR="$mnt" "$SPOKE" repair -w "$T/out-full" --lib-path "$T/lib" "$in_whl" >"$T/full.out" 2>&1
	rc=$?
	cp "$T/full.out" "$T/last.out"
	if [ $rc -eq 1 ] && grep -q "No space left on device" "$T/full.out" &&
		grep -q "'$mnt/" "$T/full.out"; then
		ok "full disk ($what): the repair fails naming the folder and ENOSPC"
	else
		not_ok "full disk ($what): exit $rc"
		sed 's/^/#   /' "$T/full.out" | tail -5
	fi
	check "full disk ($what): no wheel is written" test -z "$(ls -A "$T/out-full" 2>/dev/null)"
	check "full disk ($what): nothing is left where the scratch files went" test -z "$(ls -A "$mnt")"
	umount "$mnt"
}
full_disk "the patched module does not fit" $((mod_kb + mod_kb / 2))

finish
