#!/usr/bin/env bash
# The main job: train the DCGAN example on MNIST for a short run and write a sample grid.
#   1. install dependencies (scripts/install_deps.sh, skipped when present)
#   2. prepare MNIST under data/mnist (scripts/prepare_data.sh)
#   3. build the examples in Release with -march=native (build/)
#   4. run build/examples/dcgan --data data/mnist --out out/dcgan [extra args]
# Usage: bash scripts/run_main.sh [extra dcgan arguments, e.g. --help]
# Environment: BUILD_DIR (default: build), JOBS (default: nproc), GAN_DATA_DIR (default: data),
#   OMP_NUM_THREADS.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# Debian's python3 (with python3-torch/numpy) and toolchain, whatever else is on PATH.
export PATH="/usr/bin:/bin:$PATH"
export PYTHON=/usr/bin/python3
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
data_dir=${GAN_DATA_DIR:-data}/mnist   # where scripts/prepare_data.sh puts it
out_dir=out/dcgan

die() { echo "run_main.sh: $*" >&2; exit 1; }

echo "==== dependencies"
bash scripts/install_deps.sh

echo "==== MNIST -> $data_dir"
if [[ -f scripts/prepare_data.sh ]]; then
  bash scripts/prepare_data.sh mnist
elif [[ ! -d $data_dir ]]; then
  die "no $data_dir and no scripts/prepare_data.sh to create it"
fi
[[ -d $data_dir ]] || die "scripts/prepare_data.sh finished but $data_dir does not exist"

echo "==== build examples (Release, -march=native) in $build_dir"
[[ -f examples/CMakeLists.txt ]] ||
  die "examples/CMakeLists.txt is missing: this checkout has no examples to build"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DGAN_NATIVE=ON \
  -DGAN_BUILD_EXAMPLES=ON -DGAN_BUILD_TESTS=OFF -DGAN_BUILD_BENCHMARKS=OFF
cmake --build "$build_dir" --parallel "$jobs"
dcgan="$build_dir/examples/dcgan"
[[ -x $dcgan ]] ||
  die "the build did not produce $dcgan (is the dcgan example in examples/CMakeLists.txt?)"

echo "==== $dcgan --data $data_dir --out $out_dir $*"
mkdir -p "$out_dir"
"$dcgan" --data "$data_dir" --out "$out_dir" "$@"
echo "==== done: outputs in $out_dir"
ls -l "$out_dir"
