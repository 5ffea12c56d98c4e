#!/bin/sh
# py313t.sh - a stand-in for a free-threaded CPython 3.13, for tests on a
# machine that has none (Debian 12 ships 3.11 only).
#
# Run as an interpreter (`spoke build -i .../py313t.sh`), it answers
# spoke's interpreter query (cli/project/pyinfo.c, recognised by the
# 'pyprojects' key of its script) as python3.13t would: python tag cp313,
# abi tag cp313t, its extension suffix.  Everything else, such as pyo3's
# build script asking for its configuration, goes to the real interpreter,
# $SPOKE_STANDIN_REAL (default /usr/bin/python3), so a build still
# compiles.
real=${SPOKE_STANDIN_REAL:-/usr/bin/python3}
case "${2:-}" in
*"'pyprojects'"*)
	"$real" "$@" | "$real" -c 'import json, sys
d = json.load(sys.stdin)
if "python_tag" in d:
    d.update(python_tag="cp313", abi_tag="cp313t", version="3.13.1",
             ext_suffix=".cpython-313t-x86_64-linux-gnu.so")
sys.stdout.write(json.dumps(d))'
	;;
*) exec "$real" "$@" ;;
esac
