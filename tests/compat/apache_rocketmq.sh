#!/usr/bin/env bash
# Runs the real Apache RocketMQ (jars from Maven Central) as the reference the compat tests and benchmarks are
# checked against.
#
#   apache_rocketmq.sh fetch                                   resolve the jars into the cache, print the classpath file
#   apache_rocketmq.sh start <workdir> <namesrv_port> <broker_port>
#                                                              name server + one async-flush master broker on 127.0.0.1
#   apache_rocketmq.sh start-broker <workdir> <namesrv_addr> <broker_port>
#                                                              one broker alone, registered with an existing name
#                                                              server (Apache or FerryMQ); FMQ_APACHE_BROKER_CONF_EXTRA
#                                                              makes it a slave: brokerId=1, brokerRole=SLAVE,
#                                                              haMasterAddress=host:port, mappedFileSizeCommitLog=...
#   apache_rocketmq.sh stop <workdir> [broker|namesrv]         stop what start / start-broker started there
#   apache_rocketmq.sh status <workdir>                        say which of the processes are running
#   apache_rocketmq.sh mqadmin <namesrv> <command> [args...]   run an mqadmin command (-n <namesrv> is added)
#   apache_rocketmq.sh producer-bench <namesrv> [--seconds N] [args...]
#                                                              benchmark Producer (-t topic -w threads -s size -k true)
#   apache_rocketmq.sh tx-bench <namesrv> [--seconds N] [args...]
#                                                              benchmark TransactionProducer (-t topic -w threads -s size)
#   apache_rocketmq.sh consumer-bench <namesrv> [--seconds N] [args...]
#                                                              benchmark Consumer (-t topic -g group)
#
# Environment: FMQ_CACHE_DIR (downloads, default ~/.cache/ferrymq), FMQ_APACHE_CLUSTER (DefaultCluster),
# FMQ_APACHE_BROKER (broker-a), FMQ_APACHE_BROKER_HEAP (512m), FMQ_APACHE_NAMESRV_HEAP (256m),
# FMQ_APACHE_BROKER_CONF_EXTRA (extra broker.conf lines), FMQ_APACHE_START_TIMEOUT (seconds, 120),
# FMQ_APACHE_WAIT_REGISTERED (start-broker: 1 = until the name server lists it, 0 = until it has booted),
# FMQ_BENCH_SECONDS (benchmark duration when --seconds is not given; 0 = until interrupted).
set -euo pipefail
# shellcheck source=tests/compat/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APACHE_DIR="$COMPAT_DIR/apache"   # the pom, and conf/ used as ROCKETMQ_HOME (logback files only)
RMQ_VERSION=$(sed -n 's:.*<rocketmq.version>\(.*\)</rocketmq.version>.*:\1:p' "$APACHE_DIR/pom.xml")
[[ -n "$RMQ_VERSION" ]] || die "cannot read rocketmq.version from $APACHE_DIR/pom.xml"
RMQ_CACHE="$FMQ_CACHE_DIR/apache-rocketmq/$RMQ_VERSION"
CLASSPATH_FILE="$RMQ_CACHE/classpath.txt"
CLIENT_LOG_DIR="${FMQ_COMPAT_LOG_DIR:-${TMPDIR:-/tmp}/ferrymq-compat-logs}"

# JDK 16+ closes the JDK internals that RocketMQ 4.9 reaches by reflection. Checked on JDK 17: without
# java.nio and jdk.internal.ref open, the broker runs but cannot unmap its files (DirectByteBuffer.attachment() /
# cleaner().clean() throw InaccessibleObjectException on shutdown and when expired files are deleted). sun.nio.ch is
# for the transient store pool (transientStorePoolEnable casts to DirectBuffer); java.lang, jdk.internal.misc and
# tryReflectionSetAccessible let Netty use its fast direct-buffer paths as it does on JDK 8.
JDK_OPENS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
)
# Short-lived client tools start faster with C1 only and a small serial heap.
CLIENT_JVM=(-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)

usage() {
  sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

classpath_valid() {
  [[ -s "$CLASSPATH_FILE" && -f "$RMQ_CACHE/pom.sha256" ]] || return 1
  [[ "$(cat "$RMQ_CACHE/pom.sha256")" == "$(sha256sum "$APACHE_DIR/pom.xml" | cut -d' ' -f1)" ]] || return 1
  local jar
  while IFS= read -r jar; do [[ -f "$jar" ]] || return 1; done < <(tr ':' '\n' <"$CLASSPATH_FILE")
}

cmd_fetch() {
  compat_require_java_maven
  if ! classpath_valid; then
    mkdir -p "$RMQ_CACHE"
    note "resolving Apache RocketMQ $RMQ_VERSION into $FMQ_M2_REPO"
    compat_mvn "$APACHE_DIR" dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE.tmp"
    mv "$CLASSPATH_FILE.tmp" "$CLASSPATH_FILE"
    sha256sum "$APACHE_DIR/pom.xml" | cut -d' ' -f1 >"$RMQ_CACHE/pom.sha256"
  fi
  local want
  for want in rocketmq-namesrv rocketmq-broker rocketmq-tools rocketmq-client rocketmq-example; do
    grep -q "/$want-[0-9][^/]*\.jar" "$CLASSPATH_FILE" || die "$want missing from $CLASSPATH_FILE"
  done
  echo "Apache RocketMQ $RMQ_VERSION (namesrv, broker, tools, client; benchmark from rocketmq-example)"
  echo "classpath file: $CLASSPATH_FILE ($(tr ':' '\n' <"$CLASSPATH_FILE" | wc -l) jars)"
  echo "maven repository: $FMQ_M2_REPO"
}

fetch_quiet() { cmd_fetch >/dev/null; }

# java_server <workdir> <name> <heap> <main class> <args...>: starts one server JVM in the background.
java_server() {
  local wd=$1 name=$2 heap=$3 main=$4; shift 4
  nohup java -server "-Xms$heap" "-Xmx$heap" -XX:+UseG1GC -XX:+HeapDumpOnOutOfMemoryError \
    -XX:HeapDumpPath="$wd/logs" "${JDK_OPENS[@]}" \
    -Drocketmq.home.dir="$APACHE_DIR" -Dfmq.log.dir="$wd/logs" -Duser.home="$wd" \
    -Drocketmq.client.logRoot="$wd/logs" -Dfmq.workdir="$wd" \
    -cp "$(cat "$CLASSPATH_FILE")" "$main" "$@" >"$wd/logs/$name.out" 2>&1 </dev/null &
  echo $! >"$wd/$name.pid"
}

# pid_of <workdir> <name>: the recorded pid if that process is still one this runner started in <workdir>.
pid_of() {
  local wd=$1 name=$2 pid
  [[ -f "$wd/$name.pid" ]] || return 1
  pid=$(cat "$wd/$name.pid")
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  # Read the whole command line before matching: `grep -q` in a pipe exits early, tr then dies of SIGPIPE and
  # pipefail reports a live process as gone.
  local cmdline
  cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline")
  grep -qxF -- "-Dfmq.workdir=$wd" <<<"$cmdline" || return 1
  echo "$pid"
}

# alive <workdir> <name>: the process just started is still there (its command line may not be java's yet).
alive() { kill -0 "$(cat "$1/$2.pid")" 2>/dev/null; }

fail_start() {  # fail_start <workdir> <name> <message>
  local wd=$1 name=$2
  echo "---- $wd/logs/$name.out" >&2; tail -40 "$wd/logs/$name.out" >&2 || true
  echo "---- $wd/logs/$name.log" >&2; tail -20 "$wd/logs/$name.log" >&2 || true
  cmd_stop "$wd" >/dev/null 2>&1 || true
  die "$3"
}

# wait_port <workdir> <name> <port> <deadline epoch>: until the port accepts connections or the process dies.
wait_port() {
  local wd=$1 name=$2 port=$3 deadline=$4
  until compat_port_open 127.0.0.1 "$port"; do
    alive "$wd" "$name" || fail_start "$wd" "$name" "$name exited during start-up"
    (($(date +%s) < deadline)) || fail_start "$wd" "$name" "$name did not listen on port $port in time"
    sleep 0.2
  done
}

# write_broker_conf <workdir> <broker_port> <namesrv_addr> <more default lines>: the broker.conf of start and
# start-broker; FMQ_APACHE_BROKER_CONF_EXTRA comes last, and java.util.Properties keeps the last value of a key.
write_broker_conf() {
  local wd=$1 broker_port=$2 ns=$3 more=$4
  cat >"$wd/broker.conf" <<EOF
# written by tests/compat/apache_rocketmq.sh
brokerClusterName=${FMQ_APACHE_CLUSTER:-DefaultCluster}
brokerName=${FMQ_APACHE_BROKER:-broker-a}
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
listenPort=$broker_port
namesrvAddr=$ns
brokerIP1=127.0.0.1
${more:+$more
}storePathRootDir=$wd/store
storePathCommitLog=$wd/store/commitlog
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
deleteWhen=04
fileReservedTime=48
${FMQ_APACHE_BROKER_CONF_EXTRA:-}
EOF
}

# conf_value <file> <key>: the value a java.util.Properties load would keep (the last `key=value` line).
conf_value() {
  sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -1 | sed 's/[[:space:]]*$//'
}

# check_ports_free <broker_port> [other ports...]: the broker takes broker_port, broker_port-2 (VIP channel) and
# broker_port+1 (HA: BrokerStartup always sets haListenPort to listenPort+1, whatever broker.conf says).
check_ports_free() {
  local broker_port=$1 p; shift
  for p in "$@" "$broker_port" $((broker_port - 2)) $((broker_port + 1)); do
    if compat_port_open 127.0.0.1 "$p"; then
      die "port $p is in use (the broker needs $broker_port, $((broker_port - 2)) for its VIP channel and $((broker_port + 1)) for HA)"
    fi
  done
}

# wait_registered <workdir> <namesrv_addr> <cluster> <broker> <id> <ip:port> <deadline> <timeout>: until the
# name server's cluster info lists the broker with that id and address.
wait_registered() {
  local wd=$1 ns=$2 cluster=$3 broker=$4 id=$5 addr=$6 deadline=$7 timeout=$8 out=""
  local addr_re=${addr//./\\.}
  until grep -qE "^$cluster +$broker +$id +$addr_re( |$)" <<<"$out"; do
    alive "$wd" broker || fail_start "$wd" broker "broker exited during start-up"
    (($(date +%s) < deadline)) || fail_start "$wd" broker "broker not registered with the name server within ${timeout}s"
    out=$(run_mqadmin "$ns" clusterList 2>&1 || true)
    sleep 0.3
  done
}

cmd_start() {
  [[ $# -eq 3 ]] || usage
  local wd=$1 ns_port=$2 broker_port=$3
  [[ "$ns_port" =~ ^[0-9]+$ && "$broker_port" =~ ^[0-9]+$ ]] || die "ports must be numbers"
  mkdir -p "$wd"; wd=$(cd "$wd" && pwd)
  local p
  for p in namesrv broker; do
    if pid_of "$wd" "$p" >/dev/null; then die "$p already running from $wd (run: $0 stop $wd)"; fi
  done
  check_ports_free "$broker_port" "$ns_port"
  fetch_quiet

  local cluster="${FMQ_APACHE_CLUSTER:-DefaultCluster}" broker="${FMQ_APACHE_BROKER:-broker-a}"
  local timeout="${FMQ_APACHE_START_TIMEOUT:-120}"
  local deadline=$(($(date +%s) + timeout))
  mkdir -p "$wd/logs" "$wd/store/commitlog" "$wd/namesrv"
  cat >"$wd/namesrv.conf" <<EOF
# written by tests/compat/apache_rocketmq.sh
listenPort=$ns_port
kvConfigPath=$wd/namesrv/kvConfig.json
EOF
  write_broker_conf "$wd" "$broker_port" "127.0.0.1:$ns_port" ""

  java_server "$wd" namesrv "${FMQ_APACHE_NAMESRV_HEAP:-256m}" org.apache.rocketmq.namesrv.NamesrvStartup \
    -c "$wd/namesrv.conf"
  wait_port "$wd" namesrv "$ns_port" "$deadline"
  note "name server up on 127.0.0.1:$ns_port (pid $(cat "$wd/namesrv.pid"))"

  java_server "$wd" broker "${FMQ_APACHE_BROKER_HEAP:-512m}" org.apache.rocketmq.broker.BrokerStartup \
    -c "$wd/broker.conf"
  wait_port "$wd" broker "$broker_port" "$deadline"

  # Registered means the name server's cluster info lists the broker with its address.
  wait_registered "$wd" "127.0.0.1:$ns_port" "$cluster" "$broker" 0 "127.0.0.1:$broker_port" "$deadline" "$timeout"
  note "broker $broker registered as 127.0.0.1:$broker_port in cluster $cluster (pid $(cat "$wd/broker.pid"))"
  echo "namesrv=127.0.0.1:$ns_port broker=127.0.0.1:$broker_port cluster=$cluster brokerName=$broker workdir=$wd"
}

# start-broker <workdir> <namesrv_addr> <broker_port>: one broker JVM, no name server. Its identity (brokerName,
# brokerId, brokerRole, brokerIP1) is what broker.conf ends up with after FMQ_APACHE_BROKER_CONF_EXTRA; it returns
# once the name server lists it with that id (a master's id is always 0: BrokerStartup forces it).
cmd_start_broker() {
  [[ $# -eq 3 ]] || usage
  local wd=$1 ns=$2 broker_port=$3
  [[ "$broker_port" =~ ^[0-9]+$ ]] || die "broker port must be a number"
  [[ "$ns" =~ ^[^:]+:[0-9]+(;[^:]+:[0-9]+)*$ ]] || die "name server address must be host:port[;host:port], got '$ns'"
  mkdir -p "$wd"; wd=$(cd "$wd" && pwd)
  if pid_of "$wd" broker >/dev/null; then die "broker already running from $wd (run: $0 stop $wd)"; fi
  check_ports_free "$broker_port"
  fetch_quiet

  local timeout="${FMQ_APACHE_START_TIMEOUT:-120}"
  local deadline=$(($(date +%s) + timeout))
  mkdir -p "$wd/logs" "$wd/store/commitlog"
  write_broker_conf "$wd" "$broker_port" "$ns" "brokerIP2=127.0.0.1"
  local conf="$wd/broker.conf" cluster broker role id ip
  cluster=$(conf_value "$conf" brokerClusterName)
  broker=$(conf_value "$conf" brokerName)
  role=$(conf_value "$conf" brokerRole)
  id=$(conf_value "$conf" brokerId)
  ip=$(conf_value "$conf" brokerIP1)
  [[ "$(conf_value "$conf" listenPort)" == "$broker_port" ]] ||
    die "FMQ_APACHE_BROKER_CONF_EXTRA must not change listenPort (pass the port as an argument)"
  if [[ "$role" == SLAVE ]]; then
    [[ "$id" =~ ^[1-9][0-9]*$ ]] || die "a SLAVE needs brokerId > 0 (got '$id'); set it in FMQ_APACHE_BROKER_CONF_EXTRA"
  else
    id=0
  fi

  java_server "$wd" broker "${FMQ_APACHE_BROKER_HEAP:-512m}" org.apache.rocketmq.broker.BrokerStartup -c "$conf"
  wait_port "$wd" broker "$broker_port" "$deadline"
  if [[ "${FMQ_APACHE_WAIT_REGISTERED:-1}" == 0 ]]; then
    # BrokerController.start() has run (its first registration included) once this line is out.
    until grep -q "boot success" "$wd/logs/broker.out" 2>/dev/null; do
      alive "$wd" broker || fail_start "$wd" broker "broker exited during start-up"
      (($(date +%s) < deadline)) || fail_start "$wd" broker "broker did not finish starting within ${timeout}s"
      sleep 0.2
    done
    note "broker $broker up on $ip:$broker_port, id $id ($role) (pid $(cat "$wd/broker.pid")); registration not awaited"
  else
    wait_registered "$wd" "${ns%%;*}" "$cluster" "$broker" "$id" "$ip:$broker_port" "$deadline" "$timeout"
    note "broker $broker registered as $ip:$broker_port, id $id ($role) in cluster $cluster (pid $(cat "$wd/broker.pid"))"
  fi
  echo "broker=$ip:$broker_port ha=$ip:$((broker_port + 1)) cluster=$cluster brokerName=$broker brokerId=$id" \
    "brokerRole=$role namesrv=$ns workdir=$wd"
}

cmd_stop() {
  [[ $# -eq 1 || $# -eq 2 ]] || usage
  local wd names="broker namesrv"   # broker first so it can unregister from the name server
  wd=$(cd "$1" 2>/dev/null && pwd) || die "no such workdir: $1"
  if [[ $# -eq 2 ]]; then
    [[ "$2" == broker || "$2" == namesrv ]] || die "stop takes broker or namesrv, got '$2'"
    names=$2
  fi
  local name pid deadline
  for name in $names; do
    # start-broker runs no name server there.
    [[ "$name" == namesrv && ! -f "$wd/namesrv.conf" && ! -f "$wd/namesrv.pid" ]] && continue
    if pid=$(pid_of "$wd" "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      deadline=$(($(date +%s) + 30))
      while kill -0 "$pid" 2>/dev/null && (($(date +%s) < deadline)); do sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then
        note "$name (pid $pid) ignored SIGTERM for 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      echo "stopped $name (pid $pid)"
    else
      echo "$name not running"
    fi
    rm -f "$wd/$name.pid"
  done
}

cmd_status() {
  [[ $# -eq 1 ]] || usage
  local wd name rc=0 pid
  wd=$(cd "$1" 2>/dev/null && pwd) || die "no such workdir: $1"
  for name in namesrv broker; do
    # start-broker runs no name server there.
    [[ "$name" == namesrv && ! -f "$wd/namesrv.conf" ]] && continue
    if pid=$(pid_of "$wd" "$name"); then echo "$name running (pid $pid)"; else echo "$name stopped"; rc=1; fi
  done
  return $rc
}

# run_mqadmin <namesrv> <command> [args...]. mqadmin itself exits 0 even when a command fails (it prints the
# exception), so callers judge by the output.
run_mqadmin() {
  local ns=$1 sub=$2; shift 2
  mkdir -p "$CLIENT_LOG_DIR"
  # FMQ_MQADMIN_HOME: another ROCKETMQ_HOME, e.g. one whose conf/tools.yml holds ACL keys mqadmin signs with.
  java "${CLIENT_JVM[@]}" -Drocketmq.home.dir="${FMQ_MQADMIN_HOME:-$APACHE_DIR}" -Dfmq.log.dir="$CLIENT_LOG_DIR" \
    -Drocketmq.client.logRoot="$CLIENT_LOG_DIR" -cp "$(cat "$CLASSPATH_FILE")" \
    org.apache.rocketmq.tools.command.MQAdminStartup "$sub" -n "$ns" "$@"
}

cmd_mqadmin() {
  [[ $# -ge 2 ]] || usage
  fetch_quiet
  run_mqadmin "$@"
}

# bench <main class> <namesrv> [--seconds N] [args...]
run_bench() {
  local main=$1 ns=$2; shift 2
  local seconds="${FMQ_BENCH_SECONDS:-0}"
  if [[ "${1:-}" == "--seconds" ]]; then seconds=${2:?--seconds needs a value}; shift 2; fi
  [[ "$seconds" =~ ^[0-9]+$ ]] || die "--seconds must be a whole number"
  fetch_quiet
  mkdir -p "$CLIENT_LOG_DIR"
  local cmd=(java -Xms512m -Xmx512m "${JDK_OPENS[@]}" -Drocketmq.client.logRoot="$CLIENT_LOG_DIR"
    -cp "$(cat "$CLASSPATH_FILE")" "$main" -n "$ns" "$@")
  if ((seconds > 0)); then
    local rc=0
    timeout --signal=TERM --kill-after=10 "$seconds" "${cmd[@]}" || rc=$?
    ((rc == 0 || rc == 124)) || die "$main exited with status $rc"
  else
    exec "${cmd[@]}"
  fi
}

main() {
  [[ $# -ge 1 ]] || usage
  local sub=$1; shift
  case "$sub" in
    fetch) [[ $# -eq 0 ]] || usage; cmd_fetch ;;
    start) compat_require_java_maven; cmd_start "$@" ;;
    start-broker) compat_require_java_maven; cmd_start_broker "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    mqadmin) cmd_mqadmin "$@" ;;
    producer-bench) [[ $# -ge 1 ]] || usage; run_bench org.apache.rocketmq.example.benchmark.Producer "$@" ;;
    consumer-bench) [[ $# -ge 1 ]] || usage; run_bench org.apache.rocketmq.example.benchmark.Consumer "$@" ;;
    tx-bench) [[ $# -ge 1 ]] || usage; run_bench org.apache.rocketmq.example.benchmark.TransactionProducer "$@" ;;
    -h | --help | help) usage ;;
    *) echo "unknown command: $sub" >&2; usage ;;
  esac
}

main "$@"
