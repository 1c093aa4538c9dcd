#!/usr/bin/env bash
# Runs the Node.js client compatibility check (tests/compat/node, npm package ali-ons) against a name server.
#
#   tests/compat/run_node_compat.sh <namesrvAddr> [compat.js options...]
#
# Each run uses a fresh topic ${FMQ_COMPAT_TOPIC_PREFIX:-fmq_compat_node}_<timestamp>_<pid>, created explicitly
# on every master broker through ali-ons' own client API. Options after the address go to compat.js (see --help).
#
# Caches (so a second run works offline): $FMQ_CACHE_DIR (default ~/.cache/ferrymq)/npm (npm's cache) and
# .../node/compat-<lockfile hash>/node_modules (installed with `npm ci` from the committed package-lock.json).
set -euo pipefail

die() { echo "run_node_compat: error: $*" >&2; exit 2; }

(($# >= 1)) || die "usage: $0 <namesrvAddr> [compat.js options...]"
namesrv=$1; shift
[[ $namesrv == *:* ]] || die "namesrvAddr must be host:port (got '$namesrv')"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/node"
cache="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "run_node_compat: installing nodejs and npm from Debian" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
      die "apt-get install nodejs npm failed"
  else
    die "node (14+) and npm are not on PATH"
  fi
fi
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 14)) || die "node 14+ required (found $(node --version))"

hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
deps="$cache/node/compat-$hash"
if [[ ! -f $deps/.installed ]]; then
  echo "run_node_compat: installing ali-ons into $deps" >&2
  rm -rf "$deps" && mkdir -p "$deps" "$cache/npm"
  cp "$src/package.json" "$src/package-lock.json" "$deps/"
  log="$deps/npm-ci.log"
  if ! (cd "$deps" && nice npm ci --cache "$cache/npm" --prefer-offline --no-audit --no-fund --loglevel=warn) >"$log" 2>&1; then
    cat "$log" >&2
    die "npm ci failed (first run needs the npm registry; later runs use $cache/npm)"
  fi
  touch "$deps/.installed"
fi

topic="${FMQ_COMPAT_TOPIC_PREFIX:-fmq_compat_node}_$(date +%Y%m%d%H%M%S)_$$"
NODE_PATH="$deps/node_modules" exec nice node "$src/compat.js" "$@" "$namesrv" "$topic"
