#!/bin/bash
# CI sharding: spoke build --shard K/N over a workspace of seven raw-FFI
# extension crates.  Each shard runs as a CI job would, in a fresh target
# and state folder with an empty journal: for N = 1, 2, 3 the union of the
# shards' wheels is the unsharded build's, byte for byte, no wheel is in
# two shards, and cargo compiled no other shard's crate.  Bad --shard
# arguments are usage errors; the weights file is strict; spoke plan
# writes a weights file that --shard-weights takes, and weights balance.
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
ws="$T/ws"
names="ffi-golf ffi-alpha ffi-echo ffi-charlie ffi-bravo ffi-delta ffi-foxtrot"
mkdir -p "$ws"
cp -r "$SRC/examples/pyffi" "$ws/"
rm -rf "$ws/pyffi/target"
members='"pyffi"'
for n in $names; do
	ffi_crate "$ws" "$n"
	members="$members, \"$n\""
done
printf '[workspace]\nresolver = "2"\nmembers = [%s]\n\n[profile.release]\nstrip = false\n' \
	"$members" >"$ws/Cargo.toml"
# The documented partition without weights: the sorted names dealt
# round-robin.  The test's own oracle, not spoke's.
sorted=$(tr ' ' '\n' <<<"$names" | LC_ALL=C sort)
expect() { # expect K N: the packages of shard K of N, one a line
	awk -v k="$1" -v n="$2" '(NR - 1) % n + 1 == k' <<<"$sorted"
}
libs_of() { sed 's/-/_/g; s/^/lib/; s/$/.so/' | LC_ALL=C sort; }

build() { # build DIR [args...]: a fresh target, state and output folder
	local d="$T/$1"
	shift
	"$SPOKE" build -q -i "$PY" -m "$ws/Cargo.toml" --target-dir "$d/target" -o "$d/out" "$@"
}

check "the unsharded build writes the seven wheels" build full
check "  seven of them" test "$(ls "$T/full/out" | grep -c '\.whl$')" -eq 7

for n in 1 2 3; do
	for k in $(seq 1 "$n"); do
		check "shard $k/$n builds" build "s$n-$k" --shard "$k/$n"
		got=$(cd "$T/s$n-$k/target/release" 2>/dev/null && ls *.so 2>/dev/null | LC_ALL=C sort)
		want=$(expect "$k" "$n" | libs_of)
		if [ "$got" = "$want" ]; then
			ok "  cargo compiled only shard $k/$n's crates ($(echo $want))"
		else
			not_ok "  cargo compiled only shard $k/$n's crates"
			diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
		fi
		wheels=$(ls "$T/s$n-$k/out" 2>/dev/null | sed 's/-0\.1\.0-.*//' | LC_ALL=C sort)
		check "  its wheels are its packages'" test "$wheels" = "$(expect "$k" "$n" | tr - _)"
	done
	dups=$(ls "$T"/s"$n"-*/out | grep '\.whl$' | sort | uniq -d)
	check "N=$n: no wheel is in two shards" test -z "$dups"
	check "N=$n: the shards' wheels are the unsharded build's" \
		diff <(ls "$T"/s"$n"-*/out | grep '\.whl$' | sort) <(ls "$T/full/out" | sort)
	same=1
	for w in "$T"/s"$n"-*/out/*.whl; do
		cmp "$w" "$T/full/out/$(basename "$w")" || same=0
	done
	check "N=$n: byte for byte" test "$same" = 1
done

# A shard of nothing: eight shards of seven packages.
check_status "shard 8/8 of seven packages succeeds" 0 \
	"$SPOKE" build -i "$PY" -m "$ws/Cargo.toml" --target-dir "$T/s8/target" -o "$T/s8/out" --shard 8/8
check "  and says it has no packages" grep -q "shard 8/8 has no packages (of 7)" "$T/last.out"
check "  no wheel, no cargo output" bash -c "! ls '$T/s8/out'/*.whl 2>/dev/null && ! ls '$T/s8/target/release'/*.so 2>/dev/null"
"$SPOKE" build --json -i "$PY" -m "$ws/Cargo.toml" --target-dir "$T/s8/target" -o "$T/s8/out" --shard 8/8 >"$T/s8.json" 2>&1
check "  --json: ok, no wheels, the shard's empty package list" "$PY" -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
assert r["ok"] is True and r["wheels"] == [] and r["shard"] == {"shard": "8/8", "packages": [], "of": 7}, r
' "$T/s8.json"

# Usage errors, before anything runs.
for bad in 0/2 3/2 1/0 x 1/2/3; do
	check_status "--shard $bad is a usage error" 2 build bad --shard "$bad"
	check "  naming the option" grep -q -- "--shard '$bad'" "$T/last.out"
done
check "  nothing was built for them" test ! -e "$T/bad/target"
check_status "--shard-weights without --shard is a usage error" 2 \
	build bad --shard-weights /dev/null

# The weights file is strict.
wfile() { printf '%s\n' "$2" >"$T/$1.json"; echo "$T/$1.json"; }
f=$(wfile unknown '{"version": 1, "weights": {"ffi-alpha": 1}, "weigths": {}}')
check_status "a weights file with an unknown member fails" 1 build bad --shard 1/2 --shard-weights "$f"
check "  naming it" grep -q "unknown member 'weigths'" "$T/last.out"
f=$(wfile badvalue '{"version": 1, "weights": {"ffi-alpha": 1, "ffi-echo": "fast"}}')
check_status "a weights file with a bad value fails" 1 build bad --shard 1/2 --shard-weights "$f"
check "  naming the package" grep -q "weight of 'ffi-echo'" "$T/last.out"
f=$(wfile negative '{"version": 1, "weights": {"ffi-golf": -2}}')
check_status "a negative weight fails" 1 build bad --shard 1/2 --shard-weights "$f"
check "  naming the package" grep -q "weight of 'ffi-golf'" "$T/last.out"
f=$(wfile dup '{"version": 1, "weights": {"ffi-golf": 1, "ffi-golf": 2}}')
check_status "a name given twice fails" 1 build bad --shard 1/2 --shard-weights "$f"
check "  nothing was built for them" test ! -e "$T/bad/target"

# spoke plan after the unsharded build: the journal's wheel times.
plan() { "$SPOKE" plan -i "$PY" -m "$ws/Cargo.toml" "$@"; }
check "spoke plan --shards 2 --json after a build" \
	bash -c "'$SPOKE' plan -i '$PY' -m '$ws/Cargo.toml' --target-dir '$T/full/target' --shards 2 --json >'$T/plan.json'"
check "  a weight for each of the seven packages, the shards cover them once" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"version", "weights", "shards"} and d["version"] == 1, d
names = sorted(sys.argv[2].split())
assert sorted(d["weights"]) == names, d["weights"]
assert all(isinstance(v, (int, float)) and v >= 0 for v in d["weights"].values())
got = sorted(p for s in d["shards"] for p in s["packages"])
assert got == names and len(d["shards"]) == 2, d["shards"]
' "$T/plan.json" "$names"
# The build takes it, and builds what the plan said.
plan1=$("$PY" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["shards"][0]["packages"]))' "$T/plan.json")
check "spoke build --shard 1/2 --shard-weights takes the plan's file" \
	build w1 --shard 1/2 --shard-weights "$T/plan.json"
check "  cargo compiled the plan's shard 1 and no other crate" \
	test "$(cd "$T/w1/target/release" && ls *.so | LC_ALL=C sort)" = "$(libs_of <<<"$plan1")"
same=1
for w in "$T"/w1/out/*.whl; do
	cmp "$w" "$T/full/out/$(basename "$w")" || same=0
done
check "  its wheels are the unsharded build's" test "$same" = 1
check "plan --shards 1 puts everything in one shard" bash -c \
	"'$SPOKE' plan -i '$PY' -m '$ws/Cargo.toml' --target-dir '$T/full/target' --shards 1 | grep -qx 'shard 1/1: weight [0-9.]*: $(echo $sorted)'"
check "plan without a journal: round-robin, each weighs 1" bash -c \
	"'$SPOKE' plan -i '$PY' -m '$ws/Cargo.toml' --target-dir '$T/nojournal' --shards 3 >'$T/p3' && grep -qx 'shard 1/3: weight 3.000: $(expect 1 3 | xargs)' '$T/p3' && grep -qx 'shard 3/3: weight 2.000: $(expect 3 3 | xargs)' '$T/p3' && test ! -e '$T/nojournal'"

# Weights by hand: one heavy package gets a shard of its own.
f=$(wfile heavy '{"version": 1, "weights": {"ffi-delta": 60, "ffi-alpha": 1, "ffi-bravo": 1, "ffi-charlie": 1, "ffi-echo": 1, "ffi-foxtrot": 1, "ffi-golf": 1}}')
check "a heavy package has a shard to itself" bash -c \
	"plan() { '$SPOKE' plan -i '$PY' -m '$ws/Cargo.toml' --target-dir '$T/nojournal' \"\$@\"; }
	 plan --shards 2 --shard-weights '$f' >'$T/ph' &&
	 grep -qx 'shard 1/2: weight 60.000: ffi-delta' '$T/ph' &&
	 grep -qx 'shard 2/2: weight 6.000: ffi-alpha ffi-bravo ffi-charlie ffi-echo ffi-foxtrot ffi-golf' '$T/ph'"
# ffi-golf, unnamed, weighs the median of 8 7 6 1 1 1: 3.5.  Heaviest
# first into the lightest shard: alpha 8 | bravo 7 | echo 6, golf 3.5 to
# the third, charlie 1 to the second, delta 1 to the first (8 = 8: the
# lower number), foxtrot 1 to the second: 9 | 9 | 9.5.  Round-robin by
# name would give 12.5 | 13 | 2.
f=$(wfile mixed '{"version": 1, "weights": {"ffi-alpha": 8, "ffi-bravo": 7, "ffi-echo": 6, "ffi-charlie": 1, "ffi-delta": 1, "ffi-foxtrot": 1}}')
check "weights balance three shards" bash -c \
	"'$SPOKE' plan -i '$PY' -m '$ws/Cargo.toml' --target-dir '$T/nojournal' --shards 3 --shard-weights '$f' >'$T/pm' &&
	 grep -qx 'shard 1/3: weight 9.000: ffi-alpha ffi-delta' '$T/pm' &&
	 grep -qx 'shard 2/3: weight 9.000: ffi-bravo ffi-charlie ffi-foxtrot' '$T/pm' &&
	 grep -qx 'shard 3/3: weight 9.500: ffi-echo ffi-golf' '$T/pm' &&
	 grep -q 'the others weigh 3.500' '$T/pm'"
check "spoke build --shard 2/3 with those weights builds bravo, charlie and foxtrot" \
	build m2 --shard 2/3 --shard-weights "$f"
check "  and only them" test "$(cd "$T/m2/target/release" && ls *.so | LC_ALL=C sort | xargs)" = \
	"libffi_bravo.so libffi_charlie.so libffi_foxtrot.so"

# One package declares its module: then only declared packages are
# packaged, in every shard, as in the unsharded build, even in a shard
# whose packages all export PyInit_ but declare nothing.  The target
# folders of the runs above are reused (cargo has nothing to compile).
printf '\n[package.metadata.spoke]\nmodule = "ffi_alpha"\n' >>"$ws/ffi-alpha/Cargo.toml"
redo() { # redo OLD NEW [args...]: OLD's target folder, a new output folder
	local old=$1 new=$2
	shift 2
	"$SPOKE" build -q -i "$PY" -m "$ws/Cargo.toml" --target-dir "$T/$old/target" -o "$T/$new" "$@"
}
check "declared: the unsharded build" redo full d-full
check "  writes ffi-alpha's wheel alone" test "$(ls "$T/d-full")" = "$(ls "$T/full/out" | grep '^ffi_alpha-')"
check "declared: shard 1/2 (ffi-alpha's)" redo s2-1 d-1 --shard 1/2
check "  writes ffi-alpha's wheel alone" test "$(ls "$T/d-1")" = "$(ls "$T/d-full")"
check "declared: shard 2/2 (no declared package)" redo s2-2 d-2 --shard 2/2
check "  writes no wheel" test -z "$(ls "$T/d-2" 2>/dev/null)"

check_status "a selection with no cdylib fails, as the unsharded build does" 1 \
	build bad -p pyffi --shard 1/2
check "  saying so" grep -q "no selected package has a cdylib target" "$T/last.out"
check_status "spoke plan without --shards is a usage error" 2 plan
check_status "spoke plan --shards 0 is a usage error" 2 plan --shards 0
check "spoke plan --help explains the weights" bash -c "'$SPOKE' plan --help | grep -q 'heaviest first'"

# Two members share a dependency with different features: ffi-a uses
# `shared`, ffi-b uses it with "loud".  Unsharded, cargo compiles `shared`
# once, with "loud", for both; shard 1/2 (ffi-a alone) would compile it
# without "loud" and write a different ffi-a wheel.  spoke refuses that
# shard, naming the dependency, and builds the one that matches.
ws2="$T/ws2"
mkdir -p "$ws2/shared/src"
cp -r "$SRC/examples/pyffi" "$ws2/"
rm -rf "$ws2/pyffi/target"
printf '[package]\nname = "shared"\nversion = "0.1.0"\nedition = "2021"\n\n[features]\nloud = []\n' >"$ws2/shared/Cargo.toml"
printf '#[cfg(feature = "loud")]\npub fn level() -> u32 { 11 }\n#[cfg(not(feature = "loud"))]\npub fn level() -> u32 { 1 }\n' >"$ws2/shared/src/lib.rs"
for n in ffi-a ffi-b; do
	ffi_crate "$ws2" "$n"
	printf '\n#[no_mangle]\npub extern "C" fn %s_level() -> u32 { shared::level() }\n#[cfg(feature = "extra")]\n#[no_mangle]\npub extern "C" fn %s_extra() -> u32 { 7 }\n' \
		"${n//-/_}" "${n//-/_}" >>"$ws2/$n/src/lib.rs"
	printf '\n[features]\nextra = []\n' >>"$ws2/$n/Cargo.toml"
done
sed -i 's|^pyffi = .*|&\nshared = { path = "../shared" }|' "$ws2/ffi-a/Cargo.toml"
sed -i 's|^pyffi = .*|&\nshared = { path = "../shared", features = ["loud"] }|' "$ws2/ffi-b/Cargo.toml"
# ffi-b alone has the feature "extra"; ffi-a's is removed.
sed -i '/^\[features\]/,$d' "$ws2/ffi-a/Cargo.toml"
printf '[workspace]\nresolver = "2"\nmembers = ["pyffi", "ffi-a", "ffi-b", "shared"]\n\n[profile.release]\nstrip = false\n' >"$ws2/Cargo.toml"
build2() { # build2 DIR [args...]
	local d="$T/$1"
	shift
	"$SPOKE" build -q -i "$PY" -m "$ws2/Cargo.toml" --target-dir "$d/target" -o "$d/out" -p ffi-a -p ffi-b "$@"
}
check "features: the unsharded build" build2 f-full
check_status "features: shard 1/2 (ffi-a without ffi-b's \"loud\") is refused" 1 build2 f-1 --shard 1/2
check "  naming the dependency and both feature sets" \
	grep -q 'this shard (ffi-a) compiles shared v0.1.0 .* with features \[\], the unsharded build with \[loud\]' "$T/last.out"
check "  before compiling anything" test ! -e "$T/f-1/target/release/libffi_a.so"
check "features: shard 2/2 (ffi-b) builds" build2 f-2 --shard 2/2
check "  its wheel is the unsharded build's" cmp "$T/f-2/out/$(ls "$T/f-2/out")" "$T/f-full/out/$(ls "$T/f-2/out")"
# A plain --features: unsharded, cargo applies "extra" to ffi-b, the
# selected package that has it; the shard of ffi-a must not pass it to
# ffi-a (cargo: "does not contain this feature"), ffi-b's must apply it.
sed -i 's|^shared = { path = "../shared" }|shared = { path = "../shared", features = ["loud"] }|' "$ws2/ffi-a/Cargo.toml"
check "--features extra: the unsharded build" build2 x-full --features extra
for k in 1 2; do
	check "--features extra: shard $k/2 builds" build2 "x-$k" --shard "$k/2" --features extra
	w=$(ls "$T/x-$k/out")
	check "  its wheel is the unsharded build's" cmp "$T/x-$k/out/$w" "$T/x-full/out/$w"
done
check "  ffi-b's has the feature's symbol" bash -c "unzip -p '$T'/x-2/out/ffi_b-*.whl '*.so' | grep -qa ffi_b_extra"
check "--features ffi-b/extra: shard 1/2 (ffi-a) builds without it" build2 y-1 --shard 1/2 --features ffi-b/extra
check_status "--features nosuch fails unsharded" 1 build2 x-full --features nosuch
check "  cargo saying so" grep -q "nosuch" "$T/last.out"
check_status "--features nosuch fails in a shard as it does unsharded" 1 build2 x-1 --shard 1/2 --features nosuch
check "  cargo saying so" grep -q "nosuch" "$T/last.out"

# A pyproject's cargo options apply to the whole unsharded cargo run, so
# to every shard: ffi-b's all-features = true gives ffi-a its "extra" too.
printf '\n[features]\nextra = []\n' >>"$ws2/ffi-a/Cargo.toml"
# (A [tool.maturin] declares its package's module: both have one.)
printf '[build-system]\nrequires = ["maturin"]\nbuild-backend = "maturin"\n\n[tool.maturin]\nall-features = true\n' >"$ws2/ffi-b/pyproject.toml"
printf '[build-system]\nrequires = ["maturin"]\nbuild-backend = "maturin"\n\n[tool.maturin]\n' >"$ws2/ffi-a/pyproject.toml"
check "a member's all-features: the unsharded build" build2 p-full
check "  writes both wheels" test "$(ls "$T/p-full/out" | wc -l)" -eq 2
check "  gives ffi-a its feature" bash -c "unzip -p '$T'/p-full/out/ffi_a-*.whl '*.so' | grep -qa ffi_a_extra"
check "  shard 1/2 (ffi-a) builds" build2 p-1 --shard 1/2
w=$(ls "$T/p-1/out")
check "  its wheel is the unsharded build's" cmp "$T/p-1/out/$w" "$T/p-full/out/$w"

# The weights are what CI pays: cargo's compile time plus the packaging.
# ffi-b's build script sleeps 3 s, so with one job cargo's messages put
# ffi-b's compile time at 3 s or more; the wheel writing alone is far
# less.  spoke plan's weights must show it.
printf 'fn main() { std::thread::sleep(std::time::Duration::from_secs(3)); }\n' >"$ws2/ffi-b/build.rs"
build2_j1() { CARGO_BUILD_JOBS=1 build2 "$@"; }
check "a build with a slow build script in ffi-b (-j1)" build2_j1 t-full
check "spoke plan --json: ffi-b weighs its compile time, ffi-a less" bash -c \
	"'$SPOKE' plan -i '$PY' -m '$ws2/Cargo.toml' --target-dir '$T/t-full/target' -p ffi-a -p ffi-b --shards 2 --json >'$T/tplan.json' &&
	 '$PY' -c '
import json, sys
w = json.load(open(sys.argv[1]))[\"weights\"]
assert w[\"ffi-b\"] >= 3 and w[\"ffi-a\"] < 3, w
' '$T/tplan.json'"
check "  a no-op build keeps the compile time (cargo compiled nothing)" bash -c \
	"'$SPOKE' build -q -i '$PY' -m '$ws2/Cargo.toml' --target-dir '$T/t-full/target' -o '$T/t-full/out2' -p ffi-a -p ffi-b &&
	 '$SPOKE' plan -i '$PY' -m '$ws2/Cargo.toml' --target-dir '$T/t-full/target' -p ffi-a -p ffi-b --shards 2 --json >'$T/tplan2.json' &&
	 '$PY' -c '
import json, sys
w = json.load(open(sys.argv[1]))[\"weights\"]
assert w[\"ffi-b\"] >= 3, w
' '$T/tplan2.json'"

finish
