#!/usr/bin/env bash
# feral quick start: installs what is missing (Debian 12 packages), builds, and
#   ./quickstart.sh compare [ARGS...]  runs the main job: the classifier comparison
#                                      on the built-in synthetic faces (ARGS go to it)
#   ./quickstart.sh test               runs the whole test suite
#   ./quickstart.sh build              only installs and builds
# Environment: FERAL_BUILD_JOBS (default: number of cores), FERAL_PRESET (default: release).
set -euo pipefail
cd "$(dirname "$0")"

packages=(build-essential cmake pkg-config libeigen3-dev libxsimd-dev xtl-dev libstb-dev catch2
          libbenchmark-dev libcli11-dev nlohmann-json3-dev opencv-data)
# Only the tests need these: a real browser renders a study report (tests/examples).
test_packages=(chromium)

install_missing_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "quickstart: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "quickstart: run as root, or install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local preset="${FERAL_PRESET:-release}"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "${FERAL_BUILD_JOBS:-$(nproc)}"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  compare)
    install_missing_packages "${packages[@]}"; build
    exec "build/${FERAL_PRESET:-release}/examples/feral-compare" "$@" ;;
  test)
    install_missing_packages "${packages[@]}" "${test_packages[@]}"; build
    exec ctest --preset "${FERAL_PRESET:-release}" "$@" ;;
  build)
    install_missing_packages "${packages[@]}"; build ;;
  *)
    echo "usage: ./quickstart.sh compare [ARGS...] | test | build" >&2; exit 2 ;;
esac
