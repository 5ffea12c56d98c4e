#!/bin/bash
# spoke as a Bazel action (issue 20, item 2): contrib/bazel's example, a C
# extension module built by cc_binary(linkshared = True) and packaged by
# spoke_wheel, built by Debian's bazel-bootstrap with no network and
# --spawn_strategy=sandboxed.  The wheel has the name the rule declared,
# installs into a venv and imports, with its helper library grafted; a
# second output base gives the same bytes; a declared tag the object does
# not fit fails the build; no Bazel process is left behind.
#
# Bazel is installed by scripts/deps.sh: where it is missing this test
# fails, it does not skip.  Offline, bazel_tools would download @rules_cc
# and @rules_java: contrib/bazel/offline holds stand-ins (README.md).
. "$(dirname "$0")/lib.sh"

BZ="$SRC/contrib/bazel"
if ! command -v bazel >/dev/null 2>&1; then
	not_ok "bazel is installed (scripts/deps.sh installs bazel-bootstrap)"
	finish
	exit 1
fi

# Bazel makes its output trees read-only; they must go with the scratch
# directory even when the test does not run as root.
bazel_cleanup() {
	chmod -R u+w "$T"/ob* 2>/dev/null
	cleanup
}
trap bazel_cleanup EXIT

ws="$T/ws"
mkdir -p "$ws" "$T/spoke_bin" "$T/home"
cp -r "$BZ/example/." "$ws/"
# The spoke binary under test, as the @spoke repository: the action's
# declared tool input.
cp "$SPOKE" "$T/spoke_bin/spoke"
: >"$T/spoke_bin/WORKSPACE"
echo 'exports_files(["spoke"])' >"$T/spoke_bin/BUILD.bazel"
# The tags and headers of the interpreter that imports the wheel.
"$PY" - >"$ws/python_config.bzl" <<'PYEOF'
import sys, sysconfig
tag = "cp%d%d" % sys.version_info[:2]
print('PYTHON_INCLUDE = "%s"' % sysconfig.get_paths()["include"])
print('PYTHON_TAG = "%s"' % tag)
print('ABI_TAG = "%s"' % (tag + sys.abiflags))
print('EXT_SUFFIX = "%s"' % sysconfig.get_config_var("EXT_SUFFIX"))
PYEOF
eval "$(sed -n 's/^\([A-Z_]*\) = \("[^"]*"\)$/\1=\2/p' "$ws/python_config.bzl")"
arch=$(uname -m)
# manylinux_2_17 is manylinux2014 too: spoke names the wheel with both.
plat="manylinux_2_17_$arch.manylinux2014_$arch"
want="spoke_bazel_demo-0.1.0-$PYTHON_TAG-$ABI_TAG-$plat.whl"

# bz OUTPUT_BASE ARGS...: one Bazel command in the example workspace, as
# a batch process (no server outlives it), with everything it writes in
# $T, nothing it could download, and a bounded heap (ctest runs tests in
# parallel; the example needs little).
bz() {
	local base=$1
	shift
	(cd "$ws" && HOME="$T/home" timeout 600 bazel --batch --nohome_rc --host_jvm_args=-Xmx512m \
		--output_user_root="$T/ob-root" --output_base="$T/$base" \
		"$1" --nosandbox_debug --spawn_strategy=sandboxed \
		--sandbox_default_allow_network=false \
		--experimental_repository_disable_download --repository_cache= \
		--override_repository=rules_cc="$BZ/offline/rules_cc" \
		--override_repository=rules_java="$BZ/offline/rules_java" \
		--override_repository=spoke_rules="$BZ" \
		--override_repository=spoke="$T/spoke_bin" \
		"${@:2}")
}

# built BASE DIR: builds the wheel in output base BASE and copies what
# bazel-bin holds of it into DIR.
built() {
	bz "$1" build //:greet_wheel >"$T/$1.log" 2>&1 || {
		tail -40 "$T/$1.log"
		return 1
	}
	mkdir -p "$2"
	cp "$ws/bazel-bin/"*.whl "$2/"
}

start=$(date +%s)
check "bazel builds the example's wheel (sandboxed, offline)" built ob1 "$T/w1"
echo "# first build: $(($(date +%s) - start)) s"
check "the wheel has the name spoke_wheel declared: $want" test -f "$T/w1/$want"
check "it is the only wheel" test "$(ls "$T/w1" | wc -l)" -eq 1
check "the wheel is a complete zip whose RECORD holds" wheels_valid "$T/w1"

# The tag inside agrees with the declared name, and the metadata file
# reached METADATA.
wheel_agrees() {
	"$PY" - "$T/w1/$want" "$plat" "$EXT_SUFFIX" <<'PYEOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
wheel = z.read("spoke_bazel_demo-0.1.0.dist-info/WHEEL").decode()
tags = [l.split(": ", 1)[1] for l in wheel.splitlines() if l.startswith("Tag: ")]
py, abi = sys.argv[1].rsplit("/", 1)[1].split("-")[2:4]
want = ["%s-%s-%s" % (py, abi, p) for p in sys.argv[2].split(".")]
assert sorted(tags) == sorted(want), (tags, want)
meta = z.read("spoke_bazel_demo-0.1.0.dist-info/METADATA").decode()
assert "Name: Spoke-Bazel.Demo\n" in meta, meta
assert "Summary: A C extension module built by Bazel and packaged by spoke\n" in meta, meta
# The license file, a symbolic link in the sandbox, is in the wheel.
assert "License-File: LICENSE\n" in meta, meta
lic = z.read("spoke_bazel_demo-0.1.0.dist-info/licenses/LICENSE").decode()
assert lic.startswith("Copyright 2026 the spoke authors."), lic
assert "greet" + sys.argv[3] in names, names
libs = [n for n in names if n.startswith("spoke_bazel_demo.libs/libgreethelp")]
assert len(libs) == 1, names
# No SOURCE_DATE_EPOCH reaches the action: spoke's fixed time.
times = {i.date_time for i in z.infolist()}
assert times == {(1980, 1, 1, 0, 0, 0)}, times
PYEOF
}
check "WHEEL's tags are the declared ones; METADATA from metadata.json; LICENSE (a sandbox symlink) in licenses/; the helper is grafted; 1980-01-01" wheel_agrees

# Nothing of the machine, the sandbox or the output base in the bytes.
# (The objects name themselves "bazel-out/<config>/bin/lib*.so": the
# linker wrote that, relative, before spoke ran; the metadata spoke
# writes names nothing of the build.)
no_paths() {
	local f
	mkdir -p "$T/unz"
	(cd "$T/unz" && unzip -q "$T/w1/$want") || return 1
	for f in "$T" /sandbox/ execroot; do
		if grep -rlF -- "$f" "$T/unz"; then
			echo "'$f' is in the wheel"
			return 1
		fi
	done
	# (RECORD's base64 digests could hold a short host name by chance.)
	for f in bazel-out "$(hostname)"; do
		if grep -lF -- "$f" "$T"/unz/spoke_bazel_demo-0.1.0.dist-info/{METADATA,WHEEL}; then
			echo "'$f' is in the wheel's metadata"
			return 1
		fi
	done
}
check "no absolute path, sandbox path or host name in the wheel" no_paths

start=$(date +%s)
check "a second output base builds it again" built ob2 "$T/w2"
echo "# second build: $(($(date +%s) - start)) s"
check "the two output bases give byte-identical wheels" cmp "$T/w1/$want" "$T/w2/$want"

# The wheel installs and imports with no Bazel tree around: the module
# finds its helper library in the wheel, not in bazel-out.
venv=$(make_venv bazel)
installed() {
	"$venv/bin/python" -m pip install -q --no-index --no-deps "$T/w1/$want" || return 1
	chmod -R u+w "$T"/ob*
	rm -rf "$T/ob1" "$T/ob2" "$ws"/bazel-*
	(cd "$T" && "$venv/bin/python" -c '
import greet
assert greet.add(2, 40) == 42, greet.add(2, 40)
assert greet.hello() == "hello from bazel"
print(greet.__file__)')
}
check "pip installs the wheel into a venv; greet.add and greet.hello work" installed

# A declared platform the object cannot fit fails the action: a glibc
# object is no musllinux one, and the rule's output is never made.
musl_fails() {
	if bz ob3 build //:greet_wheel_musl >"$T/ob3.log" 2>&1; then
		echo "the build succeeded"
		return 1
	fi
	grep -q "^spoke: .*musllinux_1_2" "$T/ob3.log" || {
		tail -30 "$T/ob3.log"
		return 1
	}
	! ls "$ws"/bazel-bin/*musllinux*.whl 2>/dev/null
}
check "compat = musllinux_1_2 on a glibc object fails the build, with no wheel" musl_fails
grep -m3 '^spoke' "$T/ob3.log" | sed 's/^/#   /'

# The rule declares the name, spoke computes it: when they disagree (an
# arch that is not the object's) the build fails, and no wheel named
# s390x holds an x86_64 object.
wrong_arch_fails() {
	if bz ob3 build //:greet_wheel_wrong_arch >"$T/ob3.log" 2>&1; then
		echo "the build succeeded"
		return 1
	fi
	grep -q "not all outputs were created\|did not create\|output.*not created" "$T/ob3.log" || {
		tail -30 "$T/ob3.log"
		return 1
	}
	! ls "$ws"/bazel-bin/*s390x*.whl 2>/dev/null
}
check "arch = s390x on an x86_64 object fails the build, with no wheel" wrong_arch_fails

# --batch runs no server; nothing of Bazel may outlive the test.
no_bazel_left() {
	if pgrep -af -- "$T/ob"; then
		return 1
	fi
}
check "no Bazel process is left" no_bazel_left

finish
