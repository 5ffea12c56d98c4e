#!/bin/bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into build-fuzz/ and
# fuzzes each for FUZZ_SECONDS (default 30), starting from its seeds in
# fuzz/corpus/<name>/.  New interesting inputs go to build-fuzz/corpus/
# (not the tree); a crash is saved as fuzz/corpus/<name>/crash-<sha1>, so it
# becomes a regression input that every build's ctest replays, and the
# script exits 1.
#
# usage: fuzz/run.sh [NAME...]    (default: every harness)
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
B=${FUZZ_BUILD_DIR:-build-fuzz}
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found: skipped"
	exit 0
fi
# Warnings are the plain build's business (-Werror there); clang's own
# set must not keep the fuzzers from building.
CC=$CC cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSPOKE_FUZZ=ON -DSPOKE_WERROR=OFF >/dev/null || exit 1
cmake --build "$B" --target fuzz_elf fuzz_elfpatch fuzz_elfgen fuzz_wheel fuzz_wheelgen \
	fuzz_frame fuzz_cargo_msg fuzz_artifacts fuzz_spdx fuzz_shard || exit 1
# First replay every saved input (seeds and past crashes).
ctest --test-dir "$B" -R '^fuzz/' --output-on-failure || exit 1
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(elf elfpatch elfgen wheel wheelgen frame cargo_msg artifacts spdx shard)
status=0
for n in "${names[@]}"; do
	work="$B/corpus/$n"
	mkdir -p "$work"
	echo "== fuzz_$n: ${SECONDS_EACH}s"
	# The structure-aware harnesses decode their input into a file:
	# libFuzzer's slow growth of the input length (-len_control) would
	# keep their inputs to a few entries for most of a short run.
	case $n in
	wheelgen | elfgen) opts=(-max_len=4096 -len_control=0) ;;
	*) opts=(-max_len=65536) ;;
	esac
	# -artifact_prefix puts a crash straight into the tree's corpus.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$B/fuzz/fuzz_$n" -max_total_time="$SECONDS_EACH" \
		"${opts[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="fuzz/corpus/$n/" "$work" "fuzz/corpus/$n" \
		>"$B/fuzz_$n.log" 2>&1
	rc=$?
	tail -3 "$B/fuzz_$n.log"
	if [ $rc -ne 0 ]; then
		echo "fuzz_$n: found a bug (exit $rc); see $B/fuzz_$n.log:"
		grep -E 'ERROR|SUMMARY|artifact' "$B/fuzz_$n.log" | head -10
		status=1
	fi
done
exit $status
