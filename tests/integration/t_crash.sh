#!/bin/bash
# The crash matrix: kill the coordinator, then a worker, at every crash
# point (each rename, link, unlink, fsync, wheel write, fork and journal
# commit) of a build of the example workspace, in both staging modes.
# After each: the cargo outputs are back at their paths with their inode
# and bytes, nothing temporary is left, every wheel present is valid, and
# cargo is still fresh.  The same for the coordinator of a build whose
# jobs wait queued behind a busy worker's.  Replay itself is then killed
# at each of its steps.
#
# SPOKE_CRASH_STRIDE=N runs every N-th point only (default 1: all).
. "$(dirname "$0")/lib.sh"
prune_hard

STRIDE=${SPOKE_CRASH_STRIDE:-1}
ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
state="$ws/target/spoke"
build() { (cd "$ws" && "$SPOKE" build -q -i "$PY" "$@"); }

# All checks after a crash and its recovery, as one test line.
settled() {
	same_snapshot "$ws" "$T/before" &&
		no_leftovers "$ws" "$state" &&
		wheels_valid "$ws/target/wheels" &&
		cargo_fresh "$ws"
}

# Enumerate the points of one clean build, per role.
rm -f "$T/faults"
SPOKE_FAULT_LOG="$T/faults" build >/dev/null 2>&1
"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
nserver=$(awk '$1 == "server"' "$T/faults" | wc -l)
# A worker's count restarts with each job (common/fault.h).
nworker=$(awk '$1 == "worker" && $2 > m { m = $2 } END { print m + 0 }' "$T/faults")
echo "# crash points per build: coordinator $nserver, worker $nworker"
[ "$nserver" -gt 10 ] && ok "enumerated coordinator crash points ($nserver)" || not_ok "enumerated coordinator crash points ($nserver)"
[ "$nworker" -gt 2 ] && ok "enumerated worker crash points ($nworker)" || not_ok "enumerated worker crash points ($nworker)"
awk '{ print $1, $3 }' "$T/faults" | sort | uniq -c | sed 's/^/# /'

for mode in link move; do
	for ((k = 1; k <= nserver; k += STRIDE)); do
		rm -rf "$ws/target/wheels"
		SPOKE_CRASH_AT="server:$k" build --stage=$mode >"$T/crash.out" 2>&1
		if ((k % 2)); then
			how="spoke recover"
			(cd "$ws" && "$SPOKE" recover) >"$T/recover.out" 2>&1
		else
			# A new coordinator replays the journal before it serves.
			how="next build"
			build --stage=$mode >"$T/recover.out" 2>&1
		fi
		rc=$?
		if [ $rc -eq 0 ] && settled >"$T/settled.out" 2>&1; then
			ok "[$mode] coordinator killed at point $k, $how settles all"
		else
			not_ok "[$mode] coordinator killed at point $k ($(sed -n "${k}p" "$T/faults" | cut -d' ' -f3)), $how (exit $rc)"
			sed 's/^/#   /' "$T/crash.out" "$T/recover.out" "$T/settled.out" | tail -20
		fi
		"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
	done
	for ((k = 1; k <= nworker; k += STRIDE)); do
		rm -rf "$ws/target/wheels"
		SPOKE_CRASH_AT="worker:$k" build --stage=$mode >"$T/crash.out" 2>&1
		rc=$?
		# The coordinator survives a dead worker: it fails the build and
		# gives every artifact back before answering.
		if [ $rc -eq 1 ] && settled >"$T/settled.out" 2>&1; then
			ok "[$mode] worker killed at point $k: build fails, outputs already back"
		else
			not_ok "[$mode] worker killed at point $k (exit $rc)"
			sed 's/^/#   /' "$T/crash.out" "$T/settled.out" | tail -20
		fi
		# That coordinator still carries SPOKE_CRASH_AT: stop it first.
		"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
		check "[$mode] then a build succeeds" build --stage=$mode
		"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
	done
done

# The coordinator killed at every point of a build whose jobs wait queued
# behind the busy worker's (server/sched.c job_queue): four prebuilt
# modules at -j 1, queueing however long the jobs take.  The dead
# coordinator's worker dies with it, queued job and all, and recover
# settles everything.
d="$T/arts"
prebuilt_artifacts "$ws" "$d" 4
astate="$d/.spoke"
abuild() {
	SPOKE_QUEUE_JOB_MS=100000 "$SPOKE" build -q -i "$PY" -j 1 \
		--artifacts "$d/artifacts.json" -o "$d/out" "$@"
}
(cd "$d" && sha256sum ./*.so) >"$T/arts.before"
asettled() {
	(cd "$d" && sha256sum ./*.so) | diff "$T/arts.before" - &&
		no_leftovers "$d" "$astate" &&
		wheels_valid "$d/out"
}
rm -f "$T/afaults"
SPOKE_FAULT_LOG="$T/afaults" abuild >/dev/null 2>&1
"$SPOKE" stop --state-dir "$astate" >/dev/null 2>&1
na=$(awk '$1 == "server"' "$T/afaults" | wc -l)
[ "$na" -gt 10 ] && ok "enumerated the queued build's coordinator points ($na)" ||
	not_ok "enumerated the queued build's coordinator points ($na)"
for ((k = 1; k <= na; k += STRIDE)); do
	rm -rf "$d/out"
	SPOKE_CRASH_AT="server:$k" abuild >"$T/crash.out" 2>&1
	"$SPOKE" recover --state-dir "$astate" >"$T/recover.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && asettled >"$T/settled.out" 2>&1; then
		ok "[queued] coordinator killed at point $k, spoke recover settles all"
	else
		not_ok "[queued] coordinator killed at point $k ($(sed -n "${k}p" "$T/afaults" | cut -d' ' -f3)) (recover exit $rc)"
		sed 's/^/#   /' "$T/crash.out" "$T/recover.out" "$T/settled.out" | tail -20
	fi
	"$SPOKE" stop --state-dir "$astate" >/dev/null 2>&1
done

# A worker must not outlive its coordinator's replay.  Slow every worker
# down (a second at each of its points, the first one just before it
# creates its temporary wheel), kill the coordinator at its first point
# after it handed out the first job, while that job runs, and recover at
# once.  Unless the orphan is
# dead or recover waits for it, it creates its temporary wheel after
# replay has settled the build, and nothing would ever remove it.
first_job=$(awk '$1 == "server" && $3 == "job" { print $2; exit }' "$T/faults")
for mode in link move; do
	rm -rf "$ws/target/wheels"
	SPOKE_FAULT_DELAY=worker:1000 SPOKE_CRASH_AT="server:$((first_job + 1))" \
		build --stage=$mode >"$T/crash.out" 2>&1
	(cd "$ws" && "$SPOKE" recover) >"$T/recover.out" 2>&1
	rc=$?
	# Time for an orphan to reach its writes, had it survived.
	sleep 3
	if [ $rc -eq 0 ] && settled >"$T/settled.out" 2>&1; then
		ok "[$mode] workers still running when the coordinator dies leave nothing after recover"
	else
		not_ok "[$mode] workers still running when the coordinator dies (recover exit $rc)"
		sed 's/^/#   /' "$T/crash.out" "$T/recover.out" "$T/settled.out" | tail -20
	fi
	"$SPOKE" stop --state-dir "$state" >/dev/null 2>&1
done

# Kill replay itself at each of its steps, then run it again.  The state
# to replay: a move-mode build killed when both artifacts are staged.
stage_point=$(awk '$1 == "server" && $3 == "fork" { print $2; exit }' "$T/faults")
for ((m = 1; ; m++)); do
	rm -rf "$ws/target/wheels"
	SPOKE_CRASH_AT="server:$stage_point" build --stage=move >/dev/null 2>&1
	n_missing=$(cd "$ws/target/release" && ls *.so 2>/dev/null | wc -l)
	(cd "$ws" && SPOKE_CRASH_AT="replay:$m" "$SPOKE" recover) >/dev/null 2>&1
	rc=$?
	(cd "$ws" && "$SPOKE" recover) >"$T/recover.out" 2>&1
	rc2=$?
	if [ $rc2 -eq 0 ] && settled >"$T/settled.out" 2>&1; then
		ok "replay killed at its step $m (of a build with $n_missing of 2 outputs in place), replay again settles all"
	else
		not_ok "replay killed at its step $m (exit $rc2)"
		sed 's/^/#   /' "$T/recover.out" "$T/settled.out" | tail -20
	fi
	[ $rc -ne 137 ] && break
	[ $m -gt 100 ] && break
done
finish
