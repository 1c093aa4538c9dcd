#!/usr/bin/env bash
# Replication between FerryMQ and Apache RocketMQ 4.9.7 (jars from Maven Central) over RocketMQ's classic HA
# protocol, both ways:
#
#   ferrymq-master-async  FerryMQ name server + FerryMQ ASYNC_MASTER + Apache 4.9.7 SLAVE (brokerId=1)
#   ferrymq-master-sync   the same with a SYNC_MASTER (minInSyncReplicas=2: the Apache slave's reports acknowledge)
#   apache-master         Apache name server + Apache 4.9.7 master + FerryMQ SLAVE (brokerId=1)
#
# Each scenario: messages before the slave starts (an empty slave starts at the beginning of the master's last
# commit-log segment, RocketMQ's rule; not for the SYNC_MASTER, which refuses sends without an in-sync slave), then
# messages across a segment boundary once the slave copies; it waits until the slave holds the master's log end and
# compares every segment from the slave's first one with the master's byte for byte (cmp, up to the master's max
# offset). It also checks the protocol and start offset both sides report, the slave's registration with the name
# server, the slave's own offsets, and reads the messages back from the slave with the master stopped.
#
#   tests/compat/run_apache_replication.sh <path to ferrymq> <path to ferryctl>
#
# Prints a line per check and "apache replication: N passed, M failed" last; exit 0 only when all passed. After a
# scenario with a failed check it prints that scenario's logs. One Apache name server + broker pair at most runs at a
# time. Work directory under /tmp, removed afterwards (kept with FMQ_AREPL_KEEP=1).
#
# Environment: FMQ_AREPL_SCENARIOS (default "ferrymq-master-async ferrymq-master-sync apache-master"),
# FMQ_AREPL_SEGMENT (mappedFileSizeCommitLog of both sides, 16777216), FMQ_AREPL_TIMEOUT (seconds for a slave to
# connect / catch up, 90), FMQ_AREPL_LOG_LINES (lines of each log printed on failure, 150), FMQ_AREPL_KEEP, plus
# apache_rocketmq.sh's FMQ_APACHE_* and lib.sh's FMQ_CACHE_DIR.
set -euo pipefail
# shellcheck source=tests/compat/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
ferryctl=$(realpath "$2")
[[ -x "$ferrymq" ]] || die "not an executable: $1"
[[ -x "$ferryctl" ]] || die "not an executable: $2"
command -v python3 >/dev/null || die "python3 is needed (status requests, JSON)"
scenarios=${FMQ_AREPL_SCENARIOS:-ferrymq-master-async ferrymq-master-sync apache-master}
SEG=${FMQ_AREPL_SEGMENT:-16777216}
TIMEOUT=${FMQ_AREPL_TIMEOUT:-90}
LOG_LINES=${FMQ_AREPL_LOG_LINES:-150}
[[ "$SEG" =~ ^[1-9][0-9]*$ ]] || die "FMQ_AREPL_SEGMENT must be a number of bytes"
APACHE="$COMPAT_DIR/apache_rocketmq.sh"
CLUSTER=ReplCluster

"$APACHE" fetch >/dev/null

work=$(mktemp -d /tmp/fmq-arepl-XXXXXX)
fmq_pids=()     # FerryMQ processes this script started
apache_wds=()   # apache_rocketmq.sh work directories this script started
stop_all() {
  local wd p
  for wd in "${apache_wds[@]}"; do "$APACHE" stop "$wd" >/dev/null 2>&1 || true; done
  apache_wds=()
  for p in "${fmq_pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
  fmq_pids=()
}
cleanup() {
  stop_all
  if [[ -n "${FMQ_AREPL_KEEP:-}" ]]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Status requests (FERRYMQ_HA_STATUS, code 9100, straight to a broker: the raw body has copyFerrymq, which
# `ferryctl ha status` does not print), counting acknowledged sends, and locating a record in a segment file.
cat >"$work/arepl.py" <<'PY'
import json, re, socket, struct, sys

def ha_status(addr):
    host, port = addr.rsplit(":", 1)
    head = json.dumps({"code": 9100, "language": "JAVA", "version": 395, "opaque": 1, "flag": 0,
                       "extFields": {}, "serializeTypeCurrentRPC": "JSON"}).encode()
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(struct.pack(">ii", 4 + len(head), len(head)) + head)
        def read(n):
            b = b""
            while len(b) < n:
                c = s.recv(n - len(b))
                if not c:
                    raise SystemExit("connection closed by " + addr)
                b += c
            return b
        frame = read(struct.unpack(">i", read(4))[0])
    hlen = struct.unpack(">i", frame[:4])[0] & 0xFFFFFF
    reply = json.loads(frame[4:4 + hlen])
    if reply.get("code") != 0:
        raise SystemExit("%s answered code %s: %s" % (addr, reply.get("code"), reply.get("remark")))
    return json.loads(frame[4 + hlen:])

def field(v, path):
    for k in path.split("."):
        if isinstance(v, list):
            v = v[int(k)] if int(k) < len(v) else None
        elif isinstance(v, dict):
            v = v.get(k)
        else:
            v = None
    if isinstance(v, bool):
        return "true" if v else "false"
    return "-" if v is None else str(v)

def main(cmd, *a):
    if cmd == "status":  # status <addr> [field.path ...]: the whole JSON body, or the fields on one line
        b = ha_status(a[0])
        print(json.dumps(b, sort_keys=True) if len(a) == 1 else " ".join(field(b, p) for p in a[1:]))
    elif cmd == "sends":  # sends <ferryctl send output> <start>: "<acked> <acked at or after start> <max offset>"
        offs = []
        for line in open(a[0]):
            m = re.search(r"offsetMsgId=([0-9A-Fa-f]{32}) .*status=SEND_OK", line)
            if m:
                offs.append(int(m.group(1)[16:], 16))
        print(len(offs), sum(1 for o in offs if o >= int(a[1])), max(offs) if offs else -1)
    elif cmd == "free-block":  # free-block <taken...>: a port p with p-2, p and p+1 bindable, below the ephemeral range
        import random
        taken = set(int(x) for x in a)
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
        def bindable(port):
            s = socket.socket()
            try:
                s.bind(("0.0.0.0", port))  # no SO_REUSEADDR: also refuses ports in use by connections
                return True
            except OSError:
                return False
            finally:
                s.close()
        for _ in range(500):
            p = random.randrange(20000, max(20001, low - 2))
            if all(q not in taken and bindable(q) for q in (p - 2, p, p + 1)):
                print(p); return
        raise SystemExit("no free port block below %d" % low)
    elif cmd == "locate":  # locate <segment file> <position>: the record holding that byte
        data = open(a[0], "rb").read()
        pos, p = int(a[1]), 0
        while p + 8 <= len(data):
            size, magic = struct.unpack(">iI", data[p:p + 8])
            if size <= 0:
                print("no record: size %d at file position %d" % (size, p)); return
            if p + size > pos:
                print("record at file position %d, size %d, magic 0x%08X, byte %d of it" % (p, size, magic, pos - p))
                return
            p += size
        print("position %d is past the records of %s" % (pos, a[0]))
    else:
        raise SystemExit("unknown helper command " + cmd)

main(*sys.argv[1:])
PY
helper() { python3 "$work/arepl.py" "$@"; }

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

passed=0
failed=0
failures=()
scenario_failed=0
warnings=0
warn() {  # warn <scenario> <name> <detail>: a FerryMQ difference worth knowing that the checks do not count
  warnings=$((warnings + 1)); printf '[WARN] %-22s %-34s %s\n' "$1" "$2" "$3"
}
check() {  # check <scenario> <name> <0 = pass> <detail>
  if [[ "$3" == 0 ]]; then
    passed=$((passed + 1)); printf '[PASS] %-22s %-34s %s\n' "$1" "$2" "$4"
  else
    failed=$((failed + 1)); scenario_failed=1; failures+=("$1: $2"); printf '[FAIL] %-22s %-34s %s\n' "$1" "$2" "$4"
  fi
}

# free_broker_port [taken...]: a port p with p-2 (Apache's VIP channel), p and p+1 (HA) free and not in taken; below
# the kernel's ephemeral range, so that no outgoing connection takes it before the broker binds it.
free_broker_port() { helper free-block "$@"; }

# start_fmq <name> <dir> <args...>: a FerryMQ process with its output in <dir>/<name>.log; sets fmq_pid.
start_fmq() {
  local name=$1 dir=$2; shift 2
  # Info level whatever the caller's FMQ_LOG_LEVEL (scripts/test.sh exports warn): the checks read info lines.
  FMQ_LOG_LEVEL=info "$ferrymq" "$@" >"$dir/$name.log" 2>&1 &
  fmq_pid=$!
  fmq_pids+=("$fmq_pid")
}

start_fmq_namesrv() {  # start_fmq_namesrv <dir>: sets fmq_ns
  printf 'listenPort=0\nkvConfigPath=%s/kv.json\n' "$1" >"$1/namesrv.conf"
  start_fmq namesrv "$1" namesrv -c "$1/namesrv.conf"
  compat_wait_for_line "$1/namesrv.log" 'ferrymq namesrv listening on' "$fmq_pid" 30 || return 1
  fmq_ns="127.0.0.1:$(sed -nE 's/.*ferrymq namesrv listening on [0-9.]+:([0-9]+).*/\1/p' "$1/namesrv.log" | head -1)"
}

# start_fmq_broker <dir> <conf lines>: sets fmq_addr (ip:port), fmq_ha (ip:replication port), fmq_broker_pid.
start_fmq_broker() {
  local dir=$1
  printf '%s\n%s\n' "$2" "$FMQ_HOST_DISK_CONF" >"$dir/broker.conf"
  start_fmq broker "$dir" broker -c "$dir/broker.conf"
  fmq_broker_pid=$fmq_pid
  compat_wait_for_line "$dir/broker.log" 'ferrymq broker .* listening on' "$fmq_pid" 30 || return 1
  fmq_addr=$(sed -nE 's/.*ferrymq broker .* listening on ([0-9.]+:[0-9]+),.*/\1/p' "$dir/broker.log" | head -1)
  fmq_ha="${fmq_addr%:*}:$(sed -nE 's/.*ferrymq broker .* replication port ([0-9]+).*/\1/p' "$dir/broker.log" | head -1)"
}

# body <size> <letter>: a message body of that many bytes.
body() { head -c "$1" /dev/zero | tr '\0' "$2"; }

# produce <namesrv> <topic> <out file> <count> <size> [<count> <size> ...]: ferryctl send, batch after batch, every
# answer appended to <out file>; fails at the first batch ferryctl fails.
produce() {
  local ns=$1 topic=$2 out=$3; shift 3
  local letters=(a b c d e f g h) i=0
  while (($# >= 2)); do
    "$ferryctl" -n "$ns" send "$topic" "$(body "$2" "${letters[i % 8]}")" --count "$1" >>"$out" 2>&1 || return 1
    i=$((i + 1)); shift 2
  done
}

# Batches: before the slave, just over one segment of 7000-byte bodies; after it, about 1.2 segments in six sizes
# (300 B .. 12 KB, so the 32 KiB classic frames cut records at many different places).
phase1=($(( SEG * 11 / 10 / 7200 + 1 )) 7000)
per_batch=$(( SEG * 12 / 10 / 31000 + 1 ))
phase2=("$per_batch" 300 "$per_batch" 1500 "$per_batch" 5000 "$per_batch" 9000 "$per_batch" 12000 "$per_batch" 3000)

# compare_logs <master commitlog dir> <slave commitlog dir> <start> <max>: sets cmp_detail; 0 when every segment of
# [start, max) is byte-identical and the slave has no segment below start.
compare_logs() {
  local mdir=$1 sdir=$2 start=$3 max=$4 off n name out segs=0 bytes=0 first
  first=$(ls "$sdir" 2>/dev/null | sort | head -1 || true)
  if [[ "$first" != "$(printf '%020d' "$start")" ]]; then
    cmp_detail="the slave's first segment is '${first:-none}', expected $(printf '%020d' "$start")"
    return 1
  fi
  for ((off = start; off < max; off += SEG)); do
    name=$(printf '%020d' "$off")
    n=$((max - off < SEG ? max - off : SEG))
    [[ -f "$sdir/$name" ]] || { cmp_detail="the slave has no segment $name (master max $max)"; return 1; }
    if ! out=$(cmp -n "$n" "$mdir/$name" "$sdir/$name" 2>&1); then
      local at pos count
      at=$(sed -nE 's/.* differ: (char|byte) ([0-9]+).*/\2/p' <<<"$out")
      pos=$((at - 1)); count=$(cmp -l -n "$n" "$mdir/$name" "$sdir/$name" 2>/dev/null | wc -l)
      cmp_detail="segment $name differs first at absolute offset $((off + pos)) (file position $pos), $count byte(s) differ in its first $n; master: $(helper locate "$mdir/$name" "$pos"); slave: $(helper locate "$sdir/$name" "$pos")"
      {
        echo "---- first difference in $name at file position $pos (absolute offset $((off + pos)))"
        echo "master:"; od -v -A d -t x1 -j $((pos > 32 ? pos - 32 : 0)) -N 96 "$mdir/$name"
        echo "slave:"; od -v -A d -t x1 -j $((pos > 32 ? pos - 32 : 0)) -N 96 "$sdir/$name"
        echo "differing bytes (position, master, slave; octal, first 40):"
        cmp -l -n "$n" "$mdir/$name" "$sdir/$name" 2>/dev/null | head -40
      } >>"$scn_dir/compare.log"
      return 1
    fi
    segs=$((segs + 1)); bytes=$((bytes + n))
  done
  cmp_detail="$segs segment(s) from offset $start, $bytes bytes up to max $max identical (cmp)"
}

dump_logs() {
  local f
  echo "---- logs of $scn (work directory $scn_dir)"
  while IFS= read -r f; do
    [[ -s "$f" ]] || continue
    case "$f" in
      */logs/broker.log)  # Apache's: one line a second is the send/pull queue watermark
        echo "---- $f (without WATERMARK lines, last $LOG_LINES)"; { grep -v WATERMARK "$f" || true; } | tail -n "$LOG_LINES" ;;
      */send*.log) echo "---- $f (last 5 of $(wc -l <"$f") lines)"; tail -n 5 "$f" ;;
      *) echo "---- $f (last $LOG_LINES of $(wc -l <"$f") lines)"; tail -n "$LOG_LINES" "$f" ;;
    esac
  done < <(find "$scn_dir" -type f \( -name '*.log' -o -name '*.out' -o -name '*.txt' \) | sort)
  return 0
}

# wait_listed <namesrv> <id> <addr> <seconds>: until `ferryctl cluster list` shows <cluster> <group> <id> <addr>.
wait_listed() {
  local ns=$1 id=$2 addr=$3 deadline=$(($(date +%s) + $4))
  until "$ferryctl" -n "$ns" cluster list >"$scn_dir/cluster-list.txt" 2>&1 &&
      grep -qE "^$CLUSTER +$group +$id +${addr//./\\.}( |$)" "$scn_dir/cluster-list.txt"; do
    (($(date +%s) <= deadline)) || return 1
    sleep 1
  done
}

# consume_check <namesrv> <topic> <expected>: reads the topic from the beginning through the name server's route.
consume_check() {
  local ns=$1 topic=$2 expected=$3 got t0
  t0=$(now_ms)
  "$ferryctl" -n "$ns" consume "$topic" --from-beginning --count "$expected" --timeout 60 \
    >"$scn_dir/consume.out" 2>"$scn_dir/consume.txt" || true
  got=$(wc -l <"$scn_dir/consume.out")
  consume_detail="read $got of the $expected messages the slave holds in $(secs $(($(now_ms) - t0)))s ($(tail -1 "$scn_dir/consume.txt"))"
  ((got == expected))
}

# ---- FerryMQ master, Apache slave ------------------------------------------------------------------------------
scenario_ferrymq_master() {  # <ASYNC_MASTER|SYNC_MASTER>
  local role=$1 topic="ATopic_$(now_ms)" t0 t_conn
  group=broker-fa
  mkdir -p "$scn_dir/master"
  start_fmq_namesrv "$scn_dir" || { check "$scn" setup 1 "FerryMQ name server did not start"; return; }
  # A fixed port, as deployed: an Apache slave fetches its master's topics from the VIP channel, listenPort - 2
  # (FerryMQ opens it only when listenPort is not 0); replication on listenPort + 1.
  local mport; mport=$(free_broker_port)
  start_fmq_broker "$scn_dir/master" "brokerClusterName=$CLUSTER
brokerName=$group
brokerId=0
brokerRole=$role
listenAddress=127.0.0.1
brokerIP1=127.0.0.1
listenPort=$mport
storePathRootDir=$scn_dir/master/store
namesrvAddr=$fmq_ns
mappedFileSizeCommitLog=$SEG" || { check "$scn" setup 1 "FerryMQ master did not start"; return; }
  local master=$fmq_addr master_ha=$fmq_ha master_pid=$fmq_broker_pid
  "$ferryctl" -n "$fmq_ns" topic create "$topic" -c "$CLUSTER" -q 4 >"$scn_dir/topic.txt" 2>&1 ||
    { check "$scn" setup 1 "ferryctl topic create failed: $(cat "$scn_dir/topic.txt")"; return; }

  local expect_start=0 acked=0 max
  if [[ "$role" == SYNC_MASTER ]]; then
    # minInSyncReplicas=2, whenBelowMinInSync=reject: no slave yet, so a send is refused, not stored.
    local rc=0 m0
    "$ferryctl" -n "$fmq_ns" send "$topic" refused >"$scn_dir/send-refused.log" 2>&1 || rc=$?
    m0=$(helper status "$master" maxOffset 2>&1 || true)
    check "$scn" "refused without a slave" $(! grep -q 'status=SEND_OK' "$scn_dir/send-refused.log" && [[ "$m0" == 0 ]]; echo $?) \
      "ferryctl send (exit $rc): $(tail -1 "$scn_dir/send-refused.log" | sed -E 's/^msgId=[^ ]* //' | cut -c1-150); master max offset $m0"
  else
    t0=$(now_ms)
    produce "$fmq_ns" "$topic" "$scn_dir/send1.log" "${phase1[@]}" ||
      { check "$scn" setup 1 "ferryctl send failed: $(tail -1 "$scn_dir/send1.log")"; return; }
    max=$(helper status "$master" maxOffset 2>&1) || { check "$scn" setup 1 "status of the master: $max"; return; }
    expect_start=$((max - max % SEG))
    read -r acked _ _ < <(helper sends "$scn_dir/send1.log" 0) || true
    echo "   $scn: $acked messages before the slave in $(secs $(($(now_ms) - t0)))s, master max offset $max"
  fi

  # The Apache slave: follows the replication port given; registers with the FerryMQ name server.
  local port; port=$(free_broker_port $((mport - 2)) "$mport" $((mport + 1)))
  local slave="127.0.0.1:$port"
  t0=$(now_ms)
  if ! FMQ_APACHE_CLUSTER=$CLUSTER FMQ_APACHE_BROKER=$group FMQ_APACHE_WAIT_REGISTERED=0 \
      FMQ_APACHE_BROKER_CONF_EXTRA="brokerId=1
brokerRole=SLAVE
haMasterAddress=$master_ha
mappedFileSizeCommitLog=$SEG" \
      "$APACHE" start-broker "$scn_dir/apache-slave" "$fmq_ns" "$port" >"$scn_dir/apache-start.txt" 2>&1; then
    check "$scn" setup 1 "the Apache slave did not start: $(tail -3 "$scn_dir/apache-start.txt")"
    return
  fi
  apache_wds+=("$scn_dir/apache-slave")
  local t_boot=$(now_ms)
  if compat_wait_for_line "$scn_dir/master/broker.log" 'slave connected id=[0-9]+ peer=.* protocol=rocketmq start=' \
      "$master_pid" "$TIMEOUT" >"$scn_dir/wait.txt"; then
    t_conn=$(now_ms)
    local line start
    line=$(grep -E 'slave connected id=[0-9]+ peer=.* protocol=rocketmq start=' "$scn_dir/master/broker.log" | head -1)
    start=$(sed -nE 's/.* start=([0-9]+).*/\1/p' <<<"$line")
    check "$scn" "Apache slave copies (classic)" $((start != expect_start)) \
      "master log: ${line#* I } ($(secs $((t_conn - t_boot)))s after the slave booted, $(secs $((t_conn - t0)))s after its start; expected start $expect_start)"
  else
    check "$scn" "Apache slave copies (classic)" 1 "$(cat "$scn_dir/wait.txt")"
    return
  fi
  local registered=0
  if wait_listed "$fmq_ns" 1 "$slave" 15; then
    check "$scn" "slave registered (FerryMQ ns)" 0 "ferryctl cluster list: $(grep -E " 1 +$slave" "$scn_dir/cluster-list.txt" | tr -s ' ')"
  else
    registered=1
    local why
    why=$(grep -m1 -A1 'registerBroker Exception' "$scn_dir/apache-slave/logs/broker.log" | tr '\n' ' ' |
      sed -E 's/.* - (registerBroker Exception, [0-9.:]+).*(CODE: [0-9]+ +DESC: .*) BROKER: .*/\1: \2/' || true)
    check "$scn" "slave registered (FerryMQ ns)" 1 "not listed by the FerryMQ name server after 15 s; Apache slave log: ${why:-nothing}$(grep -q 'crc32 not match' "$scn_dir/apache-slave/logs/broker.log" && echo " -- the name server refused the REGISTER_BROKER body CRC (bodyCrc32 is UtilAll.crc32: CRC-32 & 0x7FFFFFFF)")"
  fi
  if [[ "$role" == SYNC_MASTER ]]; then
    local deadline=$(($(date +%s) + 30)) copies=""
    until copies=$(helper status "$master" inSyncCopies 2>/dev/null) && [[ "$copies" == 2 ]]; do
      (($(date +%s) <= deadline)) || break
      sleep 0.3
    done
    check "$scn" "Apache slave in sync" $([[ "$copies" == 2 ]]; echo $?) \
      "master: $(helper status "$master" inSyncCopies minInSyncReplicas slaves.0.address slaves.0.inSync slaves.0.ferrymq | awk '{ printf "inSyncCopies=%s minInSyncReplicas=%s slave %s inSync=%s ferrymq=%s", $1, $2, $3, $4, $5 }')"
  fi

  # Across a segment boundary while the slave copies.
  t0=$(now_ms)
  local ok=0
  produce "$fmq_ns" "$topic" "$scn_dir/send2.log" "${phase2[@]}" || ok=1
  local sent2 acked2 t_send=$(($(now_ms) - t0))
  sent2=$(grep -c 'status=' "$scn_dir/send2.log" || true)
  read -r acked2 _ _ < <(helper sends "$scn_dir/send2.log" 0) || true
  ((acked2 == sent2)) || ok=1
  check "$scn" "sends acknowledged ($role)" "$ok" \
    "$acked2 of $((${#phase2[@]} / 2 * per_batch)) SEND_OK in $(secs "$t_send")s ($(awk -v n="$acked2" -v ms="$t_send" 'BEGIN { printf "%.0f", n * 1000 / (ms > 0 ? ms : 1) }') msg/s, one ferryctl send at a time)$(grep -v 'status=SEND_OK' "$scn_dir/send2.log" | head -1 | sed 's/^/; first other answer: /')"

  # Caught up: the Apache slave's report (its commit-log max offset) equals the master's.
  max=$(helper status "$master" maxOffset 2>&1) || { check "$scn" "slave caught up" 1 "status of the master: $max"; return; }
  local ack="" deadline=$(($(date +%s) + TIMEOUT))
  t0=$(now_ms)
  until ack=$(helper status "$master" slaves.0.ackOffset 2>/dev/null) && [[ "$ack" == "$max" ]]; do
    (($(date +%s) <= deadline)) || break
    sleep 0.3
  done
  check "$scn" "slave caught up" $([[ "$ack" == "$max" ]]; echo $?) \
    "slave's report $ack, master max $max ($(secs $(($(now_ms) - t0)))s after the last send); ferryctl: $("$ferryctl" -n "$fmq_ns" ha status "$group" 2>&1 | grep -E "^$group +0 " | tr -s ' ')"
  "$ferryctl" -n "$fmq_ns" ha status "$group" >"$scn_dir/ha-status.txt" 2>&1 || true

  local identical=1
  for _ in 1 2 3 4 5; do
    if compare_logs "$scn_dir/master/store/commitlog" "$scn_dir/apache-slave/store/commitlog" "$expect_start" "$max"; then
      identical=0; break
    fi
    sleep 2
  done
  check "$scn" "commit logs byte-identical" "$identical" "$cmp_detail"

  # The Apache slave's own view (GET_BROKER_RUNTIME_INFO).
  "$APACHE" mqadmin "$fmq_ns" brokerStatus -b "$slave" >"$scn_dir/slave-brokerStatus.txt" 2>&1 || true
  local smin smax
  smin=$(sed -nE 's/^commitLogMinOffset *: *([0-9]+).*/\1/p' "$scn_dir/slave-brokerStatus.txt")
  smax=$(sed -nE 's/^commitLogMaxOffset *: *([0-9]+).*/\1/p' "$scn_dir/slave-brokerStatus.txt")
  check "$scn" "Apache slave's offsets" $([[ "$smin" == "$expect_start" && "$smax" == "$max" ]]; echo $?) \
    "mqadmin brokerStatus on the slave: commitLogMinOffset=${smin:-?} commitLogMaxOffset=${smax:-?} (expected $expect_start, $max)"

  # SlaveSynchronize (topics, consumer offsets, delay offsets, subscription groups from the master every 10 s), while
  # the master runs: what it could not fetch is reported, not counted (the copy of the log does not depend on it).
  local sync_errors
  sync_errors=$(awk '/Sync[A-Za-z]+ Exception/ { name = $0; sub(/.* - /, "", name); sub(/,.*/, "", name); getline;
      sub(/ BROKER: .*/, ""); gsub(/  +/, " "); print name ": " $0 }' "$scn_dir/apache-slave/logs/broker.log" |
    sort | uniq -c | sed -E 's/^ *([0-9]+) (.*)/\2 (x\1)/' | paste -sd';' || true)
  [[ -z "$sync_errors" ]] || warn "$scn" "SlaveSynchronize errors" "in the Apache slave's log: $sync_errors"

  # Reads from the Apache slave: stop the master; the name server's route then names only the slave.
  local expected
  read -r _ expected _ < <(cat "$scn_dir"/send[12].log | helper sends /dev/stdin "$expect_start") || true
  kill -TERM "$master_pid" 2>/dev/null || true
  wait "$master_pid" 2>/dev/null || true
  if ((registered != 0)); then
    check "$scn" "read from the Apache slave" 1 "not run: the name server does not list the slave (and the slave, without the master's address from its registration, copied no topics)"
  elif consume_check "$fmq_ns" "$topic" "$expected"; then
    check "$scn" "read from the Apache slave" 0 "master stopped; $consume_detail"
  else
    check "$scn" "read from the Apache slave" 1 "master stopped; $consume_detail"
  fi
}

# ---- Apache master, FerryMQ slave ------------------------------------------------------------------------------
scenario_apache_master() {
  local topic="BTopic_$(now_ms)" t0 t_conn
  group=broker-ab
  local port ns_port
  port=$(free_broker_port)
  ns_port=$(free_broker_port $((port - 2)) "$port" $((port + 1)))
  local ns="127.0.0.1:$ns_port" master="127.0.0.1:$port"
  t0=$(now_ms)
  if ! FMQ_APACHE_CLUSTER=$CLUSTER FMQ_APACHE_BROKER=$group FMQ_APACHE_BROKER_CONF_EXTRA="brokerIP2=127.0.0.1
mappedFileSizeCommitLog=$SEG" "$APACHE" start "$scn_dir/apache" "$ns_port" "$port" >"$scn_dir/apache-start.txt" 2>&1; then
    apache_wds+=("$scn_dir/apache")
    check "$scn" setup 1 "Apache name server + master did not start: $(tail -3 "$scn_dir/apache-start.txt")"
    return
  fi
  apache_wds+=("$scn_dir/apache")
  echo "   $scn: Apache name server $ns and master $master up in $(secs $(($(now_ms) - t0)))s"
  "$ferryctl" -n "$ns" topic create "$topic" -c "$CLUSTER" -q 4 >"$scn_dir/topic.txt" 2>&1 ||
    { check "$scn" setup 1 "ferryctl topic create failed: $(cat "$scn_dir/topic.txt")"; return; }
  t0=$(now_ms)
  produce "$ns" "$topic" "$scn_dir/send1.log" "${phase1[@]}" ||
    { check "$scn" setup 1 "ferryctl send failed: $(tail -1 "$scn_dir/send1.log")"; return; }
  local acked last
  read -r acked _ last < <(helper sends "$scn_dir/send1.log" 0) || true
  local expect_start=$((last - last % SEG))
  echo "   $scn: $acked messages before the slave in $(secs $(($(now_ms) - t0)))s, last at offset $last"

  mkdir -p "$scn_dir/slave"
  t0=$(now_ms)
  start_fmq_broker "$scn_dir/slave" "brokerClusterName=$CLUSTER
brokerName=$group
brokerId=1
brokerRole=SLAVE
listenAddress=127.0.0.1
brokerIP1=127.0.0.1
listenPort=0
storePathRootDir=$scn_dir/slave/store
namesrvAddr=$ns
haMasterAddress=127.0.0.1:$((port + 1))
mappedFileSizeCommitLog=$SEG" || { check "$scn" setup 1 "FerryMQ slave did not start"; return; }
  local slave=$fmq_addr slave_pid=$fmq_broker_pid
  if compat_wait_for_line "$scn_dir/slave/broker.log" 'copying from master=.* protocol=rocketmq from_offset=' "$slave_pid" \
      "$TIMEOUT" >"$scn_dir/wait.txt"; then
    t_conn=$(now_ms)
    check "$scn" "FerryMQ slave copies (classic)" 0 \
      "slave log: $(grep -E 'did not greet|speaks RocketMQ|copying from master=' "$scn_dir/slave/broker.log" | sed -E 's/^[^ ]+ I //' | paste -sd';' | cut -c1-300) ($(secs $((t_conn - t0)))s after start)"
  else
    check "$scn" "FerryMQ slave copies (classic)" 1 "$(cat "$scn_dir/wait.txt")"
    return
  fi
  local registered=0
  if wait_listed "$ns" 1 "$slave" 15; then
    check "$scn" "slave registered (Apache ns)" 0 "ferryctl cluster list: $(grep -E " 1 +$slave" "$scn_dir/cluster-list.txt" | tr -s ' ')"
  else
    registered=1
    check "$scn" "slave registered (Apache ns)" 1 "not listed by the Apache name server after 15 s; FerryMQ slave log: $(grep -m2 -iE 'regist.*(fail|refus|error)|crc32' "$scn_dir/slave/broker.log" | sed -E 's/^[^ ]+ //' | paste -sd';' | cut -c1-300)$(grep -q 'crc32 not match' "$scn_dir/slave/broker.log" && echo " -- the Apache name server compares bodyCrc32 with UtilAll.crc32 (CRC-32 & 0x7FFFFFFF)")"
  fi

  t0=$(now_ms)
  local ok=0
  produce "$ns" "$topic" "$scn_dir/send2.log" "${phase2[@]}" || ok=1
  local sent2 acked2 t_send=$(($(now_ms) - t0))
  sent2=$(grep -c 'status=' "$scn_dir/send2.log" || true)
  read -r acked2 _ last < <(helper sends "$scn_dir/send2.log" 0) || true
  ((acked2 == sent2)) || ok=1
  check "$scn" "sends acknowledged (Apache)" "$ok" "$acked2 of $((${#phase2[@]} / 2 * per_batch)) SEND_OK in $(secs "$t_send")s"

  # The master's max offset, as the Apache broker reports it.
  "$APACHE" mqadmin "$ns" brokerStatus -b "$master" >"$scn_dir/master-brokerStatus.txt" 2>&1 || true
  local max
  max=$(sed -nE 's/^commitLogMaxOffset *: *([0-9]+).*/\1/p' "$scn_dir/master-brokerStatus.txt")
  [[ -n "$max" ]] || { check "$scn" "slave caught up" 1 "no commitLogMaxOffset from mqadmin brokerStatus -b $master"; return; }
  local smax="" deadline=$(($(date +%s) + TIMEOUT))
  t0=$(now_ms)
  until smax=$(helper status "$slave" maxOffset 2>/dev/null) && [[ "$smax" == "$max" ]]; do
    (($(date +%s) <= deadline)) || break
    sleep 0.3
  done
  check "$scn" "slave caught up" $([[ "$smax" == "$max" ]]; echo $?) \
    "FerryMQ slave max $smax, Apache master commitLogMaxOffset $max ($(secs $(($(now_ms) - t0)))s after the last send)"

  local identical=1
  for _ in 1 2 3 4 5; do
    if compare_logs "$scn_dir/apache/store/commitlog" "$scn_dir/slave/store/commitlog" "$expect_start" "$max"; then
      identical=0; break
    fi
    sleep 2
  done
  check "$scn" "commit logs byte-identical" "$identical" "$cmp_detail"

  # ferryctl ha status (the slave named with --member, in case the name server does not list it) and the raw
  # status body, which has copyFerrymq.
  "$ferryctl" -n "$ns" ha status "$group" --member "$slave" >"$scn_dir/ha-status.txt" 2>&1 || true
  local row raw
  row=$(grep -E "^$group +1 +${slave//./\\.} " "$scn_dir/ha-status.txt" | tr -s ' ' || true)
  raw=$(helper status "$slave" role copyState copyFerrymq masterHaAddress minOffset maxOffset confirmOffset 2>&1 || true)
  local want="SLAVE copying false 127.0.0.1:$((port + 1)) $expect_start $max "
  check "$scn" "ha status: classic copy" \
    $([[ "$row" =~ \ SLAVE\ .*copying\ from\ 127\.0\.0\.1:($port|$((port + 1))) && "$raw " == "$want"* ]]; echo $?) \
    "ferryctl: '${row:-no row for $slave}'; status body role/copyState/copyFerrymq/masterHaAddress/min/max/confirm: $raw"

  # The slave's copy of the master's topics, subscription groups and offsets (every haSyncMetadataInterval, 3 s):
  # without the topic a slave answers pulls TOPIC_NOT_EXIST.
  local deadline=$(($(date +%s) + 15))
  until grep -q "copied topics from master=$master" "$scn_dir/slave/broker.log"; do
    (($(date +%s) <= deadline)) || break
    sleep 0.5
  done
  if grep -q "copied topics from master=$master" "$scn_dir/slave/broker.log"; then
    check "$scn" "FerryMQ slave copied topics" 0 "slave log: $(grep -m1 "copied topics from master=" "$scn_dir/slave/broker.log" | sed -E 's/^[^ ]+ I //')"
  else
    check "$scn" "FerryMQ slave copied topics" 1 "no 'copied topics from master=$master' in the slave's log 15 s after it caught up (slave status: masterAddress='$(helper status "$slave" masterAddress 2>&1 || true)' masterHaAddress='$(helper status "$slave" masterHaAddress 2>&1 || true)')$(grep -m1 'slave metadata copy failed' "$scn_dir/slave/broker.log" | sed -E 's/^[^ ]+ /; /' || true)"
  fi

  # Reads from the FerryMQ slave with the Apache master stopped (the name server then routes to the slave).
  local expected
  read -r _ expected _ < <(cat "$scn_dir"/send[12].log | helper sends /dev/stdin "$expect_start") || true
  "$APACHE" stop "$scn_dir/apache" broker >"$scn_dir/apache-stop.txt" 2>&1 || true
  if ((registered != 0)); then
    check "$scn" "read from the FerryMQ slave" 1 "not run: the name server does not list the slave"
  elif consume_check "$ns" "$topic" "$expected"; then
    check "$scn" "read from the FerryMQ slave" 0 "Apache master stopped; $consume_detail"
  else
    check "$scn" "read from the FerryMQ slave" 1 "Apache master stopped; $consume_detail"
  fi
}

t_all=$(now_ms)
echo "== apache replication: scenarios: $scenarios; segment $SEG bytes; phase 1 ${phase1[0]} x ${phase1[1]} B, phase 2 6 x $per_batch messages (300 B .. 12 KB)"
for scn in $scenarios; do
  scn_dir="$work/$scn"
  mkdir -p "$scn_dir"
  scenario_failed=0
  t_scn=$(now_ms)
  echo "== $scn"
  case "$scn" in
    ferrymq-master-async) scenario_ferrymq_master ASYNC_MASTER ;;
    ferrymq-master-sync) scenario_ferrymq_master SYNC_MASTER ;;
    apache-master) scenario_apache_master ;;
    *) check "$scn" setup 1 "unknown scenario (known: ferrymq-master-async ferrymq-master-sync apache-master)" ;;
  esac
  ((scenario_failed)) && dump_logs
  stop_all
  echo "== $scn took $(secs $(($(now_ms) - t_scn)))s"
done
echo "== apache replication took $(secs $(($(now_ms) - t_all)))s"
((failed == 0)) || printf 'failed: %s\n' "${failures[@]}"
((warnings == 0)) || echo "$warnings warning(s) ([WARN] above)"
echo "apache replication: $passed passed, $failed failed"
((failed == 0))
