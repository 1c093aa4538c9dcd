#!/usr/bin/env python3
"""End-to-end test of the operator (issue "Operator v1 on a real Kubernetes API", acceptance 2-5) on a real
control plane with the pod runner: the Helm chart installs the operator (2 replicas, leader election, the chart's
RBAC), a Cluster with 1 name server and 2 broker groups becomes Ready, a Topic appears on both groups (ferryctl and
mqadmin), the real Java client (rocketmq-client 4.9.7) produces and consumes through the name server Service, a
ConsumerGroup adopts its group (mqadmin sees the config), reverts drift, resets offsets of the offline group to
earliest and to an RFC 3339 time and refuses a reset while a consumer is online, a converged reconcile pass writes
nothing, deleting the Topic removes it from brokers and name servers, a killed
broker degrades the Cluster until it is back, a deleted StatefulSet is recreated, and killing the leader hands the
Lease to the other replica within the lease time. spec.probe's dial test: ProbeSucceeded True, False within two
intervals naming a SIGSTOPped broker group, True again after. A real Prometheus scrapes the operator and the brokers (both
metric families): the series match what the Java client did, and the operator's Grafana dashboard's queries all
return series.

Prints PASS/FAIL lines and `operator: N passed, N failed`; the exit code is the result.

    tests/e2e/operator_test.py     # programs from $FMQ_BIN_DIR (colon-separated), default the debug build
"""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lib import kube, prometheus  # noqa: E402
from lib.broker_conf import HOST_DISK  # noqa: E402
from lib.checks import Checks  # noqa: E402
from lib.cluster import Cluster  # noqa: E402

OP_NS = "ferrymq-system"
NS = "mq"
CLUSTER = "prod"
CHART = os.path.join(REPO, "charts", "ferrymq-operator")
SA_USER = f"system:serviceaccount:{OP_NS}:ferrymq-operator"
LEASE_SECONDS = 8
RETRY_SECONDS = 1
check = Checks()


def condition(obj, ctype):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c.get("type") == ctype:
            return c
    return {}


def main():
    bin_dirs = (os.environ.get("FMQ_BIN_DIR") or
                ":".join(f"{REPO}/build/debug/{d}" for d in ("broker/cmd", "broker/cli", "operator/cmd"))).split(":")

    def find(prog):
        for d in bin_dirs:
            if os.access(os.path.join(d, prog), os.X_OK):
                return os.path.join(d, prog)
        return None
    for prog in ("ferrymq", "ferryctl", "ferrymq-operator"):
        if not find(prog):
            print(f"FAIL setup: {prog} not found in {bin_dirs} (build the debug preset or set FMQ_BIN_DIR)")
            print("operator: 0 passed, 1 failed")
            return 1
    ferryctl = find("ferryctl")
    cluster = Cluster(bin_dirs=bin_dirs)
    ok = False
    try:
        if not check("control plane and pod runner start", lambda: cluster.start() is cluster):
            return 1
        k = cluster.kube
        run(cluster, k, ferryctl)
        ok = check.failed == 0
    finally:
        cluster.stop(ok=ok)
    return check.summary("operator")


def run(c, k, ferryctl):
    cluster_path = kube.path("clusters", NS, CLUSTER, group="ferrymq.io", version="v1alpha1")
    topics_path = kube.path("topics", NS, group="ferrymq.io", version="v1alpha1")

    check("helm lint is clean", lambda: "0 chart(s) failed" in c.helm("lint", CHART).stdout)

    def install():
        c.helm("install", "ferrymq-operator", CHART, "-n", OP_NS, "--create-namespace", "--wait=false",
               "--set", "image.repository=ferrymq-operator", "--set", "image.tag=e2e",
               "--set", "brokerImage=ferrymq:e2e",
               "--set", f"leaderElection.leaseDuration={LEASE_SECONDS}s",
               "--set", "leaderElection.renewDeadline=5s", "--set", f"leaderElection.retryPeriod={RETRY_SECONDS}s")

        def ready():
            pods = k.list(kube.path("pods", OP_NS), {"labelSelector": "app.kubernetes.io/name=ferrymq-operator"})
            items = pods.get("items", [])
            return len(items) == 2 and all(c.is_ready(p) for p in items) and items
        return kube.wait_for(ready, 120, what="2 operator pods Ready")
    op_pods = check("helm install creates the operator: 2 replicas Ready", install)
    if not op_pods:
        return

    def lease_holder():
        lease = k.get_or_none(kube.path("leases", OP_NS, "ferrymq-operator", group="coordination.k8s.io",
                                        version="v1"))
        return (lease or {}).get("spec", {}).get("holderIdentity", "")

    def one_leader():
        holder = kube.wait_for(lease_holder, 60, what="a Lease holder")
        names = [p["metadata"]["name"] for p in op_pods]
        return any(holder.startswith(n + "_") for n in names) and holder
    check("exactly one replica holds the Lease", one_leader)

    # A Cluster: 1 name server, 2 broker groups.
    k.create(kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    k.create(kube.path("clusters", NS, group="ferrymq.io", version="v1alpha1"), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Cluster", "metadata": {"name": CLUSTER},
        "spec": {"nameServer": {"replicas": 1}, "brokers": {"groups": 2, "storage": {"size": "1Gi"},
                                                          "config": dict(HOST_DISK)}}})

    def cluster_ready(timeout=240):
        def ready():
            obj = k.get(cluster_path)
            return condition(obj, "Ready").get("status") == "True" and obj
        return kube.wait_for(ready, timeout, what="Cluster Ready=True")
    obj = check("Cluster with 1 name server and 2 broker groups becomes Ready", cluster_ready)
    if not obj:
        dump(c, k, cluster_path)
        return
    check("Cluster status: every condition for this generation, both groups writable, 3/3", lambda: (
        all(cond["observedGeneration"] == obj["metadata"]["generation"] for cond in obj["status"]["conditions"]) and
        {cond["type"] for cond in obj["status"]["conditions"]} >=
        {"Ready", "Available", "Progressing", "Degraded", "ResourcesSynced"} and
        [g["name"] for g in obj["status"]["brokerGroups"] if g["writable"]] == ["prod-broker-0", "prod-broker-1"] and
        obj["status"]["replicasSummary"] == "3/3"))
    ns_ip = c.pod_ip(NS, "prod-namesrv-0")
    namesrv = f"{ns_ip}:9876"

    # A Topic on both groups.
    k.create(topics_path, {"apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": "orders"},
                           "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 4, "read": 4}}})
    topic_path = kube.path("topics", NS, "orders", group="ferrymq.io", version="v1alpha1")

    def topic_ready():
        t = k.get(topic_path)
        return condition(t, "Ready").get("status") == "True" and t
    if not check("Topic becomes Ready", lambda: kube.wait_for(topic_ready, 90, what="Topic Ready")):
        dump(c, k, topic_path)

    def route_ferryctl():
        r = subprocess.run([ferryctl, "-n", namesrv, "topic", "route", "orders"], capture_output=True, text=True,
                           timeout=30)
        return r.returncode == 0 and "prod-broker-0" in r.stdout and "prod-broker-1" in r.stdout and r.stdout
    check("ferryctl: the topic is routed to both broker groups", lambda: kube.wait_for(
        route_ferryctl, 60, what="route with both groups"))

    def route_mqadmin():
        out = mqadmin(namesrv, "topicRoute", "-t", "orders")
        return (out.count('"brokerName":"prod-broker-0"') >= 1 and out.count('"brokerName":"prod-broker-1"') >= 1
                and '"writeQueueNums":4' in out) or (
            "prod-broker-0" in out and "prod-broker-1" in out and "writeQueueNums" in out)
    check("mqadmin topicRoute: both broker groups, 4 write queues", route_mqadmin)

    def java_client():
        cp = java_classpath()
        svc = f"prod-namesrv.{NS}.svc:9876"
        r = c.in_pod(NS, "prod-namesrv-0",
                     ["java", "-Xms64m", "-Xmx256m", f"-Drocketmq.client.logRoot={c.workdir}/java-logs",
                      "-Dcompat.phaseTimeoutSec=120", "-cp", cp, "io.ferrymq.compat.SeedGroup", svc, "orders",
                      "e2e_consumers", "200"], timeout=300)
        if r.returncode != 0:
            raise AssertionError(f"SeedGroup exit {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}")
        return True
    check("Java client 4.9.7 sends and consumes 200 messages through the name server Service", java_client)

    prometheus_checks(c, k, op_pods, ferryctl, namesrv)

    group_path = consumer_group_checks(c, k, ferryctl, namesrv)

    # Idempotence: poke every object (an annotation change triggers a reconcile pass each) and count writes.
    def poke_all():
        base = {ctl: reconcile_count(c, k, ctl) for ctl in ("cluster", "topic", "consumergroup")}
        for path in (cluster_path, topic_path, group_path):
            k.merge_patch(path, {"metadata": {"annotations": {"e2e.ferrymq.io/poke": str(time.time())}}})
        kube.wait_for(lambda: all(reconcile_count(c, k, ctl) > n for ctl, n in base.items()), 30,
                      what="a reconcile pass of each")

    def idempotent():
        # A first pass records what changed in the world since the last one (the Topic's traffic and message
        # counts are re-read every 5 minutes); a second pass over an unchanged world must write nothing.
        poke_all()
        time.sleep(3)
        t0 = len(c.audit_events())
        poke_all()
        events = c.audit_events()
        # The filter must see the operator's writes at all (its creation of the owned objects), or it proves nothing.
        earlier = [e for e in events[:t0] if e.get("user", {}).get("username") == SA_USER and
                   e.get("objectRef", {}).get("resource") == "statefulsets"]
        if not earlier:
            raise AssertionError(f"no StatefulSet write by {SA_USER} in the audit log: wrong identity filter?")
        writes = [e for e in events[t0:] if e.get("user", {}).get("username") == SA_USER and
                  e.get("objectRef", {}).get("resource") not in ("leases", "events")]
        if writes:
            raise AssertionError("operator wrote after convergence: " + "; ".join(
                f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('name')}" for e in writes))
        return True
    check("a converged reconcile pass makes no write to the apiserver (audit log)", idempotent)

    def topic_traffic():
        # The passes above re-read the Topic's traffic: who produced to and consumes from orders, what it holds.
        st = k.get(topic_path).get("status", {})
        traffic = st.get("traffic", {})
        if "e2e_consumers_producer" not in traffic.get("producerGroups", []) or \
                "e2e_consumers" not in traffic.get("consumerGroups", []):
            raise AssertionError(f"status.traffic: {traffic}")
        held = sum(g.get("messages", 0) for g in st.get("brokerGroups", []))
        if held != 200 or not all(g.get("lastWrite") for g in st.get("brokerGroups", [])):
            raise AssertionError(f"status.brokerGroups: {st.get('brokerGroups')}")
        return True
    check("Topic status: the Java client's producer and consumer groups, 200 messages held, last writes", topic_traffic)

    # Kill a broker: Degraded, then Ready again after the runner restarts it.
    def degrade_and_recover():
        t_kill = time.time()
        os.kill(c.container_pid(NS, "prod-broker-1-0"), 9)

        def degraded():
            obj = k.get(cluster_path)
            if condition(obj, "Degraded").get("status") == "True":
                return True
            evs = k.list(kube.path("events", NS), {"fieldSelector": f"involvedObject.name={CLUSTER}"})
            return any(e.get("reason") == "Degraded" and event_time(e) >= t_kill - 1 for e in evs.get("items", []))
        kube.wait_for(degraded, 60, what="Degraded=True (condition or Event)")

        def recovered():
            obj = k.get(cluster_path)
            d = condition(obj, "Degraded")
            # Ready again, through a Degraded transition after the kill (not the status from before it).
            return (condition(obj, "Ready").get("status") == "True" and d.get("status") == "False" and
                    event_time({"lastTimestamp": d.get("lastTransitionTime", "")}) >= int(t_kill))
        return kube.wait_for(recovered, 120, what="Ready again after a Degraded transition")
    check("killing a broker's process: Degraded, then Ready after the restart", degrade_and_recover)

    probe_checks(c, k, cluster_path)

    def recreate_sts():
        sts = kube.path("statefulsets", NS, "prod-broker-1", group="apps", version="v1")
        uid = k.get(sts)["metadata"]["uid"]
        pod_uid = c.pod(NS, "prod-broker-1-0")["metadata"]["uid"]
        k.delete(sts)
        kube.wait_for(lambda: (k.get_or_none(sts) or {}).get("metadata", {}).get("uid") not in (None, uid), 60,
                      what="StatefulSet recreated")
        # The old pod went with its StatefulSet (garbage collection); the new StatefulSet's pod serves again.
        c.wait_pod_ready(NS, "prod-broker-1-0", timeout=120, not_uid=pod_uid)
        return kube.wait_for(lambda: condition(k.get(cluster_path), "Ready").get("status") == "True" and
                             k.get(sts).get("status", {}).get("readyReplicas") == 1, 120,
                             what="Cluster Ready with the recreated StatefulSet ready")
    check("a deleted StatefulSet is recreated and the Cluster is Ready again", recreate_sts)

    # A config change rolls the broker groups one at a time.
    def rolling():
        sts = {g: kube.path("statefulsets", NS, g, group="apps", version="v1") for g in ("prod-broker-0", "prod-broker-1")}
        gen0 = {g: k.get(p)["metadata"]["generation"] for g, p in sts.items()}
        uids = {g: c.pod(NS, f"{g}-0")["metadata"]["uid"] for g in sts}
        k.merge_patch(cluster_path, {"spec": {"brokers": {"config": {"fileReservedTime": "24"}}}})
        seen_progressing = False
        deadline = time.monotonic() + 180
        bumped = {}
        while time.monotonic() < deadline:
            live = {g: k.get(p) for g, p in sts.items()}
            for g, obj in live.items():
                if g not in bumped and obj["metadata"]["generation"] > gen0[g]:
                    bumped[g] = live
            obj = k.get(cluster_path)
            if condition(obj, "Progressing").get("status") == "True":
                seen_progressing = True
            if len(bumped) == 2 and condition(obj, "Ready").get("status") == "True" and \
                    obj["status"]["observedGeneration"] == obj["metadata"]["generation"]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"rollout did not finish; bumped={list(bumped)}")
        if set(bumped) != set(sts):
            raise AssertionError(f"not every group was updated: {list(bumped)}")
        # When group 1 got its new template, group 0 had rolled out completely.
        first = bumped["prod-broker-1"]["prod-broker-0"]
        st = first.get("status", {})
        if not (first["metadata"]["generation"] > gen0["prod-broker-0"] and st.get("readyReplicas") == 1 and
                st.get("updatedReplicas") == 1 and st.get("currentRevision") == st.get("updateRevision")):
            raise AssertionError(f"prod-broker-1 was updated while prod-broker-0 was still rolling: {st}")
        for g in sts:
            if c.pod(NS, f"{g}-0")["metadata"]["uid"] == uids[g]:
                raise AssertionError(f"{g}-0 was not restarted")
        conf = k.get(kube.path("configmaps", NS, "prod-broker-1-config"))["data"]["broker.conf"]
        return seen_progressing and "fileReservedTime=24" in conf
    check("a broker config change rolls the groups one at a time (Progressing, then Ready)", rolling)

    # Delete the Topic: gone from brokers and name servers.
    def delete_topic():
        k.delete(topic_path)
        kube.wait_for(lambda: k.get_or_none(topic_path) is None, 120, what="Topic gone (finalizer done)")

        def gone():
            r = subprocess.run([ferryctl, "-n", namesrv, "topic", "list"], capture_output=True, text=True, timeout=30)
            return r.returncode == 0 and not re.search(r"^orders$", r.stdout, re.M)
        kube.wait_for(gone, 30, what="orders absent from the name server's topic list")
        out = mqadmin(namesrv, "topicList")
        if re.search(r"^orders$", out, re.M):
            raise AssertionError("mqadmin topicList still lists orders")
        for g in ("prod-broker-0", "prod-broker-1"):
            ip = c.pod_ip(NS, f"{g}-0")
            r = subprocess.run([ferryctl, "-n", namesrv, "topic", "route", "orders"], capture_output=True, text=True,
                               timeout=30)
            if r.returncode == 0:
                raise AssertionError(f"route of orders still exists: {r.stdout}")
            del ip
        return True
    check("deleting the Topic removes it from brokers and name servers", delete_topic)
    check("deleting the ConsumerGroup (deletionPolicy Delete) removes the group from every broker",
          lambda: delete_consumer_group(k, namesrv, group_path))

    # Leader election. A killed container restarts at once in the same pod, as a new candidate that may win the
    # Lease legitimately; to prove that the *other* replica takes over, the leader is frozen (SIGSTOP: a crashed or
    # partitioned leader looks like this to everyone else), then resumed to prove a deposed leader exits.
    def failover():
        holder = lease_holder()
        leader_pod = holder.rsplit("_", 1)[0]
        pid = c.container_pid(OP_NS, leader_pod)
        restarts = c.pod(OP_NS, leader_pod)["status"]["containerStatuses"][0]["restartCount"]
        t_stop = time.monotonic()
        os.kill(pid, 19)  # SIGSTOP
        try:
            new = kube.wait_for(lambda: (lambda h: h and not h.startswith(leader_pod + "_") and h)(lease_holder()),
                                LEASE_SECONDS + 10, what="the other replica holding the Lease")
            took = time.monotonic() - t_stop
        finally:
            os.kill(pid, 18)  # SIGCONT
        print(f"  lease moved from {holder} to {new} in {took:.1f}s (lease {LEASE_SECONDS}s)", flush=True)
        # client-go's algorithm: the standby sees the last renewal up to one retry period after it was written,
        # waits the lease duration from then, and tries again up to one retry period later (each try is a GET and
        # an update after the sleep): 10 s, plus the requests and this poll on a loaded 2-core machine (measured
        # 8.8-11.2 s with the debug build). The bound stays below two lease terms (16 s), so a standby that waits
        # a second term, or counts from a later renewal than the last one it saw, still fails.
        bound = min(LEASE_SECONDS + 2 * RETRY_SECONDS + 5, 2 * LEASE_SECONDS - 1)
        if took > bound:
            raise AssertionError(f"takeover took {took:.1f}s, more than {bound}s")

        def deposed_exited():
            cs = c.pod(OP_NS, leader_pod)["status"]["containerStatuses"][0]
            return cs["restartCount"] > restarts and cs["lastState"].get("terminated", {}).get("exitCode") == 1
        kube.wait_for(deposed_exited, 30, what="the deposed leader exiting with code 1")
        if not lease_holder() == new:
            raise AssertionError(f"the Lease moved again: {lease_holder()}")
        # The new leader acts: a new Topic becomes Ready.
        k.create(topics_path, {"apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": "after"},
                               "spec": {"clusterRef": {"name": CLUSTER}}})
        p = kube.path("topics", NS, "after", group="ferrymq.io", version="v1alpha1")
        return kube.wait_for(lambda: condition(k.get(p), "Ready").get("status") == "True", 90,
                             what="Topic 'after' Ready under the new leader")
    check("a frozen leader loses the Lease to the other replica within the lease time (plus two retry periods), "
          "then exits", failover)

    # And a graceful stop (pod deletion: SIGTERM) releases the Lease at once.
    def handover():
        holder = lease_holder()
        leader_pod = holder.rsplit("_", 1)[0]
        t0 = time.monotonic()
        k.delete(kube.path("pods", OP_NS, leader_pod))
        new = kube.wait_for(lambda: (lambda h: h and not h.startswith(leader_pod + "_") and h)(lease_holder()),
                            LEASE_SECONDS, what="a new Lease holder after SIGTERM")
        print(f"  lease released by {holder}, taken by {new} in {time.monotonic() - t0:.1f}s", flush=True)
        return True
    check("deleting the leader's pod hands the Lease over without waiting for expiry", handover)


def consumer_group_checks(c, k, ferryctl, namesrv):
    """ConsumerGroup (issue "Operator v2", acceptance 2): adopt the group the Java client created, mqadmin sees the
    same config, drift is reverted, a reset by time on an offline group, refused while a consumer is online, and
    deletion cleans every broker."""
    groups_path = kube.path("consumergroups", NS, group="ferrymq.io", version="v1alpha1")
    path = kube.path("consumergroups", NS, "e2e-consumers", group="ferrymq.io", version="v1alpha1")
    brokers = ("prod-broker-0", "prod-broker-1")

    def get_status():
        return (k.get_or_none(path) or {}).get("status", {})

    def ready_gen():
        obj = k.get(path)
        st = obj.get("status", {})
        return (condition(obj, "Ready").get("status") == "True" and
                st.get("observedGeneration") == obj["metadata"]["generation"] and st)

    def mqadmin_retry_times():
        """retryMaxTimes per broker as mqadmin getConsumerConfig prints it."""
        out = mqadmin(namesrv, "getConsumerConfig", "-g", "e2e_consumers")
        return [int(m) for m in re.findall(r"retryMaxTimes\s*[=:]?\s*(\d+)", out)], out

    def adopt():
        k.create(groups_path, {
            "apiVersion": "ferrymq.io/v1alpha1", "kind": "ConsumerGroup", "metadata": {"name": "e2e-consumers"},
            "spec": {"clusterRef": {"name": CLUSTER}, "groupName": "e2e_consumers", "retry": {"maxTimes": 5},
                     "deletionPolicy": "Delete"}})
        st = kube.wait_for(ready_gen, 90, what="ConsumerGroup Ready")
        if sorted(st.get("brokerGroups", [])) != list(brokers):
            raise AssertionError(f"status.brokerGroups: {st.get('brokerGroups')}")
        lag = {x["topic"]: x["messages"] for x in st.get("lag", [])}
        if lag.get("orders") != 0:  # the Java client consumed all 200
            raise AssertionError(f"status.lag: {st.get('lag')}")
        times, out = mqadmin_retry_times()
        if times != [5, 5]:
            raise AssertionError(f"mqadmin getConsumerConfig: retryMaxTimes {times}: {out[-2000:]}")
        return True
    if not check("ConsumerGroup adopts the Java client's group; mqadmin sees retryMaxTimes 5 on both masters", adopt):
        dump(c, k, path)

    def drift():
        r = subprocess.run([ferryctl, "-n", namesrv, "group", "create", "e2e_consumers", "--retry-max-times", "9"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"ferryctl group create: {r.stdout}{r.stderr}")
        if mqadmin_retry_times()[0] != [9, 9]:
            raise AssertionError("the drift was not made")
        k.merge_patch(path, {"metadata": {"annotations": {"e2e.ferrymq.io/poke": str(time.time())}}})
        kube.wait_for(lambda: mqadmin_retry_times()[0] == [5, 5], 60, what="retryMaxTimes back to 5")
        return True
    check("drift on the brokers (ferryctl group create) is reverted", drift)

    def reset_offline():
        k.merge_patch(path, {"spec": {"resetOffset": {"id": "r1", "to": "earliest", "topics": ["orders"]}}})
        st = kube.wait_for(lambda: (lambda s: s.get("lastReset", {}).get("id") == "r1" and
                                    s["lastReset"].get("result") != "Refused" and s)(get_status()), 60,
                           what="lastReset r1")
        if st["lastReset"]["result"] != "Applied" or st["lastReset"]["queues"] != 8:
            raise AssertionError(f"lastReset: {st['lastReset']}")
        st = kube.wait_for(lambda: (lambda s: {x["topic"]: x["messages"] for x in s.get("lag", [])}.get("orders")
                                    == 200 and s)(get_status()), 60, what="lag 200 after the reset")
        return True
    check("a reset to earliest on an offline group: Applied, 8 queues, lag back to 200", reset_offline)

    def reset_by_time():
        # Every message was stored before this time: a reset to it leaves nothing to consume.
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
        k.merge_patch(path, {"spec": {"resetOffset": {"id": "r1t", "to": at, "topics": ["orders"]}}})
        st = kube.wait_for(lambda: (lambda s: s.get("lastReset", {}).get("id") == "r1t" and
                                    s["lastReset"].get("result") != "Refused" and s)(get_status()), 60,
                           what="lastReset r1t")
        if st["lastReset"]["result"] != "Applied" or st["lastReset"]["queues"] != 8:
            raise AssertionError(f"lastReset: {st['lastReset']}")
        kube.wait_for(lambda: {x["topic"]: x["messages"] for x in get_status().get("lag", [])}.get("orders") == 0,
                      60, what="lag 0 after the reset by time")
        return at
    at = check("a reset by RFC 3339 time on an offline group: Applied, 8 queues, lag 0 (every message is older)",
               reset_by_time)
    if at:
        print(f"  reset by time to {at}", flush=True)

    def reset_refused_online():
        consumer = subprocess.Popen([ferryctl, "-n", namesrv, "consume", "orders", "-g", "e2e_consumers",
                                     "--tag", "no-such-tag", "--timeout", "120"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            kube.wait_for(lambda: get_status().get("onlineClients", 0) >= 1, 60, what="an online client in status")
            k.merge_patch(path, {"spec": {"resetOffset": {"id": "r2", "to": "latest", "topics": ["orders"]}}})
            st = kube.wait_for(lambda: (lambda s: s.get("lastReset", {}).get("id") == "r2" and s)(get_status()), 60,
                               what="lastReset r2")
            if st["lastReset"]["result"] != "Refused" or "online" not in st["lastReset"]["message"]:
                raise AssertionError(f"lastReset while online: {st['lastReset']}")
        finally:
            consumer.terminate()
            consumer.wait(timeout=30)
        st = kube.wait_for(lambda: (lambda s: s.get("lastReset", {}).get("result") == "Applied" and s)(get_status()),
                           120, what="r2 applied once the consumer is gone")
        return st["lastReset"]["id"] == "r2"
    check("a reset while a consumer is online is refused, then applied once it is gone", reset_refused_online)
    return path


def delete_consumer_group(k, namesrv, path):
    k.delete(path)
    kube.wait_for(lambda: k.get_or_none(path) is None, 60, what="ConsumerGroup gone (finalizer done)")
    out = mqadmin(namesrv, "getConsumerConfig", "-g", "e2e_consumers")
    if re.search(r"retryMaxTimes", out):
        raise AssertionError(f"mqadmin still sees the group: {out[-2000:]}")
    return True


def prometheus_checks(c, k, op_pods, ferryctl, namesrv):
    """A real Prometheus scrapes the operator's replicas and both brokers (both metric families): the series show
    what the Java client did, and every query of the operator's Grafana dashboard returns series."""
    if not prometheus.available():
        check("prometheus is installed (scripts/setup.sh)", lambda: False)
        return
    brokers = [f"{c.pod_ip(NS, f'prod-broker-{g}-0')}:5557" for g in (0, 1)]
    operators = [f"{p['status']['podIP']}:8080" for p in
                 k.list(kube.path("pods", OP_NS), {"labelSelector": "app.kubernetes.io/name=ferrymq-operator"})["items"]]
    rules = sorted(glob.glob(os.path.join(REPO, "charts", "ferrymq-operator", "files", "rules", "*.yaml")))
    prom = prometheus.Prometheus(c.workdir, {"ferrymq": brokers, "ferrymq-exporter": (brokers, "/metrics/exporter"),
                                             "ferrymq-operator": operators}, rule_files=rules)
    def scraping():
        prom.start()
        want = len(operators) + 2 * len(brokers)
        got = prom.wait_value("count(up == 1)", float(want))
        if got != want:
            raise AssertionError(f"{got} of {want} targets up: {prom.query('up')}")
        return True
    if not check("Prometheus starts and scrapes the operator's replicas and both brokers, both families", scraping):
        prom.stop()
        return
    try:
        for what, expr, want in [
                ("messages in = the Java client's 200 sends", 'sum(rocketmq_messages_in_total{topic="orders"})', 200),
                ("messages out to the group: all 200",
                 'sum(rocketmq_messages_out_total{topic="orders",consumer_group="e2e_consumers"})', 200),
                ("lag 0: the group committed everything",
                 'sum(rocketmq_consumer_lag_messages{topic="orders",consumer_group="e2e_consumers"})', 0),
                ("exporter family: producer offsets sum to 200", 'sum(rocketmq_producer_offset{topic="orders"})', 200),
                ("exporter family: the group's committed offsets sum to 200",
                 'sum(rocketmq_consumer_offset{topic="orders",group="e2e_consumers"})', 200),
                ("operator: both broker groups writable", 'sum(ferrymq_operator_broker_group_writable{cluster="prod"})',
                 2),
                ("operator: one leader", "sum(ferrymq_operator_leader)", 1)]:
            def equal(expr=expr, want=want):
                got = prom.wait_value(expr, float(want), timeout=60)
                if got != want:
                    raise AssertionError(f"{expr} = {got}, expected {want}")
                return True
            check(f"Prometheus: {what}", equal)

        def dashboard():
            r = subprocess.run([sys.executable, os.path.join(REPO, "tests", "prometheus", "check_dashboards.py"),
                                "--prometheus", prom.url, "--uid", "ferrymq-operator"],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise AssertionError(r.stdout[-3000:])
            return r.stdout.strip().splitlines()[-1]
        check("every query of the operator's Grafana dashboard returns series", dashboard)
        group_health_checks(c, k, prom, ferryctl, namesrv)
    finally:
        prom.stop()


HEALTH_GROUP = "e2e_health"


def group_health_checks(c, k, prom, ferryctl, namesrv):
    """ConsumerGroup health (issue "Observability", acceptance 2): a real Java consumer that fails every message
    turns ConsumeFailing and DeadLetters True, a backlog turns Lagging True, with the group's own thresholds
    (spec.alerting), and the chart's alert rules, evaluated by a real Prometheus, fire for the group with those
    thresholds; two consumers that subscribe differently make the broker report the group inconsistent."""
    topics_path = kube.path("topics", NS, group="ferrymq.io", version="v1alpha1")
    groups_path = kube.path("consumergroups", NS, group="ferrymq.io", version="v1alpha1")
    topic_path = kube.path("topics", NS, "health", group="ferrymq.io", version="v1alpha1")
    path = kube.path("consumergroups", NS, "e2e-health", group="ferrymq.io", version="v1alpha1")

    def conditions():
        return {x["type"]: x for x in (k.get_or_none(path) or {}).get("status", {}).get("conditions", [])}

    def wait_condition(ctype, status, timeout=120):
        def seen():
            cond = conditions().get(ctype, {})
            return cond.get("status") == status and cond
        return kube.wait_for(seen, timeout, what=f"{ctype}={status}")

    def created():
        k.create(topics_path, {"apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic", "metadata": {"name": "health"},
                               "spec": {"clusterRef": {"name": CLUSTER}, "queues": {"write": 2, "read": 2}}})
        kube.wait_for(lambda: condition(k.get(topic_path), "Ready").get("status") == "True", 90, what="Topic health")
        k.create(groups_path, {
            "apiVersion": "ferrymq.io/v1alpha1", "kind": "ConsumerGroup", "metadata": {"name": "e2e-health"},
            "spec": {"clusterRef": {"name": CLUSTER}, "groupName": HEALTH_GROUP, "retry": {"maxTimes": 1},
                     "alerting": {"lagMessages": 50, "lagSeconds": 1, "consumeFailuresPerHour": 3}}})
        for ctype in ("Lagging", "ConsumeFailing", "DeadLetters", "OffsetMoved"):
            wait_condition(ctype, "False", 90)
        cs = conditions()
        if cs["ClientsBlocked"].get("reason") != "NoClients" or cs["SubscriptionInconsistent"]["status"] != "False":
            raise AssertionError(f"conditions of a group without clients: {cs}")
        return True
    if not check("a ConsumerGroup with spec.alerting: Ready, the six health conditions False", created):
        dump(c, k, path)
        return

    def failing_consumer():
        # A real Java push consumer fails every delivery of 5 messages (maxReconsumeTimes 1): 10 hand-backs, 5 dead.
        r = c.in_pod(NS, "prod-namesrv-0",
                     ["java", "-Xms64m", "-Xmx256m", f"-Drocketmq.client.logRoot={c.workdir}/java-logs",
                      "-cp", java_classpath(), "io.ferrymq.compat.SemanticsCheck", "dead-letters",
                      f"prod-namesrv.{NS}.svc:9876", "health", HEALTH_GROUP, "5"], timeout=300)
        if r.returncode != 0:
            raise AssertionError(f"SemanticsCheck dead-letters exit {r.returncode}: {r.stdout[-2000:]}")
        failing = wait_condition("ConsumeFailing", "True")
        dead = wait_condition("DeadLetters", "True")
        if not re.match(r"1\d failed consumptions in the last hour \(more than 3\)", failing["message"]):
            raise AssertionError(f"ConsumeFailing: {failing}")
        if not dead["message"].startswith("5 messages moved to the dead-letter queue in the last hour (more than 0)"):
            raise AssertionError(f"DeadLetters: {dead}")
        print(f"  ConsumeFailing: {failing['message']}\n  DeadLetters: {dead['message']}", flush=True)
        return True
    check("a Java consumer failing every message: ConsumeFailing and DeadLetters turn True", failing_consumer)

    def alerts_fire(names):
        def firing():
            missing = [n for n in names if not prom.alerts(n, consumer_group=HEALTH_GROUP)]
            return not missing or None
        if not kube.wait_for(firing, 90, what=" and ".join(names)):
            raise AssertionError(f"ALERTS: {prom.query('ALERTS')}")
        return True
    check("Prometheus: FerryMQConsumeFailures (the group's threshold 3, not 10) and FerryMQDeadLetters fire",
          lambda: alerts_fire(["FerryMQConsumeFailures", "FerryMQDeadLetters"]))

    def backlog():
        r = subprocess.run([ferryctl, "-n", namesrv, "send", "health", "backlog", "--count", "100"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"ferryctl send: {r.stdout[-1000:]}{r.stderr[-1000:]}")
        lagging = wait_condition("Lagging", "True")
        if not lagging["message"].startswith("100 messages not consumed (more than 50: health 100)"):
            raise AssertionError(f"Lagging: {lagging}")
        print(f"  Lagging: {lagging['message']}", flush=True)
        # The alert waits 5 minutes before firing; pending means its expression holds.
        return alerts_fire(["FerryMQConsumerBacklog"])
    check("100 unconsumed messages: Lagging turns True and FerryMQConsumerBacklog's expression holds (threshold 50)",
          backlog)

    def inconsistent():
        consumers = [subprocess.Popen([ferryctl, "-n", namesrv, "consume", "health", "-g", HEALTH_GROUP, "--tag", tag,
                                       "--timeout", "120"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for tag in ("TagA", "TagB")]
        try:
            got = prom.wait_value(f'min(rocketmq_consumer_subscription_consistent{{consumer_group="{HEALTH_GROUP}"}})',
                                  0.0, timeout=60)
            if got != 0:
                raise AssertionError(f"rocketmq_consumer_subscription_consistent: {got}")
            # The operator asks the clients themselves (GET_CONSUMER_RUNNING_INFO, which ferryctl's consumer
            # answers as Java's does) and names who subscribes what.
            cond = wait_condition("SubscriptionInconsistent", "True", 90)
            if "health=TagA" not in cond["message"] or "health=TagB" not in cond["message"]:
                raise AssertionError(f"SubscriptionInconsistent: {cond}")
            blocked = conditions().get("ClientsBlocked", {})
            if blocked.get("status") != "False" or blocked.get("reason") != "NotBlocked":
                raise AssertionError(f"ClientsBlocked with two answering clients: {blocked}")
            print(f"  SubscriptionInconsistent: {cond['message']}", flush=True)
        finally:
            for p in consumers:
                p.terminate()
                p.wait(timeout=30)
        return True
    check("two consumers subscribing differently: the brokers report the group inconsistent and "
          "SubscriptionInconsistent turns True naming both", inconsistent)

    def cleaned():
        k.delete(path)
        k.delete(topic_path)
        kube.wait_for(lambda: k.get_or_none(path) is None and k.get_or_none(topic_path) is None, 60,
                      what="health objects gone")
        kube.wait_for(lambda: not prom.query(
            f'ferrymq_operator_consumer_group_threshold{{consumer_group="{HEALTH_GROUP}"}}'), 30,
            what="the group's threshold series gone")
        return True
    check("deleting the ConsumerGroup removes its condition and threshold series", cleaned)


PROBE_INTERVAL = 10


def probe_checks(c, k, cluster_path):
    """spec.probe: the operator's dial test. ProbeSucceeded turns True; a stopped broker group (its process
    SIGSTOPped) turns it False within two intervals, naming the group; True again once it runs."""
    k.merge_patch(cluster_path, {"spec": {"probe": {"interval": f"{PROBE_INTERVAL}s", "messageSize": 512}}})

    def probe_status(want):
        cond = condition(k.get(cluster_path), "ProbeSucceeded")
        return cond.get("status") == want and cond

    def succeeded():
        cond = kube.wait_for(lambda: probe_status("True"), 60, what="ProbeSucceeded=True")
        print(f"  {cond['message']}")
        return "every broker group (2)" in cond["message"]
    if not check("spec.probe: ProbeSucceeded turns True (the operator created the probe topic on both groups)",
                 succeeded):
        return

    def stopped_group():
        pid = c.container_pid(NS, "prod-broker-1-0")
        t0 = time.time()
        os.kill(pid, signal.SIGSTOP)
        try:
            cond = kube.wait_for(lambda: probe_status("False"), 60, what="ProbeSucceeded=False", interval=0.2)
            took = time.time() - t0
        finally:
            os.kill(pid, signal.SIGCONT)
        print(f"  False after {took:.1f}s (interval {PROBE_INTERVAL}s): {cond['message']}")
        if "prod-broker-1" not in cond["message"] or "prod-broker-0:" in cond["message"]:
            raise AssertionError("the condition does not name only the stopped group: " + cond["message"])
        if took > 2 * PROBE_INTERVAL:
            raise AssertionError(f"False only after {took:.1f}s, more than two intervals")
        t1 = time.time()
        kube.wait_for(lambda: probe_status("True"), 60, what="ProbeSucceeded=True again", interval=0.2)
        print(f"  True again {time.time() - t1:.1f}s after the group resumed")
        return True
    check("a stopped broker group turns ProbeSucceeded False within two intervals, naming it; True after",
          stopped_group)
    k.merge_patch(cluster_path, {"spec": {"probe": None}})
    check("without spec.probe the condition goes away", lambda: kube.wait_for(
        lambda: condition(k.get(cluster_path), "ProbeSucceeded") == {}, 30, what="no ProbeSucceeded"))


def event_time(e):
    ts = e.get("lastTimestamp") or e.get("eventTime") or e.get("metadata", {}).get("creationTimestamp")
    try:
        return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except Exception:
        return 0


def reconcile_count(c, k, controller):
    """Sum of ferrymq_operator_reconcile_total{controller} on the leading replica's /metrics."""
    total = 0.0
    pods = k.list(kube.path("pods", OP_NS), {"labelSelector": "app.kubernetes.io/name=ferrymq-operator"})
    for p in pods.get("items", []):
        ip = p.get("status", {}).get("podIP")
        if not ip:
            continue
        try:
            body = urllib.request.urlopen(f"http://{ip}:8080/metrics", timeout=5).read().decode()
        except Exception:
            continue
        if not re.search(r"^ferrymq_operator_leader\{[^}]*\} 1", body, re.M):
            continue
        for m in re.finditer(r'^ferrymq_operator_reconcile_total\{([^}]*)\} ([0-9.e+]+)', body, re.M):
            if f'controller="{controller}"' in m.group(1):
                total += float(m.group(2))
    return total


_classpath = None


def java_classpath():
    global _classpath
    if _classpath is None:
        r = subprocess.run(["bash", "-c", f"source {REPO}/tests/compat/lib.sh && compat_java_classpath"],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise AssertionError(f"cannot build the Java client classpath: {r.stderr[-2000:]}")
        _classpath = r.stdout.strip().splitlines()[-1]
    return _classpath


def mqadmin(namesrv, *args):
    r = subprocess.run([f"{REPO}/tests/compat/apache_rocketmq.sh", "mqadmin", namesrv, *args], capture_output=True,
                       text=True, timeout=300)
    return r.stdout + r.stderr


def dump(c, k, p):
    try:
        print(json.dumps(k.get(p).get("status", {}), indent=1)[:3000])
    except Exception as e:
        print(f"  (cannot read {p}: {e})")


if __name__ == "__main__":
    sys.exit(main())
