#!/usr/bin/env bash
# The client samples of docs/clients.md (docs/examples/clients/{java,go,node}) as users run them: each reads a
# FerryMQ User Secret's files (accessKey, secretKey, namesrvAddr) from $FERRYMQ_USER_DIR, sends 20 messages to
# a topic and consumes them with a group, against `ferrymq standalone` with aclEnable (its own process, an
# account allowed exactly that topic and group). Then the same samples with a wrong secret must fail.
#
#   tests/compat/run_client_samples.sh <path to ferrymq>
#
# Prints [PASS]/[FAIL] lines and "samples: N passed, M failed"; exit 0 only when all passed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
ferryctl=$(realpath "${FMQ_FERRYCTL:-$(dirname "$ferrymq")/../cli/ferryctl}")
samples="$COMPAT_DIR/../../docs/examples/clients"
cp=$(compat_java_classpath)
modules=$(compat_node_deps "$COMPAT_DIR/node")  # ali-ons 3.12.0, as the sample's package.json asks
work=$(mktemp -d /tmp/fmq-samples-XXXXXX)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0 failures=()
verdict() {  # verdict <0|1> <name> <detail>
  if [[ $1 == 0 ]]; then passed=$((passed + 1)); echo "[PASS] $2: $3"
  else failed=$((failed + 1)); failures+=("$2"); echo "[FAIL] $2: $3"; fi
}

# The Go sample, built once per source change (its go.sum lists what the compat Go check also uses).
export GOMODCACHE="$FMQ_CACHE_DIR/go/mod" GOCACHE="$FMQ_CACHE_DIR/go/build" GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
go_hash=$(cat "$samples/go/go.mod" "$samples/go/go.sum" "$samples/go/main.go" | sha256sum | cut -c1-16)
go_bin="$FMQ_CACHE_DIR/go/bin/client-sample-$go_hash"
if [[ ! -x $go_bin ]]; then
  mkdir -p "$(dirname "$go_bin")"
  (cd "$samples/go" && nice go build -o "$go_bin.tmp.$$" .) >"$work/go-build.log" 2>&1 ||
    { cat "$work/go-build.log"; die "go build of the Go sample failed"; }
  mv -f "$go_bin.tmp.$$" "$go_bin"
fi

run_id=$(date +%s)
mkdir -p "$work/data/store/conf" "$work/user" "$work/wrong"
cat >"$work/data/store/conf/plain_acl.yml" <<YAML
accounts:
  - {accessKey: broker-inner, secretKey: inner-secret-$run_id, admin: true}
  - {accessKey: ops-admin, secretKey: admin-secret-$run_id, admin: true}
  - accessKey: app-samples
    secretKey: samples-secret-$run_id
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms: [samples_java=PUB|SUB, samples_go=PUB|SUB, samples_node=PUB|SUB]
    groupPerms: [samples_java_cg=SUB, samples_go_cg=SUB, samples_node_cg=SUB]
YAML
printf 'aclEnable=true\ninnerAccessKey=broker-inner\ninnerSecretKey=inner-secret-%s\n%s\n' "$run_id" \
  "$FMQ_HOST_DISK_CONF" >"$work/broker.conf"
"$ferrymq" standalone -d "$work/data" -c "$work/broker.conf" --namesrv-port 0 --broker-port 0 >"$work/standalone.log" 2>&1 &
pid=$!
compat_wait_for_line "$work/standalone.log" "ferrymq standalone: name server" "$pid" 60 || { cat "$work/standalone.log"; exit 1; }
namesrv=$(sed -nE 's/.*name server (127\.0\.0\.1:[0-9]+),.*/\1/p' "$work/standalone.log" | head -1)
for lang in java go node; do
  FERRYMQ_ACCESS_KEY=ops-admin FERRYMQ_SECRET_KEY="admin-secret-$run_id" "$ferryctl" -n "$namesrv" topic create \
    "samples_$lang" --queues 4 >/dev/null
done
# What a mounted User Secret looks like: one file per key.
printf '%s' app-samples >"$work/user/accessKey"
printf '%s' "samples-secret-$run_id" >"$work/user/secretKey"
printf '%s' "$namesrv" >"$work/user/namesrvAddr"
cp "$work/user/"* "$work/wrong/"
printf '%s' "not-the-secret" >"$work/wrong/secretKey"

run_sample() {  # run_sample <lang> <user dir>: the sample's output; its exit status
  local lang=$1 dir=$2
  case $lang in
    java) FERRYMQ_USER_DIR=$dir timeout 120 java $(compat_client_jvm_opts) -cp "$cp" "$samples/java/ClientSample.java" \
            samples_java samples_java_cg 20 2>&1 ;;
    go) FERRYMQ_USER_DIR=$dir ROCKETMQ_GO_LOG_LEVEL=error timeout 120 "$go_bin" samples_go samples_go_cg 20 2>&1 ;;
    node) FERRYMQ_USER_DIR=$dir NODE_PATH=$modules timeout 120 node "$samples/node/sample.js" samples_node \
            samples_node_cg 20 2>&1 ;;
  esac
}
for lang in java go node; do
  out=$(run_sample "$lang" "$work/user") && rc=0 || rc=$?
  if ((rc == 0)) && grep -q "^consumed 20$" <<<"$out"; then
    verdict 0 "$lang-sample" "$(tr '\n' ' ' <<<"$out" | tail -c 200)"
  else
    verdict 1 "$lang-sample" "exit $rc: $(tail -5 <<<"$out")"
  fi
  out=$(run_sample "$lang" "$work/wrong") && rc=0 || rc=$?
  verdict $((rc == 0)) "$lang-sample-wrong-secret" "exit $rc: $(grep -m1 -oE 'Check signature failed[^,"]*' <<<"$out" || tail -1 <<<"$out")"
done
for f in "${failures[@]}"; do echo "FAILED: samples $f"; done
echo "samples: $passed passed, $failed failed"
((failed == 0))
