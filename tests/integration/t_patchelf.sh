#!/bin/bash
# t_patchelf.sh - spoke patch-elf on real libraries of this machine and on
# a Rust cdylib, against Debian's patchelf doing the same edits; the
# results must agree (readelf -d), read cleanly (readelf -a) and load
# (ctypes).  Bad input must fail with a message naming the file and leave
# no output behind.
. "$(dirname "$0")/lib.sh"

ARCH=$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIBDIR=/usr/lib/$ARCH
C="$T/corpus"
mkdir -p "$C" "$T/w/bin" "$T/w/lib" "$T/pe" "$T/bad"

# The corpus: small and large C libraries, C++, and what this test builds.
for l in libz.so.1 libjansson.so.4 libsqlite3.so.0 libssl.so.3 \
	libcrypto.so.3 libstdc++.so.6 libelf.so.1; do
	[ -e "$LIBDIR/$l" ] && cp "$(readlink -f "$LIBDIR/$l")" "$C/$l"
done
cat >"$T/x.rs" <<'EOF'
#[no_mangle]
pub extern "C" fn spoke_answer() -> i32 {
    // A caught panic unwinds, and the unwinder finds this library's
    // unwind tables through its program headers (dl_iterate_phdr).
    let r = std::panic::catch_unwind(|| {
        if std::hint::black_box(1) == 1 {
            panic!("expected panic")
        }
        0
    });
    if r.is_err() { 42 } else { 0 }
}
EOF
if command -v rustc >/dev/null &&
	rustc --crate-type cdylib -C opt-level=0 "$T/x.rs" -o "$C/librustx.so" 2>"$T/rustc.err"; then
	ok "built a Rust cdylib"
else
	not_ok "built a Rust cdylib"
	sed 's/^/#   /' "$T/rustc.err"
fi
if command -v g++ >/dev/null; then
	cat >"$T/cx.cc" <<'EOF'
#include <stdexcept>
extern "C" int spoke_answer() {
	try { throw std::runtime_error("expected"); }
	catch (const std::exception &) { return 42; }
	return 0;
}
EOF
	g++ -shared -fPIC -O1 -o "$C/libcxx.so" "$T/cx.cc" -Wl,-soname,libcxx.so.1
fi

# The dynamic entries patchelf and spoke must agree on: NEEDED in order,
# then RPATH, RUNPATH and SONAME.
dyn_summary() {
	readelf -dW "$1" | sed -n 's/.*(\(NEEDED\|RPATH\|RUNPATH\|SONAME\)).*\[\(.*\)\]$/\1 \2/p' >"$2.all"
	grep '^NEEDED' "$2.all"
	grep -v '^NEEDED' "$2.all" | sort
}

# The first needed library that is not libc or the loader, else libc.
pick_needed() {
	local n
	n=$(readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' |
		grep -Ev '^(libc\.so|ld-linux|libdl|libpthread|librt)' | head -1)
	echo "${n:-libc.so.6}"
}

# Where the loader finds a needed library for this process.
resolve() {
	ldconfig -p | awk -v n="$1" '$1 == n && $0 ~ /x86-64|AArch64|64bit/ {print $NF; exit}'
}

for f in "$C"/*; do
	name=$(basename "$f")
	old=$(pick_needed "$f")
	new="libspoke-renamed-long-name-${old}"
	target=$(resolve "$old")
	[ -n "$target" ] || target=$(ldd "$f" | awk -v n="$old" '$1 == n {print $3}')
	ln -sf "$target" "$T/w/lib/$new"
	sum_before=$(sha256sum <"$f")
	mtime_before=$(stat -c %Y.%y "$f")
	chmod 0751 "$f"
	out="$T/w/bin/$name"

	check "$name: spoke patch-elf --set-rpath + --replace-needed $old" \
		"$SPOKE" patch-elf "$f" -o "$out" --set-rpath '$ORIGIN/../lib' \
		--replace-needed "$old" "$new"
	cp "$f" "$T/pe/$name"
	patchelf --set-rpath '$ORIGIN/../lib' "$T/pe/$name" &&
		patchelf --replace-needed "$old" "$new" "$T/pe/$name"

	if [ "$(dyn_summary "$out" "$T/s")" = "$(dyn_summary "$T/pe/$name" "$T/p")" ]; then
		ok "$name: same NEEDED/RUNPATH/SONAME as patchelf"
	else
		not_ok "$name: same NEEDED/RUNPATH/SONAME as patchelf"
		diff <(dyn_summary "$T/pe/$name" "$T/p") <(dyn_summary "$out" "$T/s") | sed 's/^/#   /'
	fi
	readelf -aW "$out" >/dev/null 2>"$T/readelf.err"
	if grep -qiE 'error|warning' "$T/readelf.err"; then
		not_ok "$name: readelf -a reads spoke's output cleanly"
		head -20 "$T/readelf.err" | sed 's/^/#   /'
	else
		ok "$name: readelf -a reads spoke's output cleanly"
	fi
	if [ "$(sha256sum <"$f")" = "$sum_before" ] &&
		[ "$(stat -c %Y.%y "$f")" = "$mtime_before" ]; then
		ok "$name: input unchanged"
	else
		not_ok "$name: input unchanged"
	fi
	check "$name: output has the input's mode" \
		test "$(stat -c %a "$out")" = 751
	case $name in
	librustx.so | libcxx.so)
		check "$name: loads and unwinds (ctypes)" "$PY" -c '
import ctypes, sys
assert ctypes.CDLL(sys.argv[1]).spoke_answer() == 42' "$out"
		;;
	*)
		check "$name: loads (ctypes)" "$PY" -c \
			'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$out"
		;;
	esac
	check "$name: loaded with the renamed library" bash -c \
		"LD_DEBUG=libs '$PY' -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' '$out' 2>&1 |
		grep -q 'calling init: .*$new\|find library=$new'"
done

# The print options, from IN without edits and from the result with them.
z="$C/libz.so.1"
if [ -e "$z" ]; then
	check_status "--print-needed from IN" 0 "$SPOKE" patch-elf "$z" --print-needed
	check "--print-needed lists libc" grep -qx 'libc.so.6' "$T/last.out"
	check_status "--print-rpath from the result" 0 "$SPOKE" patch-elf "$z" \
		-o "$T/w/zp.so" --set-rpath /opt/q --print-rpath --print-soname
	check "--print-rpath prints the new value" \
		test "$(cat "$T/last.out")" = "$(printf '/opt/q\nlibz.so.1')"
	check "no temporary file left beside OUT" \
		bash -c "! ls -a '$T/w' | grep -q spoke-tmp"
fi

# Bad input: exit 1, a message naming the file, no OUT and no temporary.
printf 'not an elf file\n' >"$T/bad/text.so"
if [ -e "$z" ]; then
	head -c 3000 "$z" >"$T/bad/trunc.so"
	cp "$z" "$T/bad/foreign.so"
	printf '\267\000' | dd of="$T/bad/foreign.so" bs=1 seek=18 conv=notrunc 2>/dev/null
	# No byte order at all (EI_DATA 3).
	cp "$z" "$T/bad/order.so"
	printf '\003' | dd of="$T/bad/order.so" bs=1 seek=5 conv=notrunc 2>/dev/null
fi
for b in text trunc order; do
	[ -e "$T/bad/$b.so" ] || continue
	mkdir -p "$T/bad/out-$b"
	check_status "$b: exit 1" 1 "$SPOKE" patch-elf "$T/bad/$b.so" \
		-o "$T/bad/out-$b/x.so" --set-rpath '$ORIGIN'
	check "$b: the message names the file" grep -q "'$T/bad/$b.so'" "$T/last.out"
	check "$b: no OUT, no temporary" test -z "$(ls -A "$T/bad/out-$b")"
done
# An object of another machine is patched like any other (t_cross.sh
# patches real ones of every architecture).
if [ -e "$T/bad/foreign.so" ]; then
	check "foreign: an object of another machine is patched" \
		"$SPOKE" patch-elf "$T/bad/foreign.so" -o "$T/bad/f.so" --set-rpath '$ORIGIN'
	check "foreign: readelf reads its machine and new RUNPATH" \
		bash -c "readelf -h '$T/bad/f.so' | grep -q AArch64 && readelf -d '$T/bad/f.so' | grep -qF '(RUNPATH)'"
fi
# Executables, PIE and not, as patchelf patches them: the run path and a
# renamed needed library, printed back, and the program still runs.
cat >"$T/exe.c" <<'EOF'
#include <math.h>
#include <stdio.h>
volatile double in = 1764.0;
int main(void) { printf("%d\n", (int)sqrt(in)); return 0; }
EOF
for kind in pie no-pie; do
	if cc -"$kind" -fno-builtin -o "$T/exe-$kind" "$T/exe.c" -Wl,--no-as-needed -lm 2>"$T/cc.err"; then
		check_status "$kind executable: patch-elf sets its run path and renames libm" 0 \
			"$SPOKE" patch-elf "$T/exe-$kind" -o "$T/pe/exe-$kind" --set-rpath '$ORIGIN/lib' \
			--replace-needed libm.so.6 libm-renamed.so.6 --print-needed --print-rpath
		check "  and prints them" bash -c "grep -qx libm-renamed.so.6 '$T/last.out' && grep -qxF '\$ORIGIN/lib' '$T/last.out'"
		mkdir -p "$T/pe/lib"
		ln -sf "$(readlink -f "$LIBDIR/libm.so.6")" "$T/pe/lib/libm-renamed.so.6"
		check "  the patched $kind executable runs, finding libm through \$ORIGIN/lib" \
			bash -c "test \"\$('$T/pe/exe-$kind')\" = 42"
	else
		not_ok "cc -$kind builds an executable"
		sed 's/^/#   /' "$T/cc.err"
	fi
done

check_status "missing input: exit 1" 1 "$SPOKE" patch-elf "$T/nope.so" -o "$T/bad/n.so"
check_status "OUT in a missing directory: exit 1" 1 "$SPOKE" patch-elf \
	"$z" -o "$T/no/such/dir/x.so" --set-rpath x

# Usage errors: exit 2.
check_status "no arguments: exit 2" 2 "$SPOKE" patch-elf
check_status "edits without -o: exit 2" 2 "$SPOKE" patch-elf "$z" --set-rpath x
check_status "--replace-needed with one name: exit 2" 2 "$SPOKE" patch-elf \
	"$z" -o "$T/bad/u.so" --replace-needed libc.so.6
check_status "unknown option: exit 2" 2 "$SPOKE" patch-elf "$z" --frobnicate
check_status "--help: exit 0" 0 "$SPOKE" patch-elf --help
check "--help shows the usage" grep -q 'usage: spoke patch-elf' "$T/last.out"

finish
