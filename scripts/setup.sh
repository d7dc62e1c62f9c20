#!/usr/bin/env bash
# Installs what building and testing guidingpainter needs, from Debian's packages.
# Safe to run twice: installs only what is missing. The CUDA toolkit (nvcc, cuDNN)
# is expected under /usr/local/cuda; without it the build is simulator-only.
#
#   scripts/setup.sh           build + test dependencies
#   scripts/setup.sh --data    also what the training data build needs
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config binutils
  libboost-context-dev nlohmann-json3-dev libstb-dev libturbojpeg0-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libzip-dev libcpp-httplib-dev
  python3-torch python3-numpy python3-pil python3-venv python3-dev python3-pytest pybind11-dev
  clang-14 libclang-rt-14-dev
  chromium chromium-driver python3-selenium
)
if [[ "${1:-}" == "--data" ]]; then
  packages+=(ruby-gemojione librsvg2-bin)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi

if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: CUDA toolkit found: $(/usr/local/cuda/bin/nvcc --version | tail -n 2 | head -n 1)"
else
  echo "setup: no CUDA toolkit under /usr/local/cuda: the build will be simulator-only"
fi
