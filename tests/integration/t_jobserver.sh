#!/bin/bash
# -j and the GNU make jobserver: a build runs at most its one implicit slot
# plus the tokens its client holds, and every token goes back, also when a
# worker dies.  Concurrency is measured by sampling `spoke status`.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
d="$T/many"
# Twelve prebuilt modules (copies of hello under other names).
prebuilt_artifacts "$ws" "$d" 12
state="$d/.spoke"

# sample_running OUT: until stopped, record the most workers seen running.
sample_running() {
	local max=0 n
	while :; do
		n=$("$SPOKE" status --state-dir "$state" --json 2>/dev/null |
			"$PY" -c 'import json,sys; r=json.load(sys.stdin); print(sum(b["running"] for b in r.get("builds", [])))' 2>/dev/null)
		[ -n "$n" ] && [ "$n" -gt "$max" ] && max=$n && echo "$max" >"$1"
		sleep 0.02
	done
}

# measure CMD...: runs CMD with the sampler; prints the max concurrency.
measure() {
	echo 0 >"$T/max"
	sample_running "$T/max" &
	local sp=$!
	"$@" >"$T/measure.out" 2>&1
	local rc=$?
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	cat "$T/max"
	return $rc
}

# A coordinator with room for 4 workers (the machine may have fewer CPUs).
"$SPOKE" serve --state-dir "$state" -j 4 --idle-timeout 60 >/dev/null 2>&1 &
check "a coordinator with -j 4 starts" await_coordinator "$state" $!
build() { rm -rf "$d/wheels"; "$SPOKE" build -q -i "$PY" --artifacts "$d/artifacts.json" "$@"; }

max=$(measure build -j 1)
[ "$max" -eq 1 ] && ok "-j 1 runs one worker at a time (saw $max)" || not_ok "-j 1 runs one worker at a time (saw $max)"
max=$(measure build -j 3)
[ "$max" -le 3 ] && [ "$max" -ge 2 ] && ok "-j 3 runs up to three (saw $max)" || not_ok "-j 3 runs up to three (saw $max)"

# make 4.3: the R,W pipe form, through a '+' recipe.
cat >"$T/Makefile" <<MK
all:
	+"$SPOKE" build -q -i "$PY" --artifacts "$d/artifacts.json"
MK
# (make -j1 runs no jobserver at all: spoke then uses its own -j.)
for j in 2 3; do
	rm -rf "$d/wheels"
	max=$(measure make -s -C "$T" -j$j)
	rc=$?
	if [ $rc -eq 0 ] && [ "$max" -le "$j" ] && [ "$max" -ge 2 ]; then
		ok "make -j$j: at most $j workers (saw $max)"
	else
		not_ok "make -j$j: at most $j workers (saw $max, exit $rc)"
		sed 's/^/#   /' "$T/measure.out"
	fi
	check "make -j$j: make saw every token back" bash -c "! grep -qi 'jobserver tokens' '$T/measure.out'"
	check "make -j$j: twelve wheels" bash -c "[ \$(ls '$d'/wheels/*.whl | wc -l) -eq 12 ]"
done

# A recipe without '+': make does not share its jobserver; spoke says so
# and builds with one slot.
printf 'all:\n\t"%s" build -i "%s" --artifacts "%s"\n' "$SPOKE" "$PY" "$d/artifacts.json" >"$T/Makefile2"
rm -rf "$d/wheels"
make -s -C "$T" -f Makefile2 -j3 >"$T/noplus.out" 2>&1
check "no '+': the build still succeeds" bash -c "[ \$(ls '$d'/wheels/*.whl | wc -l) -eq 12 ]"

# make 4.4: the fifo form, with a fifo this test creates and reads back.
fifo="$T/jobserver.fifo"
mkfifo "$fifo"
exec 7<>"$fifo"
printf '++' >&7 # two tokens: with the implicit slot, three workers
max=$(MAKEFLAGS="-j3 --jobserver-auth=fifo:$fifo" measure build)
rc=$?
[ $rc -eq 0 ] && [ "$max" -le 3 ] && [ "$max" -ge 2 ] && ok "fifo jobserver: at most 3 workers (saw $max)" || not_ok "fifo jobserver: at most 3 workers (saw $max, exit $rc)"
back=$(timeout 1 dd if="$fifo" bs=1 count=16 iflag=nonblock 2>/dev/null | wc -c)
[ "$back" -eq 2 ] && ok "fifo jobserver: both tokens came back" || not_ok "fifo jobserver: $back of 2 tokens came back"

# A worker killed: the build fails, and still every token comes back.
printf '++' >&7
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
SPOKE_CRASH_AT=worker:1 MAKEFLAGS="-j3 --jobserver-auth=fifo:$fifo" "$SPOKE" serve --state-dir "$state" -j 4 >/dev/null 2>&1 &
check "a coordinator whose first worker dies starts" await_coordinator "$state" $!
MAKEFLAGS="-j3 --jobserver-auth=fifo:$fifo" build >"$T/killed.out" 2>&1
check "worker killed under the jobserver: the build fails" test $? -eq 1
back=$(timeout 1 dd if="$fifo" bs=1 count=16 iflag=nonblock 2>/dev/null | wc -c)
[ "$back" -eq 2 ] && ok "worker killed: both tokens came back" || not_ok "worker killed: $back of 2 tokens came back"

# The client interrupted mid-build: tokens back, build cancelled.
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
printf '++' >&7
MAKEFLAGS="-j3 --jobserver-auth=fifo:$fifo" "$SPOKE" build -q -i "$PY" --artifacts "$d/artifacts.json" >/dev/null 2>&1 &
cpid=$!
for _ in $(seq 1 200); do
	"$SPOKE" status --state-dir "$state" 2>/dev/null | grep -q '^build ' && break
	sleep 0.01
done
kill -INT $cpid
wait $cpid
check "interrupted client exits 130" test $? -eq 130
back=$(timeout 1 dd if="$fifo" bs=1 count=16 iflag=nonblock 2>/dev/null | wc -c)
[ "$back" -eq 2 ] && ok "interrupted: both tokens came back" || not_ok "interrupted: $back of 2 tokens came back"
check "interrupted: nothing left staged" wait_for 10 bash -c "[ -z \"\$(ls -A '$state/staged')\" ]"
check "interrupted: the prebuilt files are intact" bash -c "for i in \$(seq 1 12); do cmp -s '$ws/target/release/libhello.so' '$d'/libhello\$i.so || exit 1; done"
exec 7>&-
finish
