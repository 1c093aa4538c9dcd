#!/usr/bin/env bash
# ACL with real clients against `ferrymq standalone` with aclEnable (its own process and plain_acl.yml):
#   matrix    the Java ACL matrix (java/AclMatrix.java): every request code the Java client or mqadmin sends, each
#             unsigned, with a wrong secret, with an unknown key, with a valid key lacking the permission, with
#             it, and as admin, through Apache's AclClientRPCHook; 0 unauthorized successes, nothing stored by a
#             refused send, the number of cases reported;
#   go        the Go client v2 with credentials: produces to and consumes from its topic, is refused on another
#             topic and with a wrong secret (go/acl.go);
#   mqadmin   mqadmin 4.9.7 signing with conf/tools.yml: an admin creates a topic and manages accounts
#             (updateAclConfig, getAclConfig, clusterAclConfigVersion, deleteAclConfig); an app key may not;
#   ferryctl  ferryctl signs with FERRYMQ_ACCESS_KEY / FERRYMQ_SECRET_KEY; without them an admin command fails
#             with NO_PERMISSION.
#
#   tests/compat/run_acl_matrix.sh <path to ferrymq>
#
# ferryctl: $FMQ_FERRYCTL, else <dir of ferrymq>/../cli/ferryctl. Prints [PASS]/[FAIL] lines and
# "acl: N passed, M failed"; exit 0 only when all passed. FMQ_ACL_KEEP=1 keeps the work directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
ferryctl=$(realpath "${FMQ_FERRYCTL:-$(dirname "$ferrymq")/../cli/ferryctl}")
[[ -x "$ferryctl" ]] || die "no ferryctl next to $ferrymq (set FMQ_FERRYCTL)"

cp=$(compat_java_classpath)
jvm=($(compat_client_jvm_opts) -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
work=$(mktemp -d /tmp/fmq-acl-XXXXXX)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  if [[ -z "${FMQ_ACL_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

passed=0 failed=0 failures=()
verdict() {  # verdict <0|1> <name> <detail>
  if [[ $1 == 0 ]]; then passed=$((passed + 1)); echo "[PASS] $2: $3"
  else failed=$((failed + 1)); failures+=("$2"); echo "[FAIL] $2: $3"; fi
}

run_id=$(date +%s)
ok_topic="acl_ok_$run_id" denied_topic="acl_denied_$run_id" ok_group="acl_cg_$run_id" denied_group="acl_other_cg_$run_id"
admin_key=ops-admin admin_secret="ops-admin-secret-$run_id"
app_key=app-orders app_secret="app-orders-secret-$run_id"
mkdir -p "$work/data/store/conf"
cat >"$work/data/store/conf/plain_acl.yml" <<YAML
accounts:
  - accessKey: broker-inner
    secretKey: broker-inner-secret-$run_id
    admin: true
  - accessKey: $admin_key
    secretKey: $admin_secret
    admin: true
  - accessKey: $app_key
    secretKey: $app_secret
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms: [$ok_topic=PUB|SUB]
    groupPerms: [$ok_group=SUB]
YAML
printf 'aclEnable=true\ninnerAccessKey=broker-inner\ninnerSecretKey=broker-inner-secret-%s\n%s\n' "$run_id" \
  "$FMQ_HOST_DISK_CONF" >"$work/broker.conf"
log="$work/standalone.log"
FMQ_LOG_LEVEL=info "$ferrymq" standalone -d "$work/data" -c "$work/broker.conf" --namesrv-port 0 --broker-port 0 \
  >"$log" 2>&1 &
pid=$!
compat_wait_for_line "$log" "ferrymq standalone: name server" "$pid" 60 || { cat "$log"; exit 1; }
namesrv=$(sed -nE 's/.*name server (127\.0\.0\.1:[0-9]+),.*/\1/p' "$log" | head -1)
broker=$(sed -nE 's/.*, broker (127\.0\.0\.1:[0-9]+) .*/\1/p' "$log" | head -1)
echo "== acl: ferrymq standalone with aclEnable, name server $namesrv, broker $broker"

# ferryctl: unsigned admin requests are refused, signed ones create the topics the other checks use.
out=$("$ferryctl" -n "$namesrv" topic create "$ok_topic" --cluster DefaultCluster 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && grep -q "No accessKey is configured" <<<"$out"; then
  verdict 0 ferryctl-unsigned "refused: $(tail -1 <<<"$out")"
else
  verdict 1 ferryctl-unsigned "exit $rc, output: $out"
fi
ok=0
for t in "$ok_topic" "$denied_topic"; do
  FERRYMQ_ACCESS_KEY=$admin_key FERRYMQ_SECRET_KEY=$admin_secret "$ferryctl" -n "$namesrv" topic create "$t" \
    --cluster DefaultCluster --queues 1 >"$work/ferryctl.out" 2>&1 || { ok=1; cat "$work/ferryctl.out"; }
done
verdict $ok ferryctl-admin "created $ok_topic and $denied_topic signed with the admin's key from the environment"

# The Java matrix.
echo "== AclMatrix"
set +e
java "${jvm[@]}" -cp "$cp" io.ferrymq.compat.AclMatrix "$namesrv" "$broker" "$app_key" "$app_secret" \
  "$admin_key" "$admin_secret" "$ok_topic" "$denied_topic" "$ok_group" "$denied_group" >"$work/matrix.out" 2>&1
rc=$?
set -e
grep -E '^\[FAIL\]' "$work/matrix.out" || true
summary=$(grep -E '^acl-matrix:' "$work/matrix.out" || true)
if ((rc == 0)) && [[ -n "$summary" ]]; then verdict 0 java-matrix "$summary"
else tail -30 "$work/matrix.out"; verdict 1 java-matrix "exit $rc ${summary:-no summary}"; fi

# The Go client with credentials.
echo "== Go client with credentials"
if out=$(FMQ_COMPAT_TOPIC=$ok_topic bash "$COMPAT_DIR/run_go_compat.sh" "$namesrv" -acl -n 50 -access-key "$app_key" -secret-key "$app_secret" \
    -acl-group "$ok_group" -acl-denied-topic "$denied_topic" -deadline 90s 2>&1); then
  verdict 0 go-credentials "$(grep -E '^PASS' <<<"$out" | tail -1)"
else
  tail -20 <<<"$out"; verdict 1 go-credentials "$(grep -E '^FAIL' <<<"$out" | tail -1)"
fi

# mqadmin signing with tools.yml.
home_admin="$work/mqadmin-admin" home_app="$work/mqadmin-app"
for h in "$home_admin" "$home_app"; do mkdir -p "$h/conf"; cp "$COMPAT_DIR/apache/conf/"*.xml "$h/conf/"; done
printf 'accessKey: %s\nsecretKey: %s\n' "$admin_key" "$admin_secret" >"$home_admin/conf/tools.yml"
printf 'accessKey: %s\nsecretKey: %s\n' "$app_key" "$app_secret" >"$home_app/conf/tools.yml"
mq() {  # mq <home> <command> [args...]
  FMQ_MQADMIN_HOME=$1 "$COMPAT_DIR/apache_rocketmq.sh" mqadmin "$namesrv" "${@:2}" 2>&1 || true
}
out=$(mq "$home_app" updateTopic -b "$broker" -t "mqadmin_acl_$run_id")
if grep -q "Need admin permission" <<<"$out" && ! grep -q "success" <<<"$out"; then
  verdict 0 mqadmin-app-updateTopic "refused: $(grep -o 'Need admin permission[^,]*' <<<"$out" | head -1)"
else
  verdict 1 mqadmin-app-updateTopic "$out"
fi
out=$(mq "$home_admin" updateTopic -b "$broker" -t "mqadmin_acl_$run_id")
if grep -q "create topic to $broker success" <<<"$out"; then verdict 0 mqadmin-admin-updateTopic "created"
else verdict 1 mqadmin-admin-updateTopic "$out"; fi
out=$(mq "$home_admin" updateAclConfig -b "$broker" -a mqadmin-made -s mqadmin-made-secret -t "$ok_topic=SUB" -m false)
if grep -q "create or update plain access config to $broker success" <<<"$out"; then
  verdict 0 mqadmin-updateAclConfig "account mqadmin-made created"
else verdict 1 mqadmin-updateAclConfig "$out"; fi
out=$(mq "$home_admin" getAclConfig -b "$broker")
if grep -q "mqadmin-made" <<<"$out" && grep -q "$app_key" <<<"$out"; then
  verdict 0 mqadmin-getAclConfig "lists the accounts"
else verdict 1 mqadmin-getAclConfig "$out"; fi
out=$(mq "$home_app" getAclConfig -b "$broker")
if ! grep -q "$admin_secret" <<<"$out"; then verdict 0 mqadmin-app-getAclConfig "an app key sees no secrets"
else verdict 1 mqadmin-app-getAclConfig "the admin's secret was shown to an app key"; fi
out=$(mq "$home_admin" clusterAclConfigVersion -c DefaultCluster)
if grep -q "get cluster's plain access config version success" <<<"$out"; then
  verdict 0 mqadmin-clusterAclConfigVersion "$(grep -E 'broker-a' <<<"$out" | head -1 | tr -s ' ')"
else verdict 1 mqadmin-clusterAclConfigVersion "$out"; fi
out=$(mq "$home_admin" deleteAclConfig -b "$broker" -a mqadmin-made)
if grep -q "delete plain access config account from $broker success" <<<"$out"; then
  verdict 0 mqadmin-deleteAclConfig "account mqadmin-made deleted"
else verdict 1 mqadmin-deleteAclConfig "$out"; fi

# Secrets never reach the log.
if grep -qE "$admin_secret|$app_secret|broker-inner-secret" "$log"; then
  verdict 1 no-secrets-logged "a secret key appears in the broker's log"
else
  verdict 0 no-secrets-logged "no secret key in the broker's log ($(grep -c 'request refused' "$log") refusal lines)"
fi

kill -TERM "$pid"; status=0; wait "$pid" || status=$?; pid=""
verdict $((status != 0)) clean-stop "exit status $status after SIGTERM"
for f in "${failures[@]}"; do echo "FAILED: acl $f"; done
echo "acl: $passed passed, $failed failed"
((failed == 0))
