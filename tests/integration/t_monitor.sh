#!/bin/bash
# For people and for CI: spoke log, spoke status, the live progress line,
# replacing a coordinator of another version, and a stale socket.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
state="$ws/target/spoke"
in_ws() { (cd "$ws" && "$@"); }

check "a build" in_ws "$SPOKE" build -q -i "$PY"
check_status "spoke log shows it" 0 in_ws "$SPOKE" log
check "  with its state" grep -Eq '^build [0-9]+: succeeded' "$T/last.out"
# The worker renames its own wheel: packaging ends at its rename.
check "  and per-step durations per artifact" grep -Eq 'libhello.so: +stage [0-9.]+ ms +package [0-9.]+ ms +give back [0-9.]+ ms' "$T/last.out"
check_status "spoke log --json" 0 in_ws "$SPOKE" log --json
check "  has the timeline" "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
kinds = [e["kind"] for e in r["events"]]
for k in ("build running", "staging", "staged", "wheel writing", "wheel done", "restoring", "restored", "build succeeded"):
    assert k in kinds, (k, kinds)
assert r["type"] == "result" and r["ok"] is True
' "$T/last.out"
check_status "spoke log of a build that does not exist: exit 1" 1 in_ws "$SPOKE" log 9999
check "  says so" grep -q "no build 9999" "$T/last.out"
check_status "spoke log with a bad argument: exit 2" 2 in_ws "$SPOKE" log x1

# Pruning: a coordinator that keeps 2 builds deletes the older ones once
# idle; spoke log then says a build was pruned, not that there is none.
in_ws "$SPOKE" stop >/dev/null 2>&1
check_status "spoke serve --keep-builds 0: usage error" 2 "$SPOKE" serve --keep-builds 0 --state-dir "$state"
"$SPOKE" serve --keep-builds 2 --state-dir "$state" 2>"$T/serve.log" &
serve_pid=$!
if await_coordinator "$state" $serve_pid; then
	for i in 1 2 3; do in_ws "$SPOKE" build -q -i "$PY" >/dev/null 2>&1; done
	pruned() { in_ws "$SPOKE" log 1 >"$T/pruned.out" 2>&1; grep -q "build 1 was pruned" "$T/pruned.out"; }
	check "spoke log of a pruned build says it was pruned" wait_for 20 pruned
	check_status "  and exits 1" 1 in_ws "$SPOKE" log 1
	check_status "the kept builds are still there" 0 in_ws "$SPOKE" log 4
	check_status "spoke status shows the journal" 0 in_ws "$SPOKE" status
	check "  its size and what it keeps" grep -Eq '^journal: [0-9.]+ KB .*keeps the last 2 builds' "$T/last.out"
else
	not_ok "spoke serve --keep-builds 2 starts"
fi
in_ws "$SPOKE" stop >/dev/null 2>&1
wait $serve_pid 2>/dev/null

# A failed build shows its error in the log.
in_ws "$SPOKE" stop >/dev/null 2>&1
# --force: the wheels of the build above are unchanged, and would be
# reused without a worker to crash.
SPOKE_CRASH_AT=worker:1 in_ws "$SPOKE" build -q -i "$PY" --force >/dev/null 2>&1
in_ws "$SPOKE" stop >/dev/null 2>&1
check_status "spoke log of the failed build" 0 in_ws "$SPOKE" log
check "  says failed, with the error" bash -c "grep -q 'failed' '$T/last.out' && grep -q '^error: ' '$T/last.out'"

# The live progress line: on a terminal only.
check_status "on a terminal, a progress line" 0 script -qec "cd '$ws' && '$SPOKE' build -i '$PY'" /dev/null
check "  shows jobs done / total" grep -Eq 'packaging \[([0-9]+)/\1\]' "$T/last.out"
check_status "not on a terminal" 0 in_ws "$SPOKE" build -i "$PY"
check "  no progress line" bash -c "! grep -q 'packaging \[' '$T/last.out'"

# spoke status shows the coordinator and its workers.
check_status "spoke status" 0 in_ws "$SPOKE" status
check "  shows the coordinator running" grep -q 'coordinator: running (pid' "$T/last.out"

# A coordinator of another version is replaced cleanly.
in_ws "$SPOKE" stop >/dev/null 2>&1
SPOKE_TEST_VERSION=0.0.0-old "$SPOKE" serve --state-dir "$state" >/dev/null 2>&1 &
old=$!
check "an old coordinator starts" await_coordinator "$state" $old
check_status "a build meets an old coordinator" 0 in_ws "$SPOKE" build -i "$PY"
check "  and says it replaces it" grep -q 'replacing coordinator 0.0.0-old' "$T/last.out"
check "  the old one exited" wait_for 10 bash -c "! kill -0 $old 2>/dev/null"
new=$(in_ws "$SPOKE" status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("pid", 0))')
check "  a new one of this version runs" test "$new" -gt 0 -a "$new" != "$old"

# A stale socket (its coordinator killed) is detected and replaced.
# (Never "kill 0": that is this test's whole process group.)
[ "$new" -gt 0 ] && kill -9 "$new"
sleep 0.2
sock=$(ls "$XDG_RUNTIME_DIR"/spoke/*.sock)
check "the dead coordinator's socket is still there" test -S "$sock"
check "a build after it works" in_ws "$SPOKE" build -q -i "$PY"
finish
