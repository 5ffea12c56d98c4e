#!/bin/bash
# t_cross.sh - spoke on every Linux architecture Debian has a cross
# toolchain for (aarch64, i686, armhf, ppc64le, ppc64, s390x, riscv64),
# on loongarch64 through tests/tools/mkelf, and on musl.
#
# For each toolchain: a tiny library and a module that needs it, built
# with <triplet>-gcc -shared; `spoke show` must name the architecture and
# the module's DT_NEEDED and call the wheel valid; `spoke patch-elf` sets
# a RUNPATH, replaces a DT_NEEDED and sets a SONAME, checked with the
# toolchain's own readelf (-d and -l); `spoke repair --lib-path` bundles
# the library under a hashed soname and points the module at it; and,
# where qemu-user runs the architecture, a small program built by the
# same compiler dlopens the patched and the repaired module through its
# new RUNPATH and calls into the library.  Then the wheel-level rules:
# objects of two architectures in one wheel, a platform tag naming
# another architecture, and an object spoke cannot read are problems
# (show exits 1, repair refuses).
#
# A missing toolchain is a failure naming the Debian package
# (scripts/deps.sh installs them, and their libc6-dev-*-cross).  The sanitizer build samples two
# architectures, one of each byte order.
. "$(dirname "$0")/lib.sh"

MKELF=${SPOKE_TEST_BUILD_DIR:-}/tests/mkelf
unset LD_LIBRARY_PATH

# triplet, wheel architecture, Debian package, qemu's name.
ARCHES=(
	"aarch64-linux-gnu aarch64 gcc-aarch64-linux-gnu aarch64"
	"i686-linux-gnu i686 gcc-i686-linux-gnu i386"
	"arm-linux-gnueabihf armv7l gcc-arm-linux-gnueabihf arm"
	"powerpc64le-linux-gnu ppc64le gcc-powerpc64le-linux-gnu ppc64le"
	"powerpc64-linux-gnu ppc64 gcc-powerpc64-linux-gnu ppc64"
	"s390x-linux-gnu s390x gcc-s390x-linux-gnu s390x"
	"riscv64-linux-gnu riscv64 gcc-riscv64-linux-gnu riscv64"
)
if grep -q '^SPOKE_SANITIZE:BOOL=ON' \
	"${SPOKE_TEST_BUILD_DIR:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
	ARCHES=("${ARCHES[0]}" "${ARCHES[5]}")
	echo "# sanitizer build: aarch64 and s390x only"
fi

# show_json WHEEL ARCH NEEDED...: spoke show --json says the wheel is
# valid, of ARCH, and its one module needs NEEDED... (in order).
show_json() {
	local whl=$1 arch=$2
	shift 2
	"$SPOKE" show --json "$whl" >"$T/show.json" || return 1
	"$PY" - "$T/show.json" "$arch" "$@" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
arch, needed = sys.argv[2], sys.argv[3:]
assert r["ok"] is True and r["problems"] == [], r["problems"]
assert r["arch"] == arch, r["arch"]
so = r["shared_objects"]
assert len(so) == 1, so
assert so[0]["arch"] == arch, so[0]
assert so[0]["needed"] == needed, so[0]["needed"]
assert so[0]["error"] is None, so[0]["error"]
EOF
}

# dyn_has READELF FILE TAG VALUE: readelf -d of FILE has a TAG entry of
# VALUE ("(RUNPATH)  Library runpath: [$ORIGIN/libs]").
dyn_has() {
	"$1" -d "$2" | grep -F "($3)" | grep -qF "[$4]"
}

# clean_headers READELF FILE: readelf -d and -l read FILE without a
# warning or an error.
clean_headers() {
	local out
	out=$("$1" -W -d -l "$2" 2>&1) || return 1
	if grep -Eiq 'warning|error' <<<"$out"; then
		echo "$out"
		return 1
	fi
	return 0
}

# debuglink_crc_ok OBJCOPY OBJECT DEBUGFILE: the CRC-32 that ends
# OBJECT's .gnu_debuglink, read in OBJECT's byte order as gdb reads it,
# is DEBUGFILE's.
debuglink_crc_ok() {
	rm -f "$T/link.bin"
	"$1" --dump-section .gnu_debuglink="$T/link.bin" "$2" "$T/link.tmp" || return 1
	"$PY" - "$2" "$T/link.bin" "$3" <<'EOF'
import sys, zlib
obj, link, dbg = sys.argv[1:]
order = "big" if open(obj, "rb").read(6)[5] == 2 else "little"
got = int.from_bytes(open(link, "rb").read()[-4:], order)
want = zlib.crc32(open(dbg, "rb").read())
assert got == want, (hex(got), hex(want))
EOF
}

cat >"$T/helper.c" <<'EOF'
int cross_helper(int x) { return 2 * x + 1; }
EOF
cat >"$T/mod.c" <<'EOF'
extern int cross_helper(int);
int cross_answer(void) { return cross_helper(20); }
int PyInit_crossmod(void) { return 0; }
EOF
cat >"$T/usesc.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int uses_libc(char *a, const char *b) { return printf("%s", strcpy(a, b)); }
EOF
# The loader: dlopens argv[1] (which finds the helper through its own
# RUNPATH) and prints what cross_answer() returns.
cat >"$T/load.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	int (*f)(void);

	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	f = (int (*)(void))dlsym(h, "cross_answer");
	if (!f) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	printf("%d\n", f());
	return 0;
}
EOF

for spec in "${ARCHES[@]}"; do
	read -r trip arch pkg qemu <<<"$spec"
	cc="$trip-gcc"
	re="$trip-readelf"
	if ! command -v "$cc" >/dev/null 2>&1 || ! command -v "$re" >/dev/null 2>&1; then
		not_ok "$arch: $cc is not installed (Debian package $pkg; scripts/deps.sh installs it)"
		continue
	fi
	d="$T/$arch"
	mkdir -p "$d/lib" "$d/p/libs"
	mod="$d/crossmod.cpython-311-$trip.so"
	if ! "$cc" -shared -fPIC -g -o "$d/lib/libcrosshelper.so.1" \
		-Wl,-soname,libcrosshelper.so.1 "$T/helper.c" ||
		! "$cc" -shared -fPIC -g -o "$mod" "$T/mod.c" \
			-L"$d/lib" -l:libcrosshelper.so.1 ||
		! "$cc" -o "$d/load" "$T/load.c" -ldl; then
		not_ok "$arch: $cc builds the fixtures"
		continue
	fi
	ok "$arch: $cc builds a library, a module that needs it and a loader"

	# show: the architecture and the needs of an object of any machine.
	check "$arch: wheel pack makes the input wheel" pack crossmod "linux_$arch" "$mod"
	whl="$T/in/crossmod-0.1.0-cp311-cp311-linux_$arch.whl"
	check "$arch: show --json: valid, arch $arch, needed read" \
		show_json "$whl" "$arch" libcrosshelper.so.1
	check_status "$arch: show (text): exit 0" 0 "$SPOKE" show "$whl"
	check "$arch: show (text) prints the architecture" \
		grep -q "^  architecture: $arch\$" "$T/last.out"

	# patch-elf, checked by the toolchain's own readelf.
	check "$arch: patch-elf renames the library's soname" \
		"$SPOKE" patch-elf "$d/lib/libcrosshelper.so.1" \
		-o "$d/p/libs/libcrosshelper-0a1b2c3d.so.1" \
		--set-soname libcrosshelper-0a1b2c3d.so.1
	check "$arch: patch-elf sets RUNPATH, replaces NEEDED, sets SONAME" \
		"$SPOKE" patch-elf "$mod" -o "$d/p/crossmod.so" \
		--set-rpath '$ORIGIN/libs' \
		--replace-needed libcrosshelper.so.1 libcrosshelper-0a1b2c3d.so.1 \
		--set-soname crossmod-patched-by-spoke.so
	check "$arch: $re -d: the library's new SONAME" \
		dyn_has "$re" "$d/p/libs/libcrosshelper-0a1b2c3d.so.1" SONAME libcrosshelper-0a1b2c3d.so.1
	check "$arch: $re -d: the module's RUNPATH" \
		dyn_has "$re" "$d/p/crossmod.so" RUNPATH '$ORIGIN/libs'
	check "$arch: $re -d: the module's replaced NEEDED" \
		dyn_has "$re" "$d/p/crossmod.so" NEEDED libcrosshelper-0a1b2c3d.so.1
	check "$arch: $re -d: the module's SONAME" \
		dyn_has "$re" "$d/p/crossmod.so" SONAME crossmod-patched-by-spoke.so
	check "$arch: $re -d -l read both without a warning" \
		bash -c "$(declare -f clean_headers); clean_headers '$re' '$d/p/crossmod.so' && clean_headers '$re' '$d/p/libs/libcrosshelper-0a1b2c3d.so.1'"
	check "$arch: patch-elf --print-needed reads the patched module" \
		bash -c "'$SPOKE' patch-elf '$d/p/crossmod.so' --print-needed | grep -qx libcrosshelper-0a1b2c3d.so.1"
	# Version requirements follow a renamed DT_NEEDED (vn_file in
	# .gnu.version_r, read and written in the object's byte order).
	if "$cc" -shared -fPIC -o "$d/usesc.so" "$T/usesc.c" &&
		"$re" -V "$d/usesc.so" | grep -q 'File: libc.so.6'; then
		check "$arch: patch-elf renames libc.so.6 and its version requirement" \
			"$SPOKE" patch-elf "$d/usesc.so" -o "$d/p/usesc.so" \
			--replace-needed libc.so.6 libc-renamed-by-a-long-patch.so.6
		check "$arch: $re -V: the requirement names the new file, with its versions" \
			bash -c "'$re' -V '$d/p/usesc.so' | grep -q 'File: libc-renamed-by-a-long-patch.so.6' && '$re' -V '$d/p/usesc.so' | grep -q 'Name: GLIBC_2\.' && ! '$re' -V '$d/p/usesc.so' | grep -q 'File: libc.so.6'"
		check "$arch: $re -d -l -V read it without a warning" \
			bash -c "! '$re' -W -d -l -V '$d/p/usesc.so' 2>&1 | grep -Eiq 'warning|error'"
	else
		not_ok "$arch: $cc builds a library with libc version requirements"
	fi
	# A forced DT_RPATH, on the 32/64-bit and byte-order path too.
	check "$arch: patch-elf --force-rpath writes a DT_RPATH" \
		"$SPOKE" patch-elf "$mod" -o "$d/p/forced.so" --set-rpath /opt/x --force-rpath
	check "$arch: $re -d: the forced RPATH" dyn_has "$re" "$d/p/forced.so" RPATH /opt/x

	have_qemu=0
	if command -v "qemu-$qemu" >/dev/null 2>&1 && [ -d "/usr/$trip/lib" ]; then
		have_qemu=1
		check "$arch: qemu-$qemu loads the patched module through its RUNPATH" \
			bash -c "qemu-$qemu -L /usr/$trip '$d/load' '$d/p/crossmod.so' | grep -qx 41"
	else
		ok "$arch: loading under qemu # SKIP qemu-$qemu or /usr/$trip/lib missing (Debian package qemu-user)"
	fi

	# repair: the library is bundled under a hashed soname.
	rm -rf "$d/out"
	"$SPOKE" repair -w "$d/out" --lib-path "$d/lib" --split-debug --json "$whl" >"$d/repair.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$arch: spoke repair --lib-path --split-debug succeeds"
		sed 's/^/#   /' "$d/repair.out" | tail -20
		continue
	fi
	ok "$arch: spoke repair --lib-path --split-debug succeeds"
	out_whl=$(ls "$d"/out/crossmod-0.1.0-*.whl 2>/dev/null | head -1)
	check "$arch: the repaired wheel's platform tag ends in _$arch" \
		bash -c "case '$out_whl' in *_$arch.whl) exit 0;; *) exit 1;; esac"
	rm -rf "$d/x"
	mkdir -p "$d/x"
	(cd "$d/x" && unzip -q "$out_whl")
	bundled=$(ls "$d"/x/crossmod.libs/libcrosshelper-*.so.1 2>/dev/null | head -1)
	check "$arch: the library is bundled under a hashed name" test -n "$bundled"
	bname=$(basename "$bundled")
	check "$arch: $re -d: the bundled library's SONAME is its name" \
		dyn_has "$re" "$bundled" SONAME "$bname"
	repaired=$(ls "$d"/x/crossmod.cpython-311-*.so | head -1)
	check "$arch: $re -d: the repaired module needs the bundled name" \
		dyn_has "$re" "$repaired" NEEDED "$bname"
	check "$arch: $re -d: the repaired module's run path is \$ORIGIN/crossmod.libs" \
		bash -c "'$re' -d '$repaired' | grep -E '\((RPATH|RUNPATH)\)' | grep -qF '[\$ORIGIN/crossmod.libs]'"
	check "$arch: $re -d -l read the repaired objects without a warning" \
		bash -c "$(declare -f clean_headers); clean_headers '$re' '$repaired' && clean_headers '$re' '$bundled'"
	check "$arch: --split-debug stripped the module's DWARF" \
		bash -c "! '$re' -S '$repaired' | grep -q '\.debug_info' && '$re' -S '$repaired' | grep -q '\.gnu_debuglink'"
	# The module's debug file, by its build ID (the library has its own).
	bid=$("$re" -n "$repaired" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
	dbg="$d/out/debug/.build-id/${bid:0:2}/${bid:2}.debug"
	check "$arch: the debug file holds the DWARF, readable by $re" \
		bash -c "test -n '$dbg' && '$re' -S '$dbg' | grep -q '\.debug_info' && '$re' --debug-dump=info '$dbg' 2>&1 | grep -q 'DW_TAG_compile_unit'"
	check "$arch: .gnu_debuglink's CRC, in the object's byte order, is the debug file's" \
		debuglink_crc_ok "$trip-objcopy" "$repaired" "$dbg"
	check_status "$arch: show of the repaired wheel: valid" 0 "$SPOKE" show "$out_whl"
	if [ $have_qemu = 1 ]; then
		check "$arch: qemu-$qemu loads the repaired module through its run path" \
			bash -c "qemu-$qemu -L /usr/$trip '$d/load' '$repaired' | grep -qx 41"
	fi
done

# loongarch64: no Debian toolchain; mkelf writes the objects, the host's
# readelf (binutils reads every machine) checks them.
la="$T/loongarch64"
mkdir -p "$la"
check "loongarch64: mkelf writes a module" \
	"$MKELF" "$la/crossmod.cpython-311-loongarch64-linux-gnu.so" --machine 258 \
	--soname crossmod.so --needed libcrosshelper.so.1 --needed libc.so.6 --align 0x4000
check "loongarch64: the host's readelf reads it" \
	bash -c "readelf -h '$la/crossmod.cpython-311-loongarch64-linux-gnu.so' | grep -q LoongArch"
check "loongarch64: wheel pack" pack crossmod linux_loongarch64 "$la/crossmod.cpython-311-loongarch64-linux-gnu.so"
check "loongarch64: show --json: valid, arch loongarch64, needed read" \
	show_json "$T/in/crossmod-0.1.0-cp311-cp311-linux_loongarch64.whl" loongarch64 libcrosshelper.so.1 libc.so.6
check "loongarch64: patch-elf sets RUNPATH, replaces NEEDED, sets SONAME" \
	"$SPOKE" patch-elf "$la/crossmod.cpython-311-loongarch64-linux-gnu.so" -o "$la/p.so" \
	--set-rpath '$ORIGIN/libs' \
	--replace-needed libcrosshelper.so.1 libcrosshelper-0a1b2c3d.so.1 \
	--set-soname crossmod-patched-by-spoke.so
check "loongarch64: readelf -d: RUNPATH" dyn_has readelf "$la/p.so" RUNPATH '$ORIGIN/libs'
check "loongarch64: readelf -d: NEEDED" dyn_has readelf "$la/p.so" NEEDED libcrosshelper-0a1b2c3d.so.1
check "loongarch64: readelf -d: SONAME" dyn_has readelf "$la/p.so" SONAME crossmod-patched-by-spoke.so
check "loongarch64: readelf -d -l without a warning" clean_headers readelf "$la/p.so"
check "loongarch64: the new segment keeps the object's 16 KiB alignment" \
	bash -c "readelf -W -l '$la/p.so' | awk '\$1 == \"LOAD\" { n++; if (\$NF != \"0x4000\") bad = 1 } END { exit !(n == 2 && !bad) }'"

# musl: Debian's musl-gcc -shared writes DT_NEEDED libc.so and no
# PT_INTERP; musl distributions name the library libc.musl-<arch>.so.1.
if command -v musl-gcc >/dev/null 2>&1; then
	m="$T/musl"
	mkdir -p "$m"
	check "musl: musl-gcc -shared builds a module" \
		musl-gcc -shared -fPIC -o "$m/raw.so" "$T/helper.c"
	check "musl: the module needs libc.so and has no PT_INTERP" \
		bash -c "readelf -d '$m/raw.so' | grep -qF '[libc.so]' && ! readelf -l '$m/raw.so' | grep -q INTERP"
	check "musl: patch-elf renames libc.so to libc.musl-x86_64.so.1" \
		"$SPOKE" patch-elf "$m/raw.so" -o "$m/crossmod.cpython-311-x86_64-linux-musl.so" \
		--replace-needed libc.so libc.musl-x86_64.so.1
	check "musl: wheel pack" pack crossmod linux_x86_64 "$m/crossmod.cpython-311-x86_64-linux-musl.so"
	check "musl: show --json: valid, arch x86_64, needs libc.musl-x86_64.so.1" \
		show_json "$T/in/crossmod-0.1.0-cp311-cp311-linux_x86_64.whl" x86_64 libc.musl-x86_64.so.1
	check "musl: show reports musl" grep -q '"libc": *"musl"' "$T/show.json"
else
	not_ok "musl: musl-gcc is not installed (Debian package musl-tools)"
fi

# The wheel's architecture is its objects'.
a64="$T/aarch64/crossmod.cpython-311-aarch64-linux-gnu.so"
s390="$T/s390x/lib/libcrosshelper.so.1"
if [ -f "$a64" ] && [ -f "$s390" ]; then
	check "mixed: wheel pack of an aarch64 module and an s390x library" \
		pack mixed linux_aarch64 "$a64" "$s390"
	check_status "mixed: show exits 1" 1 "$SPOKE" show "$T/in/mixed-0.1.0-cp311-cp311-linux_aarch64.whl"
	check "mixed: the problem names both objects and both architectures" \
		bash -c "grep -F 'libcrosshelper.so.1' '$T/last.out' | grep -F 'crossmod.cpython-311-aarch64-linux-gnu.so' | grep -F s390x | grep -qF aarch64"
	check_status "mixed: repair refuses the wheel" 1 \
		"$SPOKE" repair -w "$T/mixed-out" "$T/in/mixed-0.1.0-cp311-cp311-linux_aarch64.whl"
	check "mixed: repair says why" grep -q "one architecture" "$T/last.out"
	check "mixed: repair wrote nothing" bash -c "! ls '$T'/mixed-out/*.whl >/dev/null 2>&1"

	check "wrong tag: wheel pack of an aarch64 module as manylinux_2_17_x86_64" \
		pack wrongtag manylinux_2_17_x86_64 "$a64"
	check_status "wrong tag: show exits 1" 1 "$SPOKE" show "$T/in/wrongtag-0.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
	check "wrong tag: the problem names the tag and both architectures" \
		bash -c "grep -F \"platform tag 'manylinux_2_17_x86_64' is for x86_64\" '$T/last.out' | grep -qF aarch64"
fi

# What a wheel may ship besides shared objects stays valid, and counts
# toward its architecture: an executable (a PIE) and a separate debug
# file.
if [ -f "$a64" ]; then
	mkdir -p "$T/extras"
	check "extras: an aarch64 PIE and a debug file of the module" \
		bash -c "cp '$T/aarch64/load' '$T/extras/crossload' &&
			aarch64-linux-gnu-objcopy --only-keep-debug '$a64' '$T/extras/crossmod.so.debug'"
	check "extras: wheel pack" pack extras linux_aarch64 "$a64" "$T/extras/crossload" "$T/extras/crossmod.so.debug"
	check_status "extras: show: valid" 0 "$SPOKE" show "$T/in/extras-0.1.0-cp311-cp311-linux_aarch64.whl"
	check "extras: the wheel's architecture is aarch64" grep -q '^  architecture: aarch64$' "$T/last.out"
fi

# An object spoke cannot read is never valid: an ELF header cut short.
mkdir -p "$T/cut"
head -c 200 "$T/aarch64/crossmod.cpython-311-aarch64-linux-gnu.so" >"$T/cut/cut.cpython-311-aarch64-linux-gnu.so" 2>/dev/null ||
	head -c 200 /bin/true >"$T/cut/cut.cpython-311-aarch64-linux-gnu.so"
check "cut: wheel pack" pack cut linux_aarch64 "$T/cut/cut.cpython-311-aarch64-linux-gnu.so"
check_status "cut: show exits 1" 1 "$SPOKE" show "$T/in/cut-0.1.0-cp311-cp311-linux_aarch64.whl"
check "cut: the problem names the entry and why" \
	grep -Eq "'cut.cpython-311-aarch64-linux-gnu.so': cannot be read as (ELF|a shared object): .*(truncated|corrupt)" "$T/last.out"
check_status "cut: show --json exits 1" 1 "$SPOKE" show --json "$T/in/cut-0.1.0-cp311-cp311-linux_aarch64.whl"
check "cut: show --json says not ok" grep -Eq '"ok": ?false' "$T/last.out"

finish
