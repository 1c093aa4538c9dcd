#!/usr/bin/env python3
"""The pod runner's kubelet features that operator tests lean on, with host programs as containers (sh, the
Python running this test): init containers, env sources and $(VAR) expansion, httpGet readiness, exec liveness
restarts, CrashLoopBackOff, ConfigMap volume updates, ClusterIP DNS, restartPolicy Never, Jobs, preStop hooks,
hostPath volumes and the release of provisioned volumes. Prints PASS/FAIL lines and
`podrunner_features: N passed, N failed`; the exit code is the result.
"""

import os
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

NS = "feat"
PY = sys.executable
check = Checks()


def nsenter(pid, cmd):
    r = subprocess.run(["nsenter", "-t", str(pid), "-m", "-n", "--", *cmd], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def environ(pid):
    with open(f"/proc/{pid}/environ") as f:
        return dict(kv.split("=", 1) for kv in f.read().split("\0") if "=" in kv)


def main():
    bin_dirs = (os.environ.get("FMQ_BIN_DIR") or
                f"{REPO}/build/debug/broker/cmd:{REPO}/build/debug/broker/cli").split(":")
    t_all = time.monotonic()
    cluster = Cluster(bin_dirs=bin_dirs)
    ok = False
    try:
        if not check("cluster starts", lambda: cluster.start() is cluster):
            return 1
        k = cluster.kube
        hostdir = os.path.join(cluster.workdir, "hostdata")
        os.makedirs(hostdir)
        greeting = {"configMapKeyRef": {"name": "web-config", "key": "greeting"}}
        objs = [
            (kube.path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
            (kube.path("configmaps", NS), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"},
                                           "data": {"greeting": "hi", "page.txt": "v1"}}),
            (kube.path("services", NS), {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                         "spec": {"selector": {"app": "web"},
                                                  "ports": [{"port": 80, "targetPort": "http"}]}}),
            (kube.path("deployments", NS), {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 10,
                        "initContainers": [{
                            "name": "init", "image": "tools:e2e",
                            "command": ["/bin/sh", "-c", "echo $(GREETING) > /data/init-done"],
                            "env": [{"name": "GREETING", "valueFrom": greeting}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                        "containers": [{
                            "name": "web", "image": "python:e2e",
                            "command": ["/bin/sh", "-c",
                                        'rm -f /data/die; exec "$0" -m http.server 8080 --directory /srv', PY],
                            "env": [{"name": "GREETING", "valueFrom": greeting},
                                    {"name": "MSG", "value": "$(GREETING)-there"},
                                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/page.txt", "port": "http"}, "periodSeconds": 1},
                            "livenessProbe": {"exec": {"command": ["/bin/sh", "-c", "! test -e /data/die"]},
                                              "initialDelaySeconds": 2, "periodSeconds": 1,
                                              "failureThreshold": 1},
                            "lifecycle": {"preStop": {"exec": {"command": [
                                "/bin/sh", "-c", 'echo bye > "/host/prestop-$POD_NAME"']}}},
                            "volumeMounts": [{"name": "config", "mountPath": "/srv"},
                                             {"name": "data", "mountPath": "/data"},
                                             {"name": "host", "mountPath": "/host"}]}],
                        "volumes": [{"name": "config", "configMap": {"name": "web-config"}},
                                    {"name": "data", "emptyDir": {}},
                                    {"name": "host", "hostPath": {"path": hostdir}}]}}}}),
        ]
        for p, o in objs:
            k.create(p, o)

        def web_pod():
            pods = [p for p in k.list(kube.path("pods", NS), params={"labelSelector": "app=web"})["items"]
                    if cluster.is_ready(p)]
            return pods[0] if len(pods) == 1 else None

        def ready():
            pod = kube.wait_for(web_pod, 60, what="web pod Ready")
            init = pod["status"]["initContainerStatuses"][0]["state"]["terminated"]
            assert init["exitCode"] == 0, init
            pid = cluster.container_pid(NS, pod["metadata"]["name"], "web")
            assert nsenter(pid, ["cat", "/data/init-done"]).strip() == "hi"
            env = environ(pid)
            assert env["MSG"] == "hi-there" and env["POD_NAME"] == pod["metadata"]["name"], env
            return pod
        pod = check("init container, env sources and $(VAR) expansion, httpGet readiness", ready)
        name = pod["metadata"]["name"] if pod else "missing"
        ip = pod["status"]["podIP"] if pod else "0.0.0.0"

        def page():
            with urllib.request.urlopen(f"http://{ip}:8080/page.txt", timeout=5) as r:
                return r.read().decode()

        def cm_update():
            assert page() == "v1"
            k.merge_patch(kube.path("configmaps", NS, "web-config"), {"data": {"page.txt": "v2"}})
            return kube.wait_for(lambda: page() == "v2", 40, what="updated ConfigMap served")
        check("ConfigMap volume follows an update", cm_update)

        def dns():
            assert cluster.resolve(f"web.{NS}.svc") == [ip], cluster.resolve(f"web.{NS}.svc")
            k.create(kube.path("pods", NS), {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                "spec": {"restartPolicy": "Never", "containers": [{
                    "name": "c", "image": "tools:e2e", "command": [
                        "/bin/sh", "-c", f'test "$(getent hosts web.{NS}.svc.cluster.local | cut -d" " -f1)" = {ip} '
                        f'&& test "$(getent hosts web | cut -d" " -f1)" = {ip} && exit 3']}]}})

            def done():
                p = cluster.pod(NS, "client")
                return p if p["status"].get("phase") in ("Succeeded", "Failed") else None
            p = kube.wait_for(done, 30, what="client pod finished")
            term = p["status"]["containerStatuses"][0]["state"]["terminated"]
            return p["status"]["phase"] == "Failed" and term["exitCode"] == 3 and \
                p["status"]["containerStatuses"][0]["restartCount"] == 0
        check("ClusterIP service name resolves to its ready endpoint in a pod; restartPolicy Never -> Failed", dns)

        def liveness():
            pid = cluster.container_pid(NS, name, "web")
            nsenter(pid, ["touch", "/data/die"])

            def back():
                p = cluster.pod(NS, name)
                cs = next(c for c in p["status"]["containerStatuses"] if c["name"] == "web")
                return cs["restartCount"] == 1 and cluster.is_ready(p) and \
                    cs["lastState"].get("terminated") is not None
            return kube.wait_for(back, 60, what="web restarted by its liveness probe and Ready")
        check("failing exec liveness probe restarts the container", liveness)

        def crashloop():
            k.create(kube.path("pods", NS), {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crasher"},
                "spec": {"containers": [{"name": "c", "image": "tools:e2e", "command": ["/bin/sh", "-c", "exit 7"]}]}})

            def backing_off():
                cs = cluster.pod(NS, "crasher")["status"].get("containerStatuses", [{}])[0]
                return cs.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff" and \
                    cs["restartCount"] >= 1 and cs["lastState"]["terminated"]["exitCode"] == 7
            return kube.wait_for(backing_off, 30, what="CrashLoopBackOff")
        check("a crashing container backs off (CrashLoopBackOff, lastState exitCode 7)", crashloop)

        def job():
            k.create(kube.path("jobs", NS), {
                "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                    {"name": "c", "image": "tools:e2e", "command": ["/bin/true"]}]}}}})
            return kube.wait_for(lambda: k.get(kube.path("jobs", NS, "once")).get("status", {}).get("succeeded") == 1,
                                 60, what="job succeeded")
        check("a Job runs to completion", job)

        def prestop():
            k.delete(kube.path("deployments", NS, "web"))
            cluster.wait_gone(kube.path("pods", NS, name), timeout=60)
            with open(os.path.join(hostdir, f"prestop-{name}")) as f:
                return f.read().strip() == "bye"
        check("deleting a Deployment: preStop hook ran (hostPath volume), pod gone", prestop)

        def release():
            k.create(kube.path("persistentvolumeclaims", NS), {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "scratch"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}})
            pvc = kube.wait_for(lambda: (lambda c: c if c.get("status", {}).get("phase") == "Bound" else None)(
                k.get(kube.path("persistentvolumeclaims", NS, "scratch"))), 30, what="PVC Bound")
            pv = k.get(kube.path("persistentvolumes", name=pvc["spec"]["volumeName"]))
            d = pv["spec"]["hostPath"]["path"]
            assert os.path.isdir(d) and pv["spec"]["storageClassName"] == "standard"
            k.delete(kube.path("persistentvolumeclaims", NS, "scratch"))
            cluster.wait_gone(kube.path("persistentvolumes", name=pv["metadata"]["name"]), timeout=60)
            return not os.path.exists(d)
        check("a provisioned volume is deleted with its claim (reclaimPolicy Delete)", release)

        def node():
            n = k.get(kube.path("nodes", name="e2e-node"))
            return not n["spec"].get("taints") and int(n["status"]["allocatable"]["pods"]) > 0
        check("node has capacity and no not-ready taint", node)
        ok = check.failed == 0
    finally:
        cluster.stop(ok=ok)
        print(f"podrunner_features: total {time.monotonic() - t_all:.1f}s")
    return check.summary("podrunner_features")


if __name__ == "__main__":
    sys.exit(main())
