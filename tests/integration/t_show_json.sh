#!/bin/bash
# spoke show --json on a wheel whose names and RECORD are not UTF-8: every
# entry and every problem is in the report (jansson refuses invalid UTF-8,
# which silently dropped them: "ok": false with "problems": []).  The
# wheelgen fuzz harness (fuzz/fuzz_wheelgen.c) builds such wheels by the
# thousand; this is the case end to end through the real command.
. "$(dirname "$0")/lib.sh"

# A valid wheel, then the bytes "XX" of one entry's name (both headers)
# become 0xff 0xfe (CRCs cover data, not names); RECORD also lists a file
# whose name holds 0xff.
check "a wheel with a non-UTF-8 name and RECORD line is written" "$PY" - "$T" <<'PY'
import base64, hashlib, sys, zipfile
d = sys.argv[1]
files = {"fuzz/__init__.py": b"", "fuzz/badXX.py": b"x = 1\n",
         "fuzz-1.0.dist-info/METADATA":
             b"Metadata-Version: 2.1\nName: fuzz\nVersion: 1.0\n",
         "fuzz-1.0.dist-info/WHEEL":
             b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\n"
             b"Tag: py3-none-any\n"}
rec = b""
for n, b in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=")
    # RECORD names the file as it will be, so that "XX" is only in
    # the headers.
    rec += b"%s,sha256=%s,%d\n" % (
        n.encode().replace(b"badXX", b"bad\xff\xfe"), h, len(b))
rec += b"fuzz/gone-\xff.py,sha256=x,1\nfuzz-1.0.dist-info/RECORD,,\n"
files["fuzz-1.0.dist-info/RECORD"] = rec
p = d + "/fuzz-1.0-py3-none-any.whl"
with zipfile.ZipFile(p, "w") as z:
    for n, b in files.items():
        z.writestr(n, b)
raw = open(p, "rb").read()
raw = raw.replace(b"badXX.py", b"bad\xff\xfe.py")
open(p, "wb").write(raw)
PY
whl="$T/fuzz-1.0-py3-none-any.whl"
# The name's bytes changed only in the headers; RECORD holds 0xff too,
# so it is not UTF-8 text.
check_status "show --json of it: invalid, exit 1" 1 "$SPOKE" show --json "$whl"
check "every entry and every problem is in the JSON report" "$PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["ok"] is False, r
names = [e["name"] for e in r["entries"]]
assert len(names) == 5, names
assert "fuzz/bad\ufffd\ufffd.py" in names, names
entries = [p["entry"] for p in r["problems"]]
assert "fuzz/bad\ufffd\ufffd.py" in entries, r["problems"]
assert any("UTF-8" in p["reason"] for p in r["problems"]), r["problems"]
# A RECORD that is not UTF-8 is one problem of its own (it is checked as
# text before it is parsed), named in the report like any other.
assert any(p["entry"] == "fuzz-1.0.dist-info/RECORD" and "UTF-8" in p["reason"]
           for p in r["problems"]), r["problems"]
' "$T/last.out"
check_status "show (text) of it: exit 1" 1 "$SPOKE" show "$whl"
check "the text report names the problem" grep -q "not valid UTF-8" "$T/last.out"
finish
