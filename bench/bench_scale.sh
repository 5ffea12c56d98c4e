#!/bin/bash
# bench_scale.sh - monorepo scale: N small prebuilt extension modules
# (default 1000) packed into N wheels by one `spoke build --artifacts`,
# against a shell loop of `python3 -m wheel pack` over prepared trees, in
# the same run; and spoke -j 2 against -j 1.  Prints the ratios.
#
#   bash bench/bench_scale.sh SPOKE [N]
#
# Goal: spoke at least 3x faster than the loop; -j 2 at least 1.7x faster
# than -j 1 on 2 cores.  Exits 0 whatever the figures.
#
# It also measures what the machine gives two builds that share nothing:
# two -j 1 builds of N wheels at once, each with its own coordinator,
# state directory and copies of the modules, against one.  A -j 2 build
# does the same work with more shared (one coordinator, one journal, one
# output directory), so its ratio to -j 1 is not expected to exceed that
# one; the line says where the machine, not spoke, sets the limit.
set -euo pipefail
SPOKE=$(readlink -f "$1")
N=${2:-1000}
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/spoke-bench-scale.XXXXXX")
export XDG_RUNTIME_DIR="$W/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
trap '"$SPOKE" stop --state-dir "$W/a/.spoke" >/dev/null 2>&1; "$SPOKE" stop --state-dir "$W/b/.spoke" >/dev/null 2>&1; rm -rf "$W"' EXIT

# One tiny C extension module, compiled once.
inc=$($PY -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$($PY -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
cat >"$W/m.c" <<'C'
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "m", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&def); }
C
cc -O2 -shared -fPIC -I"$inc" "$W/m.c" -o "$W/libm.so"

mkdir -p "$W/a" "$W/b" "$W/trees"
{
	echo '{"artifacts": ['
	for i in $(seq 1 "$N"); do
		cp "$W/libm.so" "$W/a/libm$i.so"
		cp "$W/libm.so" "$W/b/libm$i.so"
		[ "$i" -gt 1 ] && echo ','
		printf '{"path": "libm%d.so", "distribution": "mod%d", "version": "1.0", "module": "m"}' "$i" "$i"
		# The same wheel as a tree for `wheel pack`.
		t="$W/trees/mod$i"
		mkdir -p "$t/mod$i-1.0.dist-info"
		cp "$W/libm.so" "$t/m$suffix"
		printf 'Metadata-Version: 2.1\nName: mod%d\nVersion: 1.0\n' "$i" >"$t/mod$i-1.0.dist-info/METADATA"
		printf 'Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' >"$t/mod$i-1.0.dist-info/WHEEL"
	done
	echo ']}'
} >"$W/a/artifacts.json"
cp "$W/a/artifacts.json" "$W/b/artifacts.json"

now() { date +%s.%N; }
secs() { $PY -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

# Warm: a coordinator running, as in a CI job's second build (and a
# second one for the other build of the machine's ceiling).
for x in a b; do
	"$SPOKE" serve --state-dir "$W/$x/.spoke" --idle-timeout 600 >/dev/null 2>&1 &
done
sleep 0.5
# Each run writes to a new directory, and nothing is deleted until the end:
# on ext4 without a journal (this VM's disk), creating a file scans past
# the inodes deleted in the last minutes, so a run after an `rm -rf` of
# 1,000 wheels pays for it, and the order of the runs would decide.
# build_into SET OUT ARGS...: one build of the modules of $W/SET into OUT.
build_into() {
	local set=$1 out=$2
	shift 2
	"$SPOKE" build -q -i "$PY" --artifacts "$W/$set/artifacts.json" -o "$out" "$@" >/dev/null
	[ "$(ls "$out" | wc -l)" -eq "$N" ] || { echo "spoke wrote the wrong number of wheels" >&2; exit 1; }
}
# run_spoke NAME ARGS...: one build into $W/out-NAME, timed.
run_spoke() {
	local t0 t1 out="$W/out-$1"
	shift
	t0=$(now)
	build_into a "$out" "$@"
	t1=$(now)
	secs "$t0" "$t1"
}
# run_two NAME: a -j 1 build of each set at once, timed.
run_two() {
	local t0 t1 pa pb
	t0=$(now)
	build_into a "$W/out-$1a" -j 1 &
	pa=$!
	build_into b "$W/out-$1b" -j 1 &
	pb=$!
	wait "$pa" && wait "$pb" || exit 1
	t1=$(now)
	secs "$t0" "$t1"
}
# Warm-up: the workers of both coordinators are forked now.
run_spoke warm -j 2 >/dev/null
build_into b "$W/out-warmb" -j 1
# Interleaved, three of each; the medians are compared.
t=()
for r in 1 2 3; do
	t+=("$(run_spoke "$r-j2" -j 2)" "$(run_spoke "$r-j1" -j 1)")
done
med() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
s2=$(med "${t[0]}" "${t[2]}" "${t[4]}")
s1=$(med "${t[1]}" "${t[3]}" "${t[5]}")
two=()
for r in 1 2 3; do
	two+=("$(run_two "two$r")")
done
s11=$(med "${two[@]}")

rm -rf "$W/loop"
mkdir "$W/loop"
t0=$(now)
for i in $(seq 1 "$N"); do
	$PY -m wheel pack -d "$W/loop" "$W/trees/mod$i" >/dev/null
done
t1=$(now)
loop=$(secs "$t0" "$t1")

printf 'modules: %d (%d bytes each)\n' "$N" "$(stat -c %s "$W/libm.so")"
printf 'spoke build --artifacts -j 2: %8.2f s (median of %s)\n' "$s2" "${t[0]} ${t[2]} ${t[4]}"
printf 'spoke build --artifacts -j 1: %8.2f s (median of %s)\n' "$s1" "${t[1]} ${t[3]} ${t[5]}"
printf 'two -j 1 builds at once:      %8.2f s for both (median of %s)\n' "$s11" "${two[*]}"
printf 'loop of python3 -m wheel pack: %7.2f s\n' "$loop"
$PY - "$loop" "$s2" "$s1" "$s11" <<'PYEOF'
import sys
loop, s2, s1, s11 = map(float, sys.argv[1:])
r, j, m = loop / s2, s1 / s2, 2 * s1 / s11
print("spoke -j 2 vs the loop: %.1fx (goal >= 3x) %s" % (r, "GOAL MET" if r >= 3 else "GOAL MISSED"))
print("spoke -j 2 vs -j 1:     %.2fx (goal >= 1.7x) %s" % (j, "GOAL MET" if j >= 1.7 else "GOAL MISSED"))
print("two independent -j 1 builds vs one: %.2fx the wheels per second"
      " (what this machine gives a second build that shares nothing)" % m)
PYEOF
