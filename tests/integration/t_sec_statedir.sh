#!/bin/bash
# The state directory against another local user (issue 15, finding 2).
#
# (a) A state directory under a folder that another user owns, or may
#     write, is refused before anything is staged, with a message naming
#     the folder and SPOKE_SAFE_DIRECTORIES; with that opt-in it is used.
# (b) With the opt-in, the other user swaps the state directory for a
#     symlink to a folder of its own, again and again (an atomic
#     renameat2(RENAME_EXCHANGE), so the path is always one or the other),
#     while root builds in link and in move mode.  SPOKE_FAULT_DELAY slows
#     the coordinator down at every durable step, between the client's
#     check of the path and the coordinator's links and renames, so that
#     a path-based move would go through the symlink in most builds.  Each
#     build succeeds or fails with a clear error; at the end nothing of
#     root's is in the other user's folder, every cargo output is at its
#     path with its inode and bytes, and `spoke recover` settles all.
# (c) Cargo outputs in a folder another user owns are refused the same
#     way, with the state directory elsewhere.
. "$(dirname "$0")/lib.sh"

if ! second_user; then
	echo "ok 1 # SKIP needs root, useradd and setpriv for a second user"
	echo "1..1"
	exit 0
fi

# Three small extension modules, built in a blink: --artifacts needs no
# cargo, and what is staged here is what a cargo output would be.
arts="$T/arts"
mkdir -p "$arts"
printf '{"artifacts": [' >"$arts/artifacts.json"
for i in 1 2 3; do
	printf 'void *PyInit_m%d(void) { return 0; }\n' "$i" |
		cc -shared -fPIC -o "$arts/libm$i.so" -x c - || {
		not_ok "cc builds a test module"
		finish
		exit 1
	}
	[ "$i" -gt 1 ] && printf ',' >>"$arts/artifacts.json"
	printf '{"path": "libm%d.so", "distribution": "m%d", "version": "1.0", "module": "m%d"}' \
		"$i" "$i" "$i" >>"$arts/artifacts.json"
done
printf ']}\n' >>"$arts/artifacts.json"
arts_snapshot() {
	local f
	for f in "$arts"/libm*.so; do
		echo "$f $(stat -c %i "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
	done
}
arts_snapshot >"$T/arts.before"
arts_intact() { diff "$T/arts.before" <(arts_snapshot 2>&1); }

build() { # build STATE MODE [ENV...]
	local st=$1 mode=$2
	shift 2
	env "$@" "$SPOKE" build -q -i "$PY" --artifacts "$arts/artifacts.json" \
		-o "$T/wheels" --state-dir "$st" --stage="$mode"
}

# (a) Folders of another user above the state directory.
shared="$T/shared"
mkdir -m 755 "$shared"
chown "$OTHER_UID:$OTHER_GID" "$shared"
check_status "a state directory in a folder another user owns is refused" 1 \
	build "$shared/state" link
check "... the message names the folder" grep -qF "folder '$shared' is owned by uid $OTHER_UID" "$T/last.out"
check "... and the opt-in" grep -q "SPOKE_SAFE_DIRECTORIES" "$T/last.out"
check "... nothing was made in it" test -z "$(ls -A "$shared")"
check "... no cargo output was touched" arts_intact

open="$T/open"
mkdir -m 777 "$open"
chmod 777 "$open"
check_status "a state directory in a folder others may write is refused" 1 \
	build "$open/deeper/state" move
check "... the message names the folder" grep -qF "folder '$open' is writable by other users" "$T/last.out"
check "... and the opt-in" grep -q "SPOKE_SAFE_DIRECTORIES" "$T/last.out"
check "... nothing was made in it" test -z "$(ls -A "$open")"
check "... no cargo output was touched" arts_intact

st="$shared/state"
check "with SPOKE_SAFE_DIRECTORIES naming the folder, the build runs" \
	build "$st" link SPOKE_SAFE_DIRECTORIES="$shared"
check "... and wrote its wheels" bash -c "ls '$T'/wheels/m1-1.0-*.whl"
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
check_status "... without it, spoke recover refuses that state directory" 1 \
	"$SPOKE" recover --state-dir "$st"
check "... naming the folder and the opt-in" grep -q "'$shared' is owned by .*SPOKE_SAFE_DIRECTORIES" "$T/last.out"
check "an entry covers the folders below it" \
	build "$open/deeper/state" move SPOKE_SAFE_DIRECTORIES="/nonexistent:$open"
"$SPOKE" stop --state-dir "$open/deeper/state" >/dev/null 2>&1
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1

# (b) The swap, in both modes.
evil="$T/evil"
mkdir -m 755 "$evil" "$evil/staged" "$evil/quarantine" "$evil/log"
chown -R "$OTHER_UID:$OTHER_GID" "$evil"
cat >"$T/swapper.py" <<'PY'
# As the other user: exchange <shared>/state with a symlink to <evil>
# every few milliseconds until <stop> exists (at most 120 s), then leave
# the real directory at its name.
import ctypes, os, sys, time
shared, evil, stop = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
os.chdir(shared)
os.symlink(evil, "state.lnk")
def exchange():
    if libc.renameat2(AT_FDCWD, b"state", AT_FDCWD, b"state.lnk",
                      RENAME_EXCHANGE) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
n, end = 0, time.time() + 120
open("started", "w").close()
while not os.path.exists(stop) and time.time() < end:
    exchange()
    n += 1
    time.sleep(0.004 if os.path.islink("state") else 0.002)
if os.path.islink("state"):
    exchange()
print(n)
PY

race() { # race MODE BUILDS
	local mode=$1 builds=$2 i ok=0 refused=0 failed=0 pid
	rm -f "$shared/stop" "$shared/started" "$shared/state.lnk"
	# The coordinator first, from the real directory, slowed down at
	# every link, rename, fsync and commit by 15 ms.
	SPOKE_SAFE_DIRECTORIES="$shared" SPOKE_FAULT_DELAY=server:15 \
		"$SPOKE" serve --state-dir "$st" -j 2 --idle-timeout 300 \
		2>"$T/serve-$mode.err" &
	pid=$!
	await_coordinator "$st" "$pid" || {
		not_ok "$mode: the coordinator starts"
		return
	}
	as_other "$PY" "$T/swapper.py" "$shared" "$evil" "$shared/stop" \
		>"$T/swaps-$mode" 2>"$T/swapper-$mode.err" &
	wait_for 10 test -e "$shared/started"
	for ((i = 0; i < builds; i++)); do
		if build "$st" "$mode" SPOKE_SAFE_DIRECTORIES="$shared" \
			>"$T/race.out" 2>&1; then
			ok=$((ok + 1))
		elif grep -q "^spoke: " "$T/race.out"; then
			if grep -q "owned by uid $OTHER_UID" "$T/race.out"; then
				refused=$((refused + 1))
			else
				failed=$((failed + 1))
			fi
			cp "$T/race.out" "$T/race-$mode-$i.out"
		else
			not_ok "$mode: build $i failed without a message"
			sed 's/^/#   /' "$T/race.out"
		fi
	done
	touch "$shared/stop"
	wait_for 10 test -s "$T/swaps-$mode"
	echo "# $mode: $builds builds while the other user swapped the state directory $(cat "$T/swaps-$mode") times: $ok built, $refused refused at the client's check, $failed failed"
	check "$mode: the swapper ran and left the real directory in place" \
		bash -c "[ -s '$T/swaps-$mode' ] && [ -d '$st' ] && [ ! -L '$st' ] && [ -f '$st/journal.db' ]"
	SPOKE_SAFE_DIRECTORIES="$shared" "$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
	wait "$pid"
	check "$mode: nothing of root's reached the other user's folder" \
		bash -c "[ -z \"\$(find '$evil' -mindepth 1 -not -type d)\" ] && [ -z \"\$(find '$evil' -mindepth 2)\" ]"
	check "$mode: spoke recover settles everything" \
		env SPOKE_SAFE_DIRECTORIES="$shared" "$SPOKE" recover --state-dir "$st"
	check "$mode: every cargo output is at its path, same inode and bytes" arts_intact
	check "$mode: nothing left staged" test -z "$(ls -A "$st/staged" "$st/quarantine" 2>/dev/null | grep -v ':$' | grep -v '^$')"
	rm -f "$shared/state.lnk"
}

race link "${SPOKE_STATEDIR_BUILDS:-15}"
race move "${SPOKE_STATEDIR_BUILDS:-15}"

# (c) The cargo outputs' own folder, with the state directory somewhere
#     safe (--state-dir of root's): a folder the other user owns could be
#     renamed aside and replaced by a symlink between the stage and the
#     give-back, so it is refused like a state directory's parent, before
#     anything is staged, and used with the opt-in.
theirs="$T/theirs"
mkdir -m 755 "$theirs"
cp "$arts"/libm*.so "$arts/artifacts.json" "$theirs/"
chown "$OTHER_UID:$OTHER_GID" "$theirs"
their_snapshot() { stat -c '%n %i' "$theirs"/libm*.so; }
their_snapshot >"$T/theirs.before"
for mode in link move; do
	check_status "$mode: cargo outputs in a folder another user owns are refused" 1 \
		"$SPOKE" build -q -i "$PY" --artifacts "$theirs/artifacts.json" \
		-o "$T/wheels-c" --state-dir "$T/state-c" --stage="$mode"
	check "... the message names the folder and the opt-in" \
		grep -qF "cargo output folder '$theirs': its folder '$theirs' is owned by uid $OTHER_UID" "$T/last.out"
	check "... every output is where it was, same inode" \
		diff "$T/theirs.before" <(their_snapshot)
	check "... nothing is staged" test -z "$(ls -A "$T/state-c/staged" 2>/dev/null)"
done
# The opt-in must reach the coordinator too: the one the refused builds
# started did not have it.
"$SPOKE" stop --state-dir "$T/state-c" >/dev/null 2>&1
check "with SPOKE_SAFE_DIRECTORIES naming it, the build runs" \
	env SPOKE_SAFE_DIRECTORIES="$theirs" "$SPOKE" build -q -i "$PY" \
	--artifacts "$theirs/artifacts.json" -o "$T/wheels-c" \
	--state-dir "$T/state-c" --stage=move
"$SPOKE" stop --state-dir "$T/state-c" >/dev/null 2>&1
check "... and gave every output back" diff "$T/theirs.before" <(their_snapshot)
finish
