# shellcheck shell=bash
# Shared helpers for the compat scripts; sourced, not run. Callers use `set -euo pipefail`.
#
#   FMQ_CACHE_DIR   where downloads are kept (default ~/.cache/ferrymq); the Maven local repository is
#                   $FMQ_CACHE_DIR/m2, so everything works offline once one online run has filled it.

FMQ_CACHE_DIR="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}"
FMQ_M2_REPO="$FMQ_CACHE_DIR/m2"
COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Two lines for every FerryMQ broker a compat script starts (as testing_process::kHostDiskConf in
# tests/integration/process_util.h): these checks share the build machine's disk, which may already be 85-90 %
# used, where a broker deletes its oldest segments regardless of age and refuses writes, as designed.
FMQ_HOST_DISK_CONF=$'cleanFileForciblyEnable=false\ndiskSpaceWarningLevelRatio=0.999'

die() { echo "error: $*" >&2; exit 1; }
note() { echo "[compat] $*" >&2; }

# Installs java and mvn from Debian when they are missing (root only), then checks both run.
compat_require_java_maven() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      note "installing ${missing[*]} from Debian"
      if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        die "apt-get install ${missing[*]} failed"
      fi
    else
      die "need java (17+) and mvn on PATH; install ${missing[*]}"
    fi
  fi
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  [[ -n "$major" && "$major" -ge 11 ]] || die "java 11+ required (found specification version '${major:-?}')"
}

# compat_mvn <project dir> <maven args...>
# Runs Maven against the cache's local repository, offline first; goes online only when the offline run failed
# for want of an artifact that is not cached yet. Output goes to <project dir>'s log in the cache; shown on error.
compat_mvn() {
  local dir=$1; shift
  local log_dir="$FMQ_CACHE_DIR/logs"; mkdir -p "$log_dir" "$FMQ_M2_REPO"
  local log
  log="$log_dir/mvn-$(basename "$dir").log"   # the latest run per project
  local common=(-B -e -Dmaven.repo.local="$FMQ_M2_REPO" -Dstyle.color=never -f "$dir/pom.xml")
  if nice mvn -o "${common[@]}" "$@" >"$log" 2>&1; then return 0; fi
  if grep -qE 'offline mode|has not been downloaded from it before|Cannot access .* in offline mode|Failed to read artifact descriptor|Could not resolve|Plugin .* could not be resolved' "$log"; then
    note "artifacts missing from $FMQ_M2_REPO, resolving them from Maven Central"
    if nice mvn "${common[@]}" "$@" >"$log" 2>&1; then return 0; fi
  fi
  tail -60 "$log" >&2
  die "maven failed in $dir (full log: $log)"
}

# compat_wait_for_line <file> <ERE> <pid> <seconds>: waits until a line of <file> matches; fails (saying why)
# when process <pid> exits first or the seconds pass.
compat_wait_for_line() {
  local file=$1 pattern=$2 pid=$3 deadline=$(($(date +%s) + $4))
  until grep -qE "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before printing /$pattern/ in $file"; return 1; }
    (($(date +%s) <= deadline)) || { echo "no /$pattern/ in $file within $4 s"; return 1; }
    sleep 0.1
  done
}

# Prints host:port's reachability: 0 when something accepts TCP connections there.
compat_port_open() {
  local host=$1 port=$2
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# Builds tests/compat/java (CompatCheck, SeedGroup) once per change of its sources or pom and prints the
# classpath to run it with. The build lives in the cache, so the work tree stays clean.
compat_java_classpath() {
  compat_require_java_maven
  local project="$COMPAT_DIR/java" build="$FMQ_CACHE_DIR/build/compat-java"
  local version
  version=$(sed -n 's:.*<rocketmq.version>\(.*\)</rocketmq.version>.*:\1:p' "$COMPAT_DIR/apache/pom.xml")
  [[ -n "$version" ]] || die "cannot read rocketmq.version from $COMPAT_DIR/apache/pom.xml"
  local stamp
  stamp=$( { echo "$version"; cat "$project/pom.xml"; find "$project/src" -type f -print0 | sort -z | xargs -0 cat; } |
    sha256sum | cut -d' ' -f1)
  if [[ ! -f "$build/stamp" || "$(cat "$build/stamp")" != "$stamp" || ! -f "$build/compat-check.jar" ||
        ! -s "$build/classpath.txt" ]]; then
    note "building tests/compat/java against rocketmq-client $version"
    rm -f "$build/stamp"
    compat_mvn "$project" -Drocketmq.version="$version" -Dfmq.build.dir="$build" package
    echo "$stamp" >"$build/stamp"
  fi
  echo "$build/compat-check.jar:$(cat "$build/classpath.txt")"
}

# JVM options for the client programs: small heap, client logs out of $HOME.
compat_client_jvm_opts() {
  local log_dir="${FMQ_COMPAT_LOG_DIR:-${TMPDIR:-/tmp}/ferrymq-compat-logs}"
  mkdir -p "$log_dir"
  echo "-Xms128m -Xmx512m -Drocketmq.client.logRoot=$log_dir"
}

# compat_node_deps <dir with package.json and package-lock.json>: installs them (npm ci, cached by their hash under
# $FMQ_CACHE_DIR/node) once and prints the node_modules path. Installs nodejs and npm from Debian when missing
# (root only).
compat_node_deps() {
  local src=$1
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      note "installing nodejs and npm from Debian"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
        die "apt-get install nodejs npm failed"
    else
      die "node (14+) and npm are not on PATH"
    fi
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 14)) || die "node 14+ required (found $(node --version))"
  local hash deps
  hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
  deps="$FMQ_CACHE_DIR/node/compat-$hash"
  if [[ ! -f $deps/.installed ]]; then
    note "installing $(basename "$src")'s npm packages into $deps"
    rm -rf "$deps" && mkdir -p "$deps" "$FMQ_CACHE_DIR/npm"
    cp "$src/package.json" "$src/package-lock.json" "$deps/"
    if ! (cd "$deps" && nice npm ci --cache "$FMQ_CACHE_DIR/npm" --prefer-offline --no-audit --no-fund \
          --loglevel=warn) >"$deps/npm-ci.log" 2>&1; then
      cat "$deps/npm-ci.log" >&2
      die "npm ci failed (first run needs the npm registry; later runs use $FMQ_CACHE_DIR/npm)"
    fi
    touch "$deps/.installed"
  fi
  echo "$deps/node_modules"
}
