#!/usr/bin/env bash
# E4, the residual denoising-filter study (docs/experiments/denoise_filter.md), end to end:
#   1. build denoise_filter and mnist_classifier (Release, -march=native) in $BUILD_DIR
#   2. train the reference classifier if $CLASSIFIER does not exist yet (the judge)
#   3. the baselines, then all 17 variants in $PROCS single-thread processes -> $OUT/<variant>
#   4. the table, panels and curves -> $OUT/report (scripts/e4_report.py)
# Every variant resumes from its checkpoint and finished ones are skipped, so re-running after
# an interruption continues where it stopped.
#
# Usage: bash scripts/run_denoise_study.sh [extra denoise_filter args, e.g. --iters 1500 or --full]
# Environment: BUILD_DIR (default build), DATA (default data/mnist), OUT (default
#   out/denoise_filter), CLASSIFIER (default out/classifier/classifier.safetensors),
#   PROCS (default 2): on these small convolutions 2 processes x 1 thread beat 1 x 2 threads.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="/usr/bin:/bin:$PATH"

build=${BUILD_DIR:-build}
data=${DATA:-data/mnist}
out=${OUT:-out/denoise_filter}
classifier=${CLASSIFIER:-out/classifier/classifier.safetensors}
procs=${PROCS:-2}
source scripts/study_common.sh
study_require_data run_denoise_study.sh "$data"
study_build "$build" denoise_filter mnist_classifier
study_judge "$build" "$data" "$classifier"

# Ordered so that dealing them out round-robin over 2 processes gives one 6 GAN + 3 L1-only
# variants and the other 7 GAN + 1 (an L1 step costs about half a GAN step).
variants=(dcgans_v1 dcgans_v2 dcgans_v3 dcgans_v4 dcgans_v5 dcgans_v6 dcgans_v7 cgan_v1 cgan_v2 cgan_v3
          cgan_v4 cgan_v5 dcnn_v1 cgan_v6 dcnn_v2 dcnn_v3 dcnn_v5)
run_filter() {
  "$build/examples/denoise_filter" --data "$data" --out "$out" --classifier "$classifier" --resume "$@"
}
echo "==== baselines and ${#variants[@]} variants in $procs process(es) -> $out   ($(uptime))"
start=$(date +%s)
run_filter --variant baselines "$@"
pids=()
for ((p = 0; p < procs; ++p)); do
  mine=()
  for ((i = p; i < ${#variants[@]}; i += procs)); do mine+=("${variants[i]}"); done
  list=$(IFS=,; echo "${mine[*]}")
  run_filter --threads "$((procs > 1 ? 1 : 0))" --variant "$list" "$@" > "$out/run.$p.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
echo "denoise_filter: $(($(date +%s) - start)) s wall for all variants   ($(uptime))"
[[ $status == 0 ]] || { echo "run_denoise_study.sh: a process failed, see $out/run.*.log" >&2; exit 1; }

echo "==== report -> $out/report"
/usr/bin/python3 scripts/e4_report.py "$out" -o "$out/report"
