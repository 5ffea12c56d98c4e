#!/bin/bash
# bench_patchelf.sh - spoke patch-elf against Debian's patchelf on the
# largest librustc_driver of the installed Rust toolchain (> 100 MB).
#
# usage: bench/bench_patchelf.sh [SPOKE] [ROUNDS] [DIR]
#   SPOKE   the spoke binary (default: ./spoke, then build-bench/spoke)
#   ROUNDS  rounds, interleaved (default 5)
#   DIR     where the copies go (default: the current directory; use the
#           filesystem of a real target dir, not a tmpfs)
#
# Both tools make the same edits to a copy of the library: set the RUNPATH
# and rename one DT_NEEDED.  spoke does it in one call; patchelf in two
# (Debian's 0.14.3 gets both wrong in one call), the first with --output
# so that neither tool is handed a copy made outside its timing.  Reported:
# median and minimum wall time, and peak RSS (/usr/bin/time %M, the larger
# of patchelf's two calls), and their ratios.  Goal: spoke <= 1/3 of
# patchelf's time and <= 1/4 of its peak RSS.
#
# spoke also fsyncs its output (patchelf does not); a "patchelf + fsync"
# line adds a sync of patchelf's output, for reference.  Before each timed
# method the filesystem is synced, so no method pays another's writeback.
#
# Exits 0 whatever the figures; exits 1 when an output is wrong: the two
# tools disagree on NEEDED/RUNPATH/SONAME, or spoke's output fails to load
# (rustc run against it compiles and runs a program that unwinds a panic).
set -u
SPOKE=${1:-}
ROUNDS=${2:-5}
DIR=${3:-.}
if [ -z "$SPOKE" ]; then
	for s in ./spoke ./build-bench/spoke ./build/spoke; do
		[ -x "$s" ] && SPOKE=$s && break
	done
fi
[ -n "$SPOKE" ] && [ -x "$SPOKE" ] || {
	echo "bench_patchelf: no spoke binary; pass its path" >&2
	exit 2
}
SPOKE=$(readlink -f "$SPOKE")
for t in patchelf readelf rustc /usr/bin/time; do
	command -v "$t" >/dev/null || {
		echo "bench_patchelf: '$t' is missing" >&2
		exit 2
	}
done
SYSROOT=$(rustc --print sysroot)
LIB=$(ls -S "$SYSROOT"/lib/librustc_driver-*.so 2>/dev/null | head -1)
[ -n "$LIB" ] || {
	echo "bench_patchelf: no librustc_driver-*.so in $SYSROOT/lib" >&2
	exit 2
}
W=$(mktemp -d "$(readlink -f "$DIR")/spoke-bench-pe.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM HUP

cp "$LIB" "$W/in.so"
OLD=$(readelf -dW "$W/in.so" | sed -n 's/.*(NEEDED).*\[\(libLLVM[^]]*\)\]$/\1/p' | head -1)
[ -n "$OLD" ] || OLD=$(readelf -dW "$W/in.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | head -1)
NEW="libspoke-renamed-${OLD}"
RPATH='$ORIGIN/../lib:$ORIGIN/../spoke.libs'
echo "library: $LIB ($(stat -c %s "$W/in.so") bytes)"
echo "edits:   --set-rpath '$RPATH' --replace-needed $OLD $NEW"
echo "fs:      $(stat -f -c %T "$W")  rounds: $ROUNDS"

# timed OUTFILE cmd...: appends "seconds maxrss_kb" of cmd to OUTFILE.
timed() {
	local f=$1
	shift
	/usr/bin/time -a -o "$f" -f '%e %M' "$@" >/dev/null 2>"$W/err" || {
		echo "bench_patchelf: '$*' failed:" >&2
		cat "$W/err" >&2
		exit 1
	}
}

summary() {
	readelf -dW "$1" | sed -n 's/.*(\(NEEDED\|RPATH\|RUNPATH\|SONAME\)).*\[\(.*\)\]$/\1 \2/p' | sort
}

: >"$W/spoke.t"
: >"$W/pe.t"
: >"$W/pesync.t"
for r in $(seq "$ROUNDS"); do
	rm -f "$W/s.so" "$W/p.so"
	sync
	timed "$W/spoke.t" "$SPOKE" patch-elf "$W/in.so" -o "$W/s.so" \
		--set-rpath "$RPATH" --replace-needed "$OLD" "$NEW"
	sync
	: >"$W/pe1.t"
	timed "$W/pe1.t" patchelf --set-rpath "$RPATH" --output "$W/p.so" "$W/in.so"
	timed "$W/pe1.t" patchelf --replace-needed "$OLD" "$NEW" "$W/p.so"
	awk '{t += $1; if ($2 > m) m = $2} END {print t, m}' "$W/pe1.t" >>"$W/pe.t"
	start=$(date +%s.%N)
	sync -f "$W/p.so"
	end=$(date +%s.%N)
	awk -v d="$(echo "$end - $start" | bc)" '{t += $1; if ($2 > m) m = $2}
		END {print t + d, m}' "$W/pe1.t" >>"$W/pesync.t"
	if [ "$(summary "$W/s.so")" != "$(summary "$W/p.so")" ]; then
		echo "BROKEN OUTPUT: spoke and patchelf disagree:" >&2
		diff <(summary "$W/p.so") <(summary "$W/s.so") >&2
		exit 1
	fi
done

# The real loader check: rustc, run against spoke's driver, compiles a
# program that unwinds a panic.
mkdir -p "$W/t/bin" "$W/t/lib"
cp "$SYSROOT/bin/rustc" "$W/t/bin/"
mv "$W/s.so" "$W/t/lib/$(basename "$LIB")"
ln -s "$SYSROOT/lib/$OLD" "$W/t/lib/$NEW"
echo 'fn main() { assert!(std::panic::catch_unwind(|| panic!("x")).is_err()); }' >"$W/m.rs"
if "$W/t/bin/rustc" --sysroot "$SYSROOT" -o "$W/m" "$W/m.rs" 2>"$W/err" &&
	"$W/m" 2>/dev/null; then
	echo "load:    rustc with spoke's librustc_driver compiled and ran a program"
else
	echo "BROKEN OUTPUT: rustc does not work with spoke's librustc_driver" >&2
	cat "$W/err" >&2
	exit 1
fi

# med FILE COLUMN / min FILE COLUMN
med() { cut -d' ' -f"$2" "$1" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
min() { cut -d' ' -f"$2" "$1" | sort -g | head -1; }

printf '\n%-22s %10s %10s %12s\n' method "med s" "min s" "peak RSS MB"
for m in spoke pe pesync; do
	case $m in
	spoke) name="spoke (1 call, fsync)" ;;
	pe) name="patchelf (2 calls)" ;;
	pesync) name="patchelf + fsync" ;;
	esac
	printf '%-22s %10.2f %10.2f %12.1f\n' "$name" "$(med "$W/$m.t" 1)" \
		"$(min "$W/$m.t" 1)" "$(echo "$(med "$W/$m.t" 2) / 1024" | bc -l)"
done
st=$(med "$W/spoke.t" 1)
pt=$(med "$W/pe.t" 1)
sm=$(med "$W/spoke.t" 2)
pm=$(med "$W/pe.t" 2)
tr=$(echo "if ($pt > 0) $st / $pt else 0" | bc -l)
mr=$(echo "$sm / $pm" | bc -l)
printf '\ntime ratio spoke/patchelf: %.3f (goal <= 0.333: %s)\n' "$tr" \
	"$(echo "$tr <= 1/3" | bc -l | sed 's/1/GOAL MET/; s/^0$/GOAL MISSED/')"
printf 'RSS ratio  spoke/patchelf: %.4f (goal <= 0.25: %s)\n' "$mr" \
	"$(echo "$mr <= 0.25" | bc -l | sed 's/1/GOAL MET/; s/^0$/GOAL MISSED/')"
exit 0
