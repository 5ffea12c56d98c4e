#!/bin/bash
# The kill matrix, from outside: strace sends SIGKILL to the coordinator
# or a worker as it enters its N-th call of one kind (write, pwrite64,
# fsync, fdatasync, rename, link, unlink, openat, mkdir, clone), for every
# N that a clean build reaches.  The process dies before the call runs,
# as with `kill -9` between two instructions.  t_crash kills at the
# points spoke itself names; this one needs no cooperation from the code,
# so it also reaches the calls nobody thought to name (SQLite's own
# writes, a log line, a socket reply, the fork of a worker).
#
# After each: the client ends (never hangs) without a sanitizer report,
# `spoke recover` settles everything, every cargo output has its inode and
# bytes, nothing temporary is left, every wheel present is valid, and the
# journal holds nothing unsettled.  Then replay itself is killed the same
# way, at each call of a `spoke recover` that has cargo outputs to put
# back, and a second `spoke recover` must settle everything.
#
# SPOKE_KILL_STRIDE=N runs every N-th point only (default 1 in the plain
# build, 3 in the sanitizer build); pwrite64 runs at twice the stride:
# it is SQLite's page writes, a hundred or more per build, and every
# commit is still killed on its own through fdatasync.
# SPOKE_KILL_KINDS narrows the matrix to some kinds.
. "$(dirname "$0")/lib.sh"
prune_hard
. "$(dirname "$0")/traced.sh"

STRIDE=${SPOKE_KILL_STRIDE:-$((sanitized ? 3 : 1))}
KINDS=${SPOKE_KILL_KINDS-rename link unlink fsync fdatasync clone mkdir openat write pwrite64}

# counts FILE [SKIP-PID]: the most calls of each kind that one traced
# process (not SKIP-PID) made, as "kind n" lines.  Without -f strace
# writes no pid before each call: all lines are the coordinator's.
counts() {
	local kind
	for kind in $KINDS; do
		echo "$kind $(grep -E "^([0-9]+ +)?($(echo "${SETS[$kind]}" | tr ',' '|'))\(" "$1" |
			awk -v skip="${2:-}" '$1 != skip { n[$1 ~ /^[0-9]+$/ ? $1 : 0]++ }
				END { m = 0; for (p in n) if (n[p] > m) m = n[p]; print m }')"
	done
}

# A clean, traced build in each staging mode, first with the coordinator
# alone traced (strace without -f), then with its workers ("any": the
# first process to reach its N-th call dies): how far N goes for each
# kind.  With -f, N stops at the most calls a worker makes: a larger N
# kills the coordinator, which the first runs cover already.
all=$(echo "${SETS[@]}" | tr ' ' ',')
declare -A COUNT
for mode in link move; do
	for who in coordinator any; do
		rm -rf "$st" "$out"
		f=-f
		[ $who = coordinator ] && f=
		if ! serve $f -e trace="$all"; then
			not_ok "[$mode, $who] a traced coordinator starts"
			finish
			exit 1
		fi
		BUILD_ARGS=(--stage=$mode)
		check "[$mode, $who] a traced clean build succeeds" build
		stop_serve
		while read -r kind n; do
			COUNT[$mode,$who,$kind]=$n
			echo "# [$mode, $who] $kind: at most $n calls per process${f:+ (workers)}"
		done < <(counts "$T/strace.out" \
			"$([ $who = any ] && awk '{ print $1; exit }' "$T/strace.out")")
	done
done
# Else the matrix below would run nothing and pass.
[ "${COUNT[move,coordinator,rename]:-1}" -gt 0 ] && [ "${COUNT[link,any,fsync]:-1}" -gt 0 ] &&
	ok "the coordinator renames and the workers fsync" ||
	not_ok "saw no rename by the coordinator or fsync by a worker"

killed=0
# kill_at WHAT STRACE-ARGS...: one run, one process killed.
kill_at() {
	local what=$1
	shift
	rm -rf "$st" "$out"
	local started=1 rc=0 rrc
	serve "$@" || started=0
	if [ $started -eq 1 ]; then
		build >"$T/build.out" 2>&1
		rc=$?
	fi
	stop_serve
	# A coordinator killed in the middle leaves its socket: recover
	# must see it is stale, and settle what the build left.
	"$SPOKE" recover --state-dir "$st" >"$T/recover.out" 2>&1
	rrc=$?
	grep -q '+++ killed by SIGKILL' "$T/strace.out" && killed=$((killed + 1))
	local how="build exit $rc"
	[ $started -eq 1 ] || how="killed while starting"
	if [ $rrc -eq 0 ] && [ $rc -le 1 ] && settled >"$T/settled.out" 2>&1; then
		ok "$what: $how, recover settles all"
	else
		not_ok "$what: build exit $rc (started $started), recover exit $rrc"
		sed 's/^/#   /' "$T/build.out" "$T/recover.out" \
			"$T/settled.out" 2>/dev/null | tail -20
		grep -B2 'killed by SIGKILL' "$T/strace.out" | sed 's/^/#   /' | head -6
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$T/serve.err" "$T/build.out" "$T/recover.out" 2>/dev/null; then
		not_ok "$what: sanitizer report"
		grep -hE -A15 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"$T/serve.err" "$T/build.out" "$T/recover.out" |
			sed 's/^/#   /' | head -30
	fi
}

runs=0
for mode in link move; do
	BUILD_ARGS=(--stage=$mode)
	for who in coordinator any; do
		f=-f
		[ $who = coordinator ] && f=
		for kind in $KINDS; do
			kstep=$STRIDE
			[ $kind = pwrite64 ] && kstep=$((STRIDE * 2))
			for ((n = 1; n <= COUNT[$mode,$who,$kind]; n += kstep)); do
				# bash tells of each killed background job on
				# stderr: noise here.
				kill_at "[$mode, $who] $kind #$n" $f \
					-e trace="${SETS[$kind]}" \
					-e inject="${SETS[$kind]}:signal=SIGKILL:when=$n" \
					2>>"$T/jobs.err"
				runs=$((runs + 1))
			done
		done
	done
done
BUILD_ARGS=()
echo "# $killed of $runs runs killed a process"
# A strace that ignored the injection would pass every check above
# without testing anything.  Each run's N is one a clean build reached,
# but not every build makes as many calls (the workers race, and what a
# killed build left varies), so the last few N may not be reached: half
# the runs must have killed a process.
[ $((killed * 2)) -ge $runs ] &&
	ok "the kills fired ($killed of $runs runs)" ||
	not_ok "the kills fired in only $killed of $runs runs"

# Replay killed: a move-mode build whose coordinator dies at its 6th
# rename (all four outputs staged, one given back) leaves three cargo
# outputs away; then `spoke recover`, which replays in its own process,
# is killed at its N-th call of each kind, and a second `spoke recover`
# must still settle everything.
crashed() {
	rm -rf "$st" "$out"
	BUILD_ARGS=(--stage=move)
	serve -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:signal=SIGKILL:when=6 &&
		build >/dev/null 2>&1
	stop_serve
	BUILD_ARGS=()
	! same_snapshot "$ws" "$T/before" >/dev/null
}
if crashed 2>>"$T/jobs.err"; then
	ok "a killed move-mode build left cargo outputs for replay to put back"
else
	not_ok "the killed build left nothing for replay to do"
fi
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -o "$T/strace.out" -e trace="$all" \
	"$SPOKE" recover --state-dir "$st" >"$T/recover.out" 2>&1
check "a traced recover settles the killed build" settled
declare -A RCOUNT
while read -r kind n; do
	RCOUNT[$kind]=$n
	echo "# recover: $kind: at most $n calls"
done < <(counts "$T/strace.out")
rruns=0
rkilled=0
for kind in $KINDS; do
	kstep=$STRIDE
	[ $kind = pwrite64 ] && kstep=$((STRIDE * 2))
	for ((n = 1; n <= RCOUNT[$kind]; n += kstep)); do
		crashed 2>>"$T/jobs.err"
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -o "$T/strace.out" -e trace="${SETS[$kind]}" \
			-e inject="${SETS[$kind]}:signal=SIGKILL:when=$n" \
			"$SPOKE" recover --state-dir "$st" >/dev/null 2>&1
		grep -q '+++ killed by SIGKILL' "$T/strace.out" &&
			rkilled=$((rkilled + 1))
		rruns=$((rruns + 1))
		"$SPOKE" recover --state-dir "$st" >"$T/recover.out" 2>&1
		rrc=$?
		if [ $rrc -eq 0 ] && settled >"$T/settled.out" 2>&1; then
			ok "recover killed at $kind #$n: a second recover settles all"
		else
			not_ok "recover killed at $kind #$n: the second recover exits $rrc"
			sed 's/^/#   /' "$T/recover.out" "$T/settled.out" | tail -20
		fi
	done
done
echo "# $rkilled of $rruns recover runs were killed"
[ $((rkilled * 2)) -ge $rruns ] &&
	ok "the kills of recover fired ($rkilled of $rruns runs)" ||
	not_ok "the kills of recover fired in only $rkilled of $rruns runs"

check "cargo is still fresh after the kills" cargo_fresh "$ws"
finish
