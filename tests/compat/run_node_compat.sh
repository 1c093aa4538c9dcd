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

# shellcheck source=tests/compat/lib.sh
source "$here/lib.sh"
modules=$(compat_node_deps "$src")

topic="${FMQ_COMPAT_TOPIC_PREFIX:-fmq_compat_node}_$(date +%Y%m%d%H%M%S)_$$"
NODE_PATH="$modules" exec nice node "$src/compat.js" "$@" "$namesrv" "$topic"
