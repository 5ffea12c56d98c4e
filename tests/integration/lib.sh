# lib.sh - shared helpers for spoke's integration tests.
#
# Each test script is run as: bash t_x.sh /path/to/spoke /path/to/source.
# It gets a private scratch directory, a private XDG_RUNTIME_DIR (so its
# coordinators never meet another test's), a copy of the example
# workspace, and TAP-ish output: "ok N - what" / "not ok N - what".

set -u
SPOKE=$(readlink -f "$1")
SRC=$(readlink -f "$2")
export SPOKE SRC
PY=${SPOKE_TEST_PYTHON:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/spoke-test.XXXXXX")
export XDG_RUNTIME_DIR="$T/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
# A private client cache (cli/project/cache.h): a test sees only the
# answers its own builds kept.
export XDG_CACHE_HOME="$T/cache"
# The base folder is the user's to make (cli/project/cache.h).
mkdir -p "$XDG_CACHE_HOME"
unset SPOKE_NO_CACHE SPOKE_CACHE_DEBUG
export CARGO_NET_OFFLINE=true
unset CARGO_TARGET_DIR SPOKE_CRASH_AT SPOKE_FAULT_LOG SOURCE_DATE_EPOCH
unset SPOKE_KEEP_BUILDS SPOKE_PRUNE_ROWS

# prune_hard: the coordinators this test starts prune the journal as hard
# as they can (keep one build, delete a row a transaction, every idle
# turn), so that the crash matrices kill them while pruning too, and
# replay finds journals pruned at every step (journal/prune.h).
prune_hard() {
	export SPOKE_KEEP_BUILDS=1 SPOKE_PRUNE_ROWS=1
}
TESTS=0
FAILED=0

cleanup() {
	remove_second_user
	for d in "$T"/*/target/spoke "$T"/state*; do
		[ -d "$d" ] && "$SPOKE" stop --state-dir "$d" >/dev/null 2>&1
	done
	if [ "$FAILED" -eq 0 ] && [ -z "${SPOKE_TEST_KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "# scratch directory kept: $T"
	fi
}
trap cleanup EXIT

# second_user: creates a throwaway local user, the "other local user" of
# the security tests, and sets OTHER (its name), OTHER_UID and OTHER_GID.
# It is removed, with every process it still runs, when the test exits.
# $T becomes traversable (0711) so that the user can reach the folders a
# test shares with it; what the test keeps private stays 0700 inside.
# Returns 1 where that is impossible (not root, no useradd): the caller
# skips with a message.  useradd takes /etc/passwd's lock, which another
# test creating its user at the same moment may hold: retried.
OTHER=
second_user() {
	local i
	[ "$(id -u)" -eq 0 ] || return 1
	command -v useradd >/dev/null 2>&1 || return 1
	command -v setpriv >/dev/null 2>&1 || return 1
	OTHER="spoke-t$$"
	for i in $(seq 1 50); do
		useradd -M -N -d /nonexistent -s /bin/sh "$OTHER" 2>"$T/useradd.err" && break
		sleep 0.2
	done
	if ! id -u "$OTHER" >/dev/null 2>&1; then
		cat "$T/useradd.err" >&2
		OTHER=
		return 1
	fi
	OTHER_UID=$(id -u "$OTHER")
	OTHER_GID=$(id -g "$OTHER")
	export OTHER OTHER_UID OTHER_GID
	chmod 711 "$T"
}

# as_other COMMAND...: runs COMMAND as the second user (no supplementary
# groups, root's environment otherwise).
as_other() {
	setpriv --reuid "$OTHER_UID" --regid "$OTHER_GID" --clear-groups -- "$@"
}

remove_second_user() {
	local i
	[ -n "${OTHER:-}" ] || return 0
	pkill -KILL -u "$OTHER" 2>/dev/null
	for i in $(seq 1 50); do
		userdel "$OTHER" 2>/dev/null && break
		id -u "$OTHER" >/dev/null 2>&1 || break
		sleep 0.2
	done
	OTHER=
}

ok() {
	TESTS=$((TESTS + 1))
	echo "ok $TESTS - $*"
}

not_ok() {
	TESTS=$((TESTS + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $TESTS - $*"
}

# check "description" command...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$T/check.out" | tail -30
	fi
}

# check_fails "description" status command...: passes when the command
# exits with exactly that status.
check_status() {
	local what=$1 want=$2
	shift 2
	"$@" >"$T/check.out" 2>&1
	local got=$?
	cp "$T/check.out" "$T/last.out"
	if [ "$got" -eq "$want" ]; then
		ok "$what"
	else
		not_ok "$what (exit $got, wanted $want)"
		sed 's/^/#   /' "$T/check.out" | tail -30
	fi
}

# $T/last.out holds the output of the last check_status, for checks of
# its message.

# wait_for SECONDS COMMAND...: runs COMMAND every tenth of a second until
# it succeeds (0) or SECONDS pass (1): for a state that comes soon but
# not at a known moment.  A fixed sleep would be too short on a loaded
# machine and too long everywhere else.
wait_for() { # wait_for SECONDS COMMAND...
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# await_coordinator STATE PID [SECONDS]: waits until the coordinator a
# test started in the background (PID, or the strace or valgrind that
# runs it) answers on STATE's socket.  Returns 1 when PID exits first or
# SECONDS (default 30) pass.  A client that comes sooner would start a
# coordinator of its own, and the test would watch the wrong process.
await_coordinator() {
	local st=$1 pid=$2 i tries=$((${3:-30} * 20))
	for ((i = 0; i < tries; i++)); do
		"$SPOKE" status --json --state-dir "$st" 2>/dev/null |
			grep -q '"coordinator": *true' && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# Stops every coordinator the test started, then fails the test if one
# of them logged a sanitizer report (their stderr is their log).
stop_all_and_check_logs() {
	local d logs
	for d in $(find "$T" -name lock -path '*spoke*' -printf '%h\n' 2>/dev/null); do
		"$SPOKE" stop --state-dir "$d" >/dev/null 2>&1
	done
	logs=$(find "$T" -name coordinator.log 2>/dev/null)
	[ -n "$logs" ] || return 0
	if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' $logs >"$T/san.out"; then
		not_ok "coordinator logs are free of sanitizer reports"
		grep -hE -A15 'ERROR: (Address|Leak)Sanitizer|runtime error:' $logs | sed 's/^/#   /' | head -60
	else
		ok "coordinator logs are free of sanitizer reports"
	fi
}

finish() {
	stop_all_and_check_logs
	echo "1..$TESTS"
	echo "$((TESTS - FAILED)) passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# new_workspace NAME: copies the examples into $T/NAME and builds them
# with cargo, so spoke's own cargo run is a no-op.
new_workspace() {
	local ws="$T/$1"
	mkdir -p "$ws"
	(cd "$SRC/examples" && tar cf - --exclude=./target .) | (cd "$ws" && tar xf -)
	(cd "$ws" && cargo build --release --offline -q) || return 1
	echo "$ws"
}

# prebuilt_artifacts WS DIR N: N copies of the example's hello module in
# DIR (libhello1.so ... libhelloN.so, distributions hello1 ... helloN) and
# DIR/artifacts.json listing them, for `spoke build --artifacts`.
prebuilt_artifacts() {
	local ws=$1 d=$2 n=$3 i
	mkdir -p "$d"
	{
		echo '{"artifacts": ['
		for i in $(seq 1 "$n"); do
			cp "$ws/target/release/libhello.so" "$d/libhello$i.so"
			[ "$i" -gt 1 ] && echo ','
			echo "{\"path\": \"libhello$i.so\", \"distribution\": \"hello$i\", \"version\": \"1.0\", \"module\": \"hello\"}"
		done
		echo ']}'
	} >"$d/artifacts.json"
}

# snapshot WS: every cargo output spoke may touch, with inode and digest.
# SNAPSHOT_NAME (a find -name pattern, default '*.so') picks other
# outputs, such as a program's executable.
snapshot() {
	local ws=$1
	find "$ws/target/release" -maxdepth 2 -name "${SNAPSHOT_NAME:-*.so}" -type f -printf '%P %i\n' |
		sort | while read -r p ino; do
		echo "$p $ino $(sha256sum <"$ws/target/release/$p" | cut -d' ' -f1)"
	done
}

# same_snapshot WS FILE: the cargo outputs are exactly as in FILE.
same_snapshot() {
	local now
	now=$(snapshot "$1")
	if [ "$now" = "$(cat "$2")" ]; then
		return 0
	fi
	diff <(cat "$2") <(echo "$now")
	return 1
}

# cargo_fresh WS: cargo would rebuild nothing.
cargo_fresh() {
	local out
	out=$(cd "$1" && cargo build --release --offline -v 2>&1) || {
		echo "$out"
		return 1
	}
	if echo "$out" | grep -Eq '^ *(Compiling|Dirty|Running)'; then
		echo "$out"
		return 1
	fi
	echo "$out" | grep -q Fresh
}

# no_leftovers WS STATE: no temporary wheel, no staged file.
no_leftovers() {
	local left
	left=$(find "$1/target" "$2" \( -name '*.spoke-tmp' -o -name '*.tmp' -o -path '*/staged/*' \) 2>/dev/null)
	if [ -n "$left" ]; then
		echo "left over: $left"
		return 1
	fi
}

# wheels_valid DIR: every .whl there is a complete zip whose RECORD holds.
wheels_valid() {
	local w
	for w in "$1"/*.whl; do
		[ -e "$w" ] || continue
		"$PY" - "$w" <<'PYEOF' || return 1
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, "bad entry %s" % bad
rec = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
assert len(rec) == 1, "no RECORD"
# RECORD is CSV: read it as installers do, quoting and all.
for row in csv.reader(io.StringIO(z.read(rec[0]).decode(), newline="")):
    if not row:
        continue
    path, digest, size = row
    if path == rec[0]:
        continue
    data = z.read(path)
    algo, b64 = digest.split("=", 1)
    want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert algo == "sha256" and b64 == want, "hash mismatch " + path
    assert int(size) == len(data), "size mismatch " + path
PYEOF
	done
}

# pack NAME PLATFORM FILE...: a wheel of NAME 0.1.0 holding FILE... at the
# top, tagged cp311-cp311-PLATFORM, made by the wheel package ($PY -m
# wheel pack), in $T/in (replacing one packed before).
pack() {
	local name=$1 plat=$2 tree="$T/tree-$1"
	shift 2
	rm -rf "$tree"
	mkdir -p "$tree/$name-0.1.0/$name-0.1.0.dist-info" "$T/in"
	cp "$@" "$tree/$name-0.1.0/"
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: 0.1.0\n' "$name" \
		>"$tree/$name-0.1.0/$name-0.1.0.dist-info/METADATA"
	printf 'Wheel-Version: 1.0\nGenerator: spoke-test\nRoot-Is-Purelib: false\nTag: cp311-cp311-%s\n' "$plat" \
		>"$tree/$name-0.1.0/$name-0.1.0.dist-info/WHEEL"
	rm -f "$T/in/$name-0.1.0-cp311-cp311-$plat.whl"
	"$PY" -m wheel pack "$tree/$name-0.1.0" -d "$T/in" >/dev/null
}

# make_venv: a fresh virtual environment from Debian's python3.
make_venv() {
	local v="$T/venv-$1"
	"$PY" -m venv "$v" >/dev/null || return 1
	echo "$v"
}

# pyo3_offline DIR: makes cargo in DIR (a crate or workspace folder) take
# crates from Debian's registry (librust-*-dev, /usr/share/cargo/registry)
# with no network, so fixtures may depend on pyo3 = "0.17".
pyo3_offline() {
	mkdir -p "$1/.cargo"
	cat >"$1/.cargo/config.toml" <<'CFG'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
CFG
}

# ffi_crate WS NAME: a tiny extension module crate WS/NAME (a workspace
# member beside WS/pyffi, the example's hand-written C API declarations,
# which the caller copies there): a cdylib whose lib name is NAME with
# '-' as '_', exporting PyInit_<lib name>, with no method and no
# [package.metadata.spoke] table (spoke finds it by the export).
ffi_crate() {
	local d="$1/$2" lib=${2//-/_}
	mkdir -p "$d/src"
	cat >"$d/Cargo.toml" <<TOML
[package]
name = "$2"
version = "0.1.0"
edition = "2021"
license = "MIT"
publish = false

[dependencies]
pyffi = { path = "../pyffi" }

[lib]
crate-type = ["cdylib"]
TOML
	cat >"$d/src/lib.rs" <<RS
use pyffi::*;
use std::os::raw::c_char;
use std::ptr::{addr_of_mut, null, null_mut};

static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"$lib\0".as_ptr() as *const c_char,
    m_doc: null(),
    m_size: -1,
    m_methods: null(),
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_$lib() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(MODULE_DEF), PYTHON_API_VERSION)
}
RS
}
