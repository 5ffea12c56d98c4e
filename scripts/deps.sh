#!/bin/bash
# Installs what spoke needs to build and test on Debian 12 (root, or sudo).
set -euo pipefail
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs=(build-essential cmake ninja-build pkg-config
      libsqlite3-dev libjansson-dev libelf-dev libdeflate-dev libssl-dev
      libarchive-dev libzstd-dev libcmocka-dev zlib1g-dev
      python3 python3-venv python3-pip python3-wheel python3-build unzip zip
      patchelf binutils strace valgrind gdb procps clang libclang-rt-14-dev
      # tests/integration/t_cross.sh: a cross toolchain per architecture,
      # musl, and qemu to load what they build.
      gcc-aarch64-linux-gnu gcc-i686-linux-gnu gcc-arm-linux-gnueabihf
      gcc-powerpc64le-linux-gnu gcc-powerpc64-linux-gnu gcc-s390x-linux-gnu
      gcc-riscv64-linux-gnu musl-tools qemu-user
      # their C libraries, which the compilers only recommend
      libc6-dev-arm64-cross libc6-dev-i386-cross libc6-dev-armhf-cross
      libc6-dev-ppc64el-cross libc6-dev-ppc64-cross libc6-dev-s390x-cross
      libc6-dev-riscv64-cross
      # PyO3 0.17 for fixtures built as maturin projects are (offline:
      # tests/integration/lib.sh pyo3_offline)
      librust-pyo3-dev
      # tests/integration/t_bazel.sh: Bazel 4.2.3, and the headers of
      # python3 for the C extension its example builds
      bazel-bootstrap python3-dev)
# Cargo from Debian only where none is installed (rustup's stays first).
command -v cargo >/dev/null 2>&1 || pkgs+=(cargo)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
