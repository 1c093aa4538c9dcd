#!/usr/bin/env python3
"""Replication under network partitions and crashes, with total-queue accounting (docs/replication.md).

A name server and a SYNC_MASTER with two slaves, each a `ferrymq` process in its own network namespace on a
private bridge (10.214.7.0/24); partitions are made by taking links down or blackholing routes between
namespaces, never by stopping a process. Producers (`fmq-queue-check`, the C++ client) send unique ids and log
every outcome; at the end a fresh consumer group drains the topic and every id is classified as Jepsen's
total-queue checker does: lost (acknowledged, never read), recovered (send failed, read anyway), duplicated,
unexpected (never sent). Lost and unexpected must be 0.

Scenarios:
  isolated-master     the master alone behind a partition; a producer on its side keeps sending; `ferryctl ha
                      promote` on the other side; heal: the old master acknowledged nothing after the new epoch
                      began, is refused by the name server, rejoins as a slave, cuts its unacknowledged tail.
  two-masters-6662    apache/rocketmq#6662's shape: the master keeps one slave on its side of the partition; a
                      promotion on the other side is refused (too few members to fence), so there are never two
                      masters, and the master keeps acknowledging with the slave it still has.
  master-and-namesrv  apache/rocketmq#7689's shape: the master and the name server are killed together; the name
                      server restarts empty; a slave is promoted; the old master restarts at its old epoch, is
                      refused, demoted and cut.
  restart-together    the master and the name server are killed together and restart (no failover): the master
                      continues every queue after the records it holds (nothing acknowledged is lost, no queue
                      offset is reused).

Needs root (network namespaces). Binaries from $FMQ_BIN_DIR (colon-separated), else build/debug.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from lib.broker_conf import HOST_DISK_CONF  # noqa: E402
from lib.checks import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBNET = "10.214.7"
GATEWAY = f"{SUBNET}.1"
BRIDGE = "fmqpbr7"
CLUSTER = "PartCluster"
BROKER = "broker-p"
TOPIC = "PartTopic"
IPS = {"ns": f"{SUBNET}.10", "m": f"{SUBNET}.2", "s1": f"{SUBNET}.3", "s2": f"{SUBNET}.4"}
NAMESRV = f"{IPS['ns']}:9876"


def find_bin(name):
    dirs = [d for d in os.environ.get("FMQ_BIN_DIR", "").split(":") if d]
    dirs += [os.path.join(ROOT, "build/debug/broker/cmd"), os.path.join(ROOT, "build/debug/broker/cli"),
             os.path.join(ROOT, "build/debug/tests")]
    for d in dirs:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise FileNotFoundError(f"{name} not found in FMQ_BIN_DIR or build/debug")


FERRYMQ, FERRYCTL, QUEUE_CHECK = find_bin("ferrymq"), find_bin("ferryctl"), find_bin("fmq-queue-check")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def poll(cond, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = cond()
            if r:
                return r
        except Exception:  # a condition read from a process that is not up yet
            pass
        time.sleep(interval)  # polling a condition, not waiting for time
    return cond()


class Network:
    """A bridge on the host and one network namespace per node; the host (clients) is at the gateway."""

    def __init__(self):
        self.nodes = []
        self.blocks = []

    def up(self):
        self.down()
        sh("ip", "link", "add", BRIDGE, "address", "02:fe:0a:d6:07:01", "type", "bridge")
        sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")

    def add(self, name):
        ns = f"fmqp-{name}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"fqp-{name}", "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", f"fqp-{name}", "master", BRIDGE, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{IPS[name]}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        self.nodes.append(name)

    def isolate(self, name):
        sh("ip", "link", "set", f"fqp-{name}", "down")

    def heal(self, name):
        sh("ip", "link", "set", f"fqp-{name}", "up")

    def block(self, side_a, side_b):
        """No traffic between any node of side_a and any of side_b ("host" is the clients' side)."""
        for a in side_a:
            for b in side_b:
                for x, y in ((a, b), (b, a)):
                    self._route("add", x, y)
                    self.blocks.append((x, y))

    def unblock(self):
        for x, y in self.blocks:
            self._route("del", x, y, check=False)
        self.blocks = []

    @staticmethod
    def _route(op, src, dst, check=True):
        dst_ip = GATEWAY if dst == "host" else IPS[dst]
        cmd = ["ip", "route", op, "blackhole", f"{dst_ip}/32"]
        if src != "host":
            cmd = ["ip", "netns", "exec", f"fmqp-{src}"] + cmd
        sh(*cmd, check=check)

    def down(self):
        self.unblock()
        for name in list(IPS):
            sh("ip", "netns", "del", f"fmqp-{name}", check=False)
            sh("ip", "link", "del", f"fqp-{name}", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        self.nodes = []


class Node:
    def __init__(self, name, workdir):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "out.log")
        self.proc = None

    def start(self, args):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(["ip", "netns", "exec", f"fmqp-{self.name}", FERRYMQ, *args], stdout=log,
                                     stderr=subprocess.STDOUT, env={**os.environ, "FMQ_LOG_LEVEL": "info"})
        if not poll(lambda: "listening on" in self.log(), 30):
            raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def log(self):
        with open(self.log_path) as f:
            return f.read()


class Group:
    """Name server, master and two slaves, started in their namespaces."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.nodes = {n: Node(n, workdir) for n in IPS}

    def start_namesrv(self):
        conf = os.path.join(self.nodes["ns"].dir, "namesrv.conf")
        with open(conf, "w") as f:
            f.write(f"listenAddress={IPS['ns']}\nlistenPort=9876\nkvConfigPath={self.nodes['ns'].dir}/kv.json\n")
        self.nodes["ns"].start(["namesrv", "-c", conf])

    def start_broker(self, name, role, broker_id):
        node = self.nodes[name]
        conf = os.path.join(node.dir, "broker.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write(f"brokerClusterName={CLUSTER}\nbrokerName={BROKER}\nbrokerId={broker_id}\n"
                        f"brokerRole={role}\nlistenAddress={IPS[name]}\nbrokerIP1={IPS[name]}\nlistenPort=10911\n"
                        f"storePathRootDir={node.dir}/store\nnamesrvAddr={NAMESRV}\n"
                        "mappedFileSizeCommitLog=4194304\nmaxMessageSize=65536\nregisterNameServerPeriod=10000\n"
                        "haSlaveReportInterval=100\nhaMaxTimeSlaveNotCatchup=3000\nslaveTimeout=2000\n"
                        "haSyncMetadataInterval=500\nhaHousekeepingInterval=5000\n" + HOST_DISK_CONF)
        node.start(["broker", "-c", conf])

    def start_all(self):
        self.start_namesrv()
        self.start_broker("m", "SYNC_MASTER", 0)
        self.start_broker("s1", "SLAVE", 1)
        self.start_broker("s2", "SLAVE", 2)

    def stop_all(self):
        for n in self.nodes.values():
            n.kill()

    def addr(self, name):
        return f"{IPS[name]}:10911"


def ferryctl(*args, timeout=60):
    return subprocess.run([FERRYCTL, "-n", NAMESRV, *args], capture_output=True, text=True, timeout=timeout)


def ha_status():
    r = ferryctl("-o", "json", "ha", "status", BROKER)
    if r.returncode != 0:
        return {}
    return {m["address"]: m for m in json.loads(r.stdout)}


def role_of(addr):
    return ha_status().get(addr, {}).get("role")


def in_sync(addr, copies):
    s = ha_status().get(addr, {})
    return s.get("role") == "SYNC_MASTER" and s.get("inSyncCopies") == copies


class Producer:
    """fmq-queue-check produce, in a namespace or on the host."""

    def __init__(self, workdir, prefix, netns=None, threads=2):
        self.out = os.path.join(workdir, f"produce-{prefix}.txt")
        cmd = [QUEUE_CHECK, "produce", "-n", NAMESRV, "-t", TOPIC, "--prefix", prefix, "--out", self.out,
               "--threads", str(threads)]
        if netns:
            cmd = ["ip", "netns", "exec", f"fmqp-{netns}"] + cmd
        self.log = open(os.path.join(workdir, f"produce-{prefix}.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def outcomes(self):
        """id -> (ok, unix ms when answered) of every send answered."""
        return {i: (o["ok"], o["answered"]) for i, o in self.sends().items()}

    def sends(self):
        """id -> {ok, answered, sent (unix ms), status} of every send answered."""
        out = {}
        with open(self.out) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 4)
                if len(parts) >= 5:
                    out[parts[0]] = {"ok": parts[1] == "ok", "answered": int(parts[2]), "sent": int(parts[3]),
                                     "status": parts[4]}
        return out

    def acked_count(self):
        try:
            return sum(1 for ok, _ in self.outcomes().values() if ok)
        except FileNotFoundError:
            return 0


def drain(workdir, tag):
    out = os.path.join(workdir, f"drain-{tag}.txt")
    r = subprocess.run([QUEUE_CHECK, "drain", "-n", NAMESRV, "-t", TOPIC, "--out", out, "--group", f"Drain{tag}"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"drain failed: {r.stdout}{r.stderr}")
    with open(out) as f:
        return [line.strip() for line in f if line.strip()]


def account(producers, read):
    """Jepsen's total-queue classes."""
    outcomes = {}
    for p in producers:
        outcomes.update(p.outcomes())
    acked = {i for i, (ok, _) in outcomes.items() if ok}
    failed = {i for i, (ok, _) in outcomes.items() if not ok}
    counts = {}
    for i in read:
        counts[i] = counts.get(i, 0) + 1
    seen = set(counts)
    return {
        "sent": len(outcomes),
        "acked": len(acked),
        "lost": len(acked - seen),
        "recovered": len(failed & seen),
        "duplicated": sum(1 for c in counts.values() if c > 1),
        "unexpected": len(seen - acked - failed),
        "lost_ids": sorted(acked - seen)[:5],
    }


def now_ms():
    return int(time.time() * 1000)


class Scenario:
    def __init__(self, name, net):
        self.name = name
        self.net = net
        self.workdir = tempfile.mkdtemp(prefix=f"fmq-part-{name}-")
        self.group = Group(self.workdir)
        self.producers = []

    def __enter__(self):
        self.net.up()
        for n in IPS:
            self.net.add(n)
        self.group.start_all()
        if not poll(lambda: in_sync(self.group.addr("m"), 3), 30):
            raise RuntimeError(f"the group did not get in sync: {ferryctl('ha', 'status', BROKER).stdout}")
        r = ferryctl("topic", "create", TOPIC, "-c", CLUSTER, "-q", "4")
        if r.returncode != 0:
            raise RuntimeError(f"topic create: {r.stdout}{r.stderr}")
        if not poll(lambda: ferryctl("topic", "route", TOPIC).returncode == 0, 20):
            raise RuntimeError("the topic never reached the name server")
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in self.producers:
            p.stop()
        if exc_type is not None or os.environ.get("FMQ_PARTITION_KEEP_LOGS"):
            for n in self.group.nodes.values():
                print(f"---- {self.name} {n.name} log (last 4000 bytes):\n{n.log()[-4000:] if os.path.exists(n.log_path) else ''}")
        self.group.stop_all()
        self.net.down()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return False

    def produce(self, prefix, netns=None, threads=2):
        p = Producer(self.workdir, prefix, netns, threads)
        self.producers.append(p)
        if not poll(lambda: p.acked_count() > 20, 30):
            raise RuntimeError(f"producer {prefix} acknowledged nothing")
        return p

    def finish(self):
        for p in self.producers:
            p.stop()
        read = drain(self.workdir, self.name.replace("-", ""))
        a = account(self.producers, read)
        print(f"{self.name}: sent={a['sent']} acked={a['acked']} lost={a['lost']} recovered={a['recovered']} "
              f"duplicated={a['duplicated']} unexpected={a['unexpected']}", flush=True)
        if a["lost"] or a["unexpected"]:
            raise AssertionError(f"lost {a['lost']} (e.g. {a['lost_ids']}), unexpected {a['unexpected']}")
        return a


def isolated_master(net):
    with Scenario("isolated-master", net) as sc:
        g = sc.group
        outside = sc.produce("out", threads=2)
        inside = sc.produce("in", netns="m", threads=1)
        net.isolate("m")
        cut = now_ms()
        r = ferryctl("ha", "promote", BROKER, "--member", g.addr("m"))
        if r.returncode != 0:
            raise AssertionError(f"promote failed: {r.stdout}{r.stderr}")
        promoted_at = now_ms()
        print(r.stdout.strip().splitlines()[0], flush=True)
        acked_before = outside.acked_count()
        if not poll(lambda: outside.acked_count() > acked_before + 50, 30):
            raise AssertionError("producers did not resume on the new master")
        net.heal("m")
        healed_at = now_ms()
        if not poll(lambda: role_of(g.addr("m")) == "SLAVE", 30):
            raise AssertionError(f"the old master did not rejoin as a slave: {ferryctl('ha', 'status', BROKER).stdout}")
        for p in sc.producers:
            p.stop()

        def caught_up():
            st = ha_status()
            master = next(s for s in st.values() if s.get("role") == "SYNC_MASTER")
            return st[g.addr("m")]["maxOffset"] == master["maxOffset"]

        if not poll(caught_up, 30):
            raise AssertionError(f"the old master did not catch up: {ferryctl('ha', 'status', BROKER).stdout}")
        a = sc.finish()
        # Until the heal the producer inside the partition reaches the old master only.
        late = [i for i, (ok, t) in inside.outcomes().items() if ok and promoted_at < t < healed_at]
        if late:
            raise AssertionError(f"the old master acknowledged {len(late)} messages after the new epoch began")
        # A send that began after the cut reached the isolated master only; the old master must have cut it.
        # (One that began before it may have reached the slaves and only lost its acknowledgement: that one may be
        # read, a "recovered" message.)
        sends = inside.sends()
        in_after_cut = {i for i, o in sends.items() if not o["ok"] and o["sent"] > cut}
        read = set(drain(sc.workdir, "again"))
        before = sorted(i for i, o in sends.items() if not o["ok"] and o["sent"] <= cut and i in read)
        if before:
            print("isolated-master: recovered sends from inside, begun before the cut: " + "; ".join(
                f"{i} sent cut{sends[i]['sent'] - cut:+} ms, answered cut{sends[i]['answered'] - cut:+} ms: "
                f"{sends[i]['status']}" for i in before[:3]), flush=True)
        if in_after_cut & read:
            bad = sorted(in_after_cut & read)[:3]
            detail = "; ".join(f"{i} sent cut+{sends[i]['sent'] - cut} ms, answered cut+{sends[i]['answered'] - cut} "
                               f"ms: {sends[i]['status']}" for i in bad)
            raise AssertionError(f"{len(in_after_cut & read)} messages only the isolated master stored were read "
                                 f"({detail})")
        if "truncating the commit log" not in g.nodes["m"].log():
            raise AssertionError("the old master did not cut its tail")
        return a


def two_masters_6662(net):
    with Scenario("two-masters-6662", net) as sc:
        g = sc.group
        inside = sc.produce("in", netns="m", threads=1)
        # The master and one slave on one side; the other slave, the name server and the clients on the other.
        net.block(["m", "s2"], ["s1", "ns", "host"])
        r = ferryctl("ha", "promote", BROKER, "--member", g.addr("m"))
        if r.returncode == 0 or "must be fenced" not in r.stderr:
            raise AssertionError(f"a promotion on the minority side must be refused: {r.stdout}{r.stderr}")
        acked_before = inside.acked_count()
        if not poll(lambda: inside.acked_count() > acked_before + 50, 20):
            raise AssertionError("the master stopped acknowledging although it keeps a slave in sync")
        net.unblock()
        if not poll(lambda: in_sync(g.addr("m"), 3), 30):
            raise AssertionError("the group did not get back in sync")
        roles = sorted(s.get("role") for s in ha_status().values())
        if roles != ["SLAVE", "SLAVE", "SYNC_MASTER"]:
            raise AssertionError(f"expected one master, got {roles}")
        return sc.finish()


def master_and_namesrv(net):
    with Scenario("master-and-namesrv", net) as sc:
        g = sc.group
        outside = sc.produce("out", threads=2)
        g.nodes["m"].kill()
        g.nodes["ns"].kill()
        g.start_namesrv()  # empty: it knows no epoch
        members = ",".join(g.addr(n) for n in ("m", "s1", "s2"))
        r = ferryctl("ha", "promote", BROKER, "--member", members)
        if r.returncode != 0:
            raise AssertionError(f"promote failed: {r.stdout}{r.stderr}")
        g.start_broker("m", "SYNC_MASTER", 0)  # comes back as master of epoch 1
        if not poll(lambda: role_of(g.addr("m")) == "SLAVE", 40):
            raise AssertionError(f"the old master was not demoted: {ferryctl('ha', 'status', BROKER).stdout}")
        acked_before = outside.acked_count()
        if not poll(lambda: outside.acked_count() > acked_before + 50, 30):
            raise AssertionError("producers did not resume on the new master")
        return sc.finish()


def restart_together(net):
    with Scenario("restart-together", net) as sc:
        g = sc.group
        outside = sc.produce("out", threads=2)
        g.nodes["m"].kill()
        g.nodes["ns"].kill()
        g.start_namesrv()
        g.start_broker("m", "SYNC_MASTER", 0)
        if not poll(lambda: in_sync(g.addr("m"), 3), 40):
            raise AssertionError(f"the slaves did not follow the restarted master: {ferryctl('ha', 'status', BROKER).stdout}")
        acked_before = outside.acked_count()
        if not poll(lambda: outside.acked_count() > acked_before + 50, 30):
            raise AssertionError("producers did not resume")
        return sc.finish()


def main():
    if os.geteuid() != 0:
        print("replication_partition: needs root (network namespaces)")
        print("replication_partition: 0 passed, 1 failed")
        return 1
    net = Network()
    checks = Checks()
    try:
        checks("isolated master: promote, old master acknowledges nothing, rejoins and is cut", lambda: isolated_master(net))
        checks("apache/rocketmq#6662 shape: no promotion on the minority side, one master throughout",
               lambda: two_masters_6662(net))
        checks("apache/rocketmq#7689 shape: master and name server die together, promote, old master demoted",
               lambda: master_and_namesrv(net))
        checks("master and name server restart together: queues continue, nothing lost", lambda: restart_together(net))
    finally:
        net.down()
    return checks.summary("replication_partition")


if __name__ == "__main__":
    sys.exit(main())
