#!/usr/bin/env python3
"""Smoke test of the e2e machinery: real control plane + pod runner running `ferrymq namesrv` pods of a
StatefulSet. Prints PASS/FAIL lines and `podrunner_smoke: N passed, N failed`; the exit code is the result.

    tests/e2e/podrunner_smoke_test.py            # programs from $FMQ_BIN_DIR (colon-separated), default
                                                 # build/debug/broker/cmd:build/debug/broker/cli
"""

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lib import kube  # noqa: E402
from lib.checks import Checks  # noqa: E402
from lib.cluster import Cluster  # noqa: E402

NS = "smoke"
STS = "nsrv"
check = Checks()


def manifests():
    labels = {"app": "smoke-namesrv"}
    return [
        (kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
        (kube.path("configmaps", NS), {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nsrv-config"},
            "data": {"namesrv.conf": "listenPort=9876\nkvConfigPath=/var/lib/ferrymq/kvConfig.json\n"}}),
        (kube.path("services", NS), {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": STS},
            "spec": {"clusterIP": "None", "selector": labels,
                     "ports": [{"name": "remoting", "port": 9876, "targetPort": 9876}]}}),
        (kube.path("statefulsets", NS), {
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": STS},
            "spec": {
                "serviceName": STS, "replicas": 2, "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 5,
                        "containers": [{
                            "name": "namesrv", "image": "ferrymq:e2e",
                            "command": ["/usr/local/bin/ferrymq", "namesrv", "-c", "/etc/ferrymq/namesrv.conf"],
                            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                                    {"name": "FMQ_LOG_LEVEL", "value": "info"}],
                            "ports": [{"name": "remoting", "containerPort": 9876}],
                            "readinessProbe": {"tcpSocket": {"port": "remoting"}, "periodSeconds": 1},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/ferrymq"},
                                             {"name": "data", "mountPath": "/var/lib/ferrymq"}]}],
                        "volumes": [{"name": "config", "configMap": {"name": "nsrv-config"}}]}},
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
    ]


def in_mount_ns(c, pod, cmd):
    """Runs cmd in the container's mount + network namespaces (what the container sees)."""
    pid = c.container_pid(NS, pod, "namesrv")
    r = subprocess.run(["nsenter", "-t", str(pid), "-m", "-n", "--", *cmd], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} in {pod}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def main():
    bin_dirs = (os.environ.get("FMQ_BIN_DIR") or
                f"{REPO}/build/debug/broker/cmd:{REPO}/build/debug/broker/cli").split(":")
    for prog in ("ferrymq", "ferryctl"):
        if not any(os.access(os.path.join(d, prog), os.X_OK) for d in bin_dirs):
            print(f"FAIL setup: {prog} not found in {bin_dirs} (build the debug preset or set FMQ_BIN_DIR)")
            print("podrunner_smoke: 0 passed, 1 failed")
            return 1
    ferryctl = next(os.path.join(d, "ferryctl") for d in bin_dirs if os.access(os.path.join(d, "ferryctl"), os.X_OK))
    t_all = time.monotonic()
    cluster = Cluster(bin_dirs=bin_dirs)
    ok = False
    try:
        if not check("control plane and pod runner start; node Ready", lambda: cluster.start() is cluster):
            return 1
        k = cluster.kube
        for p, obj in manifests():
            k.create(p, obj)

        pods = check("both StatefulSet pods Ready", lambda: [cluster.wait_pod_ready(NS, f"{STS}-{i}", timeout=90)
                                                           for i in range(2)])
        ips = [p["status"]["podIP"] for p in pods] if pods else []
        check("pods have distinct IPs in the pod network, hostIP = gateway", lambda: (
            len(set(ips)) == 2 and all(ip.startswith(cluster.net.prefix + ".") for ip in ips) and
            all(p["status"]["hostIP"] == cluster.gateway for p in pods)))

        def gateway_mac():
            # The bridge keeps its own fixed MAC however many pods join (a bridge without one takes its lowest
            # port MAC, which changes the gateway's MAC under running pods).
            out = subprocess.run(["ip", "-o", "link", "show", cluster.net.bridge], capture_output=True,
                                 text=True, check=True).stdout
            mac = re.search(r"link/ether ([0-9a-f:]+)", out).group(1)
            assert mac == cluster.net.bridge_mac, (mac, cluster.net.bridge_mac)
            r = cluster.in_pod(NS, f"{STS}-1", ["ip", "neigh", "show", cluster.gateway])
            assert r.returncode != 0 or not r.stdout.strip() or cluster.net.bridge_mac in r.stdout, r.stdout
            return True
        check("the gateway's MAC is fixed: pods joining the bridge do not change it", gateway_mac)

        def dns():
            want = ips[0]
            for name in (f"{STS}-0.{STS}.{NS}.svc", f"{STS}-0.{STS}.{NS}.svc.cluster.local", f"{STS}-0.{STS}",
                         f"{STS}.{NS}.svc", "kubernetes.default.svc"):
                r = cluster.in_pod(NS, f"{STS}-1", ["getent", "hosts", name])
                got = r.stdout.split()
                if r.returncode != 0 or not got:
                    raise AssertionError(f"{name} does not resolve in {STS}-1: {r.stderr}")
                if name == "kubernetes.default.svc":
                    assert got[0] == cluster.gateway, (name, got)
                elif name == f"{STS}.{NS}.svc":
                    assert got[0] in ips, (name, got)
                else:
                    assert got[0] == want, (name, got, want)
            return cluster.resolve(f"{STS}-1.{STS}.{NS}.svc") == [ips[1]]
        check("pod DNS names resolve inside another pod's netns (and on the host view)", dns)

        def tcp():
            for ip in ips:
                with socket.create_connection((ip, 9876), timeout=5):
                    pass
            r = subprocess.run([ferryctl, "-n", f"{ips[0]}:9876", "cluster", "list"], capture_output=True,
                               text=True, timeout=30)
            if r.returncode != 0:
                raise AssertionError(f"ferryctl cluster list: {r.returncode} {r.stderr}")
            return True
        check("host reaches each pod IP:9876; ferryctl talks to the name server", tcp)

        def mounts():
            conf = in_mount_ns(cluster, f"{STS}-0", ["cat", "/etc/ferrymq/namesrv.conf"])
            assert "listenPort=9876" in conf, conf
            sa = "/var/run/secrets/kubernetes.io/serviceaccount"
            token = in_mount_ns(cluster, f"{STS}-0", ["cat", f"{sa}/token"]).strip()
            ns = in_mount_ns(cluster, f"{STS}-0", ["cat", f"{sa}/namespace"]).strip()
            ca = in_mount_ns(cluster, f"{STS}-0", ["cat", f"{sa}/ca.crt"])
            assert ns == NS and "BEGIN CERTIFICATE" in ca, (ns, ca[:40])
            # the in-cluster path an operator takes: token + ca.crt to KUBERNETES_SERVICE_HOST:PORT from the pod
            with open(f"/proc/{cluster.container_pid(NS, STS + '-0')}/environ") as f:
                env = f.read()
            envd = dict(kv.split("=", 1) for kv in env.split("\0") if "=" in kv)
            host, port = envd["KUBERNETES_SERVICE_HOST"], envd["KUBERNETES_SERVICE_PORT"]
            assert envd["POD_IP"] == ips[0], envd.get("POD_IP")
            code = ("import json,ssl,sys,urllib.request;"
                    "ctx=ssl.create_default_context(cafile=sys.argv[1]);"
                    "req=urllib.request.Request(sys.argv[2],data=json.dumps({'apiVersion':'authentication.k8s.io/v1',"
                    "'kind':'SelfSubjectReview'}).encode(),headers={'Authorization':'Bearer '+sys.argv[3],"
                    "'Content-Type':'application/json'});"
                    "print(json.load(urllib.request.urlopen(req,context=ctx,timeout=10))['status']['userInfo']['username'])")
            r = subprocess.run(["nsenter", "-t", str(cluster.container_pid(NS, STS + "-0")), "-m", "-n", "--",
                                sys.executable, "-c", code, f"{sa}/ca.crt",
                                f"https://{host}:{port}/apis/authentication.k8s.io/v1/selfsubjectreviews", token],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            assert r.stdout.strip() == f"system:serviceaccount:{NS}:default", r.stdout
            # the persistent volume: a marker written now must survive the pod's re-creation (checked below)
            in_mount_ns(cluster, f"{STS}-1", ["sh", "-c", "echo kept > /var/lib/ferrymq/marker"])
            return True
        check("configMap, PVC and service-account volumes mounted; the token works from the pod", mounts)

        def restart():
            old = cluster.container_pid(NS, f"{STS}-0")
            os.kill(old, 9)

            def back():
                p = cluster.pod(NS, f"{STS}-0")
                cs = p["status"]["containerStatuses"][0]
                return cs["restartCount"] == 1 and cluster.is_ready(p) and \
                    int(cs["containerID"].split("://")[1]) != old and \
                    cs["lastState"].get("terminated", {}).get("signal") == 9
            return kube.wait_for(back, 60, what="restarted container Ready")
        check("kill -9 of a container: restarted (restartCount 1, lastState signal 9) and Ready again", restart)

        def recreate():
            uid = cluster.pod(NS, f"{STS}-1")["metadata"]["uid"]
            k.delete(kube.path("pods", NS, f"{STS}-1"))
            p = cluster.wait_pod_ready(NS, f"{STS}-1", timeout=90, not_uid=uid)
            marker = in_mount_ns(cluster, f"{STS}-1", ["cat", "/var/lib/ferrymq/marker"]).strip()
            assert marker == "kept", marker
            return p["metadata"]["uid"] != uid
        check("deleted pod is re-created by the StatefulSet controller, Ready, with its PVC data", recreate)

        def gc():
            k.delete(kube.path("statefulsets", NS, STS))
            for i in range(2):
                cluster.wait_gone(kube.path("pods", NS, f"{STS}-{i}"), timeout=60)
            return True
        check("deleting the StatefulSet: the garbage collector removes its pods", gc)

        def audit():
            ev = cluster.audit_events()

            def has(verb, resource, user_part, sub=None, name=None):
                return any(e.get("verb") == verb and e.get("objectRef", {}).get("resource") == resource and
                           e.get("objectRef", {}).get("subresource") == sub and
                           (name is None or e.get("objectRef", {}).get("name") == name) and
                           user_part in e.get("user", {}).get("username", "") for e in ev)
            checks = {
                "create statefulset by admin": has("create", "statefulsets", "ferrymq-e2e-admin"),
                "create pods by statefulset-controller": has("create", "pods", "statefulset-controller"),
                "pods/binding by the runner": has("create", "pods", "ferrymq-e2e-podrunner", "binding"),
                "delete pod by admin": has("delete", "pods", "ferrymq-e2e-admin", name=f"{STS}-1"),
                "delete pods by garbage collector": has("delete", "pods", "generic-garbage-collector"),
                "statefulset create has its body": any(e.get("verb") == "create" and e.get("objectRef", {}).get(
                    "resource") == "statefulsets" and e.get("requestObject", {}).get("spec") for e in ev),
            }
            missing = [k for k, v in checks.items() if not v]
            if missing:
                raise AssertionError(f"audit log lacks: {missing}")
            return True
        check("audit log has the write requests (who, what, body)", audit)

        check("helm version", lambda: "v3." in cluster.helm("version", "--short").stdout)
        check("kubectl get nodes", lambda: "e2e-node" in cluster.kubectl("get", "nodes").stdout and
              " Ready" in cluster.kubectl("get", "nodes").stdout)

        def crash_cleanup():
            import podrunner
            k.create(kube.path("pods", NS), {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "leftover"},
                "spec": {"containers": [{"name": "namesrv", "image": "ferrymq:e2e", "command": ["ferrymq", "namesrv"],
                                         "readinessProbe": {"tcpSocket": {"port": 9876}, "periodSeconds": 1}}]}})
            cluster.wait_pod_ready(NS, "leftover", timeout=60)
            netns, pid = cluster.netns(NS, "leftover"), cluster.container_pid(NS, "leftover")
            runner = cluster.runner_proc
            os.kill(runner.pid, 9)
            runner.wait()
            # its containers die with it (PR_SET_PDEATHSIG); its network namespace and bridge stay behind
            kube.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30, what="container gone with the runner")
            assert netns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            podrunner.cleanup_stale()  # what the next run's reservation does first
            left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            assert netns not in left, left
            assert subprocess.run(["ip", "link", "show", cluster.net.bridge], capture_output=True).returncode != 0
            return not os.path.exists(cluster.net.state_dir) and not os.path.exists(f"/etc/netns/{netns}")
        check("a runner killed with SIGKILL: containers die with it, the next run cleans its network", crash_cleanup)
        ok = check.failed == 0
    finally:
        t0 = time.monotonic()
        cluster.stop(ok=ok)
        print(f"podrunner_smoke: teardown {time.monotonic() - t0:.1f}s, total {time.monotonic() - t_all:.1f}s")
    return check.summary("podrunner_smoke")


if __name__ == "__main__":
    sys.exit(main())
