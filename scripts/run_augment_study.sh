#!/usr/bin/env bash
# E3, the cGAN augmentation study (docs/experiments/cgan_augmentation.md), end to end:
#   1. build cgan_mnist and augment_study (Release, -march=native) in $BUILD_DIR
#   2. train the cGAN on the data set -> $OUT/cgan/G.safetensors
#   3. train the classifier for baseline and v1..v8 -> $OUT/study/<variant>.csv, summary.md
#   4. plot the test-accuracy curves -> $OUT/study/accuracy.png (scripts/plot.py)
# Every step resumes from its checkpoints, so re-running after an interruption continues.
#
# Usage: bash scripts/run_augment_study.sh [mnist|fashion] [--full] [extra augment_study args]
#   mnist (default): data/mnist (8,000 / 2,000 offline split, bash scripts/prepare_data.sh);
#   fashion: data/fashion-mnist. DATA=<dir> overrides either (e.g. a full 60k MNIST).
#   --full: the study's original sizes and lengths (GPU-days of work on a CPU, see the doc).
# Environment: BUILD_DIR (default build), OUT (default out/augment_study/<dataset>[-full]),
#   PROCS (default: the number of cores, at most 9): variants trained by that many
#   single-thread processes at once; on these small convolutions 2 processes x 1 thread
#   beat 1 process x 2 threads on 2 cores. PROCS=1: one process with all threads.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="/usr/bin:/bin:$PATH"

dataset=mnist
[[ ${1:-} == mnist || ${1:-} == fashion ]] && { dataset=$1; shift; }
full=0
[[ ${1:-} == --full ]] && { full=1; shift; }
case $dataset in
  mnist) data=${DATA:-data/mnist} ;;
  fashion) data=${DATA:-data/fashion-mnist} ;;
esac
suffix=""  # not $([[ $full == 1 ]] && echo -full): under set -e that substitution's status 1 ends the script
[[ $full == 1 ]] && suffix=-full
out=${OUT:-out/augment_study/$dataset$suffix}
build=${BUILD_DIR:-build}
variants=(baseline v1 v2 v3 v4 v5 v6 v7 v8)
procs=${PROCS:-$(nproc)}
((procs > ${#variants[@]})) && procs=${#variants[@]}
source scripts/study_common.sh
study_require_data run_augment_study.sh "$data" "$([[ $dataset == fashion ]] && echo fashion-mnist || echo mnist)"

cgan_args=()
study_args=()
if [[ $full == 1 ]]; then  # ex_basic_5_v1.py, normal_cnn_v1.py, cnn_add_generated_data_v*.py
  cgan_args=(--iters 100000 --g-width 128 --d-width 64 --lr 1e-5 --max-g-steps 1000 --log-every 1000 --save-every 5000)
  study_args=(--iters 500000 --width 32 --lr 1e-5 --eval-every 1000)
fi

study_build "$build" cgan_mnist augment_study

echo "==== cGAN on $data -> $out/cgan   ($(uptime))"
/usr/bin/time -f "cgan_mnist: %e s wall, %U s user" \
  "$build/examples/cgan_mnist" --data "$data" --out "$out/cgan" --resume "${cgan_args[@]}"

echo "==== classifier, ${#variants[@]} variants in $procs process(es) -> $out/study   ($(uptime))"
run_study() {
  "$build/examples/augment_study" --data "$data" --generator "$out/cgan/G.safetensors" --out "$out/study" --resume \
    "${study_args[@]}" "$@"
}
start=$(date +%s)
if [[ $procs -le 1 ]]; then
  run_study "$@"
else
  pids=()
  for ((p = 0; p < procs; ++p)); do
    mine=()
    for ((i = p; i < ${#variants[@]}; i += procs)); do mine+=("${variants[i]}"); done
    list=$(IFS=,; echo "${mine[*]}")
    run_study --threads 1 --variants "$list" "$@" > "$out/study.$p.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  run_study "$@"  # every variant is finished: only writes summary.md / summary.csv for all
fi
echo "augment_study: $(($(date +%s) - start)) s wall   ($(uptime))"

echo "==== plots"
csvs=()
for v in "${variants[@]}"; do csvs+=("$out/study/$v.csv"); done
labels=$(IFS=,; echo "${variants[*]}")
/usr/bin/python3 scripts/plot.py "${csvs[@]}" --y test_acc --labels "$labels" --smooth 4 \
  --title "E3 test accuracy ($dataset)" -o "$out/study/accuracy.png"
/usr/bin/python3 scripts/plot_augment_study.py "$out/study" -o "$out/study/accuracy_panels.png" --title "E3 ($dataset)"
cat "$out/study/summary.md"
