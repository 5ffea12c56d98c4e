#!/bin/bash
# One command from a fresh Debian 12 machine to wheels: installs the
# dependencies, builds spoke into build/, and runs `spoke build` on the
# example workspace, whose wheels land in examples/target/wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
(cd examples && ../build/spoke build)
ls -l examples/target/wheels
