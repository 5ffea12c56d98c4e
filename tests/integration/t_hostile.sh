#!/bin/bash
# Hostile input: other users at the socket, peers that break the framing,
# build requests with hostile fields, and state directories that are not
# what they seem.  Each is refused with a clear message; the coordinator
# carries on serving everyone else, and nothing is staged.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
state="$ws/target/spoke"
in_ws() { (cd "$ws" && "$@"); }
build() { in_ws "$SPOKE" build -q -i "$PY" "$@"; }

check "a first build starts the coordinator" build
sock=$(ls "$XDG_RUNTIME_DIR"/spoke/*.sock 2>/dev/null | head -1)
# Bounded: a coordinator that hangs must fail the test, not stall it.
coordinator_pid() {
	in_ws timeout 60 "$SPOKE" status --json | "$PY" -c 'import json, sys
print([json.loads(l) for l in sys.stdin][-1].get("pid", ""))'
}
pid=$(coordinator_pid)
[ -S "$sock" ] && [ -n "$pid" ] && ok "the coordinator listens (pid $pid)" ||
	not_ok "the coordinator listens"

# (a) Other users.
check "the socket directory is mode 0700" \
	test "$(stat -c %a "$(dirname "$sock")")" = 700
check "the socket is mode 0600" test "$(stat -c %a "$sock")" = 600

# A client speaking the framing (common/frame.h), as a script.
cat >"$T/peer.py" <<'PYEOF'
import json, socket, struct, sys

def frame(t, payload):
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    return struct.pack("<II", t, len(payload)) + payload

def talk(path, data, shut=True):
    """Sends data, then reads frames until the coordinator closes.
    Prints one line per frame: type and payload."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if shut:
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    while len(buf) >= 8:
        t, n = struct.unpack("<II", buf[:8])
        print(t, buf[8:8 + n].decode(errors="replace"))
        buf = buf[8 + n:]
    if buf:
        print("partial", len(buf))
    print("closed")

ART = {"cargo_path": "/nonexistent/libx.so", "distribution": "x",
       "version": "1.0", "module": "x", "python_tag": "cp311",
       "abi_tag": "cp311", "platform_tag": "linux_x86_64",
       "ext_suffix": ".cpython-311-x86_64-linux-gnu.so"}

def build(out_dir, **over):
    a = dict(ART)
    for k, v in over.items():
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return frame(1, {"out_dir": out_dir, "artifacts": [a]})

path, what = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else "/tmp/spoke-hostile-out"
cases = {
    "oversized": struct.pack("<II", 1, 0xfffffff0) + b"{" * 1000,
    "too-long-stream": struct.pack("<II", 1, (16 << 20) - 8) + b" " * ((16 << 20) - 8) + frame(3, {}),
    "truncated-header": b"\x01\x00\x00",
    "truncated-payload": struct.pack("<II", 3, 100) + b'{"a":',
    "not-json": frame(1, b"this is not json"),
    "not-object": frame(3, b"[1, 2, 3]"),
    "unknown-type": frame(99, {}),
    "zero-type": frame(0, {}),
    "out-of-order-result": frame(6, {"ok": True}),
    "out-of-order-job-result": frame(7, {"ok": True}),
    "out-of-order-event": frame(5, {"event": "staged"}),
    "nul-in-json": frame(3, b'{"a":"\x00"}'),
    "relative-cargo-path": build(arg, cargo_path="target/release/libhello.so"),
    "dotdot-distribution": build(arg, distribution="../../evil"),
    "slash-distribution": build(arg, distribution="a/b"),
    "dotdot-module": build(arg, module="../evil"),
    "slash-version": build(arg, version="1/../../../evil"),
    "slash-tag": build(arg, platform_tag="linux/../../evil"),
    "relative-out-dir": build("wheels"),
    "missing-field": build(arg, module=None),
    "missing-artifacts": frame(1, {"out_dir": arg}),
    "artifacts-not-array": frame(1, {"out_dir": arg, "artifacts": "x"}),
    "artifact-not-object": frame(1, {"out_dir": arg, "artifacts": [1]}),
    "field-not-string": build(arg, version=1.0),
    "compile-not-number": build(arg, compile_s="fast"),
    "compile-negative": build(arg, compile_s=-1),
    "compile-huge": build(arg, compile_s=1e300),
    "huge-array": frame(1, {"out_dir": arg, "artifacts": [{}] * 200000}),
    "huge-valid-array": frame(1, {"out_dir": arg, "artifacts": [ART] * 20000}),
    "over-limit-array": frame(1, {"out_dir": arg, "artifacts": [ART] * 4097}),
    "at-limit-array": frame(1, {"out_dir": arg, "artifacts": [ART] * 4096}),
    "two-builds-one-connection": build(arg) + build(arg),
}
talk(path, cases[what])
PYEOF

# SO_PEERCRED: open the socket to everyone for a moment (as root), then a
# client of another uid must still be refused by the coordinator itself.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	chmod 755 "$T" "$T/run" 2>/dev/null
	check_status "a client of another uid cannot reach the socket (exit 1)" 1 \
		as_nobody "$SPOKE" status --state-dir "$state"
	check "... and is not told a coordinator runs" \
		bash -c "! grep -q 'coordinator: running' '$T/last.out'"
	sockdir=$(dirname "$sock")
	chmod 755 "$XDG_RUNTIME_DIR" "$sockdir"
	chmod 666 "$sock"
	as_nobody "$PY" "$T/peer.py" "$sock" unknown-type >"$T/nobody.out" 2>&1
	chmod 700 "$XDG_RUNTIME_DIR" "$sockdir"
	chmod 600 "$sock"
	chmod 700 "$T/run"
	check "the coordinator closes a connection from another uid unanswered" \
		bash -c "grep -q '^closed' '$T/nobody.out' && ! grep -q '^6 ' '$T/nobody.out'"
	log="$state/log/coordinator.log"
	check "... and logs the refusal" grep -q "refused a connection from uid $(id -u nobody)" "$log"
else
	echo "ok $((TESTS + 1)) # SKIP not root, or no nobody user or setpriv"
	TESTS=$((TESTS + 1))
fi

# (b) Bad frames: the peer is dropped with an error, everyone else is
# served, the coordinator lives on.
for c in oversized too-long-stream truncated-header truncated-payload \
	not-json not-object unknown-type zero-type out-of-order-result \
	out-of-order-job-result out-of-order-event; do
	timeout 60 "$PY" "$T/peer.py" "$sock" $c >"$T/peer.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^closed' "$T/peer.out" &&
		[ "$(coordinator_pid)" = "$pid" ]; then
		ok "bad frame ($c): dropped, the coordinator lives on"
	else
		not_ok "bad frame ($c): exit $rc, coordinator $(coordinator_pid), was $pid"
		sed 's/^/#   /' "$T/peer.out" | head -5
	fi
done
check "a frame naming no known type gets an error before the close" \
	bash -c "'$PY' '$T/peer.py' '$sock' unknown-type | grep -q 'unknown type'"
check "after the bad frames, a normal build succeeds" build
check "... on the same coordinator" test "$(coordinator_pid)" = "$pid"

# Hostile build requests: a clear error as the result, nothing staged,
# no output directory made.
hout="$T/hostile-out"
for c in relative-cargo-path dotdot-distribution slash-distribution \
	dotdot-module slash-version slash-tag relative-out-dir \
	missing-field missing-artifacts artifacts-not-array \
	artifact-not-object field-not-string compile-not-number \
	compile-negative compile-huge huge-array huge-valid-array \
	over-limit-array at-limit-array two-builds-one-connection; do
	rm -rf "$hout"
	timeout 120 "$PY" "$T/peer.py" "$sock" $c "$hout" >"$T/peer.out" 2>&1
	rc=$?
	res=$(grep '^6 ' "$T/peer.out" | tail -1)
	staged=$(find "$state/staged" -mindepth 1 2>/dev/null | head -1)
	if [ $rc -eq 0 ] && echo "$res" | grep -q '"ok": *false' &&
		echo "$res" | grep -q '"error"' && [ -z "$staged" ] &&
		! grep -q '"staged"' "$T/peer.out" && [ ! -e "$hout" ] &&
		[ "$(coordinator_pid)" = "$pid" ]; then
		ok "hostile build request ($c): $(echo "$res" | grep -o '"error": *"[^"]*"' | head -c 100)"
	else
		not_ok "hostile build request ($c): exit $rc"
		sed 's/^/#   /' "$T/peer.out" | cut -c1-200 | head -5
		[ -n "$staged" ] && echo "#   staged: $staged"
	fi
done
check "hostile names: the error names the bad distribution" \
	bash -c "'$PY' '$T/peer.py' '$sock' dotdot-distribution '$hout' | grep -q 'invalid distribution name'"
check "hostile names: the error names the bad module" \
	bash -c "'$PY' '$T/peer.py' '$sock' dotdot-module '$hout' | grep -q 'invalid module name'"
check "hostile names: the error names the bad version" \
	bash -c "'$PY' '$T/peer.py' '$sock' slash-version '$hout' | grep -q 'invalid version'"
for c in compile-not-number compile-negative compile-huge; do
	check "hostile compile time ($c): the error names compile_s" \
		bash -c "'$PY' '$T/peer.py' '$sock' $c '$hout' | grep -q \"'compile_s' must be a number\""
done
# BUILD_MAX_ARTIFACTS (common/frame.h) is checked before anything else of
# the request, and a request at the limit is not refused for its size.
check "4097 artifacts: refused, the error names the limit" \
	bash -c "'$PY' '$T/peer.py' '$sock' over-limit-array '$hout' | grep -q '4097 artifacts, more than the limit of 4096 per build'"
check "200000 artifacts: refused for their number before any is checked" \
	bash -c "'$PY' '$T/peer.py' '$sock' huge-array '$hout' | grep -q 'more than the limit of 4096'"
check "4096 artifacts: not refused for their number" \
	bash -c "'$PY' '$T/peer.py' '$sock' at-limit-array '$hout' | grep '^6 ' | grep -v -q 'limit'"
check "nothing was written outside the output directory" \
	bash -c "! ls '$T' | grep -q evil && ! ls / | grep -q evil"
check "after the hostile requests, a normal build succeeds" build
check "cargo outputs intact after the hostile peers" same_snapshot "$ws" "$T/before"

# (e) Peers that stop reading but keep their socket open.  The coordinator
# never blocks on one: replies queue per client, and a client that leaves
# more than CLIENT_QUEUE_MAX (8 MiB, server/control.c) unread is dropped,
# its build cancelled as a disconnect cancels it.
cat >"$T/stall.py" <<'PYEOF'
import json, os, socket, struct, sys, sysconfig, time

def frame(t, payload):
    payload = json.dumps(payload).encode()
    return struct.pack("<II", t, len(payload)) + payload

path, what, marker = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
# A small receive buffer: the coordinator's writes back up at once.
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(path)
if what == "status":
    # Some 3 MB of replies: far more than the socket holds, less than
    # the coordinator queues for a client.
    data = frame(3, {}) * 20000
else:
    # A build of every file in DIR, one worker at a time, moved while it
    # runs; then status requests until the coordinator gives up on us.
    lib, out = sys.argv[4], sys.argv[5]
    py = "cp%d%d" % sys.version_info[:2]
    arts = [{"cargo_path": os.path.join(lib, f), "distribution": "stall-%d" % i,
             "version": "1.0", "module": "hello", "python_tag": py,
             "abi_tag": py, "platform_tag": "linux_x86_64",
             "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX")}
            for i, f in enumerate(sorted(os.listdir(lib)))]
    data = frame(1, {"out_dir": out, "artifacts": arts, "jobs": 1,
                     "stage": "move"}) + frame(3, {}) * 200000
s.settimeout(20)
try:
    s.sendall(data)
except OSError:
    pass
open(marker, "w").close()
# Read nothing until the test says so.
for _ in range(1200):
    if os.path.exists(marker + ".go"):
        break
    time.sleep(0.1)
s.settimeout(20)
buf, state = bytearray(), "open"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            state = "closed"
            break
        buf += chunk
except ConnectionResetError:
    state = "closed"
except socket.timeout:
    pass
print(state, "build-result" if b'"command":"build"' in buf else "no-build-result")
PYEOF
log="$state/log/coordinator.log"

timeout 300 "$PY" "$T/stall.py" "$sock" status "$T/stall-a" >"$T/stall-a.out" 2>&1 &
stall_a=$!
wait_for 60 test -e "$T/stall-a"
check "a build completes while another peer reads none of its replies" \
	timeout 120 bash -c "cd '$ws' && '$SPOKE' build -q -i '$PY'"
check "... on the same coordinator" test "$(coordinator_pid)" = "$pid"
check "... which still answers status" \
	bash -c "cd '$ws' && timeout 60 '$SPOKE' status"
kill $stall_a 2>/dev/null
wait $stall_a 2>/dev/null

# Files only this peer's build uses, moved while it runs: the drop must
# put them back.
lib="$T/stall-lib"
mkdir -p "$lib"
for i in $(seq 0 39); do
	cp "$ws/target/release/libhello.so" "$lib/libhello$i.so"
done
lib_snapshot() {
	find "$lib" -type f -printf '%P %i\n' | sort | while read -r p ino; do
		echo "$p $ino $(sha256sum <"$lib/$p" | cut -d' ' -f1)"
	done
}
lib_snapshot >"$T/stall-lib.before"
lib_same() { [ "$(lib_snapshot)" = "$(cat "$T/stall-lib.before")" ]; }
nothing_staged() { [ -z "$(ls -A "$state/staged")" ]; }
timeout 300 "$PY" "$T/stall.py" "$sock" build "$T/stall-b" "$lib" "$T/stall-out" \
	>"$T/stall-b.out" 2>&1 &
stall_b=$!
check "a peer that stops reading is dropped once 8 MiB wait for it" \
	wait_for 120 grep -q 'dropped: it left more than 8388608 bytes unread' "$log"
check "... its build is cancelled, saying why" \
	wait_for 30 grep -q 'failed: client stopped reading its messages' "$log"
touch "$T/stall-b.go"
wait $stall_b
check "... its connection is closed, with no build result" \
	grep -qx 'closed no-build-result' "$T/stall-b.out"
check "... its moved artifacts are back, unchanged" wait_for 30 lib_same
check "... nothing is left staged" wait_for 30 nothing_staged
check "... no temporary wheel is left" \
	bash -c "! ls -A '$T/stall-out' 2>/dev/null | grep -q spoke-tmp"
check "... the coordinator lives on" test "$(coordinator_pid)" = "$pid"
check "... and builds" build

# (d) A hostile name from the project itself (pyproject.toml) is refused
# before anything is staged.
cp -a "$ws" "$T/badname"
rm -rf "$T/badname/target/spoke" "$T/badname/target/wheels"
sed -i 's|^name = .*|name = "../../evil"|' "$T/badname/counter/pyproject.toml"
check_status "a pyproject name with '../': exit 1" 1 \
	bash -c "cd '$T/badname' && '$SPOKE' build -q -i '$PY'"
check "... the message names it" grep -q "\.\./\.\./evil" "$T/last.out"
check "... nothing staged" no_leftovers "$T/badname" "$T/badname/target/spoke"
check "... nothing named evil anywhere" bash -c "! find '$T' -name '*evil*' | grep -q ."
"$SPOKE" stop --state-dir "$T/badname/target/spoke" >/dev/null 2>&1
in_ws "$SPOKE" stop >/dev/null 2>&1

# (c) State directories that are not what they seem.
# A state directory never used is no error for status (it said "unknown
# error" and exited 1).
check "status of a state directory that does not exist: exit 0" \
	"$SPOKE" status --state-dir "$T/never-used"
check "... and it is not created" test ! -e "$T/never-used"
# A --state-dir the user gives through a symlink is the user's own choice:
# resolved once, then held by descriptor (issue 15).  A symlink planted
# dangling at the path, or at spoke's own subdirectories (below), is not.
mkdir -p -m 700 "$T/state-real"
ln -s "$T/state-real" "$T/state-link"
check_status "a state directory given through a symlink is resolved: exit 0" 0 \
	build --state-dir "$T/state-link"
check "... the journal is in the real folder" test -f "$T/state-real/journal.db"
"$SPOKE" stop --state-dir "$T/state-link" >/dev/null 2>&1
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere/not-yet" "$T/state-dangling"
check_status "a state directory that is a dangling symlink: exit 1" 1 \
	build --state-dir "$T/state-dangling"
check "... the message says it is a symbolic link" grep -q "symbolic link" "$T/last.out"
check "... nothing created behind it" test -z "$(ls -A "$T/elsewhere")"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$T/state-other"
	chown nobody "$T/state-other"
	check_status "a state directory owned by another user: exit 1" 1 \
		build --state-dir "$T/state-other"
	check "... the message names the owner" grep -q "owned by uid $(id -u nobody)" "$T/last.out"
else
	echo "ok $((TESTS + 1)) # SKIP not root: cannot make a directory of another user"
	TESTS=$((TESTS + 1))
fi

mkdir -m 777 "$T/state-open"
chmod 777 "$T/state-open"
check_status "a state directory writable by others: exit 1" 1 \
	build --state-dir "$T/state-open"
check "... the message says so" grep -q "writable by other users" "$T/last.out"

for sub in staged quarantine; do
	s="$T/state-planted-$sub"
	mkdir -p -m 700 "$s"
	ln -s "$T/elsewhere" "$s/$sub"
	check_status "a symlink planted at <state>/$sub: exit 1" 1 \
		build --state-dir "$s"
	check "... the message names it" grep -q "$s/$sub' is a symbolic link" "$T/last.out"
	check "... nothing was renamed through it" test -z "$(ls -A "$T/elsewhere")"
	check_status "... recover refuses too" 1 in_ws "$SPOKE" recover --state-dir "$s"
	"$SPOKE" stop --state-dir "$s" >/dev/null 2>&1
done

check "cargo outputs intact at the end" same_snapshot "$ws" "$T/before"
check "cargo still fresh at the end" cargo_fresh "$ws"
finish
