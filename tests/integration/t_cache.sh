#!/bin/bash
# The client's cache (cli/project/cache.h): a no-op build starts no
# interpreter and no `cargo metadata`; each cached input, changed in turn,
# changes the build's answer (or at least makes spoke ask again); a pyenv
# shim's answer follows the version pyenv picks; corrupt, planted and
# foreign entries are misses.
. "$(dirname "$0")/lib.sh"

# cargo behind a wrapper that logs each `cargo metadata`: made first, so
# that its identity is no longer racy (filekey.h) by the first build.
REAL_CARGO=$(command -v cargo)
cat >"$T/cargo" <<EOF
#!/bin/bash
[ "\$1" = metadata ] && echo metadata >>"$T/metadata.log"
exec "$REAL_CARGO" "\$@"
EOF
chmod +x "$T/cargo"
export CARGO="$T/cargo"
: >"$T/metadata.log"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }

# A venv whose interpreter logs each start (a .pth file runs at site
# initialisation): the venv's python is what -i names.
venv_counted() { # venv_counted DIR PYTHON LOG
	"$2" -m venv --without-pip "$1" >/dev/null || return 1
	local site
	site=$("$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
	echo "import os; open('$3', 'a').write('x\\n')" >"$site/spoke_count.pth"
	: >"$3"
}
V=$T/venv
venv_counted "$V" "$PY" "$T/starts.log" || { not_ok "make a venv"; finish; exit 1; }
starts() { wc -l <"$T/starts.log"; }
metas() { wc -l <"$T/metadata.log"; }
sleep 2 # past the racy window of every file just made (STAMP_RACY_S)

build() { (cd "$ws" && "$SPOKE" build -q "$@"); }
wheel_of() { # wheel_of DIR DIST: the one wheel of DIST in DIR
	ls "$1"/"$2"-*.whl 2>/dev/null | head -1
}
meta_field() { # meta_field WHEEL FIELD
	"$PY" - "$1" "$2" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
m = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]
for line in z.read(m).decode().splitlines():
    if line.startswith(sys.argv[2] + ": "):
        print(line.split(": ", 1)[1])
        break
EOF
}

# ---- a no-op build starts no interpreter and no cargo metadata ----
build -i "$V/bin/python" -p counter -o "$T/w1"
check "first build writes the counter wheel" test -n "$(wheel_of "$T/w1" spoke_counter)"
check "  and runs the interpreter" test "$(starts)" -gt 0
check "  the cache folder is the user's, mode 0700" \
	bash -c "[ \"\$(stat -c '%a %u' '$T/cache/spoke')\" = '700 $(id -u)' ]"
build -i "$V/bin/python" -p counter -o "$T/w1"
n=$(starts) m=$(metas)
build -i "$V/bin/python" -p counter -o "$T/w1"
check "a no-op build starts no interpreter" test "$(starts)" -eq "$n"
check "  nor cargo metadata (confirmed by the build before)" test "$(metas)" -eq "$m"
check "  and its wheel is the same" test -n "$(wheel_of "$T/w1" spoke_counter)"
rm -f "$T"/w1/*.whl

# ---- each input in turn ----
pp=$ws/counter/pyproject.toml
sed -i 's/^version = "0.2.0"/version = "0.2.1"/' "$pp"
build -i "$V/bin/python" -p counter -o "$T/w2"
check "pyproject.toml [project] version changed: the wheel follows" \
	test -n "$(ls "$T"/w2/spoke_counter-0.2.1-*.whl 2>/dev/null)"
sed -i 's/^description = .*/description = "Counted again"/' "$pp"
build -i "$V/bin/python" -p counter -o "$T/w3"
check "pyproject.toml description changed: METADATA follows" \
	test "$(meta_field "$(wheel_of "$T/w3" spoke_counter)" Summary)" = "Counted again"

sed -i 's/^version = "0.1.0-alpha.1"/version = "0.1.0-alpha.2"/' "$ws/hello/Cargo.toml"
build -i "$V/bin/python" -p hello -o "$T/w4"
check "Cargo.toml version changed: the wheel follows" \
	test -n "$(ls "$T"/w4/hello-0.1.0a2-*.whl 2>/dev/null)"

# A glob member: a crate added under it after the cache holds the
# workspace must be seen.
mkdir -p "$ws/extra/glob_a/src"
newcrate() { # newcrate NAME
	mkdir -p "$ws/extra/$1/src"
	printf '[package]\nname = "%s"\nversion = "1.0.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n' "$1" >"$ws/extra/$1/Cargo.toml"
	printf '#[no_mangle]\npub extern "C" fn PyInit_%s() -> *mut u8 { std::ptr::null_mut() }\n' "$1" >"$ws/extra/$1/src/lib.rs"
}
newcrate glob_a
sed -i 's/^members = \[/members = ["extra\/*", /' "$ws/Cargo.toml"
build -i "$V/bin/python" -p glob_a -o "$T/w5"
build -i "$V/bin/python" -p glob_a -o "$T/w5"
m=$(metas)
build -i "$V/bin/python" -p glob_a -o "$T/w5"
check "a glob member workspace is cached" test "$(metas)" -eq "$m"
newcrate glob_b
build -i "$V/bin/python" -p glob_b -o "$T/w5"
check "a new crate under a glob member: its wheel is written" test -n "$(wheel_of "$T/w5" glob_b)"
mkdir -p "$ws/extra/glob_c"
build -i "$V/bin/python" -p glob_b -o "$T/w5" 2>/dev/null
build -i "$V/bin/python" -p glob_b -o "$T/w5" 2>/dev/null
newcrate glob_c
build -i "$V/bin/python" -p glob_c -o "$T/w5"
check "a Cargo.toml added to a folder already under the glob: seen" test -n "$(wheel_of "$T/w5" glob_c)"

m=$(metas)
echo "# touched" >>"$ws/Cargo.lock"
build -i "$V/bin/python" -p hello -o "$T/w6"
check "Cargo.lock changed: cargo metadata runs again" test "$(metas)" -gt "$m"

mkdir -p "$ws/.cargo"
printf '[build]\ntarget-dir = "tgt2"\n' >"$ws/.cargo/config.toml"
build -i "$V/bin/python" -p hello
check ".cargo/config.toml [build] target-dir: the wheel goes to the new target" \
	test -n "$(wheel_of "$ws/tgt2/wheels" hello)"
rm "$ws/.cargo/config.toml"
(cd "$ws" && CARGO_TARGET_DIR="$ws/tgt3" "$SPOKE" build -q -i "$V/bin/python" -p hello)
check "CARGO_TARGET_DIR: the wheel goes there" test -n "$(wheel_of "$ws/tgt3/wheels" hello)"

# pyvenv.cfg is part of the interpreter's key.
n=$(starts)
echo "# changed" >>"$V/pyvenv.cfg"
build -i "$V/bin/python" -p hello -o "$T/w7"
check "the venv's pyvenv.cfg changed: the interpreter is asked again" test "$(starts)" -gt "$n"
check "  and the wheel is right" test -n "$(wheel_of "$T/w7" hello)"

# ---- corrupt entries ----
for f in "$T"/cache/spoke/*.json; do
	truncate -s $(($(stat -c %s "$f") / 2)) "$f"
done
n=$(starts)
rm -rf "$T/w8"
build -i "$V/bin/python" -p counter -o "$T/w8"
check "truncated entries: a miss, the interpreter is asked again" test "$(starts)" -gt "$n"
check "  and the wheel is right" test -n "$(ls "$T"/w8/spoke_counter-0.2.1-*.whl 2>/dev/null)"

# ---- a forged entry: used when it is the user's (the control), refused
# when another user owns it ----
entry=$(grep -l '"kind":"interp"' "$T"/cache/spoke/interp-*.json | head -1)
forge() { # forge FILE: the entry with python_tag cp399, its checksum right
	"$PY" - "$1" <<'EOF'
import hashlib, sys
p = sys.argv[1]
data = open(p, "rb").read()
head, body = data.split(b"\n", 1)
body = body.replace(b'"python_tag":"cp311"', b'"python_tag":"cp399"')
open(p, "wb").write(b"spoke-cache 1 " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
EOF
}
if [ -n "$entry" ] && grep -q '"python_tag":"cp311"' "$entry"; then
	cp "$entry" "$T/entry.saved"
	forge "$entry"
	rm -rf "$T/w9"
	build -i "$V/bin/python" -p hello -o "$T/w9"
	check "control: a forged entry of the user's own is believed (so the next check means something)" \
		test -n "$(ls "$T"/w9/hello-*-cp399-*.whl 2>/dev/null)"
	if second_user; then
		chown "$OTHER" "$entry"
		rm -rf "$T/w9"
		build -i "$V/bin/python" -p hello -o "$T/w9"
		check "the same entry owned by another user is refused" \
			test -n "$(ls "$T"/w9/hello-*-cp311-*.whl 2>/dev/null)"
		check "  and nothing cp399 is written" test -z "$(ls "$T"/w9/*cp399* 2>/dev/null)"
		# A cache folder another user owns is not used at all.
		mkdir -p "$T/foreign/spoke"
		chown "$OTHER" "$T/foreign/spoke"
		(cd "$ws" && XDG_CACHE_HOME="$T/foreign" "$SPOKE" build -i "$V/bin/python" -p hello -o "$T/w10" >"$T/foreign.out" 2>&1)
		check "a cache folder of another user's is not used" grep -q "not using the cache" "$T/foreign.out"
		check "  and the build still succeeds" test -n "$(wheel_of "$T/w10" hello)"
		check "  nothing was written into it" test -z "$(ls -A "$T/foreign/spoke")"
	else
		ok "# SKIP no second user (not root, or no useradd)"
	fi
	rm -f "$entry"
else
	not_ok "an interpreter entry of a cp311 interpreter exists ($entry)"
fi

# ---- SPOKE_NO_CACHE=1 ----
n=$(starts)
(cd "$ws" && SPOKE_NO_CACHE=1 "$SPOKE" build -q -i "$V/bin/python" -p hello -o "$T/w11")
check "SPOKE_NO_CACHE=1: the interpreter is asked" test "$(starts)" -gt "$n"

# ---- the folder above the cache is never made: root with another
# user's HOME would own that user's ~/.cache ----
mkdir -p "$T/home"
(cd "$ws" && XDG_CACHE_HOME="$T/home/.cache" "$SPOKE" build -i "$V/bin/python" -p hello -o "$T/w12" >"$T/nobase.out" 2>&1)
check "a missing cache base folder: the build succeeds" test -n "$(wheel_of "$T/w12" hello)"
check "  the base folder is not made" test ! -e "$T/home/.cache"
check "  and nothing is said about it" bash -c "! grep -q 'cache' '$T/nobase.out'"

# ---- ~/.cache is made in the user's own home, and only there: a CI
# runner or container without one would otherwise never cache ----
# rustup and cargo keep their homes under the real HOME.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
mkdir -p "$T/ownhome"
chmod 755 "$T/ownhome"
(cd "$ws" && env -u XDG_CACHE_HOME HOME="$T/ownhome" "$SPOKE" build -q -i "$V/bin/python" -p hello -o "$T/w13")
check "own home: the build succeeds" test -n "$(wheel_of "$T/w13" hello)"
check "no ~/.cache in the user's own home: it is made" test -d "$T/ownhome/.cache/spoke"
check "  mode 0700, both" test "$(stat -c %a "$T/ownhome/.cache") $(stat -c %a "$T/ownhome/.cache/spoke")" = "700 700"
n=$(starts)
(cd "$ws" && env -u XDG_CACHE_HOME HOME="$T/ownhome" "$SPOKE" build -q -i "$V/bin/python" -p hello -o "$T/w13")
check "  and the next build is answered from it" test "$(starts)" -eq "$n"
# A home of another user (uid 65534 here), or one others may write.
mkdir -p "$T/theirhome" "$T/openhome"
chown 65534 "$T/theirhome"
chmod 777 "$T/openhome"
for h in theirhome openhome; do
	(cd "$ws" && env -u XDG_CACHE_HOME HOME="$T/$h" "$SPOKE" build -i "$V/bin/python" -p hello -o "$T/w14" >"$T/$h.out" 2>&1)
	check "$h: the build succeeds" test -n "$(wheel_of "$T/w14" hello)"
	check "  no ~/.cache is made there" test ! -e "$T/$h/.cache"
	check "  and nothing is said about it" bash -c "! grep -q 'cache' '$T/$h.out'"
done

# ---- a pyenv shim: its answer follows the version pyenv picks ----
PYENV_REAL=$(pyenv root 2>/dev/null)
PY2=
for c in "$PYENV_REAL"/versions/3.*/bin/python3.*; do
	case $c in *-config) continue ;; esac
	[ -x "$c" ] || continue
	t=$("$c" -c 'import sys; print("cp%d%d" % sys.version_info[:2])' 2>/dev/null) || continue
	[ "$t" != cp311 ] && "$c" -c 'import venv' 2>/dev/null && { PY2=$c; T2=$t; break; }
done
if [ -z "$PYENV_REAL" ] || [ ! -x "$PYENV_REAL/libexec/pyenv" ] || [ -z "$PY2" ]; then
	ok "# SKIP no pyenv with a Python other than 3.11 here: shims not tested"
else
	R=$T/pyenv
	mkdir -p "$R/shims" "$R/versions"
	# pyenv's own scripts, installed in the fake root (a copy: pyenv
	# finds its plugins and hooks from where its scripts really are).
	cp -r "$PYENV_REAL/libexec" "$R/libexec"
	# The shim exactly as `pyenv rehash` writes it (pyenv 2.x).
	cat >"$R/shims/python3" <<EOF
#!/usr/bin/env bash
set -e
[ -n "\$PYENV_DEBUG" ] && set -x

program="\${0##*/}"

export PYENV_ROOT="$R"
SHIM_PATH=\${0%/*}
if [[ \$SHIM_PATH != "$R/shims" ]]; then
  export _PYENV_SHIM_PATH="\$SHIM_PATH"
fi
exec "$R/libexec/pyenv" exec "\$program" "\$@"
EOF
	chmod +x "$R/shims/python3"
	venv_counted "$R/versions/a" "$PY" "$T/a.log"
	venv_counted "$R/versions/b" "$PY2" "$T/b.log"
	sleep 2
	shimbuild() { # shimbuild OUT: hello built with python3 from PATH
		rm -rf "$1"
		(cd "$ws" && PATH="$R/shims:$PATH" "$SPOKE" build -q -p hello -o "$1")
	}
	tagged() { test -n "$(ls "$1"/hello-*-"$2"-"$2"-*.whl 2>/dev/null)"; }
	export PYENV_VERSION=a
	shimbuild "$T/s1"
	check "shim, PYENV_VERSION=a: cp311" tagged "$T/s1" cp311
	na=$(wc -l <"$T/a.log")
	shimbuild "$T/s1"
	check "  again: no interpreter started" test "$(wc -l <"$T/a.log")" -eq "$na"
	export PYENV_VERSION=b
	shimbuild "$T/s2"
	check "shim, PYENV_VERSION=b: $T2" tagged "$T/s2" "$T2"
	unset PYENV_VERSION
	echo a >"$ws/.python-version"
	shimbuild "$T/s3"
	check "shim, .python-version a: cp311" tagged "$T/s3" cp311
	echo b >"$ws/.python-version"
	shimbuild "$T/s4"
	check "shim, .python-version b: $T2" tagged "$T/s4" "$T2"
	rm "$ws/.python-version"
	mkdir -p "$T/elsewhere"
	echo a >"$T/elsewhere/.python-version"
	rm -rf "$T/s5"
	(cd "$ws" && PYENV_DIR="$T/elsewhere" PATH="$R/shims:$PATH" "$SPOKE" build -q -p hello -o "$T/s5")
	check "shim, PYENV_DIR's .python-version a: cp311" tagged "$T/s5" cp311
	echo b >"$R/version"
	shimbuild "$T/s6"
	check "shim, \$PYENV_ROOT/version b: $T2" tagged "$T/s6" "$T2"
	echo a >"$R/version"
	shimbuild "$T/s7"
	check "shim, \$PYENV_ROOT/version a: cp311" tagged "$T/s7" cp311
	nb=$(wc -l <"$T/b.log")
	rm -rf "$R/versions/b" "$R/version"
	venv_counted "$R/versions/b" "$PY" "$T/b.log"
	echo b >"$R/version"
	shimbuild "$T/s8"
	check "shim, version b reinstalled as another Python: cp311" tagged "$T/s8" cp311
	# A script spoke does not know is run every time, never cached.
	cat >"$T/wrapped" <<EOF
#!/bin/sh
echo x >>"$T/wrapped.log"
exec "$V/bin/python" "\$@"
EOF
	chmod +x "$T/wrapped"
	: >"$T/wrapped.log"
	sleep 2
	build -i "$T/wrapped" -p hello -o "$T/s9"
	nw=$(wc -l <"$T/wrapped.log")
	build -i "$T/wrapped" -p hello -o "$T/s9"
	check "a script interpreter that is not a pyenv shim is never cached" \
		test "$(wc -l <"$T/wrapped.log")" -gt "$nw"
fi

check "the cache holds no temporary" test -z "$(ls -A "$T/cache/spoke" | grep spoke-tmp)"
finish
