# Steps shared by the end-to-end experiment scripts (run_e1_recipe.sh, run_denoise_study.sh,
# run_augment_study.sh). Sourced, not run; the caller has cd'd to the repository root.

# study_require_data SCRIPT DIR [DATASET]: stop with the command that fetches DIR if it is missing.
study_require_data() {
  [[ -d $2 ]] || { echo "$1: no data in '$2' (bash scripts/prepare_data.sh ${3:-mnist})" >&2; exit 1; }
}

# study_build BUILD_DIR TARGET...: Release build (-march=native) of the example programs named.
study_build() {
  local build=$1
  shift
  echo "==== build ($build)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGAN_BUILD_EXAMPLES=ON > /dev/null
  cmake --build "$build" --target "$@" -j "$(nproc)"
}

# study_judge BUILD_DIR DATA CLASSIFIER [mnist_classifier args]: train the reference
# classifier (the judge of IS / FD) into CLASSIFIER's folder unless it is already there.
study_judge() {
  local build=$1 data=$2 classifier=$3
  shift 3
  [[ -f $classifier ]] && return 0
  echo "==== reference classifier -> $(dirname "$classifier")"
  "$build/examples/mnist_classifier" --data "$data" --out "$(dirname "$classifier")" "$@"
}
