#!/bin/bash
# Issue 15, attack 1: another local user prepares the wheelhouse root
# writes to.  The other user creates the output folder in a shared 1777
# folder beforehand and plants symlinks at every name spoke used to write
# through (the debug file's "<file>.tmp-<pid>" for a range of pids, the
# final ".debug", the debug/, debug/.build-id/ and debug/.build-id/xx/
# folders), pointing at a root-only 0600 file and a root-owned folder.
# Then root runs `spoke repair --split-debug -w DIR` and `spoke build
# --split-debug -o DIR`.  Whatever happens: no root file changes, nothing
# is written outside DIR, and either the result is right (a planted file
# at a final name is replaced by the rename, never written through) or a
# planted folder symlink is refused with a message naming it.
#
# Also: SIGINT and SIGTERM while `spoke repair` writes leave no temporary
# (the race made certain with SPOKE_FAULT_DELAY at the file's fsync).
. "$(dirname "$0")/lib.sh"

if ! second_user; then
	echo "ok 1 # skip: needs root, useradd and setpriv for a second local user"
	echo "1..1"
	exit 0
fi

# A module with debug info and a build ID, built in a second: C, with the
# PyInit_ symbol the wheel writer looks for.
mkdir -p "$T/lib" "$T/private/rootdir"
cat >"$T/secmod.c" <<'C'
int secmod_mul(int a, int b) { return a * b; }
void *PyInit_secmod(void) { return 0; }
C
cc -shared -fPIC -g -O1 -Wl,--build-id -o "$T/lib/libsecmod.so" "$T/secmod.c" || {
	not_ok "cc builds the test module"; finish; exit 1; }
bid=$(readelf -n "$T/lib/libsecmod.so" | sed -n 's/.*Build ID: //p')
check "the module has a build ID" test -n "$bid"
xx=${bid:0:2}
rest=${bid:2}

# A wheel holding it, for `spoke repair`.
tree="$T/tree/secmod-1.0"
mkdir -p "$tree/secmod-1.0.dist-info" "$T/in"
cp "$T/lib/libsecmod.so" "$tree/secmod.cpython-311-x86_64-linux-gnu.so"
printf 'Metadata-Version: 2.1\nName: secmod\nVersion: 1.0\n' >"$tree/secmod-1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n' \
	>"$tree/secmod-1.0.dist-info/WHEEL"
"$PY" -m wheel pack "$tree" -d "$T/in" >/dev/null
in_whl="$T/in/secmod-1.0-cp311-cp311-linux_x86_64.whl"
check "the input wheel exists" test -f "$in_whl"

# What must not change: a root-only file and a root-owned folder, in a
# folder only root can enter.
chmod 700 "$T/private" "$T/private/rootdir"
printf 'root secret\n' >"$T/private/secret"
chmod 600 "$T/private/secret"
secret_sum=$(sha256sum <"$T/private/secret")
root_state() {
	echo "$(stat -c '%s %Y %i %a %U' "$T/private/secret") $(sha256sum <"$T/private/secret")"
	find "$T/private" -printf '%p %y\n' | sort
}
root_before=$(root_state)
root_unchanged() { [ "$(root_state)" = "$root_before" ]; }

# The shared folder, as /tmp: root's, 1777.
mkdir -p "$T/shared"
chmod 1777 "$T/shared"

# plant DIR: as the other user, DIR with real debug/.build-id/xx/ folders
# (theirs, world-writable) and symlinks to the secret at the final .debug
# and at "<final>.tmp-<pid>" for the next 4000 pids.
plant() {
	as_other "$PY" - "$1" "$T/private/secret" "$xx" "$rest" <<'PYEOF'
import os, sys
d, secret, xx, rest = sys.argv[1:]
dbg = os.path.join(d, "debug", ".build-id", xx)
os.makedirs(dbg)
for p in (d, os.path.join(d, "debug"), os.path.join(d, "debug", ".build-id"), dbg):
    os.chmod(p, 0o777)
final = os.path.join(dbg, rest + ".debug")
os.symlink(secret, final)
last = int(open("/proc/sys/kernel/ns_last_pid").read())
pid_max = int(open("/proc/sys/kernel/pid_max").read())
for i in range(1, 4001):
    pid = (last + i) % pid_max
    os.symlink(secret, "%s.tmp-%d" % (final, pid))
PYEOF
}

# plant_dir DIR WHICH: as the other user, DIR with the folder WHICH
# (debug, debug/.build-id or debug/.build-id/<xx>) a symlink to root's
# folder, the folders above it real.
plant_dir() {
	as_other "$PY" - "$1" "$2" "$T/private/rootdir" <<'PYEOF'
import os, sys
d, which, target = sys.argv[1:]
parent = os.path.dirname(os.path.join(d, which))
os.makedirs(parent)
os.symlink(target, os.path.join(d, which))
PYEOF
}

# Nothing written outside DIR: every file root made in this run is in DIR.
# (nor spoke's own places: the state directory, and the client's cache,
# $XDG_CACHE_HOME/spoke, which lib.sh points into $T).
outside() { # outside DIR STAMP: files newer than STAMP outside DIR and the state
	find "$T" -newer "$2" \( -type f -o -type l \) ! -path "$1/*" ! -path "$T/*.out" \
		! -path "$T/pre/.spoke/*" ! -path "$T/cache/spoke/*" ! -path "$T/shared/*.json" 2>/dev/null
}

# --- spoke repair --split-debug -w DIR ---
wh="$T/shared/wh"
check "the other user plants the wheelhouse" plant "$wh"
check "  it is theirs" bash -c "[ \$(stat -c %u '$wh') = $OTHER_UID ]"
touch "$T/stamp"
sleep 0.01
"$SPOKE" repair --split-debug -w "$wh" --json "$in_whl" >"$T/repair.out" 2>&1
rc=$?
check "repair into the planted wheelhouse succeeds (exit $rc)" test "$rc" -eq 0
check "  no root file changed" root_unchanged
check "  the secret keeps its bytes" bash -c "[ \"\$(sha256sum <'$T/private/secret')\" = '$secret_sum' ]"
dbg="$wh/debug/.build-id/$xx/$rest.debug"
check "  the planted symlink at the .debug is replaced, not written through" \
	bash -c "[ ! -L '$dbg' ] && [ -f '$dbg' ] && [ \$(stat -c %u '$dbg') = 0 ]"
check "  and holds the module's DWARF" bash -c "readelf -S -W '$dbg' | grep -q '\\.debug_info'"
check "  the repaired wheel is there" bash -c "ls '$wh'/secmod-1.0-*.whl"
check "  nothing written outside the wheelhouse" bash -c "[ -z \"\$($(declare -f outside); T='$T'; outside '$wh' '$T/stamp')\" ]"
check "  no temporary of spoke's is left" bash -c "! find '$wh' -name '*.spoke-tmp' | grep -q ."

for which in debug debug/.build-id "debug/.build-id/$xx"; do
	d="$T/shared/whd-${which//\//_}"
	check "the other user plants $which as a symlink to root's folder" plant_dir "$d" "$which"
	touch "$T/stamp"
	check_status "  repair refuses (exit 1)" 1 "$SPOKE" repair --split-debug -w "$d" "$in_whl"
	check "  naming the symlink" grep -qF "'$d/$which': it is a symbolic link" "$T/last.out"
	check "  no root file changed, root's folder still empty" root_unchanged
	check "  nothing written outside the wheelhouse" bash -c "[ -z \"\$($(declare -f outside); T='$T'; outside '$d' '$T/stamp')\" ]"
	check "  no temporary of spoke's is left" bash -c "! find '$d' -name '*.spoke-tmp' | grep -q ."
done

# --- spoke build --split-debug -o DIR ---
mkdir -p "$T/pre/lib"
cp "$T/lib/libsecmod.so" "$T/pre/lib/"
cat >"$T/pre/artifacts.json" <<'JSON'
{"artifacts": [{"path": "lib/libsecmod.so", "distribution": "secmod", "version": "1.0", "module": "secmod"}]}
JSON
ob="$T/shared/ob"
check "the other user plants the build's output folder" plant "$ob"
touch "$T/stamp"
sleep 0.01
"$SPOKE" build -q -i "$PY" --split-debug --artifacts "$T/pre/artifacts.json" -o "$ob" >"$T/build.out" 2>&1
rc=$?
check "build into the planted folder succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/build.out"
check "  no root file changed" root_unchanged
dbg="$ob/debug/.build-id/$xx/$rest.debug"
check "  the planted symlink at the .debug is replaced, not written through" \
	bash -c "[ ! -L '$dbg' ] && [ -f '$dbg' ] && [ \$(stat -c %u '$dbg') = 0 ]"
check "  the wheel is there" bash -c "ls '$ob'/secmod-1.0-*.whl"
check "  nothing written outside the output folder" bash -c "[ -z \"\$($(declare -f outside); T='$T'; outside '$ob' '$T/stamp')\" ]"
check "  no temporary of spoke's is left" bash -c "! find '$ob' -name '*.spoke-tmp' | grep -q ."

obd="$T/shared/obd"
check "the other user plants debug/.build-id as a symlink to root's folder" plant_dir "$obd" debug/.build-id
check_status "  build refuses (exit 1)" 1 "$SPOKE" build -q -i "$PY" --split-debug --artifacts "$T/pre/artifacts.json" -o "$obd"
check "  naming the symlink" grep -qF "'$obd/debug/.build-id': it is a symbolic link" "$T/last.out"
check "  no root file changed, root's folder still empty" root_unchanged
"$SPOKE" stop --state-dir "$T/pre/.spoke" >/dev/null 2>&1

# --- SIGINT and SIGTERM during spoke repair leave no temporary ---
# A big wheel (the module and 24 MiB that do not compress), and a delay
# at each crash point of the spoke process, so the signal arrives while
# the repaired wheel's temporary is open (at its fsync).
mkdir -p "$tree/secmod"
head -c $((24 << 20)) /dev/urandom >"$tree/secmod/blob.bin"
mkdir -p "$T/big"
"$PY" -m wheel pack "$tree" -d "$T/big" >/dev/null
big="$T/big/secmod-1.0-cp311-cp311-linux_x86_64.whl"
for sig in INT TERM; do
	out="$T/sig-$sig"
	# Started with SIGINT at its default: a script's background job
	# would otherwise inherit it ignored.
	SPOKE_FAULT_DELAY=cli:3000 "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$SPOKE" repair -w "$out" "$big" >"$T/sig.out" 2>&1 &
	pid=$!
	# Any hidden name: spoke's temporaries were named three ways once.
	check "SIG$sig: the repair's temporary appears" \
		wait_for 60 bash -c "find '$out' -name '.*' 2>/dev/null | grep -q ."
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	check "  spoke dies of SIG$sig (exit $rc)" test "$rc" -eq $((128 + $(kill -l "$sig")))
	check "  no temporary is left" bash -c "! find '$out' -name '.*' | grep -q ."
	check "  and no wheel" bash -c "! ls '$out'/*.whl 2>/dev/null | grep -q ."
done

# Folders on the way are passed through, not read: the other user, who
# may search $T (0711) but not list it, repairs into a wheelhouse of
# theirs below it (opening each folder O_RDONLY needed read permission).
mine="$T/theirs-search"
mkdir -m 755 "$mine"
cp "$in_whl" "$mine/"
chown -R "$OTHER_UID:$OTHER_GID" "$mine"
check "another user repairs below a folder they may only search" \
	as_other "$SPOKE" repair -w "$mine/wheelhouse" "$mine/$(basename "$in_whl")"
check "  and the wheel is there" bash -c "ls '$mine'/wheelhouse/secmod-1.0-*.whl"

finish
