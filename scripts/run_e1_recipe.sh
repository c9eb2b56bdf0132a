#!/usr/bin/env bash
# E1's quality bar (issue 6, docs/experiments/dcgan.md 2.1.3), end to end on MNIST:
#   1. build dcgan and mnist_classifier (Release, -march=native) in $BUILD_DIR
#   2. train the judge if $CLASSIFIER does not exist yet (8 epochs, 1 thread: the same
#      weights on every run of one build)
#   3. the recipe for $TIME_LIMIT seconds of training on 2 threads, evaluated every
#      $EVAL_EVERY steps -> $OUT
#   4. the time-to-quality table and plot (scripts/e1_report.py) -> $OUT/report.md, quality.png
#
# Usage: bash scripts/run_e1_recipe.sh [extra dcgan args, e.g. --seed 2]
# Environment: BUILD_DIR (default build), DATA (default data/mnist), OUT (default
#   out/dcgan-recipe), CLASSIFIER (default out/judge-default/classifier.safetensors),
#   TIME_LIMIT (default 600), EVAL_EVERY (default 1000), THREADS (default 2).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="/usr/bin:/bin:$PATH"

build=${BUILD_DIR:-build}
data=${DATA:-data/mnist}
out=${OUT:-out/dcgan-recipe}
classifier=${CLASSIFIER:-out/judge-default/classifier.safetensors}
time_limit=${TIME_LIMIT:-600}
eval_every=${EVAL_EVERY:-1000}
threads=${THREADS:-2}
source scripts/study_common.sh
study_require_data run_e1_recipe.sh "$data"
study_build "$build" dcgan mnist_classifier
study_judge "$build" "$data" "$classifier" --epochs 8 --threads 1

# The recipe: the paper's rules at width 32 with two extra 3x3 layers per net, batch 32,
# Adam 3e-4 (beta1 0.5), and the metrics taken on an EMA of G's weights.
echo "==== recipe, $time_limit s of training on $threads threads -> $out   ($(uptime))"
"$build/examples/dcgan" --data "$data" --out "$out" --classifier "$classifier" --threads "$threads" \
  --width 32 --extra-layers 2 --batch 32 --lr 3e-4 --ema 0.999 --epochs 400 \
  --eval-every "$eval_every" --time-limit "$time_limit" "$@"

echo "==== report -> $out/report.md, $out/quality.png"
/usr/bin/python3 scripts/e1_report.py "$out" --labels recipe --x train_seconds --plot "$out/quality.png" |
  tee "$out/report.md"
