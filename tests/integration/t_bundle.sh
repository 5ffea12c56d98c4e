#!/bin/bash
# spoke bundle: after a build, while its coordinator still runs, a bundle
# holds a journal copy that SQLite opens, the builds' timelines, the
# coordinator log and a summary whose environment holds only allow-listed
# variables.  --read lists it; a truncated bundle is an error.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
check "spoke build succeeds" bash -c "cd '$ws' && '$SPOKE' build -i '$PY' -p spoke-native -o '$T/w'"

check "spoke bundle writes a bundle while the coordinator runs" bash -c \
	"cd '$ws' && SPOKE_TEST_SECRET=hunter2 SOURCE_DATE_EPOCH=1700000000 '$SPOKE' bundle -o '$T/b.tar.zst'"
check "  it is a zstd-compressed tar" bash -c "zstd -dc '$T/b.tar.zst' >'$T/b.tar' && tar tf '$T/b.tar' >'$T/members'"
check "  with summary, journal, builds and log" bash -c \
	"for m in summary.json journal.db builds.json coordinator.log; do grep -qx \$m '$T/members' || exit 1; done"
mkdir -p "$T/x"
tar xf "$T/b.tar" -C "$T/x"
check "  the journal copy opens and lists the build" "$PY" -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute('pragma integrity_check').fetchone()[0] == 'ok'
assert db.execute('select count(*) from builds').fetchone()[0] >= 1
" "$T/x/journal.db"
check "  builds.json holds the build's timeline" "$PY" -c "
import json, sys
b = json.load(open(sys.argv[1]))
assert b and b[0]['events'], b
" "$T/x/builds.json"
check "  the summary names versions, uname and the filesystem" "$PY" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s['spoke_version'] and s['cargo_version'].startswith('cargo ')
assert s['python3_version'].startswith('Python 3')
assert s['uname']['sysname'] == 'Linux' and s['target_dir']['filesystem']
assert s['environment'] == {'SOURCE_DATE_EPOCH': '1700000000'}, s['environment']
" "$T/x/summary.json"
check "  no other environment variable is in it" bash -c "! grep -q hunter2 '$T/b.tar'"

check "spoke bundle --read lists it" bash -c "'$SPOKE' bundle --read '$T/b.tar.zst' >'$T/read.out'"
check "  members and summary" bash -c "grep -q ' journal.db\$' '$T/read.out' && grep -q '\"spoke_version\"' '$T/read.out'"

size=$(stat -c %s "$T/b.tar.zst")
head -c $((size / 2)) "$T/b.tar.zst" >"$T/half.tar.zst"
check_status "a truncated bundle is an error" 1 "$SPOKE" bundle --read "$T/half.tar.zst"
check "  saying so" grep -qi "truncated" "$T/last.out"
head -c $((size - 8)) "$T/b.tar.zst" >"$T/short.tar.zst"
check_status "a bundle missing its last bytes is an error" 1 "$SPOKE" bundle --read "$T/short.tar.zst"
echo junk >"$T/junk.tar.zst"
check_status "a file that is not a bundle is an error" 1 "$SPOKE" bundle --read "$T/junk.tar.zst"

check_status "an existing output is not overwritten" 1 bash -c "cd '$ws' && '$SPOKE' bundle -o '$T/b.tar.zst'"
check_status "no state directory is an error" 1 "$SPOKE" bundle --state-dir "$T/nothing" -o "$T/n.tar.zst"
check "  and nothing is written" test ! -e "$T/n.tar.zst"
check_status "neither -o nor --read is a usage error" 2 "$SPOKE" bundle
finish
