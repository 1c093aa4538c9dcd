#!/usr/bin/env bash
# TLS with the real Java client 4.9.7 against `ferrymq standalone` (its own processes and certificates, made by
# scripts/make_test_pki.sh with the openssl command):
#   mtls       tls.server.mode=enforcing with tls.server.need.client.auth=require: the Java client with
#              -Dtls.enable=true and its certificate runs CompatCheck (send modes, push and pull consumers,
#              admin) and TlsProbe (send then consume); without a certificate it is refused;
#   plaintext  a plaintext Java client against the enforcing ports fails, and the broker logs the refusals at
#              most once a second, not once per byte or request;
#   garbage    random bytes and HTTP on the TLS ports close only their connections (TlsProbe works after);
#   permissive tls.server.mode=permissive serves a TLS and a plaintext Java client on the same ports;
#   disabled   a TLS client on a plaintext port fails, a plaintext one still works.
#
#   tests/compat/run_tls_check.sh <path to ferrymq>
#
# Prints [PASS]/[FAIL] lines and "tls: N passed, M failed"; exit 0 only when all passed. FMQ_TLS_KEEP=1 keeps the
# work directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
cp=$(compat_java_classpath)
jvm=($(compat_client_jvm_opts) -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
work=$(mktemp -d /tmp/fmq-tls-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ -z "${FMQ_TLS_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
passed=0 failed=0 failures=()
verdict() {  # verdict <0|1> <name> <detail>
  if [[ $1 == 0 ]]; then passed=$((passed + 1)); echo "[PASS] $2: $3"
  else failed=$((failed + 1)); failures+=("$2"); echo "[FAIL] $2: $3"; fi
}

# A CA, a server certificate for 127.0.0.1 (also the broker's client certificate), an app's client certificate.
pki="$work/pki"
bash "$COMPAT_DIR/../../scripts/make_test_pki.sh" "$pki"

start() {  # start <name> <conf lines...>: a standalone on free ports; sets ns_<name>, log_<name>
  local name=$1; shift
  printf '%s\n' "$@" "$FMQ_HOST_DISK_CONF" >"$work/$name.conf"
  FMQ_LOG_LEVEL=info "$ferrymq" standalone -d "$work/$name" -c "$work/$name.conf" --namesrv-port 0 \
    --broker-port 0 >"$work/$name.log" 2>&1 &
  pids+=($!)
  compat_wait_for_line "$work/$name.log" "ferrymq standalone: name server" "$!" 60 || { cat "$work/$name.log"; exit 1; }
  printf -v "ns_$name" '%s' "$(sed -nE 's/.*name server (127\.0\.0\.1:[0-9]+),.*/\1/p' "$work/$name.log" | head -1)"
  printf -v "broker_$name" '%s' "$(sed -nE 's/.*, broker (127\.0\.0\.1:[0-9]+) .*/\1/p' "$work/$name.log" | head -1)"
}
tls_client=(-Dtls.enable=true -Dtls.test.mode.enable=false -Dtls.client.authServer=true
  -Dtls.client.trustCertPath="$pki/ca.pem" -Dtls.client.certPath="$pki/client.pem" -Dtls.client.keyPath="$pki/client.key")
tls_no_cert=(-Dtls.enable=true -Dtls.test.mode.enable=false -Dtls.client.authServer=true
  -Dtls.client.trustCertPath="$pki/ca.pem")
probe() {  # probe <namesrv> <topic> <jvm options...>: TlsProbe's last line; exit status is its
  local ns=$1 topic=$2; shift 2
  java "${jvm[@]}" "$@" -cp "$cp" io.ferrymq.compat.TlsProbe "$ns" "$topic" 20 60 2>&1 | tail -1
  return "${PIPESTATUS[0]}"
}

server_tls=("tls.server.certPath=$pki/server.pem" "tls.server.keyPath=$pki/server.key" "tls.server.trustCertPath=$pki/ca.pem"
  "tls.client.certPath=$pki/server.pem" "tls.client.keyPath=$pki/server.key" "tls.client.trustCertPath=$pki/ca.pem")
start mtls tls.server.mode=enforcing tls.server.need.client.auth=require "${server_tls[@]}"
echo "== tls: enforcing with client certificates, name server $ns_mtls, broker $broker_mtls"
if out=$(FMQ_COMPAT_JAVA_OPTS="${tls_client[*]}" bash "$COMPAT_DIR/run_java_compat.sh" "$ns_mtls" tls_java 2>&1); then
  verdict 0 mtls-compatcheck "$(tail -1 <<<"$out")"
else
  tail -30 <<<"$out"; verdict 1 mtls-compatcheck "$(tail -1 <<<"$out")"
fi
out=$(probe "$ns_mtls" tls_probe_mtls "${tls_client[@]}") && rc=0 || rc=$?
verdict $((rc != 0)) mtls-probe "$out"
out=$(probe "$ns_mtls" tls_probe_nocert "${tls_no_cert[@]}") && rc=0 || rc=$?
verdict $((rc == 0)) mtls-without-certificate "refused: $out"

sleep 1.2  # the log limiter lets one line a second through: start this count on a fresh second
t0=$(date +%s)
before=$(grep -c "plaintext connection refused" "$work/mtls.log" || true)
out=$(probe "$ns_mtls" tls_probe_plain) && rc=0 || rc=$?
elapsed=$(( $(date +%s) - t0 + 1 ))
refusals=$(( $(grep -c "plaintext connection refused" "$work/mtls.log" || true) - before ))
if ((rc != 0 && refusals >= 1 && refusals <= elapsed)); then
  verdict 0 plaintext-refused "client failed ($out); $refusals refusal lines in ${elapsed}s"
else
  verdict 1 plaintext-refused "client exit $rc ($out); $refusals refusal lines in ${elapsed}s"
fi

for port_of in "$ns_mtls" "$broker_mtls"; do
  p=${port_of##*:}
  head -c 65536 /dev/urandom >"$work/junk"
  (exec 3<>"/dev/tcp/127.0.0.1/$p"; cat "$work/junk" >&3; timeout 10 cat <&3 >/dev/null || true) 2>/dev/null || true
  (exec 3<>"/dev/tcp/127.0.0.1/$p"; printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&3
   timeout 10 cat <&3 >/dev/null || true) 2>/dev/null || true
done
out=$(probe "$ns_mtls" tls_probe_after_garbage "${tls_client[@]}") && rc=0 || rc=$?
verdict $((rc != 0)) garbage-closes-only-its-connection "after random bytes and HTTP on both ports: $out"

start permissive tls.server.mode=permissive "${server_tls[@]}"
out=$(probe "$ns_permissive" tls_probe_p_tls "${tls_client[@]}") && rc=0 || rc=$?
verdict $((rc != 0)) permissive-tls "$out"
out=$(probe "$ns_permissive" tls_probe_p_plain) && rc=0 || rc=$?
verdict $((rc != 0)) permissive-plaintext "$out"

start plain tls.server.mode=disabled
out=$(probe "$ns_plain" tls_probe_d_tls "${tls_client[@]}") && rc=0 || rc=$?
verdict $((rc == 0)) disabled-refuses-tls "$out"
out=$(probe "$ns_plain" tls_probe_d_plain) && rc=0 || rc=$?
verdict $((rc != 0)) disabled-plaintext "$out"

for name in mtls permissive plain; do
  if grep -qE " E \[" "$work/$name.log"; then grep -E " E \[" "$work/$name.log" | head -5; fi
done
for f in "${failures[@]}"; do echo "FAILED: tls $f"; done
echo "tls: $passed passed, $failed failed"
((failed == 0))
