#!/bin/bash
# bench_repair.sh - spoke repair against auditwheel repair on a wheel whose
# big module needs a big library that manylinux does not promise, so that
# both tools graft it.
#
# usage: bench/bench_repair.sh [--spoke SPOKE] [--rounds N] [--dir DIR]
#                              [--module-mb M] [--lib-mb L]
#   SPOKE   the spoke binary (default: ./spoke, build-bench/spoke, build/spoke)
#   N       rounds, interleaved (default 3)
#   DIR     where the fixture and the outputs go (default: the current
#           directory; use a disk, not a tmpfs: temporaries go there too)
#   M, L    the module's and the library's size in MB (default 150, 200)
#
# Environment: AUDITWHEEL_SRC, a checkout of pypa/auditwheel; without it
# the script extracts HEAD of the mirror /work/.mirror/pypa+auditwheel/repo
# when that exists.  auditwheel runs from that source as
# `PYTHONPATH=<src>/src /usr/bin/python3 -m auditwheel` with Debian's
# python3-pyelftools and python3-packaging (its two dependencies, from its
# pyproject.toml) and the first patchelf on PATH (PATCHELF=/path/to/patchelf
# puts another one first).  Where it cannot run, the script says exactly
# why and reports spoke's own figures.
#
# The fixture is built with gcc: libbigdep.so.1 (L MB: a function and a
# .rodata blob) and a Python extension module (M MB: PyInit_bigmod, a call
# into libbigdep, and its own blob) linked against it, packed as a
# linux_x86_64 wheel by python3's zipfile (deflate level 6).  The blobs are
# the machine's own shared libraries concatenated: real machine code,
# which compresses as a real module does.  The same bytes every run on one
# machine.
#
# Each round runs spoke repair, then auditwheel repair (the order
# alternates every round), each into an empty output folder, the file
# system synced before each.  Measured: wall time and peak RSS (the
# process and its children: /usr/bin/time's %M, else python3's
# resource.getrusage(RUSAGE_CHILDREN)), and the repaired wheel's size.
# Printed: the median and minimum of each, and the ratios spoke/auditwheel
# of the medians.  Goals: time <= 1/2.5, peak RSS <= 1/2, size <= 1.
#
# Every repaired wheel must hold the module and a grafted libbigdep; the
# spoke wheel must pass `spoke show`.  Otherwise the script prints BROKEN
# OUTPUT and exits 1.  It exits 0 whatever the figures say.
set -u
SPOKE=
ROUNDS=3
DIR=.
MOD_MB=150
LIB_MB=200
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	--module-mb) MOD_MB=$2; shift 2 ;;
	--lib-mb) LIB_MB=$2; shift 2 ;;
	*) echo "bench_repair: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ -z "$SPOKE" ]; then
	for s in ./spoke ./build-bench/spoke ./build/spoke; do
		[ -x "$s" ] && SPOKE=$s && break
	done
fi
[ -n "$SPOKE" ] && [ -x "$SPOKE" ] || {
	echo "bench_repair: no spoke binary; pass --spoke PATH" >&2
	exit 2
}
SPOKE=$(readlink -f "$SPOKE")
PY=/usr/bin/python3
for t in gcc "$PY" sync; do
	command -v "$t" >/dev/null || {
		echo "bench_repair: '$t' is missing" >&2
		exit 2
	}
done
W=$(mktemp -d "$(readlink -f "$DIR")/spoke-bench-repair.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT INT TERM HUP

# ---------------------------------------------------------------- fixture
echo "fixture: module ${MOD_MB} MB needing libbigdep.so.1 ${LIB_MB} MB, in $W"
# The blobs: tests/tools/blob.sh, shared with t_repair_memory.
blob="$(dirname "$0")/../tests/tools/blob.sh"
bash "$blob" "$W/libblob" "$LIB_MB" lib_blob || exit 2
bash "$blob" "$W/modblob" "$MOD_MB" mod_blob || exit 2
mkdir -p "$W/lib" "$W/tree/bigmod-0.1.0.dist-info"
cat >"$W/lib.c" <<'EOF'
extern const unsigned char lib_blob[];
int bigdep_byte(unsigned long i) { return lib_blob[i]; }
EOF
cat >"$W/mod.c" <<'EOF'
extern const unsigned char mod_blob[];
int bigdep_byte(unsigned long i);
void *PyInit_bigmod(void);
void *PyInit_bigmod(void)
{
	return (void *)(long)(bigdep_byte(1) + mod_blob[1]);
}
EOF
gcc -shared -fPIC -O2 -Wl,-soname,libbigdep.so.1 -o "$W/lib/libbigdep.so.1" \
	"$W/lib.c" "$W/libblob.o" || exit 2
ln -s libbigdep.so.1 "$W/lib/libbigdep.so"
MODNAME=bigmod.cpython-311-x86_64-linux-gnu.so
gcc -shared -fPIC -O2 -o "$W/tree/$MODNAME" "$W/mod.c" "$W/modblob.o" \
	-L"$W/lib" -lbigdep || exit 2
rm -f "$W"/libblob* "$W"/modblob*
printf 'Metadata-Version: 2.1\nName: bigmod\nVersion: 0.1.0\n' \
	>"$W/tree/bigmod-0.1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' \
	>"$W/tree/bigmod-0.1.0.dist-info/WHEEL"
IN="$W/bigmod-0.1.0-cp311-cp311-linux_x86_64.whl"
"$PY" - "$W/tree" "$IN" <<'EOF' || exit 2
import base64, hashlib, os, sys, zipfile
tree, out = sys.argv[1], sys.argv[2]
names = ['bigmod.cpython-311-x86_64-linux-gnu.so',
         'bigmod-0.1.0.dist-info/METADATA', 'bigmod-0.1.0.dist-info/WHEEL']
rec = []
# A fixed timestamp: the same input wheel every run.
def entry(n):
    i = zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0))
    i.compress_type = zipfile.ZIP_DEFLATED
    i.external_attr = 0o100755 << 16 if n.endswith('.so') else 0o100644 << 16
    return i
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for n in names:
        b = open(os.path.join(tree, n), 'rb').read()
        d = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=')
        rec.append('%s,sha256=%s,%d' % (n, d.decode(), len(b)))
        z.writestr(entry(n), b)
    rec.append('bigmod-0.1.0.dist-info/RECORD,,')
    z.writestr(entry('bigmod-0.1.0.dist-info/RECORD'), '\n'.join(rec) + '\n')
EOF
echo "input:   $(basename "$IN"): $(stat -c %s "$IN") bytes; module $(stat -c %s "$W/tree/$MODNAME") bytes, library $(stat -c %s "$W/lib/libbigdep.so.1") bytes"
rm -rf "$W/tree"
echo "fs:      $(stat -f -c %T "$W")  rounds: $ROUNDS  load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------- auditwheel
# auditwheel from its source (AW, AW_SRC, or WHY it cannot run).
. "$(dirname "$0")/lib_auditwheel.sh"
[ -n "${PATCHELF:-}" ] && export PATH="$(dirname "$(readlink -f "$PATCHELF")"):$PATH"
find_auditwheel repair
if [ -n "$AW" ]; then
	echo "peer:    $($AW --version 2>&1 | awk '{print $1, $2; exit}') from $AW_SRC, $(patchelf --version)"
else
	echo "peer:    auditwheel cannot run here: $WHY"
	echo "         (spoke's own figures follow)"
fi

# ------------------------------------------------------------------ runs
if [ -x /usr/bin/time ]; then
	# timed OUT cmd...: appends "seconds maxrss_kb" to OUT.
	timed() {
		local f=$1
		shift
		/usr/bin/time -a -o "$f" -f '%e %M' "$@" >"$W/log" 2>&1
	}
else
	timed() {
		local f=$1
		shift
		"$PY" -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:], stdout=open(sys.argv[1] + ".log", "w"), stderr=subprocess.STDOUT)
d = time.monotonic() - t
with open(sys.argv[1], "a") as f:
    f.write("%.2f %d\n" % (d, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)' "$f" "$@"
		local rc=$?
		mv "$f.log" "$W/log" 2>/dev/null
		return $rc
	}
fi

# check_out TOOL DIR: the one repaired wheel in DIR holds the module and a
# grafted libbigdep; prints its size.
check_out() {
	local whl
	whl=$(ls "$2"/*.whl 2>/dev/null | head -1)
	[ -n "$whl" ] && "$PY" - "$whl" <<'EOF' || { echo "BROKEN OUTPUT: $1's wheel in $2" >&2; cat "$W/log" >&2; exit 1; }
import sys, zipfile
n = zipfile.ZipFile(sys.argv[1]).namelist()
assert 'bigmod.cpython-311-x86_64-linux-gnu.so' in n, n
assert any('libbigdep' in x and '.libs/' in x for x in n), n
EOF
	if [ "$1" = spoke ] && ! "$SPOKE" show "$whl" >/dev/null 2>&1; then
		echo "BROKEN OUTPUT: spoke show refuses $whl" >&2
		exit 1
	fi
	stat -c %s "$whl"
}

run_spoke() {
	rm -rf "$W/out-s"
	sync
	timed "$W/spoke.t" "$SPOKE" repair -w "$W/out-s" --lib-path "$W/lib" "$IN" || {
		echo "BROKEN OUTPUT: spoke repair failed:" >&2
		cat "$W/log" >&2
		exit 1
	}
	check_out spoke "$W/out-s" >>"$W/spoke.size"
}

run_aw() {
	rm -rf "$W/out-a"
	sync
	LD_LIBRARY_PATH="$W/lib" timed "$W/aw.t" $AW repair -w "$W/out-a" "$IN" || {
		echo "BROKEN OUTPUT: auditwheel repair failed:" >&2
		cat "$W/log" >&2
		exit 1
	}
	check_out auditwheel "$W/out-a" >>"$W/aw.size"
}

: >"$W/spoke.t"
: >"$W/aw.t"
: >"$W/spoke.size"
: >"$W/aw.size"
for r in $(seq "$ROUNDS"); do
	if [ -z "$AW" ]; then
		run_spoke
	elif [ $((r % 2)) -eq 1 ]; then
		run_spoke
		run_aw
	else
		run_aw
		run_spoke
	fi
done

med() { cut -d' ' -f"$2" "$1" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
min() { cut -d' ' -f"$2" "$1" | sort -g | head -1; }

# Every round, so that the noise shows.
echo
echo "rounds (seconds, peak RSS KiB):"
rounds() { awk '{printf "%s%s s %d KiB", (NR > 1 ? ", " : ""), $1, $2}' "$1"; }
echo "  spoke:      $(rounds "$W/spoke.t")"
[ -n "$AW" ] && echo "  auditwheel: $(rounds "$W/aw.t")"

printf '\n%-12s %8s %8s %14s %14s %14s\n' tool "med s" "min s" "med RSS MiB" "max RSS MiB" "size bytes"
row() {
	printf '%-12s %8.2f %8.2f %14.1f %14.1f %14d\n' "$1" "$(med "$2.t" 1)" \
		"$(min "$2.t" 1)" "$(awk "BEGIN {print $(med "$2.t" 2) / 1024}")" \
		"$(awk "BEGIN {print $(sort -g -k2 "$2.t" | tail -1 | cut -d' ' -f2) / 1024}")" \
		"$(med "$2.size" 1)"
}
row spoke "$W/spoke"
if [ -z "$AW" ]; then
	echo
	echo "no ratios: auditwheel cannot run here: $WHY"
	exit 0
fi
row auditwheel "$W/aw"
ratio() { awk "BEGIN {printf \"%.3f\", $1 / $2}"; }
tr=$(ratio "$(med "$W/spoke.t" 1)" "$(med "$W/aw.t" 1)")
mr=$(ratio "$(med "$W/spoke.t" 2)" "$(med "$W/aw.t" 2)")
sr=$(ratio "$(med "$W/spoke.size" 1)" "$(med "$W/aw.size" 1)")
verdict() { awk "BEGIN {print ($1 <= $2) ? \"GOAL MET\" : \"GOAL MISSED\"}"; }
printf '\ntime ratio spoke/auditwheel: %s (%.1fx faster; goal >= 2.5x: %s)\n' \
	"$tr" "$(awk "BEGIN {print 1 / $tr}")" "$(verdict "$tr" 0.4)"
printf 'RSS ratio  spoke/auditwheel: %s (goal <= 0.5: %s)\n' "$mr" "$(verdict "$mr" 0.5)"
printf 'size ratio spoke/auditwheel: %s (goal <= 1: %s)\n' "$sr" "$(verdict "$sr" 1)"
exit 0
