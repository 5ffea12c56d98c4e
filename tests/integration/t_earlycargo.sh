#!/bin/bash
# cargo started early (cli/project/earlycargo.h): with the last build's
# command, before spoke has worked out this build's.  Kept when the two
# are equal (its stderr then reaches spoke's); stopped unseen, with all it
# started, when they differ or spoke fails first; never when stderr is a
# terminal; and while it runs in its own process group, a signal sent to
# spoke reaches it.
. "$(dirname "$0")/lib.sh"

ws=$T/ws
mkdir -p "$ws/early/src"
cat >"$ws/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["early"]
EOF
cat >"$ws/early/Cargo.toml" <<'EOF'
[package]
name = "early"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[features]
extra = []
EOF
# Without the feature, rustc warns of a dead function: a line that only
# a build without it prints.  SLOW makes the build script sleep, for the
# signal test; rerun-if-env-changed reruns it when SLOW changes.
cat >"$ws/early/src/lib.rs" <<'EOF'
#[no_mangle]
pub extern "C" fn PyInit_early() -> *mut u8 { std::ptr::null_mut() }

#[cfg(feature = "extra")]
#[no_mangle]
pub extern "C" fn early_extra() {}

#[cfg(not(feature = "extra"))]
fn only_without_extra() {}
EOF
cat >"$ws/early/build.rs" <<'EOF'
fn main() {
    println!("cargo:rerun-if-env-changed=SLOW");
    if let Ok(s) = std::env::var("SLOW") {
        std::thread::sleep(std::time::Duration::from_secs(s.parse().unwrap()));
    }
}
EOF
cat >"$ws/early/pyproject.toml" <<'EOF'
[build-system]
requires = ["maturin>=1.0,<2.0"]
build-backend = "maturin"

[project]
name = "early"
version = "0.1.0"
EOF

export SPOKE_CACHE_DEBUG=1
build() { # build LOG [spoke build options]: stderr to LOG, not a terminal
	local log=$1
	shift
	(cd "$ws" && "$SPOKE" build -q -o "$T/out" "$@" 2>"$log")
}
exports_extra() {
	nm -D --defined-only "$ws/target/release/libearly.so" | grep -qw early_extra
}
# cargo, its rustc and build scripts of this workspace (not the
# coordinator, whose state folder is in it too).
no_cargo_left() {
	! pgrep -f "(cargo|rustc) .*$ws/" >/dev/null &&
		! pgrep -f "$ws/.*build-script-build" >/dev/null
}

# ---- the first build remembers its command; the next starts with it ----
build "$T/e1.log"
check "a first build starts cargo when its command is known" \
	bash -c "! grep -q 'started early' '$T/e1.log'"
touch "$ws/early/src/lib.rs"
build "$T/e2.log"
check "the next build starts cargo early" grep -q 'cargo started early' "$T/e2.log"
check "  and keeps that run" grep -q "early start kept" "$T/e2.log"
check "  whose stderr reaches spoke's (rustc's warning)" \
	grep -q 'only_without_extra' "$T/e2.log"
check "  and the wheel is written" test -n "$(ls "$T"/out/early-0.1.0-*.whl)"

# ---- a command that differs: the early run is stopped unseen ----
printf '\n[tool.maturin]\nfeatures = ["extra"]\n' >>"$ws/early/pyproject.toml"
touch "$ws/early/src/lib.rs"
build "$T/e3.log"
check "[tool.maturin] features added: the early run is stopped" \
	grep -q "early start stopped: this build's command differs" "$T/e3.log"
check "  and nothing it printed is shown (its dead-code warning)" \
	bash -c "! grep -q 'only_without_extra' '$T/e3.log'"
check "  cargo ran again with the feature" exports_extra
check "  nothing of the stopped run is left" no_cargo_left
touch "$ws/early/src/lib.rs"
build "$T/e4.log"
check "the build after starts early with the new command and keeps it" \
	grep -q "early start kept" "$T/e4.log"
check "  with the feature" exports_extra

# ---- spoke fails before cargo's command is known ----
touch "$ws/early/src/lib.rs"
cp "$ws/early/pyproject.toml" "$T/pyproject.good"
printf '[project\n' >>"$ws/early/pyproject.toml"
check_status "a broken pyproject.toml: the build fails" 1 build "$T/e5.log"
check "  saying why" grep -q "pyproject.toml" "$T/e5.log"
check "  the early run is stopped" grep -q "early start stopped" "$T/e5.log"
check "  and shows nothing (rustc compiled lib.rs for it)" \
	bash -c "! grep -qi 'warning\\|compiling' '$T/e5.log'"
check "  nothing of it is left" no_cargo_left
cp "$T/pyproject.good" "$ws/early/pyproject.toml"

# ---- stderr a terminal: cargo keeps its colours, so no early start ----
if command -v script >/dev/null 2>&1; then
	touch "$ws/early/src/lib.rs"
	(cd "$ws" && script -qec "'$SPOKE' build -q -o '$T/out'" /dev/null) \
		>"$T/e6.log" 2>&1
	check "stderr a terminal: cargo does not start early" \
		bash -c "! grep -q 'started early' '$T/e6.log'"
	check "  and the build succeeds" test -n "$(ls "$T"/out/early-0.1.0-*.whl)"
else
	ok "# SKIP no script(1) to give spoke a terminal"
	ok "# SKIP no script(1)"
fi

# ---- a remembered command names another program: it never runs ----
printf '#!/bin/sh\ntouch "%s"\n' "$T/not-cargo.ran" >"$T/not-cargo"
chmod +x "$T/not-cargo"
"$PY" - "$XDG_CACHE_HOME/spoke" "$T/not-cargo" <<'PYEOF'
import glob, hashlib, json, sys
for f in glob.glob(sys.argv[1] + "/cargo-early-*.json"):
    body = json.loads(open(f).read().split("\n", 1)[1])
    body["value"]["argv"][0] = sys.argv[2]
    text = json.dumps(body, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    open(f, "w").write("spoke-cache 1 %s\n%s" % (digest, text))
PYEOF
touch "$ws/early/src/lib.rs"
build "$T/e9.log"
check "an entry (well formed, the user's) naming another program: not run" \
	test ! -e "$T/not-cargo.ran"
check "  cargo did not start early, and the build succeeds" bash -c "
	! grep -q 'started early' '$T/e9.log' && ls '$T'/out/early-0.1.0-*.whl"

# ---- a signal to spoke reaches the early run's group ----
build "$T/e7.log" # the command is remembered with SLOW unset: equal
(cd "$ws" && SLOW=60 exec "$SPOKE" build -q -o "$T/out" 2>"$T/e8.log") &
pid=$!
check "with SLOW set, the build script sleeps inside an early run" \
	wait_for 60 pgrep -f "$ws/target/release/build/early-.*/build-script-build"
check "  (it was started early)" grep -q 'cargo started early' "$T/e8.log"
kill -TERM "$pid"
wait "$pid"
st=$?
check "SIGTERM to spoke: spoke ends by it (status $st)" test "$st" -eq 143
check "  and the build script and cargo end with it" wait_for 10 no_cargo_left

finish
