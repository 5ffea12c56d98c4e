#!/bin/bash
# bench_incremental.sh - spoke build in a monorepo where nothing, or one
# crate, changed, against plain 'cargo build --release' in the same run.
#
#   bench/bench_incremental.sh [--spoke PATH] [--work DIR] [--rounds N]
#                              [--crates N] [-i PY]
#
# A cargo workspace of N (default 100) tiny extension crates is generated:
# raw FFI, no dependencies, one cdylib exporting PyInit_<name> each.  It
# is compiled once (cargo build --release -j2, niced) before anything is
# timed.  Then, in the warm state (coordinator running, cargo fresh, the
# wheels already written once into the same output folder), two phases of
# interleaved rounds, the order within a round alternating, time
# 'spoke build -q' and 'cargo build --release -q' on the same workspace:
#
#   no-op        nothing changed.  spoke runs cargo itself, so cargo's own
#                no-op is inside spoke's figure.
#                Goal: spoke's median <= cargo's median + 60 ms.
#   one changed  one crate's lib.rs is touched before each timed command,
#                so each of them recompiles that crate.
#                Goal: spoke's median <= 1.2x cargo's.
#
# Every round's figure, the medians, the difference and the ratio are
# printed, with PASS or FAIL against each goal.  Exits 0 whatever the
# figures; 1 when what was timed turned out wrong (a wheel missing, cargo
# not rebuilding the touched crate, spoke's cargo run and plain cargo
# invalidating each other); 2 on a usage error.
#
#   --spoke PATH   the spoke binary (default build-bench/spoke, else
#                  build/spoke, of this checkout)
#   --work DIR     keep the workspace (and its compiled target dir) in
#                  DIR between runs; generated there on the first run.
#                  Default: a temporary folder in the current directory,
#                  removed at exit.
#   --rounds N     timed rounds per command and phase (default 7)
#   --crates N     crates in the workspace (default 100)
#   -i PY          the interpreter to give spoke (default: spoke's own
#                  choice, $PYO3_PYTHON else python3 on PATH, as a user
#                  typing 'spoke build' gets)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SPOKE=
WORK=
ROUNDS=7
CRATES=100
PYARG=()
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--crates) CRATES=$2; shift 2 ;;
	-i) PYARG=(-i "$2"); shift 2 ;;
	-h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_incremental: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case $ROUNDS$CRATES in
*[!0-9]*) echo "bench_incremental: --rounds and --crates take numbers" >&2; exit 2 ;;
esac
[ "$ROUNDS" -ge 1 ] && [ "$CRATES" -ge 1 ] && [ "$CRATES" -le 1000 ] ||
	{ echo "bench_incremental: --rounds >= 1, 1 <= --crates <= 1000" >&2; exit 2; }
if [ -z "$SPOKE" ]; then
	for s in "$here"/../build-bench/spoke "$here"/../build/spoke; do
		[ -x "$s" ] && { SPOKE=$s; break; }
	done
fi
[ -x "${SPOKE:-}" ] || { echo "bench_incremental: no spoke binary (use --spoke)" >&2; exit 2; }
SPOKE=$(readlink -f "$SPOKE")

# The work folder: ours (marked) or empty, never someone else's files.
MARK=.bench-incremental
if [ -n "$WORK" ]; then
	mkdir -p "$WORK"
	WORK=$(readlink -f "$WORK")
	if [ ! -e "$WORK/$MARK" ] && [ -n "$(ls -A "$WORK")" ]; then
		echo "bench_incremental: $WORK is not empty and was not made by this script" >&2
		exit 2
	fi
	touch "$WORK/$MARK"
	keep=1
else
	WORK=$(mktemp -d "$PWD/spoke-bench-incremental.XXXXXX")
	keep=0
fi
WS=$WORK/ws
S=$WORK/state
OUT=$WORK/wheels
cleanup() {
	"$SPOKE" stop --state-dir "$S" >/dev/null 2>&1 || true
	[ "$keep" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

broken() {
	echo "BROKEN: $*"
	exit 1
}

# The workspace: generated when missing or made for another crate count
# (or by another version of this generator).
stamp="generator 1, $CRATES crates"
w=${#CRATES}
[ "$w" -lt 3 ] && w=3
name() { printf 'm%0*d' "$w" "$1"; }
if [ "$(cat "$WS/stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "# generating $CRATES crates in $WS"
	rm -rf "$WS"
	mkdir -p "$WS/crates"
	cat >"$WS/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["crates/*"]
EOF
	for i in $(seq 0 $((CRATES - 1))); do
		n=$(name "$i")
		mkdir -p "$WS/crates/$n/src"
		cat >"$WS/crates/$n/Cargo.toml" <<EOF
[package]
name = "$n"
version = "0.1.0"
edition = "2021"
description = "Extension module $i of spoke's incremental benchmark"
license = "MIT"
publish = false

[lib]
crate-type = ["cdylib"]

[package.metadata.spoke]
module = "$n"
EOF
		# The smallest module CPython imports: PyModule_Create2 of a
		# definition without methods, declared by hand.
		cat >"$WS/crates/$n/src/lib.rs" <<EOF
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::{addr_of_mut, null, null_mut};

#[repr(C)]
pub struct ModuleDef {
    refcnt: isize,
    ob_type: *mut c_void,
    m_init: *mut c_void,
    m_index: isize,
    m_copy: *mut c_void,
    m_name: *const c_char,
    m_doc: *const c_char,
    m_size: isize,
    rest: [*mut c_void; 5],
}

extern "C" {
    fn PyModule_Create2(def: *mut ModuleDef, apiver: c_int) -> *mut c_void;
}

static mut DEF: ModuleDef = ModuleDef {
    refcnt: 1,
    ob_type: null_mut(),
    m_init: null_mut(),
    m_index: 0,
    m_copy: null_mut(),
    m_name: b"$n\0".as_ptr() as *const c_char,
    m_doc: null(),
    m_size: -1,
    rest: [null_mut(); 5],
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_$n() -> *mut c_void {
    PyModule_Create2(addr_of_mut!(DEF), 1013)
}
EOF
	done
	t0=$EPOCHREALTIME
	(cd "$WS" && nice cargo build --release -j2 -q)
	t1=$EPOCHREALTIME
	echo "# compiled in $(( (${t1/./} - ${t0/./}) / 1000 )) ms (cargo build --release -j2, niced)"
	echo "$stamp" >"$WS/stamp"
fi

# A fresh state and output folder each run: the journal's age is
# bench_journal_age.sh's subject, and a state made by another spoke binary
# would mix two versions.  recover first, so nothing staged is lost; an
# older binary than the state's cannot, and then removing it is still
# safe: this script stages by link only, so a cargo output never leaves
# its path, and cargo rebuilds whatever is missing.
if [ -d "$S" ]; then
	"$SPOKE" stop --state-dir "$S" >/dev/null 2>&1 || true
	"$SPOKE" recover --state-dir "$S" >/dev/null 2>&1 ||
		echo "# 'spoke recover' failed on the old state (another spoke's?); removed all the same"
	rm -rf "$S"
fi
rm -rf "$OUT"

cd "$WS"
changed=$(name $((CRATES / 2)))
src=$WS/crates/$changed/src/lib.rs
so=$WS/target/release/lib$changed.so
mtime() { stat -c %.9Y "$1"; }

# Each timed command leaves its wall time in microseconds in $us; the
# clock is bash's own, so no process is started around the command.
run_spoke() {
	local t0=$EPOCHREALTIME t1
	"$SPOKE" build -q "${PYARG[@]}" --state-dir "$S" -o "$OUT" --stage link \
		--idle-timeout 900
	t1=$EPOCHREALTIME
	us=$(( ${t1/./} - ${t0/./} ))
}
run_cargo() {
	local t0=$EPOCHREALTIME t1
	cargo build --release -q
	t1=$EPOCHREALTIME
	us=$(( ${t1/./} - ${t0/./} ))
}
wheels() { find "$OUT" -maxdepth 1 -name '*.whl' | wc -l; }
# cargo must find everything fresh after spoke's own cargo run, or the
# two invalidate each other and every figure would include a rebuild.
cargo_fresh() {
	if cargo build --release 2>&1 | grep -q Compiling; then
		broken "plain cargo build recompiled after spoke build ($1)"
	fi
}

# Warm-up, not timed: the coordinator starts, the wheels are written once,
# cargo and spoke each build once more.
run_spoke
run_spoke
[ "$(wheels)" -eq "$CRATES" ] || broken "spoke wrote $(wheels) wheels, not $CRATES"
cargo_fresh "warm-up"
run_cargo

# phase NAME: ROUNDS interleaved rounds, spoke first in odd rounds and
# cargo first in even ones, after one untimed round.  Leaves the figures
# (ms) in SP and CG.
phase() {
	local r cmd order
	SP=()
	CG=()
	for r in $(seq 0 "$ROUNDS"); do
		order="cargo spoke"
		[ $((r % 2)) = 1 ] && order="spoke cargo"
		for cmd in $order; do
			step "$1" "$cmd"
			[ "$r" -gt 0 ] || continue
			if [ "$cmd" = spoke ]; then
				SP+=($((us / 1000)))
			else
				CG+=($((us / 1000)))
			fi
		done
	done
}
# step PHASE CMD: one timed command, and the checks that it did the work
# its phase means (outside the timed part).
step() {
	local before
	if [ "$1" = no-op ]; then
		before=$(mtime "$so")
		"run_$2"
		[ "$(mtime "$so")" = "$before" ] || broken "$2 rebuilt $changed in a no-op round"
		[ "$(wheels)" -eq "$CRATES" ] || broken "$(wheels) wheels after a no-op round"
		return
	fi
	touch "$src"
	"run_$2"
	[ -n "$(find "$so" -newer "$src")" ] ||
		broken "$2 did not rebuild $changed after its lib.rs was touched"
	if [ "$2" = spoke ]; then
		[ -n "$(find "$OUT" -maxdepth 1 -name "$changed-*.whl" -newer "$src")" ] ||
			broken "spoke did not write $changed's wheel again after it changed"
		[ "$(wheels)" -eq "$CRATES" ] || broken "$(wheels) wheels after a one-changed round"
	fi
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
	if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

phase no-op
NOOP_SP=("${SP[@]}")
NOOP_CG=("${CG[@]}")
cargo_fresh "no-op rounds"
phase one-changed
ONE_SP=("${SP[@]}")
ONE_CG=("${CG[@]}")

py=${PYARG[1]:-${PYO3_PYTHON:-$(command -v python3 || echo none)}}
echo "# $CRATES crates, $ROUNDS rounds per command and phase (after one untimed), interleaved"
echo "# $("$SPOKE" --version) ($SPOKE); $(cargo --version); interpreter $py"
echo "# $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); workspace $WS"
report() {
	local label=$1 goal=$2
	shift 2
	local n=$(($# / 2)) sp cg msp mcg
	sp=("${@:1:n}")
	cg=("${@:n+1:n}")
	msp=$(median "${sp[@]}")
	mcg=$(median "${cg[@]}")
	printf '%-12s %-26s %s  median %s ms\n' "$label" "spoke build -q" "${sp[*]}" "$msp"
	printf '%-12s %-26s %s  median %s ms\n' "" "cargo build --release -q" "${cg[*]}" "$mcg"
	awk -v l="$label" -v s="$msp" -v c="$mcg" -v g="$goal" 'BEGIN {
		r = c > 0 ? s / c : 0
		if (g == "add") {
			ok = s <= c + 60
			printf "%s: spoke %g ms, cargo %g ms: +%g ms, %.2fx (goal: spoke <= cargo + 60 ms) %s\n",
				l, s, c, s - c, r, ok ? "PASS" : "FAIL"
		} else {
			ok = s <= 1.2 * c
			printf "%s: spoke %g ms, cargo %g ms: %.2fx, +%g ms (goal: spoke <= 1.2x cargo) %s\n",
				l, s, c, r, s - c, ok ? "PASS" : "FAIL"
		}
	}'
}
report no-op add "${NOOP_SP[@]}" "${NOOP_CG[@]}"
report one-changed mul "${ONE_SP[@]}" "${ONE_CG[@]}"
