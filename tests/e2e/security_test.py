#!/usr/bin/env python3
"""End-to-end test of access control and TLS through the operator (issue "Access control and TLS, and the User
resource", acceptance 3) on a real control plane with the pod runner: the Helm chart installs the operator; a
Cluster with spec.security (ACL on, TLS Enforcing from a kubernetes.io/tls Secret) and one group of a master and a
slave becomes Ready; no secret is in any ConfigMap; a plaintext client is refused; a User gets its Secret; the
real Java client (rocketmq-client 4.9.7, -Dtls.enable=true) with only that Secret's files sends to and consumes
from its permitted topic and is refused on another; the account is on the master and the slave; a rotation keeps
a running client (keys read once at start) working through the grace period and revokes the old key after it;
deleting the User revokes its key on every broker.

Prints PASS/FAIL lines and `security: N passed, N failed`; the exit code is the result.

    tests/e2e/security_test.py     # programs from $FMQ_BIN_DIR (colon-separated), default the debug build
"""

import base64
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lib import kube  # noqa: E402
from lib.broker_conf import HOST_DISK  # noqa: E402
from lib.checks import Checks  # noqa: E402
from lib.cluster import Cluster  # noqa: E402
from operator_test import CHART, SA_USER, condition, java_classpath, reconcile_count  # noqa: E402

OP_NS = "ferrymq-system"
NS = "mq"
CLUSTER = "prod"
GRACE = 40  # spec.rotation.gracePeriodSeconds of the User
FERRY = dict(group="ferrymq.io", version="v1alpha1")
check = Checks()


def main():
    bin_dirs = (os.environ.get("FMQ_BIN_DIR") or
                ":".join(f"{REPO}/build/debug/{d}" for d in ("broker/cmd", "broker/cli", "operator/cmd"))).split(":")
    ferryctl = next((os.path.join(d, "ferryctl") for d in bin_dirs if os.access(os.path.join(d, "ferryctl"), os.X_OK)),
                    None)
    if not ferryctl:
        print(f"FAIL setup: ferryctl not found in {bin_dirs}")
        print("security: 0 passed, 1 failed")
        return 1
    cluster = Cluster(bin_dirs=bin_dirs)
    work = tempfile.mkdtemp(prefix="fmq-security-e2e-")
    ok = False
    try:
        if not check("control plane and pod runner start", lambda: cluster.start() is cluster):
            return 1
        run(cluster, cluster.kube, ferryctl, work)
        ok = check.failed == 0
    finally:
        cluster.stop(ok=ok)
        shutil.rmtree(work, ignore_errors=True)
    return check.summary("security")


def secret_data(k, name):
    s = k.get_or_none(kube.path("secrets", NS, name))
    return {key: base64.b64decode(v).decode() for key, v in (s or {}).get("data", {}).items()}


def write_user_dir(work, name, data):
    """The Secret's files as a mounted Secret would show them."""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    for key in ("accessKey", "secretKey", "namesrvAddr"):
        with open(os.path.join(d, key), "w") as f:
            f.write(data[key])
    return d


def run(c, k, ferryctl, work):
    cluster_path = kube.path("clusters", NS, CLUSTER, **FERRY)
    user_path = kube.path("users", NS, "orders-app", **FERRY)

    def install():
        c.helm("install", "ferrymq-operator", CHART, "-n", OP_NS, "--create-namespace", "--wait=false",
               "--set", "image.repository=ferrymq-operator", "--set", "image.tag=e2e",
               "--set", "brokerImage=ferrymq:e2e", "--set", "replicaCount=1")
        return kube.wait_for(lambda: any(c.is_ready(p) for p in k.list(kube.path("pods", OP_NS)).get("items", [])),
                             120, what="the operator pod Ready")
    if not check("helm install runs the operator", install):
        return

    # The TLS Secret, as cert-manager would write it: a throw-away CA and a certificate with both usages.
    pki = os.path.join(work, "pki")
    subprocess.run(["bash", os.path.join(REPO, "scripts", "make_test_pki.sh"), pki], check=True)

    def b64(path):
        with open(path, "rb") as f:
            return base64.b64encode(f.read()).decode()
    k.create(kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    k.create(kube.path("clusters", NS, **FERRY), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "Cluster", "metadata": {"name": CLUSTER},
        "spec": {"nameServer": {"replicas": 1},
                 "brokers": {"groups": 1, "replicasPerGroup": 2, "storage": {"size": "1Gi"}, "config": dict(HOST_DISK)},
                 "security": {"acl": {"enabled": True},
                              "tls": {"mode": "Enforcing", "secretName": "prod-tls"}}}})

    def waits_for_the_tls_secret():
        def reported():
            c_ = condition(k.get(cluster_path), "ResourcesSynced")
            return (c_.get("reason") == "TlsSecretInvalid" and "Secret mq/prod-tls (spec.security.tls.secretName)"
                    in c_.get("message", "") and c_)
        return kube.wait_for(reported, 60, what="ResourcesSynced=False TlsSecretInvalid")
    check("without its TLS Secret the Cluster reports TlsSecretInvalid", waits_for_the_tls_secret)
    k.create(kube.path("secrets", NS), {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "prod-tls"}, "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(f"{pki}/server.pem"), "tls.key": b64(f"{pki}/server.key"),
                 "ca.crt": b64(f"{pki}/ca.pem")}})

    def ready():
        obj = k.get(cluster_path)
        return condition(obj, "Ready").get("status") == "True" and obj
    if not check("a Cluster with ACL and TLS Enforcing (a master and a slave) becomes Ready",
                 lambda: kube.wait_for(ready, 300, what="Cluster Ready=True")):
        print(k.get(cluster_path).get("status"))
        return
    creds = secret_data(k, "prod-credentials")

    def no_secret_in_configmaps():
        if len(creds.get("secretKey", "")) < 20 or len(creds.get("brokerSecretKey", "")) < 20:
            raise AssertionError(f"the credentials Secret lacks generated keys: {sorted(creds)}")
        for cm in k.list(kube.path("configmaps", NS)).get("items", []):
            text = str(cm.get("data", {}))
            if creds["secretKey"] in text or creds["brokerSecretKey"] in text:
                raise AssertionError(f"ConfigMap {cm['metadata']['name']} holds a secret")
        return True
    check("the operator generated its credentials Secret; no ConfigMap holds a secret", no_secret_in_configmaps)

    namesrv = f"{c.pod_ip(NS, 'prod-namesrv-0')}:9876"
    admin = ["--tls", "--tls-trust", f"{pki}/ca.pem", "--access-key", "ferrymq-operator",
             "--secret-key", creds["secretKey"]]

    def ctl(*args):
        r = subprocess.run([ferryctl, "-n", namesrv, *args], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"ferryctl {' '.join(a for a in args if a not in creds.values())} exit "
                                 f"{r.returncode}: {r.stdout[-1500:]} {r.stderr[-1500:]}")
        return r.stdout

    def plaintext_refused():
        r = subprocess.run([ferryctl, "-n", namesrv, "cluster", "list"], capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            raise AssertionError(f"a plaintext request was served: {r.stdout[-500:]}")
        return True
    check("a plaintext client is refused (ferryctl without --tls)", plaintext_refused)
    check("the operator's account over TLS sees the master and the slave registered",
          lambda: kube.wait_for(lambda: ctl(*admin, "cluster", "list").count("prod-broker-0") >= 2, 60,
                                what="2 brokers of prod-broker-0"))

    for topic in ("orders", "payments"):
        k.create(kube.path("topics", NS, **FERRY), {"apiVersion": "ferrymq.io/v1alpha1", "kind": "Topic",
                                                   "metadata": {"name": topic},
                                                   "spec": {"clusterRef": {"name": CLUSTER}}})
    check("Topics become Ready through the signed TLS admin client", lambda: kube.wait_for(
        lambda: all(condition(k.get(kube.path("topics", NS, t, **FERRY)), "Ready").get("status") == "True"
                    for t in ("orders", "payments")), 90, what="both Topics Ready"))

    k.create(kube.path("users", NS, **FERRY), {
        "apiVersion": "ferrymq.io/v1alpha1", "kind": "User", "metadata": {"name": "orders-app"},
        "spec": {"clusterRef": {"name": CLUSTER}, "topics": [{"name": "orders", "perm": "PUB|SUB"}],
                 "groups": [{"name": "orders-consumer", "perm": "SUB"}],
                 "rotation": {"gracePeriodSeconds": GRACE}}})

    def user_ready(access_key):
        def ok():
            u = k.get(user_path)
            return (condition(u, "Ready").get("status") == "True" and u["status"].get("accessKey") == access_key
                    and u["status"].get("brokers") == 2 and u)
        return kube.wait_for(ok, 90, what=f"User Ready with {access_key} on 2 brokers")
    if not check("the User becomes Ready: its account on both brokers", lambda: user_ready("orders-app")):
        print(k.get(user_path).get("status"))
        return
    first = secret_data(k, "orders-app-ferrymq")
    check("the User's Secret holds accessKey, secretKey and the name-server address",
          lambda: first.get("accessKey") == "orders-app" and len(first.get("secretKey", "")) == 40 and
          first.get("namesrvAddr") == "prod-namesrv-0.prod-namesrv.mq.svc:9876")
    first_dir = write_user_dir(work, "first", first)

    cp = java_classpath()
    java = ["java", "-Xms64m", "-Xmx256m", f"-Drocketmq.client.logRoot={work}/java-logs", "-Dtls.enable=true"]
    sample = os.path.join(REPO, "docs", "examples", "clients", "java", "ClientSample.java")

    def client_sample(user_dir, topic):
        return c.in_pod(NS, "prod-namesrv-0", [*java, "-cp", cp, sample, topic, "orders-consumer", "20"],
                        env={**os.environ, "FERRYMQ_USER_DIR": user_dir}, timeout=240)

    def permitted():
        r = client_sample(first_dir, "orders")
        if r.returncode != 0 or "consumed 20" not in r.stdout:
            raise AssertionError(f"exit {r.returncode}: {r.stdout[-2000:]} {r.stderr[-1000:]}")
        return True
    check("the Java client with only the Secret's files sends 20 to orders over TLS and consumes them", permitted)

    def refused():
        r = client_sample(first_dir, "payments")
        if r.returncode == 0 or "No default permission for topic:payments" not in r.stdout:
            raise AssertionError(f"exit {r.returncode}: {r.stdout[-2000:]}")
        return True
    check("the same client is refused on another topic (NO_PERMISSION)", refused)

    def holders(access_key):
        """Addresses of the brokers that have the account."""
        return {a["address"] for a in json.loads(ctl(*admin, "-o", "json", "acl", "list"))
                if a["accessKey"] == access_key}

    def on_both():
        if len(holders("orders-app")) != 2:
            raise AssertionError(f"orders-app is on {holders('orders-app')}")
        return True
    check("the account is on the master and the slave", on_both)

    def poke(paths, controllers):
        base = {ctl: reconcile_count(c, k, ctl) for ctl in controllers}
        for p in paths:
            k.merge_patch(p, {"metadata": {"annotations": {"e2e.ferrymq.io/poke": str(time.time())}}})
        kube.wait_for(lambda: all(reconcile_count(c, k, ctl) > n for ctl, n in base.items()), 30,
                      what="a reconcile pass of each")

    def converged_writes_nothing():
        """A pass over the Cluster (with its Secrets) and the User writes nothing to the apiserver (audit log)."""
        # The Topics' status shows the last minute's traffic: first let the clients' sends above leave that
        # window and let one pass record it, then the world is unchanged.
        time.sleep(61)
        topics = [kube.path("topics", NS, t, **FERRY) for t in ("orders", "payments")]
        poke([cluster_path, user_path, *topics], ("cluster", "user", "topic"))
        time.sleep(3)
        t0 = len(c.audit_events())
        poke([cluster_path, user_path], ("cluster", "user"))
        events = c.audit_events()
        if not any(e.get("user", {}).get("username") == SA_USER and e.get("objectRef", {}).get("resource") == "secrets"
                   and e.get("verb") in ("create", "patch") for e in events[:t0]):
            raise AssertionError(f"no Secret write by {SA_USER} in the audit log: wrong identity filter?")
        writes = [e for e in events[t0:] if e.get("user", {}).get("username") == SA_USER and
                  e.get("verb") not in ("get", "list", "watch") and
                  e.get("objectRef", {}).get("resource") not in ("leases", "events")]
        if writes:
            raise AssertionError("operator wrote after convergence: " + "; ".join(
                f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('name')}" for e in writes))
        return True
    check("a converged pass over the secured Cluster and the User writes nothing (audit log)", converged_writes_nothing)

    # Rotation while an application runs with the keys it read at start.
    sender = subprocess.Popen(["ip", "netns", "exec", c.netns(NS, "prod-namesrv-0"), *java, "-cp", cp,
                               "io.ferrymq.compat.SteadySender", first_dir, "orders", "200", str(GRACE + 35)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(8)
    k.merge_patch(user_path, {"metadata": {"annotations": {"ferrymq.io/rotate": "e2e-1"}}})
    rotated = check("ferrymq.io/rotate: a new key pair in the Secret, the old key retiring",
                    lambda: user_ready("orders-app-r1"))
    second = secret_data(k, "orders-app-ferrymq")
    until = (rotated or {}).get("status", {}).get("retiring", {}).get("until", "")

    def new_keys_work():
        if second.get("accessKey") != "orders-app-r1" or second.get("secretKey") == first["secretKey"]:
            raise AssertionError(f"Secret after rotation: accessKey={second.get('accessKey')}")
        r = client_sample(write_user_dir(work, "second", second), "orders")
        if r.returncode != 0:
            raise AssertionError(f"exit {r.returncode}: {r.stdout[-2000:]}")
        return True
    check("a client started with the new Secret works", new_keys_work)
    out, _ = sender.communicate(timeout=GRACE + 120)

    def running_client():
        deadline = calendar.timegm(time.strptime(until, "%Y-%m-%dT%H:%M:%SZ")) * 1000
        sends = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) >= 2 and parts[0].isdigit() and parts[1] in ("ok", "fail"):
                sends.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
        before = [s for s in sends if s[0] < deadline - 1000]
        after = [s for s in sends if s[0] > deadline + 15000]
        failed_before = [s for s in before if s[1] == "fail"]
        if len(before) < 50 or failed_before:
            raise AssertionError(f"{len(before)} sends before the deadline, failed: {failed_before[:3]}")
        if not after or any(s[1] == "ok" for s in after):
            raise AssertionError(f"the old key still works after its grace period: {after[-3:]}")
        print(f"  running client: {len(before)} sends ok through the grace period (until {until}), "
              f"{len(after)} refused after it")
        return True
    check("the running client with the old key works through the grace period and is refused after it",
          running_client)
    check("after the grace period only the new key is on the brokers (master and slave)", lambda: kube.wait_for(
        lambda: len(holders("orders-app-r1")) == 2 and not holders("orders-app"), 30, what="old key gone"))

    k.delete(user_path)
    check("deleting the User releases it after revoking", lambda: c.wait_gone(user_path, 60) or True)
    check("the key is revoked on every broker", lambda: not holders("orders-app-r1") and
          not holders("orders-app") and len(json.loads(ctl(*admin, "-o", "json", "acl", "list"))) >= 4)

    def events():
        evs = k.list(kube.path("events", NS), {"fieldSelector": "involvedObject.name=orders-app"}).get("items", [])
        reasons = {e.get("reason") for e in evs}
        missing = {"UserSynced", "Rotating", "KeyRetired", "Revoked"} - reasons
        if missing:
            raise AssertionError(f"missing Events {sorted(missing)}; have {sorted(reasons)}")
        return True
    check("the User's Events tell its story: UserSynced, Rotating, KeyRetired, Revoked", events)

    def deleted_refused():
        r = client_sample(write_user_dir(work, "second", second), "orders")
        if r.returncode == 0:
            raise AssertionError(f"the revoked key still works: {r.stdout[-1500:]}")
        return True
    check("the deleted User's client is refused", deleted_refused)


if __name__ == "__main__":
    sys.exit(main())
