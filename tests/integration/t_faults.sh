#!/bin/bash
# I/O faults: ENOSPC and EIO injected with strace into the N-th write,
# pwrite64 (SQLite's pages), fsync, fdatasync (SQLite's commits), rename,
# link, unlink, openat and mkdir of the coordinator and of its workers,
# for every N that a clean build reaches.  After each: the build fails
# with a message naming the path and the cause (or succeeds, when the
# failed call was one spoke may ignore, such as a log line), `spoke
# recover` settles everything, every cargo output has its inode and bytes,
# nothing temporary is left and the journal holds nothing unsettled.  Then a real full disk: a small tmpfs
# holding the state directory and the wheels.
#
# SPOKE_FAULT_STRIDE=N runs every N-th point only (default 1 in the plain
# build, 3 in the sanitizer build).  EIO runs at twice the stride of
# ENOSPC, since spoke handles both through the same paths, and pwrite64 at
# three times: SQLite writes several pages per commit, and every commit is
# still failed on its own through fdatasync.
. "$(dirname "$0")/lib.sh"
prune_hard
. "$(dirname "$0")/traced.sh"

STRIDE=${SPOKE_FAULT_STRIDE:-$((sanitized ? 3 : 1))}
# Temporary files named by a count, not at random (fault.h), so that the
# workers' matrix below can name the wheels' temporaries to strace -P.
export SPOKE_FAULT_FIXED_NAMES=1
# SPOKE_FAULT_KINDS narrows the matrix to some kinds (for debugging).
KINDS=${SPOKE_FAULT_KINDS-write pwrite64 fsync fdatasync rename link unlink openat mkdir}

# The message of a failure names a path and the cause.
CAUSE="No space left on device|Input/output error|database or disk is full|disk I/O error"
clear_message() {
	grep -Eq "'/[^']*'.*($CAUSE)" "$1"
}

# One clean, traced build: how many calls of each kind each process makes,
# and the temporary names of the wheels (a fresh journal numbers the build
# 1, so they are the same in every run below).
rm -rf "$st" "$out"
all=$(echo "${SETS[@]}" | tr ' ' ',')
if ! serve -f -e trace="$all"; then
	not_ok "a traced coordinator starts"
	finish
	exit 1
fi
check "a traced clean build succeeds" build
stop_serve
# The worker creates each relative to the output folder's descriptor.
tmps=$(grep -o '"\.[^"/]*\.spoke-tmp"' "$T/strace.out" | tr -d '"' | sort -u | sed "s|^|$out/|")
[ -n "$tmps" ] && ok "found the temporary wheel names" ||
	not_ok "found the temporary wheel names"
declare -A COUNT
for kind in $KINDS; do
	re="^[0-9]+ +($(echo "${SETS[$kind]}" | tr ',' '|'))\("
	COUNT[$kind]=$(grep -E "$re" "$T/strace.out" | awk '{ n[$1]++ } END { m = 0; for (p in n) if (n[p] > m) m = n[p]; print m }')
	echo "# $kind: at most ${COUNT[$kind]} calls per process"
done
pathargs=()
for p in $tmps; do pathargs+=(-P "$p"); done
# The workers are the processes that create a temporary wheel.
wpids=$(grep -E 'spoke-tmp", O_(WRONLY|RDWR)\|O_CREAT' "$T/strace.out" | awk '{ print $1 }' | sort -u | paste -sd'|')
[ -n "$wpids" ] && ok "found the workers (they create the temporary wheels)" || not_ok "found no worker in the strace output"
declare -A WCOUNT
for kind in write pwrite64 fsync; do
	WCOUNT[$kind]=$(grep -E "^($wpids) +$kind\(" "$T/strace.out" | awk '{ n[$1]++ } END { m = 0; for (p in n) if (n[p] > m) m = n[p]; print m }')
	echo "# worker $kind: at most ${WCOUNT[$kind]} calls per worker"
done
# Else the workers' matrix below would run nothing and pass.
[ $((WCOUNT[write] + WCOUNT[pwrite64])) -gt 0 ] && [ "${WCOUNT[fsync]}" -gt 0 ] &&
	ok "the workers write and fsync their wheels" ||
	not_ok "saw no worker write or fsync its wheel"

# inject WHAT ERRNO STRACE-ARGS...: one run with one injected fault.
inject() {
	local what=$1 err=$2
	shift 2
	rm -rf "$st" "$out"
	if ! serve -f "$@"; then
		# Failing at start (the journal could not be opened or
		# replayed) is fine when it says why, and does not call a
		# journal the disk failed to write damaged.
		wait "$serve_pid" 2>/dev/null
		if clear_message "$T/serve.err" &&
			! grep -q 'Move the journal aside' "$T/serve.err" &&
			"$SPOKE" recover --state-dir "$st" >"$T/recover.out" 2>&1 &&
			settled >"$T/settled.out" 2>&1; then
			ok "$what: the coordinator refuses to start, saying why"
		else
			not_ok "$what: the coordinator failed at start"
			sed 's/^/#   /' "$T/serve.err" "$T/recover.out" \
				"$T/settled.out" 2>/dev/null | tail -20
		fi
		return
	fi
	build >"$T/build.out" 2>&1
	local rc=$? alive=1 rrc
	kill -0 "$serve_pid" 2>/dev/null || alive=0
	stop_serve
	"$SPOKE" recover --state-dir "$st" >"$T/recover.out" 2>&1
	rrc=$?
	local fired=0
	grep -q INJECTED "$T/strace.out" && fired=1
	if [ $rrc -eq 0 ] && settled >"$T/settled.out" 2>&1 &&
		{ [ $rc -eq 0 ] || { [ $rc -eq 1 ] && clear_message "$T/build.out"; }; }; then
		if [ $rc -eq 0 ]; then
			ok "$what: build succeeds (fault fired: $fired), all intact"
		else
			ok "$what: build fails clearly, recover settles all"
		fi
	else
		not_ok "$what: build exit $rc, recover exit $rrc, coordinator alive $alive"
		sed 's/^/#   /' "$T/build.out" "$T/recover.out" \
			"$T/settled.out" 2>/dev/null | tail -20
		grep INJECTED "$T/strace.out" | sed 's/^/#   /' | head -3
	fi
	# A failed build never takes the coordinator down.
	[ $alive -eq 1 ] || not_ok "$what: the coordinator died"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/serve.err"; then
		not_ok "$what: sanitizer report"
		grep -E -A15 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"$T/serve.err" | sed 's/^/#   /' | head -30
	fi
}

for err in ENOSPC EIO; do
	step=$STRIDE
	[ $err = EIO ] && step=$((STRIDE * 2))
	for kind in $KINDS; do
		kstep=$step
		[ $kind = pwrite64 ] && kstep=$((step * 3))
		for ((n = 1; n <= COUNT[$kind]; n += kstep)); do
			inject "[$err] coordinator and workers: $kind #$n" $err \
				-e trace="${SETS[$kind]}" \
				-e inject="${SETS[$kind]}:error=$err:when=$n"
		done
	done
	# The workers alone: their writes (pwrite64: the wheel writer gives
	# every write its offset) and fsync of the wheel.
	for kind in write pwrite64 fsync; do
		case " $KINDS " in *" $kind "*) ;; *) continue ;; esac
		for ((n = 1; n <= WCOUNT[$kind]; n += step)); do
			inject "[$err] workers: wheel $kind #$n" $err \
				"${pathargs[@]}" -e trace="${SETS[$kind]}" \
				-e inject="${SETS[$kind]}:error=$err:when=$n"
		done
	done
done
# Move mode: the renames that take cargo's file away and give it back
# (two more per artifact than in link mode).
BUILD_ARGS=(--stage=move)
case " $KINDS " in *" rename "*) nmove=$((COUNT[rename] + 4)) ;; *) nmove=0 ;; esac
for ((n = 1; n <= nmove; n += STRIDE)); do
	inject "[ENOSPC] --stage=move: rename #$n" ENOSPC \
		-e trace="${SETS[rename]}" \
		-e inject="${SETS[rename]}:error=ENOSPC:when=$n"
done
BUILD_ARGS=()

check "cargo is still fresh after the fault runs" cargo_fresh "$ws"

# A real full disk: a small tmpfs holds the state directory and the
# wheels, cargo's target stays where it is, so staging falls back to a
# copy (EXDEV).  First too small for the staged copies, then big enough
# for them but not for the wheels.
mnt="$T/small"
mkdir -p "$mnt"
trap 'umount "$mnt" 2>/dev/null; cleanup' EXIT
so_kb=$(du -k "$ws"/target/release/*.so | awk '{ s += $1 } END { print s }')
full_disk() {
	local what=$1 size_kb=$2
	umount "$mnt" 2>/dev/null
	if ! mount -t tmpfs -o size=${size_kb}k,mode=700 tmpfs "$mnt" 2>/dev/null; then
		TESTS=$((TESTS + 1))
		echo "ok $TESTS # SKIP cannot mount a tmpfs (not root?)"
		return
	fi
	local fst="$mnt/state" fout="$mnt/wheels"
	(cd "$ws" && "$SPOKE" build -q -i "$PY" --state-dir "$fst" -o "$fout") \
		>"$T/full.out" 2>&1
	local rc=$?
	cp "$T/full.out" "$T/last.out"
	if [ $rc -eq 1 ] && grep -q "No space left on device" "$T/full.out" &&
		grep -q "'$mnt/" "$T/full.out"; then
		ok "full disk ($what): the build fails naming the path and ENOSPC"
	else
		not_ok "full disk ($what): exit $rc"
		sed 's/^/#   /' "$T/full.out" | tail -10
	fi
	"$SPOKE" stop --state-dir "$fst" >/dev/null 2>&1
	check "full disk ($what): cargo outputs intact" same_snapshot "$ws" "$T/before"
	check "full disk ($what): recover on the full disk settles all" \
		"$SPOKE" recover --state-dir "$fst"
	check "full disk ($what): nothing left over" \
		bash -c "! find '$mnt' '$ws/target' \\( -name '*.spoke-tmp' -o -name '*.tmp' -o -path '*/staged/*' \\) | grep -q ."
	check "full disk ($what): no wheel half written" \
		bash -c "! ls '$fout'/*.whl 2>/dev/null | grep -q . || '$PY' -c 'import zipfile, sys; [zipfile.ZipFile(w).testzip() for w in sys.argv[1:]]' '$fout'/*.whl"
	st=$fst check "full disk ($what): the journal holds nothing unsettled" nothing_unsettled
	"$SPOKE" stop --state-dir "$fst" >/dev/null 2>&1
	umount "$mnt"
}
full_disk "the staged copies do not fit" 2048
full_disk "the wheels do not fit" $((so_kb + 768))
check "cargo is still fresh after the full disks" cargo_fresh "$ws"
finish
