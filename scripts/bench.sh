#!/usr/bin/env bash
# Runs gan's benchmarks (benchmarks/, Google Benchmark) and the same layers and training step
# in PyTorch CPU (benchmarks/torch_reference.py, Debian python3-torch) side by side, at 1 and 2
# threads, and writes docs/performance.md from that one run:
#   1. Release build of gan_bench_{peak,conv,linear,train} (-O3 -march=native) in BUILD_DIR.
#   2. gan: FMA peak probe, 9 conv shapes and 4 linear layers x 3 passes, DCGAN-MNIST step;
#      medians over REPEATS. Then the conv passes that can run on the Winograd kernels once
#      more on the direct ones (GAN_NO_WINOGRAD=1), for the report's comparison of the two.
#   3. PyTorch as shipped (Debian's default BLAS, the netlib reference libblas3), then in its
#      best configuration: OpenBLAS (libopenblas0-openmp, the same OpenMP runtime), glibc
#      malloc keeping freed memory, OMP_WAIT_POLICY=passive. Debian's python3-torch does its
#      GEMMs (linear, transposed conv) through whatever libblas.so.3 it finds, so each run
#      names its BLAS with LD_LIBRARY_PATH. The report compares with the better of the two.
#   Steps 2 and 3 alternate for ROUNDS rounds; the report takes each row's median over rounds.
# The machine should be idle: the script prints the load average before and after and the
# report records both. Raw results stay in BUILD_DIR/bench-results/.
# Usage: bash scripts/bench.sh [--quick]     (--quick: 1 round of 2 repetitions, short blocks)
# Environment: BUILD_DIR (default build-bench), JOBS (default 2), REPEATS (default 5),
#   MIN_TIME (seconds per timed block, default 0.3), ROUNDS (default 3, ~10 minutes each),
#   OUT (default docs/performance.md).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
repeats=${REPEATS:-5}
min_time=${MIN_TIME:-0.3}
rounds=${ROUNDS:-3}
for arg in "$@"; do
  case "$arg" in
    --quick) repeats=2; min_time=0.05; rounds=1 ;;
    -h|--help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-build-bench}
out=${OUT:-docs/performance.md}
export PATH="/usr/bin:/bin:$PATH"   # Debian's python3 (python3-torch) and toolchain first
# compiler, Google Benchmark, python3-torch, and OpenBLAS for PyTorch's best configuration
bash scripts/install_deps.sh libopenblas0-openmp
libdir=/usr/lib/$(gcc -print-multiarch)
blas_shipped=$libdir/blas             # netlib reference BLAS (libblas3), Debian's default
blas_best=$libdir/openblas-openmp
unset OMP_NUM_THREADS               # each side sets its thread count per measurement

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGAN_BUILD_BENCHMARKS=ON -DGAN_BUILD_TESTS=OFF \
  -DGAN_BUILD_EXAMPLES=OFF -DGAN_INSTALL=OFF > /dev/null
cmake --build "$build" --parallel "${JOBS:-2}" --target gan_bench_peak gan_bench_conv gan_bench_linear gan_bench_train

raw=$build/bench-results
rm -rf "$raw"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before"
gbench=(--benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true
        --benchmark_min_time="$min_time" --benchmark_out_format=json)
torch_args=(--threads 1 2 --repeats "$repeats" --min-time "$min_time")
# The host's speed drifts over minutes, which medians inside one process cannot remove: the
# two libraries alternate for ROUNDS rounds and the report takes the median over rounds.
for ((r = 1; r <= rounds; ++r)); do
  dir=$raw/round$r
  mkdir -p "$dir"
  for b in peak conv linear train; do
    echo "== round $r/$rounds: gan_bench_$b"
    "$build/benchmarks/gan_bench_$b" "${gbench[@]}" --benchmark_out="$dir/$b.json"
  done
  echo "== round $r/$rounds: gan_bench_conv, the Winograd rows on the direct kernels"
  GAN_NO_WINOGRAD=1 "$build/benchmarks/gan_bench_conv" "${gbench[@]}" --benchmark_out="$dir/conv_direct.json" \
    --benchmark_filter='shape(2|3|5|6|8)_[^/]*/(fwd|bwd_data)/|shape6_[^/]*/bwd_weight/'

  echo "== round $r/$rounds: PyTorch as shipped"
  LD_LIBRARY_PATH=$blas_shipped /usr/bin/python3 benchmarks/torch_reference.py "${torch_args[@]}" |
    tee "$dir/torch_shipped.jsonl"
  echo "== round $r/$rounds: PyTorch best configuration"
  LD_LIBRARY_PATH=$blas_best GLIBC_TUNABLES=glibc.malloc.trim_threshold=17179869184:glibc.malloc.mmap_threshold=33554432 \
    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/torch_reference.py "${torch_args[@]}" |
    tee "$dir/torch_best.jsonl"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load_after"

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
family=$(lscpu | sed -n 's/^CPU family:[[:space:]]*//p' | head -1)
model=$(lscpu | sed -n 's/^Model:[[:space:]]*//p' | head -1)
[ -n "$family" ] && cpu="$cpu (family $family, model $model)"
# The SIMD that -march=native gives the kernels here (what the tile sizes depend on).
if grep -qw avx512f /proc/cpuinfo; then isa="AVX-512"
elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then isa="AVX2 + FMA, no AVX-512"
else isa="SSE2-class SIMD"; fi
cmd="${BUILD_DIR:+BUILD_DIR=$BUILD_DIR }bash scripts/bench.sh $*"
/usr/bin/python3 benchmarks/make_report.py --raw "$raw" --out "$out" --command "${cmd% }" --cpu "$cpu" --isa "$isa" \
  --load-before "$load_before" --load-after "$load_after" --repeats "$repeats" --rounds "$rounds"
