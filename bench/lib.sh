# Shared by the broker benchmark scripts (source it; bash).

# As testing_process::kHostDiskConf: the benchmark shares the machine's disk, which may already be 85-90 % used
# (df's Use%); Apache measures the ratio against free blocks including root's reserve and rarely reaches it here.
FMQ_BENCH_HOST_DISK_CONF=$'cleanFileForciblyEnable=false\ndiskSpaceWarningLevelRatio=0.999'

# fmq_bench_start_ferrymq <ferrymq binary> <work dir> <name server port> <broker port>: writes <work dir>/broker.conf
# (ASYNC_FLUSH, store in <work dir>/store, plus the lines of $FMQ_BROKER_CONF_EXTRA), starts `ferrymq namesrv`
# and `ferrymq broker` with their logs in <work dir>, appends both pids to the caller's `pids` array, sets
# `fmq_broker_pid`, and returns once the broker listens (or after 10 s).
fmq_bench_start_ferrymq() {
  local ferrymq=$1 dir=$2 ns_port=$3 broker_port=$4
  mkdir -p "$dir"
  cat >"$dir/broker.conf" <<CONF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
namesrvAddr=127.0.0.1:$ns_port
brokerIP1=127.0.0.1
listenPort=$broker_port
storePathRootDir=$dir/store
flushDiskType=ASYNC_FLUSH
$FMQ_BENCH_HOST_DISK_CONF
${FMQ_BROKER_CONF_EXTRA:-}
CONF
  FMQ_LOG_LEVEL=warn "$ferrymq" namesrv -p "$ns_port" >"$dir/namesrv.log" 2>&1 &
  pids+=($!)
  FMQ_LOG_LEVEL=warn "$ferrymq" broker -c "$dir/broker.conf" >"$dir/broker.log" 2>&1 &
  fmq_broker_pid=$!
  pids+=("$fmq_broker_pid")
  for _ in $(seq 100); do grep -q "listening on" "$dir/broker.log" && break; sleep 0.1; done
}

# fmq_bench_build_release: builds ferrymq, ferryctl and ferrymq-bench in the release preset (ccache) and sets
# FERRYMQ, FERRYCTL and BENCH to them; exits when ferrymq-bench was not built.
fmq_bench_build_release() {
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ferrymq/ccache}"
  cmake --preset release >/dev/null
  cmake --build --preset release --target ferrymq ferryctl ferrymq-bench >/dev/null
  FERRYMQ=build/release/broker/cmd/ferrymq
  FERRYCTL=build/release/broker/cli/ferryctl
  BENCH=$(find build/release -name ferrymq-bench -type f -perm -u+x | head -1)
  [[ -x "$BENCH" ]] || { echo "ferrymq-bench was not built" >&2; exit 1; }
}

# fmq_bench_cleanup [apache dir ...]: the benchmarks' EXIT trap. Kills and reaps every pid in the caller's `pids`
# array (reaped, so the ports are free when a script runs again at once), stops the Apache RocketMQ started in
# each $work/<apache dir> (default apache), and removes $work. Needs `work`, `pids` and `APACHE`.
fmq_bench_cleanup() {
  local p d
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${@:-apache}"; do bash "$APACHE" stop "$work/$d" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
