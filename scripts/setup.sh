#!/usr/bin/env bash
# Installs every Debian package FerryMQ's build and tests need. Idempotent: packages already present are
# skipped, so a second run costs one dpkg query. Run as root (or with sudo available).
#
#   scripts/setup.sh           everything (toolchain, libraries, tests and benchmarks)
#   scripts/setup.sh --image   only what a release build of the programs needs (the Dockerfile's build stage)
set -euo pipefail

BUILD=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # libraries
  libboost-dev libboost-system-dev libssl-dev libyaml-cpp-dev libcpprest-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev zlib1g-dev libisal-dev
  # the one argument parser of every program (ferrymq, ferryctl, ferrymq-bench, tests/tools)
  libcli11-dev
)
DEV=(
  # tools of the developer and test tiers
  git python3 python3-yaml clang clang-format libclang-rt-14-dev
  # tests and benchmarks (openssl: the test certificates of scripts/make_test_pki.sh; prometheus: promtool for
  # the chart's alert-rule tests)
  libgtest-dev libgmock-dev libbenchmark-dev valgrind openssl prometheus
)

case "${1:-}" in
  --image) PACKAGES=("${BUILD[@]}") ;;
  "") PACKAGES=("${BUILD[@]}" "${DEV[@]}") ;;
  *) echo "usage: scripts/setup.sh [--image]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
