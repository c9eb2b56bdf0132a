#!/usr/bin/env bash
# The test command (README, .ci/run): installs dependencies, then
#   1. Release build (-O3 -march=native) of the library, tests, examples and benchmarks; runs
#      every ctest test: unit tests, header hygiene, CMake consumer projects, benchmark smoke
#      runs (label bench, a few seconds; scripts/bench.sh does the real measurement).
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build (Debug, -O0 -g1) of the unit tests;
#      runs them.
# Usage: bash scripts/test.sh [--no-sanitize]
# Environment: BUILD_ROOT (default: build-test) holds BUILD_ROOT/release and BUILD_ROOT/asan;
#   JOBS (default: nproc) compile jobs; OMP_NUM_THREADS (default: 2) threads per test.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    -h|--help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

build_root=${BUILD_ROOT:-build-test}
jobs=${JOBS:-$(nproc)}
# ctest runs one test at a time; each test's OpenMP team gets the cores (no oversubscription).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export CTEST_OUTPUT_ON_FAILURE=1
# Debian's python3 (with python3-torch/numpy) and toolchain, whatever else is on PATH.
export PATH="/usr/bin:/bin:$PATH"
export PYTHON=/usr/bin/python3

start=$SECONDS
step() { printf '\n==== %s (%ds)\n' "$*" $((SECONDS - start)); }

step "dependencies"
bash scripts/install_deps.sh

step "Release: configure + build ($build_root/release, -j$jobs)"
cmake -S . -B "$build_root/release" -DCMAKE_BUILD_TYPE=Release \
  -DGAN_BUILD_TESTS=ON -DGAN_BUILD_EXAMPLES=ON -DGAN_BUILD_BENCHMARKS=ON
cmake --build "$build_root/release" --parallel "$jobs"

step "Release: ctest"
(cd "$build_root/release" && ctest --output-on-failure)

if ((sanitize)); then
  # Debug at -O0 -g1 (line tables for the stack traces): builds ~4x faster than -O1 -g on
  # these template-heavy tests (ops/test_conv_grad.cpp: 22 s vs 82 s CPU), the suite still
  # runs in seconds, and without NDEBUG Eigen's own bounds assertions are on too.
  step "ASan+UBSan: configure + build ($build_root/asan, Debug -O0 -g1)"
  cmake -S . -B "$build_root/asan" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DGAN_SANITIZE=ON \
    -DGAN_BUILD_TESTS=ON -DGAN_BUILD_EXAMPLES=OFF -DGAN_INSTALL=OFF
  cmake --build "$build_root/asan" --parallel "$jobs" --target gan_tests

  step "ASan+UBSan: ctest -L unit"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  (cd "$build_root/asan" && ctest --output-on-failure -L unit)
fi

step "all tests passed"
