#!/bin/bash
# spoke show: spoke's own wheels, wheels written by other tools (wheel
# pack, zip -r), damaged and hostile wheels, --json, usage errors, and
# zip64 archives (more than 65,535 entries; an entry over 4 GiB) checked by
# spoke and by unzip, Python's zipfile and wheel.
. "$(dirname "$0")/lib.sh"

MKWHEEL=${SPOKE_TEST_BUILD_DIR:-}/tests/mkwheel

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
check "spoke build writes the example wheels" \
	bash -c "cd '$ws' && '$SPOKE' build -q -i '$PY'"
whl=$(ls "$ws"/target/wheels/hello-*.whl 2>/dev/null | head -1)
check "a hello wheel exists" test -n "$whl"

# spoke's own wheels.
for w in "$ws"/target/wheels/*.whl; do
	check_status "show $(basename "$w"): valid, exit 0" 0 "$SPOKE" show "$w"
	check "show $(basename "$w") says valid" grep -q '^  valid$' "$T/last.out"
	check "show $(basename "$w") lists the .so and its NEEDED" \
		grep -Eq '^      needed: .*libc\.so\.6' "$T/last.out"
	check "show $(basename "$w") lists the tags" \
		grep -Eq '^  tags: cp3[0-9]+-cp3[0-9]+-(linux|manylinux)' "$T/last.out"
	check "show $(basename "$w") prints the required GLIBC version" \
		grep -Eq '^      requires: .*GLIBC_2\.[0-9]+' "$T/last.out"
done
check_status "show of several wheels at once: exit 0" 0 \
	"$SPOKE" show "$ws"/target/wheels/*.whl

# --json: one result line per wheel.
check_status "show --json: exit 0" 0 "$SPOKE" show --json "$ws"/target/wheels/*.whl
cp "$T/last.out" "$T/json.out"
check "show --json: one result object per wheel, with entries and NEEDED" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [r["path"] for r in lines] == sys.argv[2:], lines
for r in lines:
    assert r["type"] == "result" and r["command"] == "show", r
    assert r["ok"] is True and r["problems"] == [], r["problems"]
    assert "linux" in r["tags"]["platform"], r["tags"]
    assert len(r["wheel"]["tags"]) >= 1
    assert r["wheel"]["root_is_purelib"] is False
    assert len(r["entries"]) >= 4
    assert r["entries"][0]["method"] in ("deflate", "stored")
    so = r["shared_objects"]
    assert so and so[0]["name"].endswith(".so"), so
    assert "libc.so.6" in so[0]["needed"], so
    assert so[0]["symbol_versions"]["GLIBC"].startswith("2."), so
' "$T/json.out" "$ws"/target/wheels/*.whl

# Wheels written by others.
mkdir -p "$T/others"
(cd "$T/others" && "$PY" -m wheel unpack -d unpacked "$whl" >/dev/null 2>&1)
unpacked=$(ls -d "$T"/others/unpacked/*/ 2>/dev/null | head -1)
check "python -m wheel unpack of a spoke wheel" test -n "$unpacked"
check "python -m wheel pack" bash -c "cd '$T/others' && mkdir -p packed && '$PY' -m wheel pack -d packed '$unpacked' >/dev/null"
packed=$(ls "$T"/others/packed/*.whl 2>/dev/null | head -1)
check_status "show of a wheel made by 'wheel pack': valid" 0 "$SPOKE" show "$packed"

# zip -r of a tree whose RECORD a small Python snippet writes; zip adds
# directory entries, which are fine.  write_record TREE [ALGO] (default
# sha256; the spec allows any hashlib algorithm as strong or stronger).
write_record() {
	"$PY" - "$1" "${2:-sha256}" <<'PYEOF'
import base64, hashlib, os, sys
root, algo = sys.argv[1:]
info = [d for d in os.listdir(root) if d.endswith(".dist-info")][0]
rec = info + "/RECORD"
lines = []
for dirpath, dirs, files in os.walk(root):
    for f in sorted(files):
        p = os.path.relpath(os.path.join(dirpath, f), root)
        if p == rec:
            continue
        data = open(os.path.join(root, p), "rb").read()
        h = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
        lines.append("%s,%s=%s,%d" % (p, algo, h, len(data)))
lines.append(rec + ",,")
open(os.path.join(root, rec), "w").write("\n".join(lines) + "\n")
PYEOF
}
mkdir -p "$T/zipped"
cp -r "$unpacked" "$T/zipped/tree"
name=$(basename "$whl")
check "a RECORD for the zip -r tree" write_record "$T/zipped/tree"
check "zip -r" bash -c "cd '$T/zipped/tree' && zip -qr '../$name' ."
check_status "show of a wheel made by 'zip -r': valid" 0 "$SPOKE" show "$T/zipped/$name"

# RECORD in sha384 and sha512: valid, and checked (a second pass reads the
# entries again once RECORD is known); md5 is refused.
for algo in sha384 sha512 md5; do
	rm -rf "$T/algo-$algo"
	mkdir -p "$T/algo-$algo"
	cp -r "$unpacked" "$T/algo-$algo/tree"
	write_record "$T/algo-$algo/tree" $algo
	(cd "$T/algo-$algo/tree" && zip -qr "../$name" .)
done
check_status "a RECORD in sha384: valid" 0 "$SPOKE" show "$T/algo-sha384/$name"
check_status "a RECORD in sha512: valid" 0 "$SPOKE" show "$T/algo-sha512/$name"
check_status "a RECORD in md5: exit 1" 1 "$SPOKE" show "$T/algo-md5/$name"
check "  says md5 is too weak" grep -q "RECORD hash 'md5=.*is not sha256, sha384 or sha512" "$T/last.out"
so=$(cd "$T/algo-sha512/tree" && ls *.so)
printf 'x' >>"$T/algo-sha512/tree/$so"
rm "$T/algo-sha512/$name"
(cd "$T/algo-sha512/tree" && zip -qr "../$name" .)
check_status "a file changed after a sha512 RECORD: exit 1" 1 "$SPOKE" show "$T/algo-sha512/$name"
check "  names the file and the sha512" grep -q "'$so': its sha512 is .*RECORD says" "$T/last.out"

# Bad wheels: exit 1 and a message naming the entry and the reason.
bad() {
	mkdir -p "$T/bad/$1"
	echo "$T/bad/$1/$name"
}
b=$(bad truncated)
head -c -100 "$whl" >"$b"
check_status "truncated wheel: exit 1" 1 "$SPOKE" show "$b"
check "truncated wheel: says so" grep -q 'truncated' "$T/last.out"

b=$(bad hash)
cp -r "$T/zipped/tree" "$T/bad/hash/tree"
so=$(cd "$T/bad/hash/tree" && ls *.so)
printf 'x' >>"$T/bad/hash/tree/$so"
(cd "$T/bad/hash/tree" && zip -qr "$b" .)
check_status "a file changed after RECORD: exit 1" 1 "$SPOKE" show "$b"
check "names the file and the sha256" grep -q "'$so': its sha256 is .*RECORD says" "$T/last.out"
check "names the size" grep -q "'$so': its size is .*RECORD says" "$T/last.out"

b=$(bad line)
cp -r "$T/zipped/tree" "$T/bad/line/tree"
rec=$(cd "$T/bad/line/tree" && ls -d *.dist-info)/RECORD
sed -i '/METADATA/d' "$T/bad/line/tree/$rec"
(cd "$T/bad/line/tree" && zip -qr "$b" .)
check_status "a file without a RECORD line: exit 1" 1 "$SPOKE" show "$b"
check "names it" grep -q "METADATA': has no line in RECORD" "$T/last.out"

# Hostile names and duplicates, written by Python's zipfile, which writes
# whatever it is given.
hostile() {
	"$PY" - "$whl" "$1" "$2" <<'PYEOF' 2>/dev/null
import sys, zipfile
src, dst, kind = sys.argv[1:]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for i in zin.infolist():
        zout.writestr(i, zin.read(i))
    if kind == "dotdot":
        zout.writestr("../evil.py", b"x")
    elif kind == "abs":
        zout.writestr(zipfile.ZipInfo("/etc/evil"), b"x")
    elif kind == "backslash":
        zout.writestr("pkg\\evil.py", b"x")
    elif kind == "dup":
        first = zin.infolist()[0]
        zout.writestr(first.filename, b"other bytes")
PYEOF
}
for kind in dotdot abs backslash dup; do
	b=$(bad "$kind")
	hostile "$b" "$kind"
	check_status "$kind name: exit 1" 1 "$SPOKE" show "$b"
done
b="$T/bad/dotdot/$name"
"$SPOKE" show "$b" >"$T/out" 2>&1
check "'../evil.py' is named with its reason" grep -q "'../evil.py': the name has a '..' component" "$T/out"
"$SPOKE" show "$T/bad/abs/$name" >"$T/out" 2>&1
check "'/etc/evil' is named with its reason" grep -q "'/etc/evil': the name is an absolute path" "$T/out"
"$SPOKE" show "$T/bad/backslash/$name" >"$T/out" 2>&1
check "a backslash name is named with its reason" grep -q "contains a backslash" "$T/out"
"$SPOKE" show "$T/bad/dup/$name" >"$T/out" 2>&1
check "a duplicate is named with its reason" grep -q "appears more than once" "$T/out"

check_status "a missing file: exit 1" 1 "$SPOKE" show "$T/nonexistent.whl"
check "a missing file: says why" grep -q 'No such file' "$T/last.out"
echo "not a zip" >"$T/bad/junk.whl"
check_status "not a zip: exit 1" 1 "$SPOKE" show "$T/bad/junk.whl"
check_status "a valid and an invalid wheel: exit 1" 1 "$SPOKE" show "$whl" "$T/bad/truncated/$name"

"$SPOKE" show --json "$T/bad/hash/$name" "$T/nonexistent.whl" >"$T/badjson.out" 2>/dev/null
check "--json for bad wheels: ok false with problems, or an error" "$PY" -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["type"] == "result" and a["ok"] is False, a
assert any(p["reason"].startswith("its sha256") for p in a["problems"]), a["problems"]
assert b["ok"] is False and "No such file" in b["error"], b
' "$T/badjson.out"

# Usage errors.
check_status "show without a wheel: exit 2" 2 "$SPOKE" show
check_status "show --bogus: exit 2" 2 "$SPOKE" show --bogus "$whl"
check_status "show --max-size junk: exit 2" 2 "$SPOKE" show --max-size junk "$whl"
check_status "show --help: exit 0" 0 "$SPOKE" show --help
check "show --help documents --json" grep -q -- '--json' "$T/last.out"
check_status "--max-size smaller than the wheel: exit 1" 1 "$SPOKE" show --max-size 1K "$whl"

# zip64: more than 65,535 entries.
if [ -x "$MKWHEEL" ]; then
	mkdir -p "$T/z64"
	many="$T/z64/demo-1.0-py3-none-any.whl"
	check "mkwheel writes 70,000 entries" "$MKWHEEL" "$many" --entries 70000
	check_status "show of 70,003 entries: valid" 0 "$SPOKE" show -q "$many"
	"$SPOKE" show --json "$many" >"$T/many.json"
	check "--json says zip64 and 70,003 entries" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["zip64"] and len(r["entries"]) == 70003, (r["ok"], r["zip64"], len(r["entries"]))
' "$T/many.json"
	check "unzip -t of 70,003 entries" unzip -tqq "$many"
	check "python zipfile reads 70,003 entries" "$PY" -c '
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert len(z.infolist()) == 70003
assert z.testzip() is None
' "$many"
	check "python -m wheel unpack of 70,003 entries" \
		bash -c "cd '$T/z64' && '$PY' -m wheel unpack -d u '$many' >/dev/null"
	rm -rf "$T/z64"

	# zip64: one stored entry over 4 GiB, when the disk has room.
	avail=$(df -Pk "$T" | awk 'NR == 2 { print int($4 / 1048576) }')
	if [ "${avail:-0}" -gt 10 ]; then
		mkdir -p "$T/big"
		big="$T/big/demo-1.0-py3-none-any.whl"
		start=$SECONDS
		check "mkwheel writes a 4.2 GiB stored entry" \
			"$MKWHEEL" "$big" --big 4509715660 --level 0
		check "the wheel is over 4 GiB on disk" \
			test "$(du -k "$big" | cut -f1)" -gt 4194304
		check_status "show of a 4.2 GiB entry: valid" 0 "$SPOKE" show "$big"
		check "show says zip64" grep -q 'zip64' "$T/last.out"
		check "python zipfile sees the 4.2 GiB entry" "$PY" -c '
import sys, zipfile
i = zipfile.ZipFile(sys.argv[1]).getinfo("demo/big.bin")
assert i.file_size == 4509715660 and i.compress_size == i.file_size
' "$big"
		rm -rf "$T/big"
		echo "# 4.2 GiB wheel: $((SECONDS - start)) s"
	else
		ok "zip64 entry over 4 GiB # SKIP not enough disk space (${avail:-?} GiB free in $T, need 10)"
	fi
else
	not_ok "tests/mkwheel is built (SPOKE_TEST_BUILD_DIR=${SPOKE_TEST_BUILD_DIR:-unset})"
fi
finish
