#!/bin/bash
# bench_journal_age.sh - the "age" benchmark of issue 19: does a journal
# that has seen many builds stay as small and as fast as a young one?
#
#   bash bench/bench_journal_age.sh --spoke SPOKE [--builds N] [--crates C]
#                                   [--young Y] [--rounds R] [--dir DIR]
#
# C (default 100) small prebuilt extension modules (a C file exporting
# PyInit_<name>, compiled once with cc: no cargo, whose own time would
# dominate) are packaged by N (default 2000) no-op `spoke build
# --artifacts` runs against one warm coordinator, which prunes its journal
# as it does by default (the last 100 builds).  After build Y (default
# 100) the journal is copied aside; at the end the aged state directory
# and that young copy, each with its own coordinator, take R (default 9)
# more no-op builds each, alternately, so that both are timed in the
# same minutes of the machine.  Prints both journals' sizes and median
# no-op times and their ratios.  Goal: within 10% (ratio at most 1.10).
# Exits 0 whatever the figures.
set -euo pipefail
SPOKE= N=2000 C=100 Y=100 R=9 DIR=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$(readlink -f "$2"); shift 2 ;;
	--builds) N=$2; shift 2 ;;
	--crates) C=$2; shift 2 ;;
	--young) Y=$2; shift 2 ;;
	--rounds) R=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	*) echo "usage: $0 --spoke SPOKE [--builds N] [--crates C] [--young Y] [--rounds R] [--dir DIR]" >&2; exit 2 ;;
	esac
done
[ -x "$SPOKE" ] || { echo "bench_journal_age: --spoke SPOKE is required" >&2; exit 2; }
[ "$N" -gt "$Y" ] || { echo "bench_journal_age: --builds must exceed --young ($Y)" >&2; exit 2; }
PY=/usr/bin/python3
W=$(mktemp -d "$DIR/spoke-bench-age.XXXXXX")
export XDG_RUNTIME_DIR="$W/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
AGED="$W/ws/.spoke" YOUNG="$W/young"
trap '"$SPOKE" stop --state-dir "$AGED" >/dev/null 2>&1; "$SPOKE" stop --state-dir "$YOUNG" >/dev/null 2>&1; rm -rf "$W"' EXIT

# C modules, each its own shared object exporting PyInit_<name>.
mkdir -p "$W/ws"
{
	echo '{"artifacts": ['
	for i in $(seq 1 "$C"); do
		printf 'void *PyInit_mod%d(void) { return 0; }\n' "$i" >"$W/mod$i.c"
		cc -O2 -shared -fPIC "$W/mod$i.c" -o "$W/ws/libmod$i.so"
		[ "$i" -gt 1 ] && echo ','
		printf '{"path": "libmod%d.so", "distribution": "mod%d", "version": "1.0", "module": "mod%d"}' "$i" "$i" "$i"
	done
	echo ']}'
} >"$W/ws/artifacts.json"

now_ms() { date +%s%3N; }
# One no-op build against the state directory $1; prints its time in ms.
build() {
	local t0 t1
	t0=$(now_ms)
	"$SPOKE" build -q -i "$PY" --artifacts "$W/ws/artifacts.json" --state-dir "$1" >/dev/null
	t1=$(now_ms)
	echo $((t1 - t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The journal's bytes on disk: the database and its WAL.
jsize() {
	local f n=0
	for f in "$1/journal.db" "$1/journal.db-wal"; do
		[ -f "$f" ] && n=$((n + $(stat -c %s "$f")))
	done
	echo "$n"
}

start=$(date +%s)
for i in $(seq 1 "$N"); do
	build "$AGED" >>"$W/times"
	if [ "$i" -eq "$Y" ]; then
		# Stopped, so the WAL is checkpointed into the copy.
		"$SPOKE" stop --state-dir "$AGED" >/dev/null
		mkdir -m 700 "$YOUNG"
		cp "$AGED/journal.db" "$YOUNG/"
		young_size=$(jsize "$YOUNG")
		young_run=$(tail -n 9 "$W/times" | median)
	fi
	if [ $((i % 100)) -eq 0 ]; then
		echo "# build $i: $(tail -n 1 "$W/times") ms, journal $(jsize "$AGED") bytes, $(( $(date +%s) - start )) s so far" >&2
	fi
done
aged_run=$(tail -n 9 "$W/times" | median)
"$SPOKE" stop --state-dir "$AGED" >/dev/null
aged_size=$(jsize "$AGED")

# Interleaved: young, aged, young, aged ... each on its own warm coordinator.
build "$YOUNG" >/dev/null
build "$AGED" >/dev/null
for r in $(seq 1 "$R"); do
	build "$YOUNG" >>"$W/young_t"
	build "$AGED" >>"$W/aged_t"
done
young_med=$(median <"$W/young_t")
aged_med=$(median <"$W/aged_t")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "journal age: $C modules, $N no-op builds through --artifacts (kept: the last 100)"
echo "  journal after build $Y: $young_size bytes; after build $N: $aged_size bytes; ratio $(ratio "$aged_size" "$young_size")"
echo "  no-op median during the run: at build $Y ${young_run} ms, at build $N ${aged_run} ms; ratio $(ratio "$aged_run" "$young_run")"
echo "  no-op median, interleaved ($R rounds): journal of $Y builds ${young_med} ms, of $N builds ${aged_med} ms; ratio $(ratio "$aged_med" "$young_med") (goal: at most 1.10)"
