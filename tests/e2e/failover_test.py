#!/usr/bin/env python3
"""End-to-end test of automatic failover (issue "Operator v2", acceptance 1) on a real control plane with the pod
runner: the Helm chart installs the operator; a Cluster with one broker group of 3 replicas (sync replication,
minInSyncReplicas 2) becomes Ready with pod 0 as master and the other two in sync; then, each time with the real
Java client (rocketmq-client 4.9.7, tests/compat ReplicationLossCheck) producing throughout and Jepsen's
total-queue accounting afterwards (lost / recovered / duplicated / unexpected; lost and unexpected must be 0):

  kill -9     the master's process is killed (the pod runner restarts it, as a kubelet does): writes resume
              within 30 s (the longest gap without an acknowledgement is measured and printed);
  partition   the master pod's network link is cut (its process keeps running): the operator fails the group
              over to an in-sync slave (a claim in the HA record, a new epoch), writes resume within 30 s; after
              the heal the old master acknowledged nothing of the new epoch and follows the new master; status,
              Events and metrics show the failover;
  roll        a config change: the operator restarts the slaves one at a time (each back in sync first), hands
              the master role over by a switchover, then restarts the old master: the longest time without an
              acknowledged send stays under 5 s.

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
GROUP = f"{CLUSTER}-broker-0"
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


def group_status(k):
    obj = k.get(kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1"))
    groups = obj.get("status", {}).get("brokerGroups", [])
    return (groups[0] if groups else {}), obj


class Producer:
    """ReplicationLossCheck produce in the name server pod's network namespace, until stop()."""

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
        return ["ip", "netns", "exec", self.c.netns(NS, f"{CLUSTER}-namesrv-0"), "java", "-Xms64m", "-Xmx256m",
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

    def finish(self, kill_ms):
        open(self.stop_file, "w").close()
        self.proc.wait(timeout=120)
        r = subprocess.run(self.java("verify", self.namesrv, self.topic, self.sent, self.read, str(kill_ms)),
                           capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        result = [line for line in out.splitlines() if line.startswith("RESULT ")]
        if not result:
            raise AssertionError(f"verify printed no RESULT: {out[-3000:]}")
        m = re.search(r"unavailable=([0-9.]+)s", result[-1])
        gap = float(m.group(1)) if m else None
        detail = [line for line in out.splitlines() if line.startswith(("kill at", "LOST", "UNEXPECTED"))]
        return result[-1], gap, detail


def produce_through(c, k, name, topic, event, settle, bound=RESUME_BOUND):
    """Producers run, `event()` happens (returns a description), writes must resume; then the accounting."""
    p = Producer(c, topic, name)
    if not check(f"{name}: the Java producers get acknowledgements", p.start):
        return None
    time.sleep(5)
    kill_ms = int(time.time() * 1000)
    what = event()
    print(f"  {name}: {what}", flush=True)
    settle()
    time.sleep(8)  # acknowledgements after the recovery, so the gap is bounded on both sides
    result, gap, detail = p.finish(kill_ms)
    print(f"  {name}: {result}", flush=True)
    for line in detail[:10]:
        print(f"  {name}: {line}", flush=True)

    def accounted():
        if not result.startswith("RESULT PASS"):
            raise AssertionError(result + " " + " | ".join(detail[:5]))
        return True
    check(f"{name}: lost 0, unexpected 0 (Jepsen total-queue accounting)", accounted)

    def resumed():
        if gap is None or gap >= bound:
            raise AssertionError(f"longest time without an acknowledged send: {gap} s (bound {bound} s)")
        return True
    check(f"{name}: writes resume within {bound:.0f} s (measured {gap} s)", resumed)
    return result


def run(c, k):
    c.helm("install", "ferrymq-operator", CHART, "-n", OP_NS, "--create-namespace", "--wait=false",
           "--set", "image.repository=ferrymq-operator", "--set", "image.tag=e2e", "--set", "brokerImage=ferrymq:e2e",
           "--set", "replicaCount=1")
    k.create(kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    config = dict(HOST_DISK)
    config.update({"autoCreateTopicEnable": "false", "haSlaveReportInterval": "200"})
    k.create(kube.path("clusters", NS, group="ferrymq.io", version="v1alpha1"), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Cluster", "metadata": {"name": CLUSTER},
        "spec": {"nameServer": {"replicas": 1},
                 "brokers": {"groups": 1, "replicasPerGroup": 3, "storage": {"size": "1Gi"},
                             "replication": {"mode": "sync", "minInSyncReplicas": 2}, "config": config}}})

    def ready_in_sync():
        g, obj = group_status(k)
        return (condition(obj, "Ready").get("status") == "True" and len(g.get("inSync", [])) == 3
                and g.get("failoverState") == "MasterServing" and g)
    g = check("a Cluster of 1 group x 3 replicas becomes Ready, pod 0 master, 3 in sync",
              lambda: kube.wait_for(ready_in_sync, 300, what="Ready with 3 in sync"))
    if not g:
        dump(c, k, kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1"))
        return
    print(f"  status: master {g['master']} epoch {g['epoch']} inSync {g['inSync']}", flush=True)
    check("the master is pod 0 at the first start", lambda: g["master"] == f"{GROUP}-0")

    def record():
        cm = k.get(kube.path("configmaps", NS, f"{GROUP}-ha"))
        return cm["data"]["record.json"]
    check("the HA record names the master (ConfigMap ha-broker-0-ha)",
          lambda: f'"master":"{GROUP}-0"' in record().replace(" ", ""))

    for t in ("kill9", "partition"):
        k.create(kube.path("topics", NS, group="ferrymq.io", version="v1alpha1"), {
            "apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": f"loss-{t}"},
            "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 4, "read": 4}}})
    check("the Topics become Ready", lambda: kube.wait_for(lambda: all(
        condition(k.get(kube.path("topics", NS, f"loss-{t}", group="ferrymq.io", version="v1alpha1")),
                  "Ready").get("status") == "True" for t in ("kill9", "partition")), 120, what="Topics Ready"))

    # 1. The master's process is killed; the pod runner restarts it in the same pod.
    master = g["master"]

    def kill9():
        os.kill(c.container_pid(NS, master), 9)
        return f"killed the process of {master} (SIGKILL)"

    def serving_again():
        kube.wait_for(lambda: group_status(k)[0].get("failoverState") == "MasterServing" and
                      group_status(k)[0].get("master"), 120, what="a master serving again")
    produce_through(c, k, "kill9", "loss-kill9", kill9, serving_again)
    g, _ = group_status(k)
    print(f"  status after kill -9: master {g.get('master')} epoch {g.get('epoch')} failovers "
          f"{g.get('failovers')} inSync {g.get('inSync')}", flush=True)

    # 2. The master's pod is cut off the network, its process keeps running.
    old, old_epoch = g.get("master"), g.get("epoch", 0)
    veth = c.host_veth(NS, old)
    t_cut = time.time()

    def cut():
        nonlocal t_cut
        t_cut = time.time()
        subprocess.run(["ip", "link", "set", veth, "down"], check=True)
        return f"cut {old} off the network (host veth {veth} down)"

    def promoted():
        def new_master():
            s, _ = group_status(k)
            return s.get("master") not in ("", None, old) and s.get("epoch", 0) > old_epoch and s
        s = kube.wait_for(new_master, 120, what="a new master")
        print(f"  partition: {s['master']} is master of epoch {s['epoch']} "
              f"{time.time() - t_cut:.1f}s after the cut", flush=True)
    produce_through(c, k, "partition", "loss-partition", cut, promoted)

    g, _ = group_status(k)

    def failover_status():
        if not (g.get("master") != old and g.get("epoch", 0) > old_epoch and g.get("failovers") == 1
                and g.get("lastFailover")):
            raise AssertionError(str(g))
        return True
    check("status.brokerGroups[0]: a new master, a higher epoch, failovers 1, lastFailover set", failover_status)

    def events():
        evs = k.list(kube.path("events", NS)).get("items", [])
        reasons = {e.get("reason") for e in evs if event_time(e) >= t_cut - 1}
        return {"FailingOver", "MasterPromoted"} <= reasons and reasons
    check("Events: FailingOver, MasterPromoted", lambda: kube.wait_for(events, 30, what="failover Events"))

    subprocess.run(["ip", "link", "set", veth, "up"], check=True)

    def old_follows():
        s, _ = group_status(k)
        return old in s.get("inSync", []) and s.get("master") != old and s
    s = check(f"after the heal the old master {old} follows the new master and is back in sync",
              lambda: kube.wait_for(old_follows, 120, what="the old master in sync"))
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

    # 3. A config change rolls the group: slaves one at a time, a switchover, then the old master.
    k.create(kube.path("topics", NS, group="ferrymq.io", version="v1alpha1"), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": "loss-roll"},
        "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 4, "read": 4}}})
    kube.wait_for(lambda: condition(k.get(kube.path("topics", NS, "loss-roll", group="ferrymq.io",
                                                     version="v1alpha1")), "Ready").get("status") == "True",
                  120, what="Topic loss-roll Ready")
    cluster_path = kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1")
    before, _ = group_status(k)
    t_roll = time.time()
    old_revision = k.get(kube.path("statefulsets", NS, GROUP, group="apps", version="v1"))["status"]["updateRevision"]

    def change_config():
        nonlocal t_roll
        t_roll = time.time()
        k.merge_patch(cluster_path, {"spec": {"brokers": {"config": {"maxMessageSize": "4194305"}}}})
        return "set spec.brokers.config.maxMessageSize (the pod template's config hash changes)"

    def rolled():
        def done():
            obj = k.get(cluster_path)
            sts = k.get(kube.path("statefulsets", NS, GROUP, group="apps", version="v1"))
            st = sts.get("status", {})
            return (condition(obj, "Ready").get("status") == "True"
                    and st.get("updateRevision") not in (None, "", old_revision)
                    and st.get("updatedReplicas") == 3
                    and len(group_status(k)[0].get("inSync", [])) == 3)
        kube.wait_for(done, 300, what="the group rolled with 3 in sync")
        print(f"  roll: done {time.time() - t_roll:.1f}s after the change", flush=True)
    RESUME = 5.0
    result = produce_through(c, k, "roll", "loss-roll", change_config, rolled, bound=RESUME)
    after, _ = group_status(k)
    print(f"  roll: master {before.get('master')} -> {after.get('master')}, epoch {before.get('epoch')} -> "
          f"{after.get('epoch')}", flush=True)

    def roll_events():
        evs = k.list(kube.path("events", NS)).get("items", [])
        reasons = [e.get("reason") for e in evs if event_time(e) >= t_roll - 1]
        return reasons.count("RollingRestart") >= 3 and "Switchover" in reasons and reasons
    check("Events: a RollingRestart per pod and one Switchover",
          lambda: result and kube.wait_for(roll_events, 30, what="rolling Events"))
    check("the switchover moved the master without a failover",
          lambda: after.get("master") != before.get("master") and after.get("failovers") == before.get("failovers"))

    # Idempotence with replicas: passes keep probing every group (every 3 s), yet write nothing.
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
    check("converged with 3 replicas, the operator's passes write nothing (audit log)", idempotent)


if __name__ == "__main__":
    sys.exit(main())
