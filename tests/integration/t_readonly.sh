#!/bin/bash
# A journal made read-only (issue 15): SQLite then creates journal.db-shm
# and -wal with the journal's read-only mode, and once the journal's mode
# is fixed spoke used to keep refusing, naming journal.db.  spoke gives
# back the mode of the files its SQLite made; a side file it cannot fix
# (another user's) is named in its message, with the fix.  Run as a
# second local user: root writes through any mode.
. "$(dirname "$0")/lib.sh"

if ! second_user; then
	echo "ok 1 # SKIP needs root, useradd and setpriv for a second user"
	echo "1..1"
	exit 0
fi
d="$T/ro"
mkdir -m 711 "$d"
mkdir -m 700 "$d/run" "$d/st"
chown "$OTHER_UID:$OTHER_GID" "$d/run" "$d/st"
st="$d/st"
spoke_other() {
	XDG_RUNTIME_DIR="$d/run" as_other "$SPOKE" "$@"
}

check "a new journal for the other user" spoke_other recover --state-dir "$st"
chmod 0444 "$st/journal.db"
check_status "the journal read-only: recover fails" 1 spoke_other recover --state-dir "$st"
check "it names journal.db and chmod" grep -q "'$st/journal.db' is not writable.*chmod u+w" "$T/last.out"
mode=$(stat -c %a "$st/journal.db-shm" 2>/dev/null)
check "SQLite left a read-only journal.db-shm ($mode)" test "$mode" = 444
chmod 0644 "$st/journal.db"
check_status "the journal's mode fixed: recover succeeds" 0 spoke_other recover --state-dir "$st"
check_status "and status" 0 spoke_other status --state-dir "$st"
check "no read-only side file is left" bash -c \
	"! find '$st' -name 'journal.db-*' ! -perm -u+w | grep -q ."

# A side file spoke cannot fix: another user's.
chmod 0444 "$st/journal.db"
spoke_other recover --state-dir "$st" >/dev/null 2>&1
chmod 0644 "$st/journal.db"
chown 0:0 "$st/journal.db-shm"
check_status "root's read-only journal.db-shm: recover fails" 1 \
	spoke_other recover --state-dir "$st"
check "it names journal.db-shm, chown and removing it" \
	grep -q "'$st/journal.db-shm' belongs to uid 0.*chown $OTHER_UID.*remove it while no spoke runs" "$T/last.out"
check "  its lines are lines, not escaped line breaks" \
	bash -c "grep -c . '$T/last.out' | grep -qv '^1\$' && ! grep -qF '\\x0a' '$T/last.out'"
rm -f "$st/journal.db-shm"
check_status "removed: recover succeeds" 0 spoke_other recover --state-dir "$st"

finish
