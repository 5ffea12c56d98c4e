#!/bin/bash
# Every test: installs the dependencies, then builds spoke twice (plain,
# and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs the
# whole suite (cmocka unit tests and the integration tests that drive the
# real binary on the example workspace) against each build.
#
# SPOKE_CRASH_STRIDE (default: all points in the plain build, every 3rd in
# the sanitizer build) samples the crash matrix; SPOKE_FAULT_STRIDE and
# SPOKE_KILL_STRIDE sample the I/O-fault and kill matrices the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
status=0

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
echo "== tests: plain build"
SPOKE_CRASH_STRIDE=${SPOKE_CRASH_STRIDE:-1} \
	ctest --test-dir build --output-on-failure -j "$jobs" || status=1

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPOKE_SANITIZE=ON >/dev/null
cmake --build build-asan
echo "== tests: ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	SPOKE_CRASH_STRIDE=${SPOKE_CRASH_STRIDE_ASAN:-3} \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" || status=1

# A bounded fuzz run of each libFuzzer harness (fuzz/run.sh; a crash is
# saved under fuzz/corpus/ as a regression input).
echo "== fuzzing: ${FUZZ_SECONDS:-20}s per harness"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash fuzz/run.sh || status=1
exit $status
