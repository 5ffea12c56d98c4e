#!/bin/bash
# spoke build repairs wheels the way auditwheel would: the native example
# needs libspokehelper.so.1, which its build script built into OUT_DIR; the
# wheel must bundle it under a hashed name, point the module at it, carry
# the manylinux tag the objects' symbol versions allow, and import with no
# LD_LIBRARY_PATH.  check, skip, --compat, --exclude, --lib-path,
# LD_LIBRARY_PATH and a missing library are each tried, and cargo's outputs
# keep their inode, bytes and mtime throughout.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
so="$ws/target/release/libnative.so"
mtime_before=$(stat -c %Y.%y "$so")
outdir=$(dirname "$(find "$ws/target/release/build" -path '*/out/libspokehelper.so.1' | head -1)")
helper="$outdir/libspokehelper.so.1"
check "the build script built the helper library" test -f "$helper"
in_ws() { (cd "$ws" && "$@"); }
unset LD_LIBRARY_PATH

# The tag spoke must choose, from what readelf says the objects need and
# from the policy table, as auditwheel decides: the oldest tag that lists
# every version they require in each namespace it judges (the loader's
# versions left out).
expect_tag() {
	"$PY" - "$SRC/data/policy.json" "$@" <<'PYEOF'
import json, re, subprocess, sys
pol = json.load(open(sys.argv[1]))
need = set()
glibc = (0,)
for path in sys.argv[2:]:
    out = subprocess.run(["readelf", "-V", "-W", path], capture_output=True,
                         text=True, check=True).stdout
    part = out.split("Version needs section", 1)
    lib = None
    for line in (part[1] if len(part) > 1 else "").splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            lib = m.group(1)
        m = re.search(r"Name: (\S+)", line)
        if m and not (lib.startswith("ld-linux") or lib in ("ld64.so.1", "ld64.so.2")):
            ns, _, v = m.group(1).partition("_")
            need.add((ns, v))
            if ns == "GLIBC" and re.fullmatch(r"[0-9.]+", v):
                glibc = max(glibc, tuple(int(x) for x in v.split(".")))
for tag in pol["policies"]:
    sv = tag["symbol_versions"].get("x86_64")
    if tag["libc"] != "glibc" or sv is None:
        continue
    if all(v in sv[ns] for ns, v in need if ns in sv):
        print(".".join(n + "_x86_64" for n in [tag["name"]] + tag["aliases"]),
              ".".join(map(str, glibc)))
        break
PYEOF
}
read -r tag module_glibc < <(expect_tag "$so" "$helper")
read -r hello_tag _ < <(expect_tag "$ws/target/release/libhello.so")
echo "# native needs GLIBC_$module_glibc: expecting $tag; hello: $hello_tag"
check "an expected tag was computed" test -n "$tag"

# result FILE PYTHON: runs PYTHON on the --json result line of FILE as r.
result() {
	"$PY" -c "
import json, re, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
assert r['type'] == 'result', r
w = {x['module']: x for x in r.get('wheels', [])}
$2
" "$1"
}

# Repair (the default).
check "spoke build repairs" bash -c "cd '$ws' && '$SPOKE' build -i '$PY' --json -o '$T/w1' >'$T/w1.json'"
cp "$T/w1.json" "$T/last.out"
check "  four wheels" bash -c "[ \$(ls '$T/w1'/*.whl | wc -l) -eq 4 ]"
whl=$(ls "$T"/w1/spoke_native-0.1.0-*.whl 2>/dev/null)
check "  the native wheel is tagged $tag" bash -c "[[ '$whl' == *-$tag.whl ]]"
check "  --json reports the tag, the graft and the rpath" result "$T/w1.json" "
n = w['native']
assert n['platform_tag'] == '$tag', n['platform_tag']
assert n['path'] == '$whl', n['path']
assert n['patch'] == 'applied', n['patch']
g = n['grafted']
assert len(g) == 1 and g[0]['soname'] == 'libspokehelper.so.1', g
assert g[0]['path'] == '$helper', g[0]['path']
assert re.fullmatch(r'libspokehelper-[0-9a-f]{8}\.so\.1', g[0]['name']), g
assert g[0]['wheel_path'] == 'spoke_native.libs/' + g[0]['name'], g
assert n['repair']['rpath'] == '\$ORIGIN/spoke_native.libs', n['repair']
assert g[0]['name'] in n['needed'] and 'libspokehelper.so.1' not in n['needed']
via = {l['soname']: l['via'] for l in n['repair']['libs']}
assert via['libspokehelper.so.1'] == 'linked_paths', via
for m in ('hello', 'counter'):
    assert w[m]['grafted'] == [] and w[m]['patch'] == 'none', w[m]
    assert w[m]['platform_tag'] == '$hello_tag', w[m]['platform_tag']
"
graft=$(result "$T/w1.json" "print(w['native']['grafted'][0]['name'])" 2>/dev/null)
hash=$(sha256sum "$helper" | cut -c1-8)
check "  the bundled name holds the helper's sha256" test "$graft" = "libspokehelper-$hash.so.1"
check "  the wheel holds spoke_native.libs/$graft" bash -c "unzip -l '$whl' | grep -q ' spoke_native.libs/$graft\$'"
check "  the hello and counter wheels bundle nothing" bash -c "! unzip -l '$T'/w1/hello-*.whl | grep -q '\\.libs/' && ! unzip -l '$T'/w1/spoke_counter-*.whl | grep -q '\\.libs/'"
check "  wheels are valid zips with a true RECORD" wheels_valid "$T/w1"
check "  WHEEL has one Tag line per platform tag" bash -c "[ \$(unzip -p '$whl' 'spoke_native-0.1.0.dist-info/WHEEL' | grep -c '^Tag: ') -eq $(awk -F. '{print NF}' <<<"$tag") ]"
check "  cargo outputs have their inode and bytes" same_snapshot "$ws" "$T/before"
check "  the module's mtime is unchanged" test "$(stat -c %Y.%y "$so")" = "$mtime_before"
check "  the helper in OUT_DIR is unchanged" bash -c "[ \"\$(patchelf --print-soname '$helper')\" = libspokehelper.so.1 ] && [ -z \"\$(patchelf --print-rpath '$helper')\" ]"
check "  nothing left staged or half-written" no_leftovers "$ws" "$ws/target/spoke"

v=$(make_venv repair)
check "pip installs the repaired wheels" "$v/bin/pip" install --no-index -q "$T"/w1/*.whl
check "  import native works without LD_LIBRARY_PATH" env -u LD_LIBRARY_PATH "$v/bin/python" -c '
import native, hello
assert native.mul(6, 7) == 42, native.mul(6, 7)
assert hello.add(2, 3) == 5
'
site=$("$v/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
mod=$(ls "$site"/native*.so 2>/dev/null)
lib="$site/spoke_native.libs/$graft"
check "  the installed module has DT_RPATH \$ORIGIN/spoke_native.libs" bash -c "readelf -d '$mod' | grep -q '(RPATH).*\\[\$ORIGIN/spoke_native.libs\\]' && ! readelf -d '$mod' | grep -q RUNPATH"
check "  patchelf agrees with --json on rpath and needed" result "$T/w1.json" "
import subprocess
def pe(*a):
    return subprocess.run(['patchelf'] + list(a), capture_output=True, text=True, check=True).stdout.split()
n = w['native']
assert pe('--print-rpath', '$mod') == [n['repair']['rpath']], pe('--print-rpath', '$mod')
assert pe('--print-needed', '$mod') == n['needed'], (pe('--print-needed', '$mod'), n['needed'])
assert pe('--print-soname', '$lib') == ['$graft'], pe('--print-soname', '$lib')
assert pe('--print-rpath', '$lib') == ['\$ORIGIN'], pe('--print-rpath', '$lib')
"
check "  ldd finds the bundled library beside the module" bash -c "env -u LD_LIBRARY_PATH ldd '$mod' | grep -q '$graft => $site/spoke_native.libs/$graft'"

# check: hello needs nothing bundled; the workspace as a whole would.
check "--repair=check passes for hello" in_ws "$SPOKE" build -q -i "$PY" -p hello --repair=check -o "$T/chk1"
check "  and writes its wheel with the manylinux tag" bash -c "ls '$T'/chk1/hello-*-$hello_tag.whl"
check_status "--repair=check fails for the native module" 1 in_ws "$SPOKE" build -i "$PY" --repair=check -o "$T/chk2"
check "  naming the library and what repair would do" bash -c "grep -q 'libspokehelper.so.1' '$T/last.out' && grep -q 'would be bundled as spoke_native.libs/$graft' '$T/last.out' && grep -q 'not manylinux-compliant' '$T/last.out'"
check "  and reports the graft as it goes" grep -q "would bundle libspokehelper.so.1 ('$helper') as spoke_native.libs/$graft" "$T/last.out"
check "  no native wheel was written" bash -c "! ls '$T'/chk2/spoke_native-*.whl 2>/dev/null"
check "  cargo outputs restored" same_snapshot "$ws" "$T/before"
check "  nothing left staged or half-written" no_leftovers "$ws" "$ws/target/spoke"

# skip: plain linux wheels, nothing bundled.
check "--repair=skip" in_ws "$SPOKE" build -q -i "$PY" --repair=skip -o "$T/skip"
check "  the native wheel is linux_x86_64" bash -c "ls '$T'/skip/spoke_native-0.1.0-*-linux_x86_64.whl"
check "  and bundles nothing" bash -c "! unzip -l '$T'/skip/spoke_native-*.whl | grep -q '\\.libs/'"
check "  its module is cargo's, byte for byte" bash -c "unzip -p '$T'/skip/spoke_native-*.whl 'native.*.so' | cmp - '$so'"

# --compat: exactly that tag, or an error.  Whether manylinux_2_17 is
# enough depends on this machine's toolchain: the expectation comes from
# readelf.
if [ "${module_glibc#2.}" -gt 17 ] 2>/dev/null; then
	check_status "--compat manylinux_2_17 fails: the module needs GLIBC_$module_glibc" 1 \
		in_ws "$SPOKE" build -i "$PY" -p spoke-native --compat manylinux_2_17 -o "$T/c17"
	check "  the message names the object, the tag, the versions and their symbols" \
		grep -qE "'$so' does not fit --compat manylinux_2_17: '$so' needs GLIBC_[0-9.]+ \(.*, GLIBC_$module_glibc \([a-z_]" "$T/last.out"
	check "  no wheel was written" bash -c "! ls '$T'/c17/*.whl 2>/dev/null"
else
	check "--compat manylinux_2_17 passes: the module needs GLIBC_$module_glibc" \
		in_ws "$SPOKE" build -q -i "$PY" -p spoke-native --compat manylinux_2_17 -o "$T/c17"
fi
check "  cargo outputs restored" same_snapshot "$ws" "$T/before"
check "  nothing left staged or half-written" no_leftovers "$ws" "$ws/target/spoke"
check "--compat manylinux2014 (the alias) is accepted" bash -c "cd '$ws' && '$SPOKE' build -q -i '$PY' -p hello --repair=skip --compat manylinux2014 -o '$T/alias'"
check "--compat with the newest tag passes" in_ws "$SPOKE" build -q -i "$PY" -p spoke-native --compat manylinux_2_39 -o "$T/c39"
check_status "an unknown --compat tag is a usage error" 2 in_ws "$SPOKE" build -i "$PY" --compat manylinux_9_9 -o "$T/bad"
check "  listing the known tags" grep -q "unknown platform tag 'manylinux_9_9' (known, each with or without an _<arch> suffix: manylinux_2_5, manylinux1, manylinux_2_12, manylinux2010, manylinux_2_17, manylinux2014" "$T/last.out"
check_status "an unknown --repair mode is a usage error" 2 in_ws "$SPOKE" build -i "$PY" --repair=maybe

# --exclude: the user promises the target has it.
check "--exclude libspokehelper.so.1" bash -c "cd '$ws' && '$SPOKE' build -i '$PY' -p spoke-native --exclude libspokehelper.so.1 --json -o '$T/excl' >'$T/excl.json'"
check "  the wheel bundles nothing and keeps the name" bash -c "! unzip -l '$T'/excl/spoke_native-*.whl | grep -q '\\.libs/'"
check "  and --json says so" result "$T/excl.json" "
n = w['native']
assert n['grafted'] == [] and n['needed'][0] == 'libspokehelper.so.1', n
assert n['platform_tag'] == '$tag', n['platform_tag']
act = {l['soname']: l['action'] for l in n['repair']['libs']}
assert act['libspokehelper.so.1'] == 'excluded', act
"

# --exclude takes auditwheel's globs: on the soname, and on the path the
# library was found at when the pattern holds a '/'.  Either leaves the
# wheel as the exact name does: nothing bundled, the same tag.
for pat in 'libspokehelper.so.*' 'libspokehelper.so.[0,1]' '*/out/libspokehelper.so*'; do
	d="$T/excl-$(echo "$pat" | tr -c 'a-z0-9' _)"
	check "--exclude '$pat'" bash -c "cd '$ws' && '$SPOKE' build -i '$PY' -p spoke-native --exclude '$pat' --json -o '$d' >'$d.json'"
	check "  bundles nothing, tagged as with the exact name" result "$d.json" "
n = w['native']
assert n['grafted'] == [], n['grafted']
assert n['platform_tag'] == '$tag', (n['platform_tag'], '$tag')
act = {l['soname']: l['action'] for l in n['repair']['libs']}
assert act['libspokehelper.so.1'] == 'excluded', act
"
	check "  and the wheel has no .libs/" bash -c "! unzip -l '$d'/spoke_native-*.whl | grep -q '\\.libs/'"
done
check_status "a soname glob that matches nothing still bundles, so --repair=check fails" 1 \
	in_ws "$SPOKE" build -i "$PY" -p spoke-native --repair=check --exclude 'libspokehelper.so.[2-9]' -o "$T/exclno"
check "--repair=check passes when a glob excludes the library" \
	in_ws "$SPOKE" build -q -i "$PY" -p spoke-native --repair=check --exclude 'libspokehelper.so.*' -o "$T/exclchk"

# The library is gone from where cargo's link paths say: a clear error
# with the paths tried, and every cargo output given back.
mkdir -p "$T/ldp" "$T/libp"
cp -a "$outdir"/libspokehelper.so* "$T/ldp/"
cp -a "$outdir"/libspokehelper.so* "$T/libp/"
rm -f "$outdir"/libspokehelper.so*
check_status "a needed library that is not found fails the build" 1 in_ws "$SPOKE" build -i "$PY" -o "$T/nf"
check "  saying which, needed by what, and where it looked" bash -c "grep -q \"cannot find libspokehelper.so.1, needed by '$so'; tried: \" '$T/last.out' && grep -qF '$outdir/libspokehelper.so.1' '$T/last.out' && grep -q -- '--lib-path' '$T/last.out'"
check "  no native wheel" bash -c "! ls '$T'/nf/spoke_native-*.whl 2>/dev/null"
check "  cargo outputs restored" same_snapshot "$ws" "$T/before"
check "  nothing left staged or half-written" no_leftovers "$ws" "$ws/target/spoke"

# Where else the library may be: --lib-path (relative to the client's
# directory), the client's LD_LIBRARY_PATH (not the coordinator's).
check "--lib-path finds it" bash -c "cd '$T' && '$SPOKE' build -i '$PY' --manifest-path '$ws/Cargo.toml' -p spoke-native --lib-path libp --json -o '$T/lp' >'$T/lp.json'"
check "  from there" result "$T/lp.json" "
g = w['native']['grafted']
assert g[0]['path'] == '$T/libp/libspokehelper.so.1', g
"
check "LD_LIBRARY_PATH of the client finds it" bash -c "cd '$ws' && LD_LIBRARY_PATH='$T/ldp' '$SPOKE' build -i '$PY' -p spoke-native --json -o '$T/ld' >'$T/ld.json'"
check "  from there" result "$T/ld.json" "
n = w['native']
assert n['grafted'][0]['path'] == '$T/ldp/libspokehelper.so.1', n['grafted']
via = {l['soname']: l['via'] for l in n['repair']['libs']}
assert via['libspokehelper.so.1'] == 'LD_LIBRARY_PATH', via
"
check "  the same bytes bundled under the same name" bash -c "unzip -l '$T'/ld/spoke_native-*.whl | grep -q 'spoke_native.libs/$graft'"
cp -a "$T"/ldp/libspokehelper.so* "$outdir/"

check "cargo outputs still untouched" same_snapshot "$ws" "$T/before"
check "cargo still fresh" cargo_fresh "$ws"
finish
