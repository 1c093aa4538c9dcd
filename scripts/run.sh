#!/usr/bin/env bash
# The one run command (README): installs what the build needs, builds the release programs and starts
# `ferrymq standalone` with its data under ./data (arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ferrymq/ccache}"
cmake --preset release >/dev/null
cmake --build --preset release --target ferrymq ferryctl ferrymq-bench
if [[ " $* " != *" -d "* ]]; then set -- -d "${FMQ_DATA_DIR:-data}" "$@"; fi
exec build/release/broker/cmd/ferrymq standalone "$@"
