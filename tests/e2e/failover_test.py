#!/usr/bin/env python3
"""End-to-end test of automatic failover (issue "Operator v2", acceptance 1) on a real control plane with the pod
runner: the Helm chart installs the operator (2 replicas, leader election); a Cluster with two broker groups of 3
replicas each (sync replication, minInSyncReplicas 2) becomes Ready with pod 0 of each group as master and the
other two in sync; then, each time with the real Java client (rocketmq-client 4.9.7, tests/compat
ReplicationLossCheck) producing to a topic on both groups throughout and Jepsen's total-queue accounting
afterwards (lost / recovered / duplicated / unexpected; lost and unexpected must be 0), and the longest time
without an acknowledged send measured per broker group:

  kill -9     group 0's master process is killed (the pod runner restarts it, as a kubelet does): the group
              takes writes again within 30 s;
  pod delete  group 0's master pod is deleted (the StatefulSet recreates it): writes again within 30 s;
  partition   group 0's master pod's network link is cut (its process keeps running): the operator claims the
              failover in the HA record, wipes the group's write permission on the name servers and promotes an
              in-sync slave at a new epoch; writes again within 30 s; after the heal the old master
              acknowledged nothing of the new epoch and follows the new master; status, Events and metrics show
              the failover;
  image roll  spec.image changes: each group in turn restarts its slaves one at a time (each back in sync
              first), hands the master role over by a switchover, then restarts the old master: each group's
              longest time without an acknowledged send stays under 5 s;
  config roll the same for a broker config change;
  leader loss the operator runs with --fault exit-after-failover-claim (its process exits right after it
              claims a failover in the HA record, before touching a broker); group 1's master is cut off: the
              leader claims and exits, the standby takes the Lease and finishes the claim: exactly one
              promotion (one MasterPromoted Event, failovers 1, the epoch up by one);

  scale       broker groups 2 -> 3 -> 2 with the producers and a consumer group (ConsumerGroup scale-cg)
              running: the new group gets the ConsumerGroup before the Topic and then takes writes; with the
              consumer stopped the group leaving turns read-only, is kept while it holds unconsumed messages
              and stores nothing new; once the consumer runs again it is drained and removed with its HA record
              and volumes; every acknowledged message is consumed (lost 0, unexpected 0);

and a converged operator with replicas and a ConsumerGroup writes nothing (audit log).

Prints PASS/FAIL lines and `failover: N passed, N failed`; the exit code is the result.

    tests/e2e/failover_test.py     # programs from $FMQ_BIN_DIR (colon-separated), default the debug build
"""

import os
import re
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lib import kube  # noqa: E402
from lib.broker_conf import HOST_DISK  # noqa: E402
from lib.checks import Checks  # noqa: E402
from lib.cluster import Cluster  # noqa: E402
from operator_test import SA_USER, condition, dump, event_time, java_classpath, reconcile_count  # noqa: E402

OP_NS = "ferrymq-system"
NS = "mq"
CLUSTER = "ha"
GROUPS = 2
GROUP = f"{CLUSTER}-broker-0"
LEASE_SECONDS = 8
CLIENT_POD = "loss-client"  # the Java clients run in its network namespace
CHART = os.path.join(REPO, "charts", "ferrymq-operator")
RESUME_BOUND = 30.0  # seconds without an acknowledged send, at most (acceptance)
check = Checks()


def main():
    bin_dirs = (os.environ.get("FMQ_BIN_DIR") or
                ":".join(f"{REPO}/build/debug/{d}" for d in ("broker/cmd", "broker/cli", "operator/cmd"))).split(":")
    cluster = Cluster(bin_dirs=bin_dirs)
    ok = False
    try:
        if not check("control plane and pod runner start", lambda: cluster.start() is cluster):
            return check.summary("failover")
        run(cluster, cluster.kube)
        ok = check.failed == 0
    finally:
        cluster.stop(ok=ok)
    return check.summary("failover")


def group_status(k, g=0):
    obj = k.get(kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1"))
    groups = obj.get("status", {}).get("brokerGroups", [])
    return (groups[g] if len(groups) > g else {}), obj


def gaps_by_group(sent_file, kill_ms, end_ms):
    """Per broker group, the longest time without an acknowledged send from the last acknowledgement before
    `kill_ms` until the producers stopped at `end_ms` (seconds; a group that acknowledged nothing after the kill
    counts the whole time; None: nothing before it either), from ReplicationLossCheck's sent.tsv
    (id, outcome, startMs, endMs, 'brokerName:queue@offset')."""
    acks = {}
    with open(sent_file) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 5 and cols[1] == "SEND_OK":
                acks.setdefault(cols[4].split(":")[0], []).append(int(cols[3]))
    gaps = {}
    for broker, times in acks.items():
        times.sort()
        before = [t for t in times if t <= kill_ms]
        after = [t for t in times if t > kill_ms]
        if not before:
            gaps[broker] = None
            continue
        seq = [before[-1]] + after + [max(end_ms, times[-1])]  # the time after the last one counts too
        gaps[broker] = max(b - a for a, b in zip(seq, seq[1:])) / 1000.0
    return gaps


class MasterCut:
    """A group's master cut off the network (its host veth down, its process keeps running): cut() for
    produce_through's event, promoted() for its settle, heal() and old_follows() afterwards."""

    def __init__(self, c, k, group):
        self.k, self.group = k, group
        g, _ = group_status(k, group)
        self.old, self.old_epoch, self.old_failovers = g.get("master"), g.get("epoch", 0), g.get("failovers", 0)
        self.veth = c.host_veth(NS, self.old)
        self.t_cut = time.time()

    def cut(self):
        self.t_cut = time.time()
        subprocess.run(["ip", "link", "set", self.veth, "down"], check=True)

    def promoted(self, timeout):
        """The group's status once another member is master of a higher epoch, and seconds since the cut."""
        def new_master():
            s, _ = group_status(self.k, self.group)
            return s.get("master") not in ("", None, self.old) and s.get("epoch", 0) > self.old_epoch and s
        s = kube.wait_for(new_master, timeout, what=f"a new master of group {self.group}")
        return s, time.time() - self.t_cut

    def heal(self):
        subprocess.run(["ip", "link", "set", self.veth, "up"], check=True)

    def old_follows(self):
        """Waits until the old master is an in-sync slave of the new one; the group's status."""
        def follows():
            s, _ = group_status(self.k, self.group)
            return self.old in s.get("inSync", []) and s.get("master") != self.old and s
        return kube.wait_for(follows, 120, what="the old master in sync")


class Producer:
    """ReplicationLossCheck produce in the client pod's network namespace (a pod no roll replaces), until stop()."""

    def __init__(self, c, topic, run_id):
        self.c, self.topic = c, topic
        self.dir = os.path.join(c.workdir, f"loss-{run_id}")
        os.makedirs(self.dir, exist_ok=True)
        self.sent, self.read = os.path.join(self.dir, "sent.tsv"), os.path.join(self.dir, "read.txt")
        self.stop_file, self.log = os.path.join(self.dir, "stop"), os.path.join(self.dir, "producer.log")
        self.namesrv = f"{CLUSTER}-namesrv.{NS}.svc:9876"
        self.run_id = run_id
        self.proc = None

    def java(self, *args, **kw):
        return ["ip", "netns", "exec", self.c.netns(NS, CLIENT_POD), "java", "-Xms64m", "-Xmx256m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dloss.threads=4",
                f"-Drocketmq.client.logRoot={self.dir}/java-logs", "-cp", java_classpath(),
                "io.ferrymq.compat.ReplicationLossCheck", *args]

    def start(self):
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.java("produce", self.namesrv, self.topic, self.run_id, self.sent,
                                                   self.stop_file), stdout=out, stderr=subprocess.STDOUT)

        def first_ok():
            if self.proc.poll() is not None:
                raise AssertionError(f"producer exited {self.proc.returncode}: {open(self.log).read()[-2000:]}")
            return "producing: first SEND_OK" in open(self.log).read()
        return kube.wait_for(first_ok, 120, what="the producers' first SEND_OK")

    def acked_since(self, t):
        """Whether the producer's progress lines show acknowledgements after time t (epoch seconds)."""
        return self.proc.poll() is None and os.path.getmtime(self.log) > t

    def acks_by_broker(self):
        """[(progress time ms, {brokerName: SEND_OK count so far})] from the progress lines."""
        out = []
        for line in open(self.log).read().splitlines():
            m = re.match(r"progress (\d+): .*SEND_OK by broker:(.*)$", line)
            if m:
                out.append((int(m.group(1)), {b: int(n) for b, n in re.findall(r"(\S+)=(\d+)", m.group(2))}))
        return out

    def wait_acks_after(self, brokers, t_ms, timeout):
        """Waits until each broker group in `brokers` acknowledged sends after t_ms (by the progress lines: its
        count grew between the first line at or after t_ms and a later one); the seconds it took."""
        def grown():
            if self.proc.poll() is not None:
                raise AssertionError(f"the producers exited {self.proc.returncode}")
            lines = [(ts, counts) for ts, counts in self.acks_by_broker() if ts >= t_ms]
            return len(lines) >= 2 and all(lines[-1][1].get(b, 0) > lines[0][1].get(b, 0) for b in brokers)
        t0 = time.time()
        kube.wait_for(grown, timeout, what=f"acknowledged sends on {', '.join(brokers)}")
        return (time.time() - t0,)

    def stopped_ms(self):
        m = re.search(r"^stopped at (\d+):", open(self.log).read(), re.M)
        return int(m.group(1)) if m else int(time.time() * 1000)

    def stop(self):
        open(self.stop_file, "w").close()
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the producers did not stop within 120 s: {open(self.log).read()[-1500:]}")

    def finish_producing(self):
        self.stop()
        if self.proc.returncode != 0:
            raise AssertionError(f"producers exited {self.proc.returncode}: {open(self.log).read()[-1500:]}")
        return True

    def check(self, kill_ms):
        """The accounting over what a consumer wrote to the read file; the RESULT line."""
        r = subprocess.run(self.java("check", self.sent, self.read, str(kill_ms)), capture_output=True, text=True,
                           timeout=300)
        result = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("RESULT ")]
        if not result:
            raise AssertionError(f"check printed no RESULT: {(r.stdout + r.stderr)[-3000:]}")
        return result[-1]

    def finish(self, kill_ms):
        self.stop()
        r = subprocess.run(self.java("verify", self.namesrv, self.topic, self.sent, self.read, str(kill_ms)),
                           capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        result = [line for line in out.splitlines() if line.startswith("RESULT ")]
        if not result:
            raise AssertionError(f"verify printed no RESULT: {out[-3000:]}")
        m = re.search(r"unavailable=([0-9.]+)s", result[-1])
        gap = float(m.group(1)) if m else None
        detail = [line for line in out.splitlines() if line.startswith(("kill at", "LOST", "UNEXPECTED", "drain: "))]
        return result[-1], gap, detail, gaps_by_group(self.sent, kill_ms, self.stopped_ms())


def produce_through(c, k, name, topic, event, settle, groups, bound=RESUME_BOUND):
    """Producers run, `event()` happens (returns a description), writes must resume; then the accounting. The
    longest time without an acknowledged send is bounded for each broker group in `groups` (indexes)."""
    p = Producer(c, topic, name)
    if not check(f"{name}: the Java producers get acknowledgements", p.start):
        return None
    time.sleep(5)
    kill_ms = int(time.time() * 1000)
    what = event()
    print(f"  {name}: {what}", flush=True)
    settle()
    # Writes resumed as the clients see it (the operator's status can lag behind what happened), then more
    # acknowledgements after the recovery, so each group's gap is bounded on both sides.
    settled_ms = int(time.time() * 1000)
    brokers = [f"{CLUSTER}-broker-{g}" for g in groups]
    took = check(f"{name}: after the recovery, {', '.join(brokers)} acknowledge sends again",
                 lambda: p.wait_acks_after(brokers, settled_ms, 60))
    if took:
        print(f"  {name}: acknowledgements on every group {took[0]:.1f}s after the recovery", flush=True)
    time.sleep(8)
    finished = check(f"{name}: the producers stop and the accounting runs", lambda: p.finish(kill_ms))
    if not finished:
        return None
    result, gap, detail, gaps = finished
    print(f"  {name}: {result}", flush=True)
    print(f"  {name}: longest time without an acknowledged send per group: " +
          ", ".join(f"{b} {v if v is not None else 'none after the event'} s" for b, v in sorted(gaps.items())),
          flush=True)
    for line in detail[:14]:
        print(f"  {name}: {line}", flush=True)

    def accounted():
        if not result.startswith("RESULT PASS"):
            raise AssertionError(result + " " + " | ".join(detail[:5]))
        return True
    check(f"{name}: lost 0, unexpected 0 (Jepsen total-queue accounting)", accounted)

    for g in groups:
        broker = f"{CLUSTER}-broker-{g}"
        measured = gaps.get(broker)

        def resumed():
            if measured is None or measured >= bound:
                raise AssertionError(f"{broker}: longest time without an acknowledged send: {measured} s "
                                     f"(bound {bound} s)")
            return True
        check(f"{name}: {broker} takes writes again within {bound:.0f} s (measured {measured} s)", resumed)
    return result


def run(c, k):
    c.helm("install", "ferrymq-operator", CHART, "-n", OP_NS, "--create-namespace", "--wait=false",
           "--set", "image.repository=ferrymq-operator", "--set", "image.tag=e2e", "--set", "brokerImage=ferrymq:e2e",
           "--set", "replicaCount=2", "--set", f"leaderElection.leaseDuration={LEASE_SECONDS}s",
           "--set", "leaderElection.renewDeadline=5s", "--set", "leaderElection.retryPeriod=1s")
    k.create(kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    config = dict(HOST_DISK)
    config.update({"autoCreateTopicEnable": "false", "haSlaveReportInterval": "200"})
    cluster_path = kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1")
    # The applications' pod: it only lends its network namespace to the Java clients.
    k.create(kube.path("pods", NS), {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": CLIENT_POD},
        "spec": {"terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "sleep", "image": "client:e2e", "command": ["/bin/sleep", "86400"]}]}})
    k.create(kube.path("clusters", NS, group="ferrymq.io", version="v1alpha1"), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Cluster", "metadata": {"name": CLUSTER},
        "spec": {"nameServer": {"replicas": 1},
                 "brokers": {"groups": GROUPS, "replicasPerGroup": 3, "storage": {"size": "1Gi"},
                             "replication": {"mode": "sync", "minInSyncReplicas": 2}, "config": config}}})

    def ready_in_sync():
        obj = k.get(cluster_path)
        gs = obj.get("status", {}).get("brokerGroups", [])
        return (condition(obj, "Ready").get("status") == "True" and len(gs) == GROUPS and
                all(len(g.get("inSync", [])) == 3 and g.get("failoverState") == "MasterServing" for g in gs) and gs)
    check("the client pod runs", lambda: kube.wait_for(
        lambda: c.is_ready(k.get(kube.path("pods", NS, CLIENT_POD))), 60, what="the client pod Ready"))
    gs = check(f"a Cluster of {GROUPS} groups x 3 replicas becomes Ready, pod 0 masters, 3 in sync each",
               lambda: kube.wait_for(ready_in_sync, 300, what="Ready with 3 in sync per group"))
    if not gs:
        dump(c, k, cluster_path)
        return
    for g in gs:
        print(f"  status: master {g['master']} epoch {g['epoch']} inSync {g['inSync']}", flush=True)
    check("the masters are pod 0 of each group at the first start",
          lambda: [g["master"] for g in gs] == [f"{CLUSTER}-broker-{i}-0" for i in range(GROUPS)])

    def record(g=0):
        cm = k.get(kube.path("configmaps", NS, f"{CLUSTER}-broker-{g}-ha"))
        return cm["data"]["record.json"]
    check("the HA record names the master (ConfigMap ha-broker-0-ha)",
          lambda: f'"master":"{GROUP}-0"' in record().replace(" ", ""))

    scenarios = ("kill9", "delete", "partition", "image", "config", "leader")
    for t in scenarios:
        k.create(kube.path("topics", NS, group="ferrymq.io", version="v1alpha1"), {
            "apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": f"loss-{t}"},
            "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 4, "read": 4}}})
    check("the Topics become Ready on both groups", lambda: kube.wait_for(lambda: all(
        condition(k.get(kube.path("topics", NS, f"loss-{t}", group="ferrymq.io", version="v1alpha1")),
                  "Ready").get("status") == "True" for t in scenarios), 120, what="Topics Ready"))

    def serving_again():
        kube.wait_for(lambda: group_status(k)[0].get("failoverState") == "MasterServing" and
                      group_status(k)[0].get("master"), 120, what="a master serving again")

    def restarts(pod):
        return sum(s.get("restartCount", 0) for s in k.get(kube.path("pods", NS, pod))["status"]
                   .get("containerStatuses", []))

    def settled_group():
        """Group 0's status once it names a serving master and all 3 members in sync."""
        def ok():
            g, _ = group_status(k)
            return (g.get("master") and g.get("failoverState") == "MasterServing" and len(g.get("inSync", [])) == 3
                    and g)
        return kube.wait_for(ok, 120, what="group 0 serving with 3 in sync")

    # 1. The master's process is killed; the pod runner restarts it in the same pod.
    master = gs[0]["master"]
    restarts_before = restarts(master)

    def kill9():
        pid = c.container_pid(NS, master)
        os.kill(pid, 9)
        kube.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30, what=f"pid {pid} gone")
        return f"killed the process of {master} (SIGKILL, pid {pid})"

    def restarted_and_serving():
        t0 = time.time()
        kube.wait_for(lambda: restarts(master) > restarts_before and
                      c.is_ready(k.get(kube.path("pods", NS, master))), 120, what=f"{master} restarted and Ready")
        print(f"  kill9: {master} restarted and Ready {time.time() - t0:.1f}s after the process was gone",
              flush=True)
        serving_again()
    produce_through(c, k, "kill9", "loss-kill9", kill9, restarted_and_serving, groups=[0])
    g = check("kill9: group 0 serves with 3 in sync again", settled_group) or group_status(k)[0]
    print(f"  status after kill -9: master {g.get('master')} epoch {g.get('epoch')} failovers "
          f"{g.get('failovers')} inSync {g.get('inSync')}", flush=True)

    # 2. The master's pod is deleted; its StatefulSet creates it again (same name, same volume).
    master = g.get("master")
    if not master:
        return
    old_uid = k.get(kube.path("pods", NS, master))["metadata"]["uid"]

    def delete_pod():
        k.delete(kube.path("pods", NS, master))
        return f"deleted pod {master}"

    def recreated_and_serving():
        kube.wait_for(lambda: (k.get_or_none(kube.path("pods", NS, master)) or {}).get("metadata", {}).get("uid")
                      not in (None, old_uid), 120, what=f"{master} recreated")
        serving_again()
        kube.wait_for(lambda: len(group_status(k)[0].get("inSync", [])) == 3, 120, what="3 in sync again")
    produce_through(c, k, "delete", "loss-delete", delete_pod, recreated_and_serving, groups=[0])
    g, _ = group_status(k)
    print(f"  status after the pod deletion: master {g.get('master')} epoch {g.get('epoch')} failovers "
          f"{g.get('failovers')} inSync {g.get('inSync')}", flush=True)

    # 3. The master's pod is cut off the network, its process keeps running.
    part = MasterCut(c, k, 0)
    old, old_epoch, old_failovers = part.old, part.old_epoch, part.old_failovers

    def cut():
        part.cut()
        return f"cut {old} off the network (host veth {part.veth} down)"

    def promoted():
        s, after = part.promoted(120)
        print(f"  partition: {s['master']} is master of epoch {s['epoch']} {after:.1f}s after the cut", flush=True)
    produce_through(c, k, "partition", "loss-partition", cut, promoted, groups=[0])

    g, _ = group_status(k)

    def failover_status():
        if not (g.get("master") != old and g.get("epoch", 0) > old_epoch and
                g.get("failovers") == old_failovers + 1 and g.get("lastFailover")):
            raise AssertionError(str(g))
        return True
    check("status.brokerGroups[0]: a new master, a higher epoch, one more failover, lastFailover set",
          failover_status)

    def events():
        evs = k.list(kube.path("events", NS)).get("items", [])
        mine = [e for e in evs if event_time(e) >= part.t_cut - 1 and GROUP in e.get("message", "")]
        reasons = {e.get("reason") for e in mine}
        wiped = any(e.get("reason") == "FailingOver" and "write permission wiped on the name servers"
                    in e.get("message", "") for e in mine)
        return {"FailingOver", "MasterPromoted"} <= reasons and wiped and reasons
    check("Events: FailingOver (write permission wiped on the name servers), MasterPromoted",
          lambda: kube.wait_for(events, 30, what="failover Events"))

    part.heal()
    s = check(f"after the heal the old master {old} follows the new master and is back in sync", part.old_follows)
    if s:
        print(f"  healed: master {s['master']} epoch {s['epoch']} inSync {s['inSync']}", flush=True)

    def metrics():
        pods = k.list(kube.path("pods", OP_NS), {"labelSelector": "app.kubernetes.io/name=ferrymq-operator"})
        for p in pods.get("items", []):
            ip = p.get("status", {}).get("podIP")
            body = urllib.request.urlopen(f"http://{ip}:8080/metrics", timeout=5).read().decode()
            m = re.search(r'^ferrymq_operator_failovers_total\{[^}]*group="' + GROUP + r'"[^}]*\} ([0-9.]+)',
                          body, re.M)
            if m and float(m.group(1)) >= 1:
                return True
        return False
    check("metric ferrymq_operator_failovers_total counts the promotion", metrics)

    # 4. and 5. An image change, then a config change, roll both groups: one group at a time, slaves one at a
    # time, a switchover, then the old master.
    def roll(name, change, what):
        before = [group_status(k, i)[0] for i in range(GROUPS)]
        revisions = [k.get(kube.path("statefulsets", NS, f"{CLUSTER}-broker-{i}", group="apps", version="v1"))
                     ["status"]["updateRevision"] for i in range(GROUPS)]
        t_roll = time.time()

        def apply():
            nonlocal t_roll
            t_roll = time.time()
            k.merge_patch(cluster_path, {"spec": change})
            return what

        def rolled():
            def done():
                if condition(k.get(cluster_path), "Ready").get("status") != "True":
                    return False
                for i in range(GROUPS):
                    st = k.get(kube.path("statefulsets", NS, f"{CLUSTER}-broker-{i}", group="apps",
                                         version="v1")).get("status", {})
                    if (st.get("updateRevision") in (None, "", revisions[i]) or st.get("updatedReplicas") != 3
                            or len(group_status(k, i)[0].get("inSync", [])) != 3):
                        return False
                return True
            kube.wait_for(done, 420, what="both groups rolled with 3 in sync")
            print(f"  {name}: done {time.time() - t_roll:.1f}s after the change", flush=True)
        result = produce_through(c, k, name, f"loss-{name}", apply, rolled, groups=range(GROUPS), bound=5.0)
        after = [group_status(k, i)[0] for i in range(GROUPS)]
        for i in range(GROUPS):
            print(f"  {name}: group {i} master {before[i].get('master')} -> {after[i].get('master')}, epoch "
                  f"{before[i].get('epoch')} -> {after[i].get('epoch')}", flush=True)

        def roll_events():
            evs = k.list(kube.path("events", NS)).get("items", [])
            reasons = [e.get("reason") for e in evs if event_time(e) >= t_roll - 1]
            return (reasons.count("RollingRestart") >= 3 * GROUPS and reasons.count("Switchover") >= GROUPS
                    and reasons)
        check(f"{name}: Events: a RollingRestart per pod and a Switchover per group",
              lambda: result and kube.wait_for(roll_events, 30, what="rolling Events"))
        check(f"{name}: the switchovers moved each master without a failover", lambda: all(
            after[i].get("master") != before[i].get("master") and
            after[i].get("failovers") == before[i].get("failovers") for i in range(GROUPS)))
    roll("image", {"image": "ferrymq:e2e-rolled"}, "set spec.image to ferrymq:e2e-rolled")
    roll("config", {"brokers": {"config": {"maxMessageSize": "4194305"}}},
         "set spec.brokers.config.maxMessageSize (the pod template's config hash changes)")

    scale_name_servers(c, k, cluster_path)
    scale_groups(c, k, cluster_path)

    # Idempotence with replicas and a ConsumerGroup: passes keep probing every group (every 3 s), yet write
    # nothing.
    def idempotent():
        t0 = len(c.audit_events())
        base = reconcile_count(c, k, "cluster")
        kube.wait_for(lambda: reconcile_count(c, k, "cluster") >= base + 4, 60, what="4 more Cluster passes")
        writes = [e for e in c.audit_events()[t0:] if e.get("user", {}).get("username") == SA_USER and
                  e.get("verb") not in ("get", "list", "watch") and
                  e.get("objectRef", {}).get("resource") not in ("leases", "events")]
        if writes:
            raise AssertionError("operator wrote after convergence: " + "; ".join(
                f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('name')}" for e in writes))
        return True
    check(f"converged with {GROUPS} groups x 3 replicas and a ConsumerGroup, the operator's passes write nothing "
          "(audit log)", idempotent)

    leader_loss(c, k)


def scale_name_servers(c, k, cluster_path):
    """Name servers 1 -> 2: no broker restarts, and the new name server routes every group within seconds
    (brokers resolve the name servers' headless Service again every 3 s)."""
    broker_pods = lambda: {  # noqa: E731
        p["metadata"]["name"]: (p["metadata"]["uid"],
                                sum(s.get("restartCount", 0) for s in p["status"].get("containerStatuses", [])))
        for p in k.list(kube.path("pods", NS), {"labelSelector": "app.kubernetes.io/component=broker"})["items"]}
    before = broker_pods()
    confs = {i: k.get(kube.path("configmaps", NS, f"{CLUSTER}-broker-{i}-config"))["data"] for i in range(GROUPS)}
    k.merge_patch(cluster_path, {"spec": {"nameServer": {"replicas": 2}}})
    new_pod = f"{CLUSTER}-namesrv-1"

    def started():
        p = k.get_or_none(kube.path("pods", NS, new_pod))
        return p and c.is_ready(p) and p["status"].get("podIP")
    ip = check(f"name servers scaled 1 -> 2: {new_pod} is Ready", lambda: kube.wait_for(started, 120,
                                                                                        what=f"{new_pod} Ready"))
    if not ip:
        return
    t_ready = time.time()

    def routes():
        r = subprocess.run([ferryctl_path(), "-n", f"{ip}:9876", "topic", "route", "loss-kill9"],
                           capture_output=True, text=True, timeout=30)
        return r.returncode == 0 and all(f"{CLUSTER}-broker-{i}" in r.stdout for i in range(GROUPS)) and r.stdout
    if check(f"the new name server {new_pod} routes to every broker group within 15 s of being Ready",
             lambda: kube.wait_for(routes, 15, what="routes on the new name server")):
        print(f"  name servers: {new_pod} routes every group {time.time() - t_ready:.1f}s after it was Ready",
              flush=True)
    def untouched():
        after = broker_pods()
        if after != before:
            raise AssertionError(f"broker pods (uid, restarts) before {before}, after {after}")
        for i in range(GROUPS):
            if k.get(kube.path("configmaps", NS, f"{CLUSTER}-broker-{i}-config"))["data"] != confs[i]:
                raise AssertionError(f"{CLUSTER}-broker-{i}-config changed")
        return len(before) == 3 * GROUPS
    check("no broker pod was restarted or replaced, and no broker.conf changed", untouched)


class Consumer:
    """ReplicationLossCheck consume: a push consumer of consumer group `group` in the client pod's network
    namespace, appending the ids it consumes to the producer's read file, until stop()."""

    def __init__(self, producer, group):
        self.p, self.group, self.runs = producer, group, 0
        self.proc = None

    def start(self):
        self.runs += 1
        stop = os.path.join(self.p.dir, f"stop-consumer-{self.runs}")
        self.stop_file, self.log = stop, os.path.join(self.p.dir, f"consumer-{self.runs}.log")
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.p.java("consume", self.p.namesrv, self.p.topic, self.group, self.p.read,
                                                     stop), stdout=out, stderr=subprocess.STDOUT)
        return kube.wait_for(lambda: "consuming: started" in open(self.log).read(), 60, what="the consumer started")

    def stop(self):
        open(self.stop_file, "w").close()
        self.proc.wait(timeout=60)
        return open(self.log).read().strip().splitlines()[-1]


def topic_stats(k, topic):
    """{broker: (messages stored, queues)} of a topic from `ferryctl topic stats` against the name server."""
    ip = k.get(kube.path("pods", NS, f"{CLUSTER}-namesrv-0"))["status"]["podIP"]
    r = subprocess.run([ferryctl_path(), "-n", f"{ip}:9876", "topic", "stats", topic], capture_output=True,
                       text=True, timeout=30)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0].startswith(f"{CLUSTER}-broker-") and f[2].isdigit() and f[3].isdigit():
            n, q = out.get(f[0], (0, 0))
            out[f[0]] = (n + int(f[3]) - int(f[2]), q + 1)
    return out


def scale_groups(c, k, cluster_path):
    """7. Broker groups 2 -> 3 -> 2 with producers and a consumer group throughout, and a backlog on the group
    that leaves: the new group gets the ConsumerGroup before the Topic; the leaving group turns read-only, is kept
    while it holds messages nobody consumed, and is removed once its consumers drained it; then every
    acknowledged message was consumed (Jepsen accounting over the consumer group's reads)."""
    cg_path = kube.path("consumergroups", NS, group="ferrymq.io", version="v1alpha1")
    topic_path = kube.path("topics", NS, "loss-scale", group="ferrymq.io", version="v1alpha1")
    k.create(cg_path, {"apiVersion": "ferrymq.io/v1alpha1", "kind": "ConsumerGroup",
                       "metadata": {"name": "scale-cg"}, "spec": {"clusterRef": {"name": CLUSTER}}})
    k.create(kube.path("topics", NS, group="ferrymq.io", version="v1alpha1"), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": "loss-scale"},
        "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 4, "read": 4}}})
    cg = lambda: k.get(kube.path("consumergroups", NS, "scale-cg", group="ferrymq.io", version="v1alpha1"))  # noqa
    on = lambda obj: [g if isinstance(g, str) else g.get("name") for g in  # noqa: E731
                      obj.get("status", {}).get("brokerGroups", [])]
    if not check("scale: the Topic loss-scale and the ConsumerGroup scale-cg are Ready on both groups",
                 lambda: kube.wait_for(lambda: condition(k.get(topic_path), "Ready").get("status") == "True" and
                                       condition(cg(), "Ready").get("status") == "True", 120, what="Ready")):
        return
    new = f"{CLUSTER}-broker-{GROUPS}"
    p = Producer(c, "loss-scale", "scale")
    consumer = Consumer(p, "scale-cg")
    if not check("scale: the Java producers and the consumer group run", lambda: p.start() and consumer.start()):
        return

    # Scale out: the new group receives the ConsumerGroup, then the Topic; producers then write to it.
    k.merge_patch(cluster_path, {"spec": {"brokers": {"groups": GROUPS + 1}}})
    t_out = time.time()
    order = []

    def scaled_out():
        topic_on, cg_on = new in on(k.get(topic_path)), new in on(cg())
        if topic_on and not cg_on:
            order.append("the Topic was on the new group before the ConsumerGroup")
        g, _ = group_status(k, GROUPS)
        return (topic_on and cg_on and g.get("failoverState") == "MasterServing" and len(g.get("inSync", [])) == 3
                and topic_stats(k, "loss-scale").get(new, (0, 0))[0] > 0)
    if check(f"scale out {GROUPS} -> {GROUPS + 1}: {new} serves with 3 in sync, has scale-cg and loss-scale, and "
             "producers write to it", lambda: kube.wait_for(scaled_out, 300, interval=1, what="scaled out")):
        print(f"  scale: {new} took writes {time.time() - t_out:.1f}s after the change", flush=True)
    def ordered():
        if order:
            raise AssertionError(order[0])
        return True
    check("scale: the ConsumerGroup reached the new group before the Topic (no topic without its consumer group "
          "config)", ordered)

    # A backlog: the consumer stops while producers go on writing to every group.
    print(f"  scale: consumer stopped: {consumer.stop()}", flush=True)
    time.sleep(10)
    k.merge_patch(cluster_path, {"spec": {"brokers": {"groups": GROUPS}}})
    t_in = time.time()
    kill_ms = int(t_in * 1000)
    sts = kube.path("statefulsets", NS, new, group="apps", version="v1")

    def draining():
        g, obj = group_status(k, GROUPS)
        si = g.get("scaleIn", {})
        return (g.get("name") == new and si.get("phase") == "Draining" and si.get("backlog", 0) > 0 and
                condition(obj, "ScalingIn").get("status") == "True" and si)
    si = check(f"scale in {GROUPS + 1} -> {GROUPS}: {new} turns read-only and reports its backlog (Draining)",
               lambda: kube.wait_for(draining, 60, interval=1, what="Draining with a backlog"))
    if si:
        print(f"  scale: {new}: {si.get('message')}", flush=True)
    stored = topic_stats(k, "loss-scale").get(new, (0, 0))[0]
    time.sleep(15)

    def kept():
        g, _ = group_status(k, GROUPS)
        after = topic_stats(k, "loss-scale").get(new, (0, 0))[0]
        if k.get_or_none(sts) is None or g.get("scaleIn", {}).get("phase") != "Draining":
            raise AssertionError(f"{new} was not kept while it held a backlog: {g}")
        if after != stored:
            raise AssertionError(f"{new} stored {after - stored} messages after it turned read-only")
        if not p.acked_since(time.time() - 3):
            raise AssertionError("producers stopped getting acknowledgements")
        print(f"  scale: {new}: backlog {g['scaleIn'].get('backlog')}: {g['scaleIn'].get('message')}", flush=True)
        return True
    check(f"scale: {new} is kept while it holds unconsumed messages, stores nothing new, and producers go on",
          kept)

    # The consumer drains it; the operator removes the group.
    check("scale: the consumer group consumes again", consumer.start)

    def removed():
        obj = k.get(cluster_path)
        groups = obj.get("status", {}).get("brokerGroups", [])
        return (k.get_or_none(sts) is None and len(groups) == GROUPS and
                condition(obj, "ScalingIn").get("status") == "False" and
                not k.get_or_none(kube.path("configmaps", NS, f"{new}-ha")) and
                not k.list(kube.path("persistentvolumeclaims", NS),
                           {"labelSelector": f"app.kubernetes.io/instance={CLUSTER},ferrymq.io/broker-group={new}"}
                           ).get("items") and obj)
    if check(f"scale: once drained, {new} is removed with its HA record and volumes",
             lambda: kube.wait_for(removed, 300, interval=1, what=f"{new} removed")):
        print(f"  scale: {new} removed {time.time() - t_in:.1f}s after the scale-in", flush=True)

    def removal_event():
        evs = [e for e in k.list(kube.path("events", NS)).get("items", []) if event_time(e) >= t_in - 1]
        reasons = {e.get("reason") for e in evs if new in e.get("message", "")}
        return {"ScaleInStarted", "ScaleInReadOnly", "BrokerGroupRemoved"} <= reasons and reasons
    check("scale: Events ScaleInStarted, ScaleInReadOnly and BrokerGroupRemoved (drained, nothing discarded)",
          lambda: kube.wait_for(removal_event, 30, what="BrokerGroupRemoved"))

    time.sleep(5)
    finished = check("scale: the producers stop", lambda: p.finish_producing())
    if not finished:
        return
    acked = set()
    on_new = 0
    with open(p.sent) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 5 and cols[1] == "SEND_OK":
                acked.add(cols[0])
                on_new += cols[4].startswith(new + ":")

    def all_consumed():
        with open(p.read) as f:
            read = set(f.read().split())
        return acked <= read
    check("scale: the consumer group consumed every acknowledged message",
          lambda: kube.wait_for(all_consumed, 180, interval=1, what="every acknowledged id consumed"))
    print(f"  scale: consumer stopped: {consumer.stop()}", flush=True)

    def cg_settled():
        st = cg().get("status", {})
        return st.get("onlineClients") == 0 and st.get("totalLag") == 0 and st
    check("scale: the ConsumerGroup's status settles (no client online, lag 0)",
          lambda: kube.wait_for(cg_settled, 120, interval=1, what="scale-cg settled"))
    result = check("scale: accounting over the consumer group's reads", lambda: p.check(kill_ms))
    if result:
        print(f"  scale: {result}; {on_new} of them acknowledged by {new}", flush=True)

        def passed():
            if not result.startswith("RESULT PASS") or on_new == 0:
                raise AssertionError(f"{result}; acknowledged by {new}: {on_new}")
            return True
        check(f"scale: lost 0, unexpected 0, and {new} had taken writes", passed)


def ferryctl_path():
    dirs = (os.environ.get("FMQ_BIN_DIR") or f"{REPO}/build/debug/broker/cli").split(":")
    for d in dirs:
        if os.access(os.path.join(d, "ferryctl"), os.X_OK):
            return os.path.join(d, "ferryctl")
    raise AssertionError(f"ferryctl not found in {dirs}")


def lease_holder(k):
    lease = k.get_or_none(kube.path("leases", OP_NS, "ferrymq-operator", group="coordination.k8s.io", version="v1"))
    return (lease or {}).get("spec", {}).get("holderIdentity", "")


def leader_loss(c, k):
    """6. The leader exits right after claiming a failover: the standby finishes it, one promotion."""
    op_pods = lambda: k.list(kube.path("pods", OP_NS),  # noqa: E731
                             {"labelSelector": "app.kubernetes.io/name=ferrymq-operator"}).get("items", [])
    old_pods = {p["metadata"]["name"] for p in op_pods()}
    c.helm("upgrade", "ferrymq-operator", CHART, "-n", OP_NS, "--reuse-values", "--wait=false",
           "--set", "extraArgs[0]=--fault=exit-after-failover-claim")

    def upgraded():
        pods = [p for p in op_pods() if not p["metadata"].get("deletionTimestamp")]
        names = {p["metadata"]["name"] for p in pods}
        holder = lease_holder(k)
        return (len(pods) == 2 and not names & old_pods and all(c.is_ready(p) for p in pods) and
                any(holder.startswith(n) for n in names) and pods)
    if not check("the operator restarts with --fault exit-after-failover-claim: 2 new replicas, one leads",
                 lambda: kube.wait_for(upgraded, 180, what="the upgraded operator")):
        return
    g1 = f"{CLUSTER}-broker-1"
    part = MasterCut(c, k, 1)
    old, old_epoch, old_failovers = part.old, part.old_epoch, part.old_failovers
    leader_before = lease_holder(k)

    def cut():
        part.cut()
        return f"cut {old} (group 1's master) off the network; the leader is {leader_before}"

    def promoted():
        s, after = part.promoted(180)
        print(f"  leader: {s['master']} is master of epoch {s['epoch']} {after:.1f}s after the cut; "
              f"the Lease is now held by {lease_holder(k)}", flush=True)
    produce_through(c, k, "leader", "loss-leader", cut, promoted, groups=[1], bound=90.0)
    part.heal()

    def one_promotion():
        s, _ = group_status(k, 1)
        evs = [e for e in k.list(kube.path("events", NS)).get("items", [])
               if event_time(e) >= part.t_cut - 1 and g1 in e.get("message", "")]
        promoted = [e for e in evs if e.get("reason") == "MasterPromoted"]
        count = sum(int(e.get("count", 1) or 1) for e in promoted)
        finishing = [e for e in evs if e.get("reason") == "FailingOver" and "finishing the failover claimed"
                     in e.get("message", "")]
        if not (s.get("failovers") == old_failovers + 1 and s.get("epoch") == old_epoch + 1 and count == 1
                and finishing):
            raise AssertionError(f"status {s}; MasterPromoted x{count}; finishing Events {len(finishing)}")
        print(f"  leader: MasterPromoted once: {promoted[0].get('message')}", flush=True)
        return True
    check("the leader exited after its claim, the standby finished it: exactly one promotion "
          "(failovers +1, epoch +1, one MasterPromoted Event)", one_promotion)

    def handed_over():
        holder = lease_holder(k)
        pod = k.get(kube.path("pods", OP_NS, leader_before.rsplit("_", 1)[0]))
        restarts = sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses", []))
        if not (holder and holder != leader_before and restarts >= 1):
            raise AssertionError(f"Lease holder {holder} (was {leader_before}); the old leader's restarts: {restarts}")
        print(f"  leader: the old leader's process exited (restarts {restarts}); the Lease is held by {holder}",
              flush=True)
        return True
    check("the old leader's process exited and the Lease is held by another process", handed_over)

    check(f"after the heal {old} follows the new master and is back in sync", part.old_follows)


if __name__ == "__main__":
    sys.exit(main())
