#!/bin/bash
# auditwheel_show.sh - spoke show beside auditwheel show on auditwheel's
# own test wheels (tests/bundled-wheels in its source), as a table: for
# each wheel, whether spoke reads it, the libc, architecture and platform
# tag spoke gives, and auditwheel's answer.  Not a benchmark and not in
# CI (it needs auditwheel's source): a parity check to run by hand when
# the policy, the ELF readers or show change.
#
# usage: bench/auditwheel_show.sh [--spoke SPOKE]
# Environment: AUDITWHEEL_SRC (see lib_auditwheel.sh).
#
# The tags are compared as each tool means them: spoke's is the tag the
# wheel gets after a repair (libraries outside the policy are bundled);
# auditwheel show's "consistent with" line is the tag before a repair, so
# for a wheel spoke would bundle libraries into, the most compatible tag
# auditwheel says grafting achieves is compared instead.  A wheel
# auditwheel reads as no platform wheel or cannot judge (another
# architecture's armv5l, mips64; a libc it cannot tell) and spoke gives no
# tag for counts as agreeing.
set -uo pipefail
cd "$(dirname "$0")/.."
SPOKE=
while [ $# -gt 0 ]; do
	case $1 in
	--spoke) SPOKE=$2; shift 2 ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "auditwheel_show: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for s in "$SPOKE" ./spoke build/spoke; do
	[ -n "$s" ] && [ -x "$s" ] && { SPOKE=$(readlink -f "$s"); break; }
done
[ -x "$SPOKE" ] || { echo "auditwheel_show: no spoke binary (--spoke)" >&2; exit 2; }
PY=/usr/bin/python3
W=$(mktemp -d /tmp/spoke-awshow.XXXXXX) || exit 2
trap 'rm -rf "$W"' EXIT
. bench/lib_auditwheel.sh
find_auditwheel
[ -n "$AW" ] || { echo "auditwheel_show: auditwheel cannot run here: $WHY" >&2; exit 1; }
echo "spoke:      $SPOKE"
echo "auditwheel: $($AW --version 2>&1 | awk '{print $2; exit}') from $AW_SRC"
find "$AW_SRC/tests/bundled-wheels" -name '*.whl' | sort >"$W/list"
while read -r whl; do
	"$SPOKE" show --json "$whl" >"$W/s.json" 2>/dev/null
	$AW -v show "$whl" >"$W/a.txt" 2>&1
	"$PY" - "$whl" "$W/s.json" "$W/a.txt" "$AW_SRC/tests/bundled-wheels/" <<'PYEOF'
import json, re, sys
whl, sj, at, root = sys.argv[1:]
try:
    s = json.loads(open(sj).readline())
except ValueError:
    s = {}
p = s.get("platform") or {}
a = " ".join(open(at).read().split())
# auditwheel's tag after a repair: the most compatible tag it says
# grafting would achieve; else, unless a rule keeps the wheel linux
# (black-listed symbols, UCS2, PyFPE_jbuf), the tag its symbol versions
# constrain it to; else the tag it is consistent with as it is.
achieve = re.findall(r"achieve the tag platform tag '([^']+)'", a)
keep = re.search(r"black-listed|UCS2|PyFPE_jbuf", a)
m = (None if keep else re.search(r'constrains the platform tag to "([^"]+)"', a)) \
    or re.search(r'following platform tag: "([^"]+)"', a)
if achieve and p.get("would_bundle") and not keep:
    aw = achieve[-1]
elif m:
    aw = m.group(1)
else:
    aw = ("not a platform wheel" if "not look like a platform wheel" in a
          else (re.findall(r"(\w+Error)", a) or ["?"])[-1])
sp = (p.get("tag") or "").split(".")[0] or p.get("error", "") or (
    "not a platform wheel" if p.get("platform_wheel") is False else "?")
read = "valid" if s.get("ok") else ("invalid" if s else "unreadable")
none = lambda t: t.startswith("linux_") or not re.match(r"(many|musl)linux", t)
agree = sp == aw or (none(aw) and none(sp)) or (
    aw.endswith("Error") and not re.match(r"(many|musl)linux", sp or ""))
print("%-62s %-10s %-28s %-28s %s" % (whl[len(root):][:62], read, sp[:28], aw[:28],
                                      "=" if agree else "DIFFERS"))
PYEOF
done <"$W/list" | tee "$W/table"
echo
echo "$(grep -vc ' unreadable ' "$W/table") of $(wc -l <"$W/list") wheels read by spoke;" \
	"tags agree on $(grep -c ' =$' "$W/table")"
