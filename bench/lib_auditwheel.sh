# lib_auditwheel.sh - sourced by the scripts that run auditwheel beside
# spoke (bench_repair.sh, auditwheel_show.sh): finds auditwheel's source
# and checks it can run.  Needs W (a scratch folder) and PY (an
# interpreter with Debian's python3-pyelftools and python3-packaging,
# auditwheel's two dependencies by its pyproject.toml).
#
# find_auditwheel [repair]: sets AW (the command, as
# `PYTHONPATH=<src>/src $PY -m auditwheel`) and AW_SRC, or WHY (why it
# cannot run).  The source is AUDITWHEEL_SRC, a checkout of
# pypa/auditwheel, else HEAD of the mirror /work/.mirror/pypa+auditwheel/
# repo when that exists.  With "repair", a patchelf >= 0.14.5 must be
# first on PATH too (auditwheel's src/auditwheel/patcher.py asks for it;
# Debian 12 has 0.14.3).
AW=
AW_SRC=
WHY=
find_auditwheel() {
	local src=${AUDITWHEEL_SRC:-} mirror=/work/.mirror/pypa+auditwheel/repo v pe
	AW= AW_SRC= WHY=
	if [ -z "$src" ]; then
		if [ -d "$mirror" ]; then
			mkdir -p "$W/aw"
			git -C "$mirror" archive HEAD | tar -x -C "$W/aw" || {
				WHY="cannot extract auditwheel from $mirror"
				return
			}
			src=$W/aw
			v=$(git -C "$mirror" describe --tags HEAD 2>/dev/null ||
				git -C "$mirror" log -1 --format=%h HEAD)
		else
			WHY="no auditwheel source: set AUDITWHEEL_SRC to a checkout of pypa/auditwheel"
			return
		fi
	fi
	[ -f "$src/src/auditwheel/__main__.py" ] || {
		WHY="'$src' holds no src/auditwheel/__main__.py"
		return
	}
	v=${v:-$(git -C "$src" describe --tags HEAD 2>/dev/null || echo 0+unknown)}
	# auditwheel's main() asks importlib.metadata for its own version, which
	# a source tree does not have: a minimal .dist-info beside it answers.
	mkdir -p "$W/awmeta/auditwheel-0.dist-info"
	printf 'Metadata-Version: 2.1\nName: auditwheel\nVersion: %s\n' "${v#v}" \
		>"$W/awmeta/auditwheel-0.dist-info/METADATA"
	for m in elftools:python3-pyelftools packaging:python3-packaging; do
		PYTHONPATH="$src/src" "$PY" -c "import ${m%%:*}" 2>/dev/null || {
			WHY="python module '${m%%:*}' is missing (Debian package ${m#*:})"
			return
		}
	done
	if [ "${1:-}" = repair ]; then
		pe=$(command -v patchelf) || {
			WHY="patchelf is not installed (auditwheel repair needs patchelf >= 0.14.5; PATCHELF=/path/to/patchelf)"
			return
		}
		v=$("$pe" --version 2>/dev/null | sed -n 's/^patchelf \([0-9.]*\).*/\1/p')
		if ! printf '%s\n' "$v" | awk -F. '{exit !(($1 > 0) || ($2 > 14) || ($2 == 14 && $3 >= 5))}'; then
			WHY="$pe is patchelf $v; auditwheel repair needs patchelf >= 0.14.5 (its src/auditwheel/patcher.py); PATCHELF=/path/to/newer/patchelf"
			return
		fi
	fi
	AW="env PYTHONPATH=$src/src:$W/awmeta $PY -m auditwheel"
	AW_SRC=$src
	$AW --version >/dev/null 2>"$W/err" || {
		WHY="'$AW --version' fails: $(tail -1 "$W/err")"
		AW=
	}
}
