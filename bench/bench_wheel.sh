#!/bin/bash
# bench_wheel.sh - how fast spoke writes a big wheel, against Python's
# zipfile writing the same files.
#
#   bench/bench_wheel.sh [--spoke PATH] [--rounds N] [--dir DIR]
#
# A cdylib crate is generated in a temporary directory: its lib.rs embeds a
# copy of the toolchain's librustc_driver-*.so with include_bytes! (real
# machine code, ~150 MB) and exports PyInit_big through raw FFI, no crates.
# cargo builds it once.  Then, in the warm state (coordinator running,
# cargo fresh), each round times a whole 'spoke build' with --compression
# default, fast and store (no compression: everything but the deflate,
# though it writes the whole module), and /usr/bin/python3's zipfile
# (ZIP_DEFLATED, compresslevel=6, the setting of wheel and maturin) writing
# the same .so and .dist-info files with a RECORD, right after each spoke
# round (interleaved).  Prints every round, medians and minimums, time
# and size ratios (medians), and peak RSS: the Python process's, and
# for spoke the largest of the coordinator and its workers (the
# coordinator runs in the foreground under /usr/bin/time, once per mode).
# Exits 0 whatever the figures; 1 only when a wheel is missing or invalid.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SPOKE=
ROUNDS=5
DIR=$PWD
PY=/usr/bin/python3
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_wheel: unknown option '$1'" >&2; exit 2 ;;
	esac
done
if [ -z "$SPOKE" ]; then
	for s in "$here"/../build-bench/spoke "$here"/../build/spoke; do
		[ -x "$s" ] && { SPOKE=$s; break; }
	done
fi
[ -x "${SPOKE:-}" ] || { echo "bench_wheel: no spoke binary (use --spoke)" >&2; exit 2; }
SPOKE=$(readlink -f "$SPOKE")
if [ ! -x /usr/bin/time ]; then
	echo "bench_wheel: installing GNU time for peak RSS" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

W=$(mktemp -d "$DIR/spoke-bench-wheel.XXXXXX")
S=$W/state
serve_pid=
cleanup() {
	"$SPOKE" stop --state-dir "$S" >/dev/null 2>&1 || true
	[ -n "$serve_pid" ] && wait "$serve_pid" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM HUP

# The crate.
blob=$(ls "$(rustc --print sysroot)"/lib/librustc_driver-*.so | head -1)
mkdir -p "$W/big/src"
cp "$blob" "$W/big/blob.bin"
cat >"$W/big/Cargo.toml" <<'EOF'
[package]
name = "big"
version = "0.1.0"
edition = "2021"
description = "A big extension module for timing wheel writing"

[lib]
crate-type = ["cdylib"]

[package.metadata.spoke]
module = "big"

[workspace]

[profile.release]
strip = false
EOF
cat >"$W/big/src/lib.rs" <<'EOF'
//! A Python extension module made big by a copy of the toolchain's
//! librustc_driver, so that its bytes compress like real machine code.
use core::ffi::c_void;

#[used]
static BLOB: &[u8] = include_bytes!("../blob.bin");

/// Never called by the benchmark; reading the length keeps BLOB linked.
#[no_mangle]
pub extern "C" fn PyInit_big() -> *mut c_void {
    unsafe { core::ptr::read_volatile(&BLOB.len()) as *mut c_void }
}
EOF
echo "# cargo build --release of a crate embedding $(basename "$blob") ($(stat -c %s "$blob") bytes)"
t0=$(date +%s%N)
(cd "$W/big" && cargo build --release -q)
echo "# built in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
so=$W/big/target/release/libbig.so
sosize=$(stat -c %s "$so")

# The Python writer: the same files as spoke's wheel, with a RECORD.
cat >"$W/pywheel.py" <<'EOF'
import base64, hashlib, sys, zipfile
so, modname, meta, wheel, info, out = sys.argv[1:]
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
h = hashlib.sha256()
n = 0
with open(so, "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
rec = ["%s,sha256=%s,%d" % (modname, base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode(), n)]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    z.write(so, modname)
    for name, path in (("METADATA", meta), ("WHEEL", wheel)):
        data = open(path, "rb").read()
        z.writestr(info + "/" + name, data)
        rec.append("%s/%s,sha256=%s,%d" % (info, name, digest(data), len(data)))
    rec.append(info + "/RECORD,,")
    z.writestr(info + "/RECORD", "\n".join(rec) + "\n")
EOF

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# spoke_round MODE OUT: one whole 'spoke build'; prints milliseconds.
spoke_round() {
	rm -rf "$2"
	local t0
	t0=$(now_ms)
	"$SPOKE" build -q -i "$PY" --manifest-path "$W/big/Cargo.toml" \
		--state-dir "$S" --compression "$1" -o "$2"
	echo $(( $(now_ms) - t0 ))
}

# py_round OUT: prints "milliseconds peak-RSS-KiB".
py_round() {
	rm -rf "$W/py" && mkdir -p "$W/py"
	/usr/bin/time -f '%e %M' -o "$W/py.time" "$PY" "$W/pywheel.py" "$so" \
		"$modname" "$W/meta/METADATA" "$W/meta/WHEEL" "$info" "$1"
	awk '{ printf "%d %d\n", $1 * 1000, $2 }' "$W/py.time"
}

# A throwaway build gives the module's wheel name and dist-info files.
"$SPOKE" build -q -i "$PY" --manifest-path "$W/big/Cargo.toml" --state-dir "$S" -o "$W/first"
"$SPOKE" stop --state-dir "$S" >/dev/null
first=$(ls "$W"/first/*.whl)
modname=$(unzip -Z1 "$first" | grep '\.so$')
info=$(unzip -Z1 "$first" | grep '/WHEEL$' | cut -d/ -f1)
mkdir -p "$W/meta"
unzip -p "$first" "$info/METADATA" >"$W/meta/METADATA"
unzip -p "$first" "$info/WHEEL" >"$W/meta/WHEEL"
whlname=$(basename "$first")

declare -A T SIZE RSS
T[py]=
# store: no compression at all; what is left when deflate costs nothing.
for mode in default fast store; do
	/usr/bin/time -f '%M' -o "$W/rss-$mode" "$SPOKE" serve --state-dir "$S" \
		--idle-timeout 600 2>>"$W/serve.log" &
	serve_pid=$!
	for i in $(seq 200); do
		"$SPOKE" status --state-dir "$S" 2>/dev/null | grep -q 'running (pid' && break
		sleep 0.05
	done
	# Warm: coordinator up, cargo fresh, the .so in the page cache.
	spoke_round "$mode" "$W/out-$mode" >/dev/null
	T[$mode]=
	for r in $(seq "$ROUNDS"); do
		T[$mode]+="$(spoke_round "$mode" "$W/out-$mode") "
		read -r ms kib < <(py_round "$W/py/$whlname")
		T[py]+="$ms "
		T[py_$mode]+="$ms "
		RSS[py]=$kib
	done
	"$SPOKE" stop --state-dir "$S" >/dev/null
	wait "$serve_pid" || true
	serve_pid=
	RSS[$mode]=$(tail -1 "$W/rss-$mode")
	SIZE[$mode]=$(stat -c %s "$W/out-$mode/$whlname")
	"$SPOKE" show -q "$W/out-$mode/$whlname" || { echo "BROKEN WHEEL ($mode)"; exit 1; }
done
SIZE[py]=$(stat -c %s "$W/py/$whlname")
"$SPOKE" show -q "$W/py/$whlname" || { echo "BROKEN WHEEL (python)"; exit 1; }

stats() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%d %d\n", a[int((NR + 1) / 2)], a[1] }'; }
read -r py_med py_min < <(stats "${T[py]}")
echo "# $(basename "$so"): $sosize bytes; $ROUNDS rounds per mode (python: $((3 * ROUNDS))); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %9s %9s %12s %9s\n' "" "med ms" "min ms" "wheel bytes" "RSS MiB"
for m in default fast store py; do
	read -r med min < <(stats "${T[$m]}")
	label="spoke build --compression $m"
	[ "$m" = py ] && label="python zipfile deflate level 6"
	printf '%-34s %9d %9d %12d %9d\n' "$label" "$med" "$min" "${SIZE[$m]}" $(( RSS[$m] / 1024 ))
done
# Every round, in the order run (python's: default's rounds, then fast's,
# then store's; each ran right after the spoke round before it).
for m in default fast store py; do
	printf '%-8s rounds ms: %s\n' "$m" "${T[$m]% }"
done
for m in default fast store; do
	read -r med min < <(stats "${T[$m]}")
	if [ "$m" = store ]; then
		awk -v pm="$py_med" -v sm="$med" 'BEGIN {
			printf "store    %.1fx faster (median): no deflate at all (but all of the module to write)\n", pm / sm }'
		continue
	fi
	goal=2.5
	[ "$m" = fast ] && goal=10
	awk -v m="$m" -v pm="$py_med" -v sm="$med" -v s="${SIZE[$m]}" -v ps="${SIZE[py]}" -v g="$goal" 'BEGIN {
		r = pm / sm; z = s / ps
		ok = r >= g && (m == "fast" || z <= 1.0)
		printf "%-8s %.1fx faster (median), size %.3f of python: %s (goal >= %sx%s)\n",
			m, r, z, ok ? "GOAL MET" : "GOAL MISSED", g, m == "fast" ? "" : ", size <= 1"
	}'
	# The same against only the python rounds run between this mode's
	# own, at the same moment's load (the line above pools all of them).
	read -r pmed _ < <(stats "${T[py_$m]}")
	awk -v m="$m" -v pm="$pmed" -v sm="$med" 'BEGIN {
		printf "%-8s %.1fx against the python rounds interleaved with its own (median %d ms)\n", m, pm / sm, pm }'
done
