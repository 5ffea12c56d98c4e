#!/bin/sh
# The house check's own test: scripts/house.sh must fail, with the file,
# the line and the rule, on every kind of include it exists to refuse, and
# pass a tree that keeps the shape.  It runs the check on small synthetic
# trees and on a copy of the real one with a bad include planted.
#
#   sh tests/house/selftest.sh SOURCE_DIR
set -eu
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
check="$src/scripts/house.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spoke-house.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# put TREE PATH LINE...: writes the lines as the file PATH under TREE.
put() {
	tree=$1 path=$2
	shift 2
	mkdir -p "$tree/$(dirname "$path")"
	printf '%s\n' "$@" >"$tree/$path"
}

# A small tree that keeps the shape: one file in each room, each including
# only what the table lets it.
clean() {
	rm -rf "$1"
	put "$1" common/err.h '#include <stdio.h>' 'struct sp_err;'
	put "$1" common/err.c '#include "common/err.h"'
	put "$1" journal/journal.h '#include "common/err.h"'
	put "$1" worker/elf/inspect.h '#include "common/err.h"'
	put "$1" worker/zip/zip_write.h '#include "common/err.h"'
	put "$1" worker/wheel/record.c '#include "worker/zip/zip_write.h"' '#include "worker/elf/inspect.h"'
	put "$1" worker/repair/repair.h '#include "worker/elf/inspect.h"'
	put "$1" worker/job.h '#include "common/err.h"'
	put "$1" worker/job.c '#include "worker/job.h"' '#include "worker/repair/repair.h"'
	put "$1" server/server.c '#include "journal/journal.h"' '#include "worker/job.h"'
	put "$1" cli/project/cargo.h '#include "worker/elf/inspect.h"'
	put "$1" cli/main.c '#include "cli/project/cargo.h"' '#include "server/server.c"'
}

# expect NAME TREE STATUS [TEXT]: the check on TREE exits with STATUS and,
# when TEXT is given, prints it as a whole line.
expect() {
	name=$1 tree=$2 want=$3
	got=0
	sh "$check" "$tree" >"$tmp/out" 2>&1 || got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$name: exit status $got, expected $want"
		sed 's/^/  | /' "$tmp/out"
		return
	fi
	if [ $# -ge 4 ] && ! grep -qxF "$4" "$tmp/out"; then
		fail "$name: expected the line: $4"
		sed 's/^/  | /' "$tmp/out"
		return
	fi
	echo "ok: $name"
}

t="$tmp/tree"

clean "$t"
expect "a tree that keeps the shape passes" "$t" 0
if [ -s "$tmp/out" ]; then fail "a clean tree printed something"; fi

clean "$t"
put "$t" worker/repair/repair.c '#include "worker/repair/repair.h"' '#include "worker/job.h"'
expect "repair may not call up into the job loop" "$t" 1 \
	"worker/repair/repair.c:2: room worker/repair/ may not include worker/job.h (allowed: common/ worker/elf/)"

clean "$t"
put "$t" journal/journal.c '#include "journal/journal.h"' '' '#include "server/server.h"'
put "$t" server/server.h '#include "common/err.h"'
expect "nothing includes server/" "$t" 1 \
	"journal/journal.c:3: room journal/ may not include server/server.h (allowed: common/)"

clean "$t"
put "$t" worker/zip/pdeflate.c '  #  include "cli/project/cargo.h"'
expect "nothing below cli/ includes cli/project/" "$t" 1 \
	"worker/zip/pdeflate.c:1: room worker/zip/ may not include cli/project/cargo.h (allowed: common/)"

clean "$t"
put "$t" server/pool.c '#include "worker/zip/zip_write.h"'
expect "the server reaches the worker through job.h only" "$t" 1 \
	"server/pool.c:1: room server/ may not include worker/zip/zip_write.h (allowed: common/ journal/ worker/job.h worker/wheel_job.h)"

clean "$t"
put "$t" common/esc.c '#include "journal/journal.h"'
expect "common/ includes nothing outside itself" "$t" 1 \
	"common/esc.c:1: room common/ may not include journal/journal.h (allowed: nothing outside common/)"

clean "$t"
put "$t" worker/elf/patch.c '#include "inspect.h"'
expect "includes are written from the root" "$t" 1 \
	"worker/elf/patch.c:1: room worker/elf/ may not include inspect.h (not a file in a room; includes are written from the root)"

clean "$t"
put "$t" worker/elf/patch.c '#include "worker/elf/nothere.h"'
expect "an include of a missing file" "$t" 1 \
	"worker/elf/patch.c:1: worker/elf/nothere.h does not exist (includes are written from the root)"

# A cycle inside a room: a.c includes b.h and b.c includes a.h (a module
# is its .c and its .h).  Which edge closes it depends on the order of the
# search, so the test looks for the cycle, not for one line.
clean "$t"
put "$t" common/a.h 'int a(void);'
put "$t" common/b.h 'int b(void);'
put "$t" common/a.c '#include "common/a.h"' '#include "common/b.h"'
put "$t" common/b.c '#include "common/b.h"' '#include "common/a.h"'
expect "a cycle inside a room" "$t" 1
grep -Eq '^common/[ab]\.c:2: include cycle: common/(a -> common/b -> common/a|b -> common/a -> common/b)$' "$tmp/out" ||
	fail "a cycle inside a room: no cycle line in: $(cat "$tmp/out")"

# A cycle between rooms needs an edge the table refuses, and both are told.
clean "$t"
put "$t" worker/elf/inspect.c '#include "worker/elf/inspect.h"' '#include "worker/repair/repair.h"'
expect "a cycle between rooms" "$t" 1 \
	"worker/elf/inspect.c:2: room worker/elf/ may not include worker/repair/repair.h (allowed: common/)"
grep -q ': include cycle between rooms: ' "$tmp/out" ||
	fail "a cycle between rooms: no room cycle line in: $(cat "$tmp/out")"

# The real tree, copied, with one bad include planted at a known line.
rm -rf "$t" && mkdir -p "$t"
for d in common journal worker server cli; do
	cp -R "$src/$d" "$t/$d"
done
n=$(($(wc -l <"$t/journal/journal.c") + 1))
echo '#include "cli/opts.h"' >>"$t/journal/journal.c"
expect "a bad include planted in a copy of the tree" "$t" 1 \
	"journal/journal.c:$n: room journal/ may not include cli/opts.h (allowed: common/)"

# docs/architecture.md shows the table; it must say what the check does.
sh "$check" --table | tr -s ' \t' ' ' >"$tmp/table"
awk '/<!-- house table/ { on = 1; next } on && /^```/ { if (seen) exit; seen = 1; next } on && seen' \
	"$src/docs/architecture.md" | tr -s ' \t' ' ' >"$tmp/doc"
if cmp -s "$tmp/table" "$tmp/doc"; then
	echo "ok: docs/architecture.md shows the table of scripts/house.sh"
else
	fail "docs/architecture.md and scripts/house.sh --table differ:"
	diff "$tmp/table" "$tmp/doc" | sed 's/^/  | /' || true
fi

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
