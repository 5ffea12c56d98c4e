#!/bin/bash
# Both ends of the socket check each other (docs/security.md, "The
# socket"): a client never talks to another user's process listening where
# it looks, nor uses a socket folder that is a symlink, open to others or
# someone else's, nor an XDG_RUNTIME_DIR another user owns; the coordinator
# refuses clients of another uid; a client of another XDG_RUNTIME_DIR still
# finds the coordinator through the path it records; `spoke stop` returns
# only once a `spoke serve` run next can take the lock; and the PEP 517
# backend takes only a wheel in the folder it asked for.
. "$(dirname "$0")/lib.sh"

if ! second_user; then
	echo "# skipped: needs root, useradd and setpriv for a second local user"
	finish
	exit 0
fi
ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
prebuilt_artifacts "$ws" "$T/arts" 2
st="$T/state"
mkdir -m 700 "$st"
# with_xdg DIR COMMAND...: COMMAND (a function too) with that
# XDG_RUNTIME_DIR.
with_xdg() ( export XDG_RUNTIME_DIR=$1; shift; "$@" )
build() { "$SPOKE" build -q -i "$PY" --artifacts "$T/arts/artifacts.json" -o "$T/out" --state-dir "$st" -j2 "$@"; }
# The socket's name: the first 24 hex digits of the SHA-256 of the state
# directory's real path (server/sockpath.h).
name=$("$PY" -c 'import hashlib,os,sys; print(hashlib.sha256(os.path.realpath(sys.argv[1]).encode()).hexdigest()[:24] + ".sock")' "$st")

# The other user's wheel, and a fake coordinator of theirs: it answers
# every request as a coordinator would, with a build result naming that
# wheel, and notes each request it got.  It writes its pid to its last
# argument: as_other runs it below a subshell of ours.
shared="$T/shared"
mkdir -m 755 "$shared"
chown "$OTHER_UID:$OTHER_GID" "$shared"
evil_whl="$shared/evil-1.0-py3-none-any.whl"
as_other "$PY" -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("evil/__init__.py", "print(\"the other user was here\")\n")
    z.writestr("evil-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
' "$evil_whl"
cat >"$T/fake.py" <<'PYEOF'
import json, os, socket, struct, sys
path, log, wheel, pidfile = sys.argv[1:5]
open(pidfile, "w").write("%d\n" % os.getpid())
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(64)
def recv(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b
while True:
    c, _ = s.accept()
    try:
        h = recv(c, 8)
        if h:
            t, n = struct.unpack("<II", h)
            body = recv(c, n) or b""
            with open(log, "a") as f:
                f.write("request %d %s\n" % (t, body[:60]))
            res = json.dumps({"type": "result", "ok": True, "coordinator": True,
                              "pid": os.getpid(), "workers": 0, "idle": 0,
                              "builds": [], "unsettled": [], "artifacts": [],
                              "wheels": [{"path": wheel}]}).encode()
            c.sendall(struct.pack("<II", 6, len(res)) + res)
    except OSError:
        pass
    c.close()
PYEOF
fake_log="$T/fake.log"
: >"$fake_log"
: >"$T/fake.pid"
: >"$T/swapper.pid"
chmod 666 "$fake_log" "$T/fake.pid" "$T/swapper.pid"

# 1. root's XDG_RUNTIME_DIR is a folder the other user owns (as `su` and
# `sudo -E` leave it), and their fake coordinator listens at the very path
# root would compute there.
X="$shared/xdg"
as_other mkdir -m 700 "$X" "$X/spoke"
as_other "$PY" "$T/fake.py" "$X/spoke/$name" "$fake_log" "$evil_whl" "$T/fake.pid" 2>/dev/null &
wait_for 10 test -S "$X/spoke/$name"
fake=$(cat "$T/fake.pid")
check_status "with another user's XDG_RUNTIME_DIR: spoke build --json works" 0 with_xdg "$X" build --json
check "  and never names the other user's wheel" bash -c "! grep -F '$evil_whl' '$T/last.out'"
check "  its wheel is root's, in -o" bash -c "ls '$T/out'/hello1-1.0-*.whl"
check_status "  spoke status -v" 0 with_xdg "$X" "$SPOKE" status -v --state-dir "$st"
check "  says XDG_RUNTIME_DIR is not used, and why" grep -q "not using XDG_RUNTIME_DIR '$X': it is owned by uid $OTHER_UID" "$T/last.out"
check "  and which folder is" grep -q "using '/tmp/spoke-0'" "$T/last.out"
check "  finds root's coordinator" bash -c "grep 'coordinator: running (pid' '$T/last.out' | grep -v 'pid $fake)'"
check_status "  spoke stop" 0 with_xdg "$X" "$SPOKE" stop --state-dir "$st"
check "  stopped root's coordinator" bash -c "'$SPOKE' status --state-dir '$st' | grep -q 'not running'"
check "the fake coordinator got no request" test ! -s "$fake_log"

# 2. The same, while the other user swaps root's own socket folder with
# theirs (RENAME_EXCHANGE, in the folder they own) as fast as they can: a
# check by path, then a connect by path, would meet theirs now and then.
kill "$fake" 2>/dev/null
wait_for 10 bash -c "! kill -0 $fake 2>/dev/null"
as_other rm -rf "$X/spoke"
mkdir -m 700 "$X/spoke"
as_other mkdir -m 700 "$X/evil"
as_other "$PY" "$T/fake.py" "$X/evil/$name" "$fake_log" "$evil_whl" "$T/fake.pid" 2>/dev/null &
wait_for 10 test -S "$X/evil/$name"
fake=$(cat "$T/fake.pid")
as_other "$PY" -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
open(sys.argv[4], "w").write("%d\n" % os.getpid())
end = time.time() + float(sys.argv[3])
while time.time() < end:
    libc.renameat2(-100, a, -100, b, 2)
' "$X/spoke" "$X/evil" 60 "$T/swapper.pid" 2>/dev/null &
wait_for 10 test -s "$T/swapper.pid"
swapper=$(cat "$T/swapper.pid")
for i in $(seq 1 40); do
	with_xdg "$X" "$SPOKE" status --state-dir "$st" >>"$T/race.out" 2>&1
	with_xdg "$X" "$SPOKE" stop --state-dir "$st" >>"$T/race.out" 2>&1
done
for i in $(seq 1 3); do
	with_xdg "$X" build --json >>"$T/race.out" 2>&1
done
with_xdg "$X" "$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
kill "$swapper" "$fake" 2>/dev/null
wait
check "under a folder swap race: the fake coordinator got no request" test ! -s "$fake_log"
check "  and the other user's wheel was never named" bash -c "! grep -F '$evil_whl' '$T/race.out'"
with_xdg "$X" "$SPOKE" stop --state-dir "$st" >/dev/null 2>&1

# 3. Socket folders that are unsafe, in an XDG_RUNTIME_DIR root owns: each
# is refused with its name, whatever listens inside.
R="$T/xdg-root"
mkdir -m 700 "$R"
mkdir -m 700 "$T/elsewhere"
ln -s "$T/elsewhere" "$R/spoke"
check_status "a socket folder that is a symlink: refused" 1 with_xdg "$R" "$SPOKE" status --state-dir "$st"
check "  naming it" grep -q "refusing the socket folder '$R/spoke': it is a symlink" "$T/last.out"
rm "$R/spoke"
mkdir -m 755 "$R/spoke"
check_status "a socket folder of mode 0755: refused" 1 with_xdg "$R" "$SPOKE" status --state-dir "$st"
check "  naming it and its mode" grep -q "refusing the socket folder '$R/spoke': it is owned by uid 0 with mode 0755" "$T/last.out"
chmod 700 "$R/spoke"
chown "$OTHER_UID:$OTHER_GID" "$R/spoke"
check_status "a socket folder the other user owns: refused" 1 with_xdg "$R" build
check "  naming it and its owner" grep -q "refusing the socket folder '$R/spoke': it is owned by uid $OTHER_UID" "$T/last.out"

# 4. A client of another uid that reaches root's coordinator (its socket
# made reachable on purpose) is refused by the coordinator.
build >/dev/null 2>&1
sock="$XDG_RUNTIME_DIR/spoke/$name"
chmod 711 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/spoke"
chmod 666 "$sock"
check "the other user's client connects to root's coordinator, and gets no answer" as_other "$PY" -c '
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = json.dumps({}).encode()
try:
    s.sendall(struct.pack("<II", 3, len(body)) + body)
    got = s.recv(100)
except OSError:
    got = b""
assert got == b"", got
' "$sock"
check "  the coordinator logged the refusal" grep -q "refused a connection from uid $OTHER_UID" "$st/log/coordinator.log"
chmod 700 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/spoke"
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1

# 5. A coordinator started with one XDG_RUNTIME_DIR is found by clients of
# another: they read the socket's path it records in the state directory.
A="$T/xdg-a" B="$T/xdg-b"
mkdir -m 700 "$A" "$B"
XDG_RUNTIME_DIR="$A" "$SPOKE" serve --state-dir "$st" -j2 >/dev/null 2>"$T/serve-a.log" &
srv=$!
with_xdg "$A" await_coordinator "$st" "$srv" 20
check_status "another XDG_RUNTIME_DIR: spoke status" 0 with_xdg "$B" "$SPOKE" status --state-dir "$st"
check "  finds the coordinator" grep -q "coordinator: running (pid $srv," "$T/last.out"
check_status "  spoke status -v" 0 with_xdg "$B" "$SPOKE" status -v --state-dir "$st"
check "  says where it listens" grep -q "the coordinator listens at '$A/spoke/$name'" "$T/last.out"
# It logs to stderr (not a daemon).
built() { grep -c "\[$srv\] build [0-9]* succeeded" "$T/serve-a.log"; }
before=$(built)
start=$(date +%s)
check_status "  spoke build" 0 with_xdg "$B" build
check "  takes no 30 s" test $(($(date +%s) - start)) -lt 20
check "  and went to that coordinator" test "$(built)" -eq $((before + 1))
check_status "  spoke stop" 0 with_xdg "$B" "$SPOKE" stop --state-dir "$st"
check "  says it stopped it" grep -q "coordinator stopped" "$T/last.out"
check "  and it is gone" wait_for 10 bash -c "! kill -0 $srv 2>/dev/null"
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

# 6. `spoke stop` then `spoke serve` at once, with workers to stop each
# time: serve never finds the lock still held.
printf '{"artifacts": [{"path": "libhello1.so", "distribution": "one", "version": "1.0", "module": "hello"}]}' >"$T/arts/one.json"
one() { build --artifacts "$T/arts/one.json"; }
one >/dev/null 2>&1
for i in $(seq 1 10); do
	"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
	"$SPOKE" serve --state-dir "$st" -j2 >"$T/serve$i.out" 2>&1 &
	srv=$!
	await_coordinator "$st" "$srv" 20 || break
	one >/dev/null 2>&1
done
"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
kill "$srv" 2>/dev/null
wait
check "stop then serve, 10 times: never \"already runs\"" bash -c "! grep -l 'already runs' '$T'/serve*.out"

# 7. The PEP 517 backend takes a wheel only from the folder it asked for,
# whatever spoke's --json says.
mkdir -p "$T/proj" "$T/pep/whl"
touch "$T/proj/Cargo.toml"
cat >"$T/stub-spoke" <<'SHEOF'
#!/bin/sh
# A spoke whose build answer names $STUB_WHEEL.
[ "$1" = build ] || exit 0
printf '{"type": "result", "ok": true, "wheels": [{"path": "%s"}]}\n' "$STUB_WHEEL"
SHEOF
chmod 755 "$T/stub-spoke"
cp "$evil_whl" "$T/pep/outside.whl"
ln -s "$T/pep/outside.whl" "$T/pep/whl/link-1.0-py3-none-any.whl"
pep() {
	(cd "$T/proj" && SPOKE="$T/stub-spoke" STUB_WHEEL="$1" PYTHONPATH="$SRC/python" "$PY" -c '
import sys, spoke_build
try:
    getattr(spoke_build, sys.argv[1])(sys.argv[2])
except spoke_build.SpokeError as e:
    print("refused:", e)
    sys.exit(3)
' "$2" "$T/pep/whl")
}
check_status "the backend refuses a wheel path outside its folder (build_wheel)" 3 pep "$T/pep/outside.whl" build_wheel
check "  naming it" grep -q "refused: refusing the wheel '$T/pep/outside.whl'" "$T/last.out"
check_status "  (build_editable)" 3 pep "$T/pep/outside.whl" build_editable
check_status "  the other user's wheel" 3 pep "$evil_whl" build_editable
check_status "  one reached through '..'" 3 pep "$T/pep/whl/../outside.whl" build_wheel
check_status "  one in the folder that is a symlink to outside" 3 pep "$T/pep/whl/link-1.0-py3-none-any.whl" build_wheel
check "  nothing was copied into the folder" bash -c "[ \$(ls '$T/pep/whl' | wc -l) -eq 1 ]"

finish
