# traced.sh - what the strace-driven matrices (t_faults, t_kill) share:
# a coordinator under strace, the system call sets by kind, and the
# checks that a build left everything settled.  Sourced after lib.sh.
#
# Sets $sanitized (1 in the ASan build), $ws (a built copy of the example
# workspace), $st (the state directory) and $out (the wheel directory).

if ! command -v strace >/dev/null 2>&1; then
	echo "ok 1 # SKIP strace is not installed"
	echo "1..1"
	exit 0
fi

sanitized=0
if grep -q '^SPOKE_SANITIZE:BOOL=ON' \
	"${SPOKE_TEST_BUILD_DIR:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
	sanitized=1
fi

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
st="$T/state"
out="$ws/target/wheels"

# The system calls of each kind, as strace names them.
declare -A SETS=(
	[write]=write,writev
	[pwrite64]=pwrite64
	[fsync]=fsync
	[fdatasync]=fdatasync
	[rename]=rename,renameat,renameat2
	[link]=link,linkat
	[unlink]=unlink,unlinkat
	[openat]=open,openat
	[mkdir]=mkdir,mkdirat
	[clone]=fork,vfork,clone,clone3
)

# serve STRACE-ARGS...: starts a coordinator for $st under strace in the
# background ($serve_pid is strace's pid) and waits until it listens.
# Returns 1 when it exited first (it failed, or was killed, at start).
serve() {
	# LeakSanitizer cannot run under ptrace: leaks are other tests' job.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -o "$T/strace.out" "$@" \
		"$SPOKE" serve --state-dir "$st" --idle-timeout 120 \
		2>"$T/serve.err" &
	serve_pid=$!
	await_coordinator "$st" "$serve_pid"
}

stop_serve() {
	"$SPOKE" stop --state-dir "$st" >/dev/null 2>&1
	wait "$serve_pid" 2>/dev/null
}

# build [ARGS...]: a quiet build of $ws into $out with $BUILD_ARGS; never
# more than two minutes, so a hung client fails the run.
BUILD_ARGS=()
build() {
	(cd "$ws" && timeout 120 "$SPOKE" build -q -i "$PY" --state-dir "$st" \
		"${BUILD_ARGS[@]}" "$@")
}

nothing_unsettled() {
	"$SPOKE" status --json --state-dir "$st" >"$T/status.json" 2>&1 &&
		"$PY" -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
sys.exit(0 if r.get("unsettled") == [] else 1)' "$T/status.json"
}

# settled: every cargo output has its inode and bytes, nothing temporary
# or staged is left, every wheel present is valid, and the journal holds
# nothing unsettled.
settled() {
	same_snapshot "$ws" "$T/before" &&
		no_leftovers "$ws" "$st" &&
		wheels_valid "$out" &&
		nothing_unsettled
}
