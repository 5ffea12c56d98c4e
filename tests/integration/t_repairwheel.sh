#!/bin/bash
# spoke repair on a wheel built by someone else: the native example's
# module, packed with `python3 -m wheel pack` as a linux_x86_64 wheel,
# needs libspokehelper.so.1 from its build script's OUT_DIR.  The repaired
# wheel must bundle it, carry a manylinux tag, pass spoke show, and import
# in a fresh venv with no LD_LIBRARY_PATH; the input must not change.
# Then bad inputs: not a zip, a RECORD hash that does not hold, a wheel
# without shared objects, a library that cannot be found.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
unset LD_LIBRARY_PATH
helper_dir=$(dirname "$(find "$ws/target/release/build" -path '*/out/libspokehelper.so.1' | head -1)")
check "the build script built the helper library" test -f "$helper_dir/libspokehelper.so.1"

mod="$T/native.cpython-311-x86_64-linux-gnu.so"
cp "$ws/target/release/libnative.so" "$mod"
check "wheel pack makes the input wheel" pack native linux_x86_64 "$mod"
in_whl="$T/in/native-0.1.0-cp311-cp311-linux_x86_64.whl"
sum_before=$(sha256sum <"$in_whl")

check "spoke repair succeeds" "$SPOKE" repair -w "$T/out" --lib-path "$helper_dir" --json "$in_whl"
cp "$T/check.out" "$T/repair.json"
out_whl=$(ls "$T"/out/native-0.1.0-cp311-cp311-manylinux_*_x86_64*.whl 2>/dev/null)
check "  one wheel with a manylinux platform tag" test -n "$out_whl" -a "$(ls "$T/out" | wc -l)" -eq 1
check "  --json names the wheel and the bundled library" "$PY" -c "
import json, re, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r['ok'] and r['wheel'] == sys.argv[2], r
assert r['nothing_to_repair'] is False
m = r['modules']
assert len(m) == 1 and m[0]['entry'] == 'native.cpython-311-x86_64-linux-gnu.so', m
g = m[0]['grafted']
assert len(g) == 1 and g[0]['soname'] == 'libspokehelper.so.1', g
assert re.fullmatch(r'native\.libs/libspokehelper-[0-9a-f]{8}\.so\.1', g[0]['wheel_path']), g
assert r['platform_tag'] in r['wheel'], r
" "$T/repair.json" "$out_whl"
check "  the input wheel is unchanged" test "$(sha256sum <"$in_whl")" = "$sum_before"
check "  spoke show says valid" bash -c "'$SPOKE' show '$out_whl' | grep -q '^  valid\$'"
check "  spoke show lists the manylinux tag" bash -c "'$SPOKE' show '$out_whl' | grep -q 'tags: cp311-cp311-manylinux_'"
check "  every RECORD line holds (python zipfile)" wheels_valid "$T/out"
check "  entries: module, bundled library, METADATA, WHEEL, RECORD last" "$PY" -c "
import sys, zipfile
n = zipfile.ZipFile(sys.argv[1]).namelist()
assert n[0] == 'native.cpython-311-x86_64-linux-gnu.so', n
assert n[1].startswith('native.libs/libspokehelper-'), n
assert n[2:] == ['native-0.1.0.dist-info/' + x for x in ('METADATA', 'WHEEL', 'RECORD')], n
w = zipfile.ZipFile(sys.argv[1]).read('native-0.1.0.dist-info/WHEEL').decode()
tags = [l[5:] for l in w.splitlines() if l.startswith('Tag: ')]
want = sys.argv[1].rsplit('-', 1)[1][:-4].split('.')
assert tags == ['cp311-cp311-' + p for p in want], (tags, want)
" "$out_whl"
check "  no temporary file is left in the output directory" test -z "$(find "$T/out" -name '.*')"

venv=$(make_venv repair) || not_ok "a venv is made"
check "pip installs the repaired wheel" "$venv/bin/pip" install -q --no-index "$out_whl"
check "  the module imports and calls into the bundled library with no LD_LIBRARY_PATH" \
	env -u LD_LIBRARY_PATH "$venv/bin/python" -c "import native; assert native.mul(6, 7) == 42"

# Repairing the repaired wheel finds the bundled library through the
# module's $ORIGIN rpath alone, and yields the same tag.
check "a repaired wheel repairs again without --lib-path" "$SPOKE" repair -w "$T/out2" "$out_whl"
check "  with the same name" test -f "$T/out2/$(basename "$out_whl")"
check "  without bundling the bundled library twice" "$PY" -c "
import sys, zipfile
n = zipfile.ZipFile(sys.argv[1]).namelist()
assert len([x for x in n if x.startswith('native.libs/')]) == 1, n
" "$T/out2/$(basename "$out_whl")"

# Writing over the input is refused.
check_status "an output that would replace the input is refused" 1 \
	"$SPOKE" repair -w "$T/out" --lib-path "$helper_dir" "$out_whl"
check "  the message says so" grep -q "would replace its input" "$T/last.out"

# Without --lib-path the helper cannot be found.
check_status "a missing library is refused" 1 "$SPOKE" repair -w "$T/out3" "$in_whl"
check "  naming the library and the paths tried" grep -q "cannot find libspokehelper.so.1.*tried: .*/usr/lib" "$T/last.out"
check "  nothing is written" test ! -e "$T/out3" -o -z "$(ls -A "$T/out3" 2>/dev/null)"

# --exclude takes auditwheel's globs: one on the soname leaves the helper
# to the target system, even where it cannot be found; one with a '/'
# matches where it was found.  Either makes the wheel the exact name does.
check "--exclude libspokehelper.so.1 repairs without bundling it" \
	"$SPOKE" repair -w "$T/oute" --exclude libspokehelper.so.1 "$in_whl"
excl_whl=$(basename "$(ls "$T"/oute/*.whl 2>/dev/null)")
check "--exclude 'libspokehelper.so.*' too" \
	"$SPOKE" repair -w "$T/outx" --exclude 'libspokehelper.so.*' "$in_whl"
check "  the same wheel name, no .libs/" bash -c "test -n '$excl_whl' -a -f '$T/outx/$excl_whl' && ! unzip -l '$T/outx/$excl_whl' | grep -q '\\.libs/'"
check "--exclude '*/libspokehelper.so*' matches the path --lib-path found" \
	"$SPOKE" repair -w "$T/outp" --lib-path "$helper_dir" --exclude '*/libspokehelper.so*' "$in_whl"
check "  the same wheel name, no .libs/" bash -c "test -n '$excl_whl' -a -f '$T/outp/$excl_whl' && ! unzip -l '$T/outp/$excl_whl' | grep -q '\\.libs/'"

# A --compat older than the module's symbol versions cannot be met.
check_status "a policy that cannot be met is refused" 1 \
	"$SPOKE" repair -w "$T/out4" --lib-path "$helper_dir" --compat manylinux_2_17 "$in_whl"
check "  naming the symbol version" grep -q "does not fit --compat manylinux_2_17: .* needs GLIBC_2\.[0-9]* (" "$T/last.out"
check "  nothing is written" test -z "$(ls -A "$T/out4" 2>/dev/null)"

# Bad inputs.
head -c 1000 /dev/urandom >"$T/in/junk-0.1.0-py3-none-any.whl"
check_status "a file that is not a zip is refused" 1 "$SPOKE" repair -w "$T/out5" "$T/in/junk-0.1.0-py3-none-any.whl"
check "  as not a valid wheel" grep -q "is not a valid wheel" "$T/last.out"

"$PY" - "$in_whl" "$T/in/badrec-0.1.0-cp311-cp311-linux_x86_64.whl" <<'PYEOF'
import sys, zipfile
src, dst = zipfile.ZipFile(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for i in src.infolist():
        data = src.read(i.filename)
        name = i.filename.replace("native-0.1.0", "badrec-0.1.0")
        if name.endswith("/RECORD"):
            lines = data.decode().replace("native-0.1.0", "badrec-0.1.0").splitlines()
            p, h, s = lines[0].rsplit(",", 2)
            lines[0] = ",".join([p, "sha256=" + "A" * 43, s])
            data = ("\n".join(lines) + "\n").encode()
        elif name.endswith("/METADATA"):
            data = data.replace(b"Name: native", b"Name: badrec")
        z.writestr(name, data)
PYEOF
check_status "a wheel whose RECORD hash does not hold is refused" 1 \
	"$SPOKE" repair -w "$T/out6" --lib-path "$helper_dir" "$T/in/badrec-0.1.0-cp311-cp311-linux_x86_64.whl"
check "  naming the entry" grep -q "not a valid wheel: 'badrec.cpython-311-x86_64-linux-gnu.so'\|not a valid wheel: '.*\.so'" "$T/last.out"
check "  nothing is written" test -z "$(ls -A "$T/out6" 2>/dev/null)"

echo 'print("hi")' >"$T/pure.py"
check "a wheel without shared objects is made" pack pure py3 "$T/pure.py"
pure="$T/in/pure-0.1.0-cp311-cp311-py3.whl"
check_status "a wheel without shared objects: exit 0" 0 "$SPOKE" repair -w "$T/out7" "$pure"
check "  says nothing to repair" grep -q "nothing to repair" "$T/last.out"
check "  writes nothing" test -z "$(ls -A "$T/out7" 2>/dev/null)"

check_status "no wheel is a usage error" 2 "$SPOKE" repair
finish
