#!/usr/bin/env bash
# The compat tier (scripts/test.sh): starts `ferrymq standalone` as a real process on free ports and runs every
# real-client check against it: the Java client 4.9.7, mqadmin 4.9.7, the Go client v2 and ali-ons. Then stops
# the broker with SIGTERM and requires a clean exit. The `replication` check runs its own name server and three
# brokers (run_replication_loss.sh: a master SIGKILLed under 8 Java producers, `ferryctl ha promote`, nothing
# acknowledged lost); it needs ferryctl: $FMQ_FERRYCTL, else <dir of ferrymq>/../cli/ferryctl, and runs
# $FMQ_LOSS_REPETITIONS (5) repetitions.
#
#   tests/compat/run_all.sh <path to ferrymq>
#
# Prints "compat: N passed, M failed" last; exit status 0 only when all passed. FMQ_COMPAT_CHECKS picks a subset
# (default "java mqadmin go node semantics sql92-golden acl tls samples prometheus replication apache-replication";
# `prometheus` is run_prometheus_check.sh: a real Prometheus scrapes a standalone with metrics on; `acl` is
# run_acl_matrix.sh: its own standalone with aclEnable, the Java ACL matrix, the Go client with credentials and
# mqadmin with keys; `tls` is run_tls_check.sh: the Java client over TLS (mutual, enforcing, permissive) and
# plaintext refused; `samples` is run_client_samples.sh: docs/clients.md's Java, Go and Node samples with ACL
# credentials read from files as a mounted Secret; `apache-replication` is
# run_apache_replication.sh: Apache RocketMQ 4.9.7 slaves of a FerryMQ master and the other way round;
# `semantics` is run_semantics.sh: retry, dead letters and delay levels with the Java client, its own broker;
# `sql92-golden` is run_sql92_golden.sh --check: the SQL92 filter's golden answers are still rocketmq-filter's;
# `go` also runs the Go client's SQL92, delay-level, timer and transaction check, `go-semantics`).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/compat/lib.sh
source tests/compat/lib.sh
ferrymq=${1:?usage: tests/compat/run_all.sh <path to ferrymq>}
checks="${FMQ_COMPAT_CHECKS:-java mqadmin go node semantics sql92-golden acl tls samples prometheus replication apache-replication}"
ferryctl="${FMQ_FERRYCTL:-$(dirname "$ferrymq")/../cli/ferryctl}"
work=$(mktemp -d /tmp/fmq-compat-XXXXXX)
log="$work/standalone.log"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Transactions left unknown are checked back within a few seconds (go-semantics), not after Apache's 60 s.
printf 'transactionCheckInterval=1000\ntransactionTimeOut=1000\n%s\n' "$FMQ_HOST_DISK_CONF" >"$work/broker.conf"
FMQ_LOG_LEVEL="${FMQ_COMPAT_LOG_LEVEL:-info}" "$ferrymq" standalone -d "$work/data" -c "$work/broker.conf" \
  --namesrv-port 0 --broker-port 0 >"$log" 2>&1 &
pid=$!
deadline=$(($(date +%s) + 60))
until grep -q "ferrymq standalone: name server" "$log"; do
  if ! kill -0 "$pid" 2>/dev/null || (($(date +%s) > deadline)); then
    cat "$log"; echo "compat: 0 passed, 1 failed"; exit 1
  fi
  sleep 0.2
done
namesrv=$(sed -nE 's/.*name server (127\.0\.0\.1:[0-9]+),.*/\1/p' "$log" | head -1)
echo "== compat: ferrymq standalone at name server $namesrv"

passed=0
failed=0
failures=()
run_check() {  # run_check <name> <command...>
  local name=$1; shift
  local t0=$(date +%s)
  echo "== compat check $name"
  if "$@"; then
    passed=$((passed + 1)); echo "== compat check $name passed in $(( $(date +%s) - t0 ))s"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "== compat check $name FAILED after $(( $(date +%s) - t0 ))s"
  fi
}
for c in $checks; do
  case "$c" in
    java) run_check java bash tests/compat/run_java_compat.sh "$namesrv" ;;
    mqadmin) run_check mqadmin bash tests/compat/run_mqadmin_compat.sh "$namesrv" DefaultCluster broker-a ;;
    go) run_check go bash tests/compat/run_go_compat.sh "$namesrv"
        run_check go-semantics bash tests/compat/run_go_compat.sh "$namesrv" -semantics ;;
    node) run_check node bash tests/compat/run_node_compat.sh "$namesrv" ;;
    sql92-golden) run_check sql92-golden bash tests/compat/run_sql92_golden.sh --check ;;
    semantics) run_check semantics bash tests/compat/run_semantics.sh "$ferrymq" ;;
    acl) run_check acl bash tests/compat/run_acl_matrix.sh "$ferrymq" ;;
    tls) run_check tls bash tests/compat/run_tls_check.sh "$ferrymq" ;;
    samples) run_check samples bash tests/compat/run_client_samples.sh "$ferrymq" ;;
    prometheus) run_check prometheus bash tests/compat/run_prometheus_check.sh "$ferrymq" ;;
    replication) run_check replication bash tests/compat/run_replication_loss.sh "$ferrymq" "$ferryctl" \
      "${FMQ_LOSS_REPETITIONS:-5}" ;;
    apache-replication) run_check apache-replication bash tests/compat/run_apache_replication.sh "$ferrymq" "$ferryctl" ;;
    *) echo "unknown compat check '$c'"; failed=$((failed + 1)) ;;
  esac
done

# A clean stop: SIGTERM, exit 0, and the store reopens without recovery.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if ((status == 0)); then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=("standalone exit status $status after SIGTERM")
fi
if grep -qE " E \[|ERROR" "$log"; then
  echo "== errors logged by the broker:"; grep -E " E \[|ERROR" "$log" | head -20
fi
for f in "${failures[@]}"; do echo "FAILED: compat $f"; done
echo "compat: $passed passed, $failed failed"
((failed == 0))
