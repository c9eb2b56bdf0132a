#!/usr/bin/env bash
# Builds the libFuzzer targets for gan's file readers (tests/fuzz/fuzz_*.cpp: IDX, safetensors,
# PNG) with clang + ASan + UBSan and runs each for a bounded, reproducible number of inputs,
# starting from the committed seed corpus (tests/fuzz/corpus/<reader>, tests/fuzz/make_corpus.py).
# A crash, leak, sanitizer report or non-gan::Error exception fails the script and leaves the
# input in BUILD_DIR/crash-*.
#
# Usage: bash scripts/fuzz.sh [RUNS]      RUNS inputs per target (default 20000; CI uses this)
#        FUZZ_SECONDS=600 bash scripts/fuzz.sh 0     time-bounded long run instead (RUNS=0)
# Environment: BUILD_DIR (default build-fuzz), CXX_FUZZ (default clang++-14).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
runs=${1:-20000}
build=${BUILD_DIR:-build-fuzz}
cxx=${CXX_FUZZ:-clang++-14}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found; run: bash scripts/install_deps.sh" >&2; exit 1; }
mkdir -p "$build"

for target in idx safetensors png; do
  src=tests/fuzz/fuzz_$target.cpp
  bin=$build/fuzz_$target
  if [[ ! -x $bin || $src -nt $bin || -n $(find include -newer "$bin" -name '*.hpp' -print -quit) ]]; then
    echo "fuzz.sh: building $bin"
    # No -fopenmp: clang would need libomp; the readers are serial anyway (core/parallel.hpp
    # falls back to plain loops).
    "$cxx" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Iinclude -isystem /usr/include/eigen3 "$src" -lz -o "$bin"
  fi
  work=$build/corpus_$target    # new inputs go here; the committed seeds stay untouched
  mkdir -p "$work"
  limit=(-runs="$runs")
  ((runs > 0)) || limit=(-max_total_time="${FUZZ_SECONDS:-60}")
  echo "fuzz.sh: $target: ${limit[*]}"
  log=$build/fuzz_$target.log
  status=0
  "$bin" "${limit[@]}" -seed=1 -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$build/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  grep -E "^(INFO: seed corpus|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix.*Test unit written)" "$log" || true
  if ((status != 0)); then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $target FAILED (exit $status; full log $log; inputs in $build/crash-*)" >&2
    exit 1
  fi
done
echo "fuzz.sh: all targets ran clean"
