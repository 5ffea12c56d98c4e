#!/bin/bash
# The coordinator's workers (server/pool.h): forked once per job slot and
# reused by every later build; a worker that dies is replaced and fails
# only its own job; `spoke stop` waits for them, so none outlives its
# coordinator.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
d="$T/arts"
# Six prebuilt modules (copies of hello under other names).
prebuilt_artifacts "$ws" "$d" 6
state="$d/.spoke"
build() { "$SPOKE" build -q -i "$PY" --artifacts "$d/artifacts.json" -o "$T/out$1" "${@:2}"; }
workers() { pgrep -P "$coord" | sort -n | paste -sd' '; }
# serve ERRFILE ARGS...: a coordinator in the foreground of a background
# job (its workers are its children), $coord; returns once it answers.
serve() {
	local err=$1
	shift
	"$SPOKE" serve --state-dir "$state" --idle-timeout 120 "$@" 2>"$err" &
	coord=$!
	await_coordinator "$state" "$coord"
}

serve "$T/serve.err" -j 2

check "a first build" build 1
first=$(workers)
n=$(wc -w <<<"$first")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok "the coordinator forked at most -j 2 workers ($first)" ||
	not_ok "the coordinator forked at most -j 2 workers (saw '$first')"
check "a second build" build 2
second=$(workers)
[ "$second" = "$first" ] && ok "the second build reused them ($second)" ||
	not_ok "the second build reused the workers (first '$first', then '$second')"
check_status "spoke status" 0 "$SPOKE" status --state-dir "$state"
check "  shows the idle workers" grep -Eq "0 worker\(s\) busy, $n idle" "$T/last.out"

# An idle worker killed from outside: the coordinator reaps it, and the
# next build gets a new one and succeeds.
victim=${first%% *}
kill -9 "$victim"
sleep 0.2
check "after a worker was killed, a build succeeds" build 3
third=$(workers)
case " $third " in
*" $victim "*) not_ok "the killed worker is gone ($third)" ;;
*) ok "the killed worker is gone, replaced ($third)" ;;
esac
check "the coordinator is alive" kill -0 "$coord"
check "every wheel is valid" wheels_valid "$T/out3"

# A worker that dies idle just before it is handed a job (the coordinator
# has not seen it go yet): the job goes to another worker and the build
# succeeds.  The coordinator sleeps at each of its crash points, the one
# before a hand-over ("job") included; the worker is killed then.
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
wait "$coord" 2>/dev/null
printf '{"artifacts": [{"path": "libhello1.so", "distribution": "one", "version": "1.0", "module": "hello"}]}' >"$d/one.json"
SPOKE_FAULT_LOG="$T/faults" SPOKE_FAULT_DELAY=server:300 serve "$T/serve2.err" -j 1
one() { "$SPOKE" build -q -i "$PY" --artifacts "$d/one.json" -o "$T/out$1"; }
check "a build forks the one worker" one 4
before=$(workers)
: >"$T/faults"
one 5 >"$T/one5.out" 2>&1 &
b5=$!
for i in $(seq 300); do
	grep -q '^server [0-9]* job ' "$T/faults" && break
	sleep 0.01
done
[ -n "$before" ] && kill -9 $before
wait $b5
rc=$?
[ $rc -eq 0 ] && ok "a worker killed just before its hand-over: the build succeeds" ||
	{ not_ok "a worker killed just before its hand-over (exit $rc)"; sed 's/^/#   /' "$T/one5.out"; }
check "  the coordinator says the job went to another worker" grep -q 'the job goes to another worker' "$T/serve2.err"
check "  the wheel is valid" wheels_valid "$T/out5"

# A busy worker gets its build's next job queued behind the current one
# (server/sched.c job_queue), so it goes on without waiting for the
# coordinator.  Slowed down, the queue shows in status; killed with a job
# queued, the worker fails its build cleanly: both jobs settled, every
# artifact as it was, no temporary wheel, and the next build works.
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
wait "$coord" 2>/dev/null
SPOKE_FAULT_DELAY=worker:150 SPOKE_QUEUE_JOB_MS=100000 serve "$T/serve3.err" -j 1
sums() { sha256sum "$d"/libhello*.so; }
before=$(sums)
build 6 >"$T/b6.out" 2>&1 &
b6=$!
queued=""
for i in $(seq 300); do
	"$SPOKE" status --state-dir "$state" --json >"$T/st.json" 2>/dev/null &&
		grep -q '"queued": *1' "$T/st.json" && { queued=1; break; }
	sleep 0.02
done
[ -n "$queued" ] && ok "a job waits queued behind the busy worker's" ||
	{ not_ok "a job waits queued behind the busy worker's"; sed 's/^/#   /' "$T/st.json"; }
check "  status says so" sh -c "'$SPOKE' status --state-dir '$state' | grep -q '1 job(s) queued behind them'"
victim=$(workers)
[ -n "$victim" ] && kill -9 $victim
wait $b6
rc=$?
[ $rc -ne 0 ] && ok "the worker killed with a job queued fails the build" ||
	not_ok "the worker killed with a job queued fails the build (exit 0)"
check "  the error names the dead worker" grep -Eq "worker for .* (died|exited without a result)" "$T/b6.out"
[ "$(sums)" = "$before" ] && ok "  every artifact is as it was" || not_ok "  every artifact is as it was"
check "  no temporary wheel is left" sh -c "! ls -A '$T/out6' 2>/dev/null | grep -q spoke-tmp"
check_status "  nothing is left unsettled" 0 "$SPOKE" status --state-dir "$state" --json
check "  (the journal agrees)" grep -q '"unsettled": *\[\]' "$T/last.out"
check "the next build succeeds" build 7
check "  every wheel is valid" wheels_valid "$T/out7"
[ "$(ls "$T/out7"/*.whl | wc -l)" -eq 6 ] && ok "  with all six wheels" || not_ok "  with all six wheels"
# Its wheels' "done" is journaled in one batch at the end (after the
# directory fsync), yet the log ends each wheel's package step at its own
# result, not at that batch.  Every wheel's intent is journaled at once,
# before the first job, so batched ends would make all six steps the same
# length; with these slow workers they are seconds apart.
check_status "spoke log of that build" 0 "$SPOKE" log --state-dir "$state"
steps=$(grep -o 'package [0-9.]* ms' "$T/last.out" | awk '{ print $2 }')
n=$(echo "$steps" | grep -c .)
spread=$(echo "$steps" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%d", hi - lo }')
[ "$n" -eq 6 ] && [ "$spread" -gt 1000 ] && ok "  each package step ends at its own wheel ($n wheels, $spread ms apart)" ||
	{ not_ok "  each package step ends at its own wheel ($n wheels, $spread ms apart)"; sed 's/^/#   /' "$T/last.out"; }
check "  and no rename step: the worker renames" sh -c "! grep -q 'rename [0-9]' '$T/last.out'"
third=$(workers)

# stop returns only once the workers are gone: none is left behind.
check "spoke stop" "$SPOKE" stop --state-dir "$state"
wait "$coord" 2>/dev/null
left=""
for p in $third; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -z "$left" ] && ok "no worker outlives spoke stop" || not_ok "workers left after spoke stop:$left"

# Every event and result names its job (worker/job.h); a worker that
# answers for another job (SPOKE_FAULT_WRONG_JOB: the job after its own)
# is ended and its build fails, naming the mismatch; the coordinator
# lives on, and every artifact goes back.
before=$(sums)
SPOKE_FAULT_WRONG_JOB=1 serve "$T/serve-wrong.err" -j 2
check_status "a worker answering for another job: the build fails" 1 build 8
check "  the message names the job it answered for" grep -q "answered for job" "$T/last.out"
kill -0 "$coord" 2>/dev/null && ok "  the coordinator lives on" || not_ok "  the coordinator lives on"
check_status "  and still answers" 0 "$SPOKE" status --state-dir "$state"
[ "$(sums)" = "$before" ] && ok "  every artifact is as it was" || not_ok "  every artifact is as it was"
check "  no temporary wheel is left" sh -c "! ls -A '$T/out8' 2>/dev/null | grep -q spoke-tmp"
check "spoke stop" "$SPOKE" stop --state-dir "$state"
wait "$coord" 2>/dev/null
finish
