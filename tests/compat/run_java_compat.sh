#!/usr/bin/env bash
# Java client compatibility check: builds tests/compat/java (cached; offline once the cache is filled) and runs
# CompatCheck against a name server. Exit status is CompatCheck's: 0 all checks passed, 1 a check failed.
#
#   tests/compat/run_java_compat.sh <namesrvAddr> [topicPrefix]      (topicPrefix defaults to compat_java)
#
# Environment: FMQ_CACHE_DIR (default ~/.cache/ferrymq), FMQ_COMPAT_PHASE_TIMEOUT (seconds per phase, 120),
# FMQ_COMPAT_QUIET_MS (wait for late duplicates after each consume phase, 3000), FMQ_COMPAT_LOG_DIR (client logs).
set -euo pipefail
# shellcheck source=tests/compat/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 && $# -le 2 ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
namesrv=$1
prefix=${2:-compat_java}
host=${namesrv%%;*}; host=${host%:*}; port=${namesrv%%;*}; port=${port##*:}
compat_port_open "$host" "$port" || die "nothing listens on name server $host:$port"

cp=$(compat_java_classpath)
# shellcheck disable=SC2046
# FMQ_COMPAT_JAVA_OPTS: extra JVM options, e.g. the client's TLS system properties (run_tls_check.sh).
exec java $(compat_client_jvm_opts) ${FMQ_COMPAT_JAVA_OPTS:-} \
  -Dcompat.phaseTimeoutSec="${FMQ_COMPAT_PHASE_TIMEOUT:-120}" -Dcompat.quietMs="${FMQ_COMPAT_QUIET_MS:-3000}" \
  -cp "$cp" io.ferrymq.compat.CompatCheck "$namesrv" "$prefix"
