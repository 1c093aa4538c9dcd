#!/usr/bin/env bash
# Runs the Go client compatibility check (tests/compat/go, apache/rocketmq-client-go v2) against a name server.
#
#   tests/compat/run_go_compat.sh <namesrvAddr> [gocompat flags...]
#
# Each run uses a fresh topic ${FMQ_COMPAT_TOPIC_PREFIX:-fmq_compat_go}_<timestamp>_<pid>, created explicitly on
# every master broker with the Go admin API (FMQ_COMPAT_TOPIC names an existing one instead, for -acl). Flags after the address go to the program (see `-h`), e.g. `-n 1000`.
#
# Caches (so a second run works offline): $FMQ_CACHE_DIR (default ~/.cache/ferrymq)/go/mod (GOMODCACHE),
# .../go/build (GOCACHE) and .../go/bin/gocompat-<source hash> (the built program).
set -euo pipefail

die() { echo "run_go_compat: error: $*" >&2; exit 2; }

(($# >= 1)) || die "usage: $0 <namesrvAddr> [gocompat flags...]"
namesrv=$1; shift
[[ $namesrv == *:* ]] || die "namesrvAddr must be host:port (got '$namesrv')"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/go"
cache="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}"

if ! command -v go >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "run_go_compat: installing golang-go from Debian" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; } ||
      die "apt-get install golang-go failed"
  else
    die "go (1.19+) is not on PATH"
  fi
fi

export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
mkdir -p "$GOMODCACHE" "$GOCACHE" "$cache/go/bin"

hash=$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -c1-16)
bin="$cache/go/bin/gocompat-$hash"
if [[ ! -x $bin ]]; then
  echo "run_go_compat: building $src ($(go version | awk '{print $3}'))" >&2
  log="$cache/go/bin/build-$hash.log"
  if ! (cd "$src" && nice go build -o "$bin.tmp.$$" .) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$bin.tmp.$$"
    die "go build failed (first run needs the Go module proxy; later runs use $GOMODCACHE)"
  fi
  mv -f "$bin.tmp.$$" "$bin"
fi

topic="${FMQ_COMPAT_TOPIC:-${FMQ_COMPAT_TOPIC_PREFIX:-fmq_compat_go}_$(date +%Y%m%d%H%M%S)_$$}"
# ROCKETMQ_GO_LOG_LEVEL quiets the client from its first line (its logger reads it at init); the program then
# applies -client-log-level (default error).
export ROCKETMQ_GO_LOG_LEVEL="${ROCKETMQ_GO_LOG_LEVEL:-error}"
exec nice "$bin" "$@" "$namesrv" "$topic"
