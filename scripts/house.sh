#!/bin/sh
# The house check: every `#include "..."` in a room of spoke's source must
# go in an allowed direction, and no module may reach itself through its
# includes.  The folders say the architecture (docs/architecture.md); this
# keeps them saying it.
#
#   sh scripts/house.sh [ROOT]     check the tree at ROOT (default: this one)
#   sh scripts/house.sh --table    print the table of allowed includes
#
# It complements the link-level rule in CMakeLists.txt (one static library
# per room, linking only what it may use): a library's link line cannot
# see a header used only for its types, macros or inline functions, cannot
# tell the worker's job.h from the rest of spoke_worker that the server
# links, and cannot see a cycle inside one library.  The includes see all
# three.
#
# Each violation is printed as `file:line: message`; the exit status is 1
# when there is any.  Plain POSIX sh and awk, so that it runs wherever the
# build does.  tests/, fuzz/ and bench/ may include anything and are not
# read.
set -eu

# The one table of allowed includes.  A room is a folder (its files, not
# its subfolders that are rooms of their own: worker/ is the worker's top,
# job.c, build_wheel.c and repair_wheel.c); a file is in the room whose
# folder is the longest prefix of its path.  Each room may include its own
# files and what its line lists: a room (ending in /) or one file.
# docs/architecture.md shows the same table; change both together (the
# test house/selftest compares them).
table() {
	cat <<'TABLE'
common/         -
journal/        common/
worker/elf/     common/
worker/zip/     common/
worker/wheel/   common/ worker/zip/ worker/elf/
worker/repair/  common/ worker/elf/
worker/         common/ worker/elf/ worker/zip/ worker/wheel/ worker/repair/
server/         common/ journal/ worker/job.h worker/wheel_job.h
cli/project/    common/ worker/elf/ worker/zip/ worker/wheel/
cli/            common/ journal/ worker/elf/ worker/zip/ worker/wheel/ worker/repair/ worker/ server/ cli/project/
TABLE
}

if [ "${1-}" = "--table" ]; then
	table
	exit 0
fi
root=${1:-$(dirname "$0")/..}
cd "$root"

dirs=
for d in common journal worker server cli; do
	[ -d "$d" ] && dirs="$dirs $d"
done
[ -n "$dirs" ] || { echo "house: no room under $(pwd)" >&2; exit 2; }
# shellcheck disable=SC2086 # $dirs is a list of plain folder names
files=$(find $dirs -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

# shellcheck disable=SC2086 # file names in the rooms have no blanks
table | LC_ALL=C awk '
# The table arrives on standard input ("-"), then every source file.
BEGIN {
	for (i = 1; i < ARGC; i++)
		if (ARGV[i] != "-")
			known[ARGV[i]] = 1
	nroom = 0
	bad = 0
}
FILENAME == "-" {
	room[++nroom] = $1
	allowed[$1] = ""
	for (i = 2; i <= NF; i++)
		if ($i != "-")
			allowed[$1] = allowed[$1] (allowed[$1] == "" ? "" : " ") $i
	next
}
FNR == 1 { src = FILENAME; sroom = room_of(src) }
/^[ \t]*#[ \t]*include[ \t]*"/ {
	line = $0
	sub(/^[^"]*"/, "", line)
	sub(/".*$/, "", line)
	target = line
	where = src ":" FNR
	if (!(target in known)) {
		# An include written from the root names a file in a room; any
		# other spelling hides the edge from this check and from readers.
		if (room_of(target) == "")
			complain(where ": room " sroom " may not include " target \
			    " (not a file in a room; includes are written from the root)")
		else
			complain(where ": " target " does not exist (includes are written from the root)")
		next
	}
	troom = room_of(target)
	if (!may(sroom, troom, target))
		complain(where ": room " sroom " may not include " target \
		    " (allowed: " (allowed[sroom] == "" ? "nothing outside " sroom : allowed[sroom]) ")")
	# A module is a .c and its .h: an edge between two modules is an
	# edge of the module graph, whichever of their files carries it.
	a = module(src); b = module(target)
	if (a != b && !((a, b) in medge)) {
		medge[a, b] = where
		madj[a] = madj[a] " " b
	}
	if (sroom != troom && !((sroom, troom) in redge)) {
		redge[sroom, troom] = where
		radj[sroom] = radj[sroom] " " troom
	}
}
END {
	# The table itself must allow no cycle between rooms.
	for (r = 1; r <= nroom; r++) {
		n = split(allowed[room[r]], t, " ")
		for (i = 1; i <= n; i++) {
			to = t[i] ~ /\/$/ ? t[i] : room_of(t[i])
			if (to != room[r] && !((room[r], to) in tedge)) {
				tedge[room[r], to] = "scripts/house.sh: the table"
				tadj[room[r]] = tadj[room[r]] " " to
			}
		}
	}
	cycles(tadj, tedge, "the table allows a cycle between rooms: ")
	cycles(radj, redge, "include cycle between rooms: ")
	cycles(madj, medge, "include cycle: ")
	exit bad ? 1 : 0
}
function complain(msg) {
	print msg
	bad = 1
}
function room_of(path,    r, best) {
	best = ""
	for (r = 1; r <= nroom; r++)
		if (index(path, room[r]) == 1 && length(room[r]) > length(best))
			best = room[r]
	return best
}
function may(from, to, target,    n, t, i) {
	if (from == to)
		return 1
	n = split(allowed[from], t, " ")
	for (i = 1; i <= n; i++)
		if (t[i] == to || t[i] == target)
			return 1
	return 0
}
function module(path) {
	sub(/\.[ch]$/, "", path)
	return path
}
# Depth-first search over a graph given as adjacency lists; each back edge
# closes a cycle, printed once from the file and line of that edge.
function cycles(adj, edge, what,    v) {
	split("", color)
	split("", stack)
	depth = 0
	for (v in adj)
		if (!(v in color))
			visit(v, adj, edge, what)
}
function visit(v, adj, edge, what,    n, next_, i, w, path, j) {
	color[v] = 1
	stack[++depth] = v
	n = split(adj[v], next_, " ")
	for (i = 1; i <= n; i++) {
		w = next_[i]
		if (!(w in color)) {
			visit(w, adj, edge, what)
		} else if (color[w] == 1) {
			path = ""
			for (j = 1; j <= depth; j++)
				if (path != "" || stack[j] == w)
					path = path stack[j] " -> "
			complain(edge[v, w] ": " what path w)
		}
	}
	color[v] = 2
	depth--
}
' - $files
