"""One e2e cluster: a pod network, the control plane (lib.controlplane) and the pod runner (podrunner.py, as a
child process), started and stopped together. This is what e2e tests use:

    import sys, os; sys.path.insert(0, os.path.join(os.path.dirname(__file__)))   # tests/e2e
    from lib.cluster import Cluster

    with Cluster(bin_dirs=["build/debug/broker/cmd", "build/debug/broker/cli"]) as c:
        c.kubeconfig                     # admin kubeconfig path (JSON; kubectl/helm/client-go/yaml-cpp read it)
        c.kube                           # lib.kube.KubeClient as admin
        c.kubectl("get", "pods", "-A")   # the installed kubectl with that kubeconfig (CompletedProcess)
        c.helm("version")
        c.wait_pod_ready("ns", "name")   # the pod object once Ready
        c.pod_ip("ns", "name"); c.container_pid("ns", "name", "container"); c.netns("ns", "name")
        c.in_pod("ns", "name", ["getent", "hosts", "x"])   # runs a host command in the pod's network namespace
        c.resolve("svc.ns.svc")          # IPs the pod DNS (hosts files) gives a name, host view
        c.audit_events()                 # parsed audit log (write requests)

On a clean exit the work directory is removed; when the body raised, or FMQ_E2E_KEEP=1, it is kept and its path
printed (logs/, audit/, runner/podrunner.log, runner/pods/*/<container>.log).

Environment: FMQ_TOOLS_DIR (default ~/.cache/ferrymq/tools; binaries in its bin/), FMQ_E2E_WORKDIR_ROOT (where
the work directory is made, default /tmp).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import kube
from .controlplane import ControlPlane
from .proc import spawn, stop_process

E2E_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tools_bin():
    return os.path.join(os.environ.get("FMQ_TOOLS_DIR") or os.path.expanduser("~/.cache/ferrymq/tools"), "bin")


class Cluster:
    def __init__(self, bin_dirs, workdir=None, node_name="e2e-node", log=None, keep=None):
        self.bin_dirs = [os.path.abspath(d) for d in bin_dirs]
        self.tools_bin = tools_bin()
        self.node_name = node_name
        self.log = log or (lambda m: print(m, file=sys.stderr, flush=True))
        self.keep = keep if keep is not None else os.environ.get("FMQ_E2E_KEEP") == "1"
        root = os.environ.get("FMQ_E2E_WORKDIR_ROOT") or tempfile.gettempdir()
        self.workdir = workdir or tempfile.mkdtemp(prefix="fmq-e2e-", dir=root)
        self.net = None
        self.cp = None
        self.runner_proc = None
        self.runner_info = None
        self.kube = None

    # -- lifecycle --------------------------------------------------------------------------------------------------
    def start(self, timeout=120.0):
        sys.path.insert(0, E2E_DIR)
        import podrunner  # noqa: E402  (tests/e2e/podrunner.py)
        self._podrunner = podrunner
        t0 = time.monotonic()
        try:
            self.net = podrunner.reserve_network()
            self.cp = ControlPlane(os.path.join(self.workdir), self.tools_bin,
                                   advertise_address=self.net.gateway, log=self.log)
            self.cp.start(timeout)
            self.kube = self.cp.client()
            rdir = os.path.join(self.workdir, "runner")
            os.makedirs(rdir, exist_ok=True)
            ready = os.path.join(rdir, "ready.json")
            cmd = [sys.executable, os.path.join(E2E_DIR, "podrunner.py"),
                   "--kubeconfig", self.cp.kubeconfig_podrunner, "--workdir", rdir,
                   "--network-index", str(self.net.index), "--node-name", self.node_name,
                   "--ready-file", ready]
            for d in self.bin_dirs:
                cmd += ["--bin-dir", d]
            self.runner_proc = spawn(cmd, os.path.join(self.workdir, "logs", "podrunner.stderr.log"))

            def runner_up():
                if self.runner_proc.poll() is not None:
                    raise RuntimeError(f"pod runner exited with {self.runner_proc.returncode}; see "
                                       f"{self.workdir}/logs/podrunner.stderr.log")
                return os.path.exists(ready)
            kube.wait_for(lambda: self._alive_and(runner_up), timeout, what="the pod runner")
            with open(ready) as f:
                self.runner_info = json.load(f)
            kube.wait_for(self._node_ready, timeout, what=f"node {self.node_name} Ready")
            # namespace "default" has its ServiceAccount once the serviceaccount controller has run
            kube.wait_for(lambda: self.kube.get_or_none(kube.path("serviceaccounts", "default", "default")),
                          timeout, what="the default ServiceAccount")
        except BaseException:
            self.stop(ok=False)
            raise
        self.log(f"cluster: up in {time.monotonic() - t0:.1f}s, kubeconfig {self.kubeconfig}")
        return self

    def _alive_and(self, fn):
        if self.runner_proc.poll() is not None:
            raise RuntimeError(f"pod runner exited with {self.runner_proc.returncode}")
        return fn()

    def _node_ready(self):
        node = self.kube.get_or_none(kube.path("nodes", name=self.node_name))
        return node and any(c["type"] == "Ready" and c["status"] == "True"
                            for c in node.get("status", {}).get("conditions", []))

    def stop(self, ok=True):
        if self.runner_proc is not None:
            stop_process(self.runner_proc, grace=60.0)
            self.runner_proc = None
        if self.cp is not None:
            self.cp.stop()
        if self.net is not None:
            # the runner cleans its network; this covers a runner that never started or crashed
            self._podrunner.cleanup_network_state(self.net)
            self.net = None
        if ok and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            self.log(f"cluster: work directory kept: {self.workdir}")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(ok=exc_type is None)
        return False

    # -- facts ----------------------------------------------------------------------------------------------------------
    @property
    def kubeconfig(self):
        return self.cp.kubeconfig

    @property
    def server(self):
        return self.cp.server

    @property
    def gateway(self):
        return self.net.gateway

    @property
    def audit_log(self):
        return self.cp.audit_log

    def audit_events(self):
        return self.cp.audit_events()

    def check_alive(self):
        self.cp.check_alive()
        if self.runner_proc is None or self.runner_proc.poll() is not None:
            raise RuntimeError("pod runner is not running")

    # -- tools ----------------------------------------------------------------------------------------------------------
    def _tool(self, name, args, check=True, **kw):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HELM_CACHE_HOME=os.path.join(self.workdir, "helm", "cache"),
                   HELM_CONFIG_HOME=os.path.join(self.workdir, "helm", "config"),
                   HELM_DATA_HOME=os.path.join(self.workdir, "helm", "data"))
        r = subprocess.run([os.path.join(self.tools_bin, name), *args], env=env, capture_output=True, text=True,
                           **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def kubectl(self, *args, check=True, **kw):
        return self._tool("kubectl", ["--kubeconfig", self.kubeconfig, *args], check=check, **kw)

    def helm(self, *args, check=True, **kw):
        return self._tool("helm", ["--kubeconfig", self.kubeconfig, *args], check=check, **kw)

    # -- pods -----------------------------------------------------------------------------------------------------------
    def pod(self, ns, name):
        return self.kube.get_or_none(kube.path("pods", ns, name))

    @staticmethod
    def is_ready(pod):
        return bool(pod) and not pod["metadata"].get("deletionTimestamp") and any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))

    def wait_pod_ready(self, ns, name, timeout=60.0, not_uid=None):
        """Waits until pod ns/name is Ready (and, with not_uid, is a different pod than that uid)."""
        def ready():
            self.check_alive()
            p = self.pod(ns, name)
            if p and not_uid and p["metadata"]["uid"] == not_uid:
                return None
            return p if self.is_ready(p) else None
        return kube.wait_for(ready, timeout, what=f"pod {ns}/{name} Ready")

    def wait_gone(self, p, timeout=60.0):
        return kube.wait_for(lambda: self.kube.get_or_none(p) is None, timeout, what=f"{p} deleted")

    def pod_ip(self, ns, name):
        return self.pod(ns, name)["status"]["podIP"]

    def container_pid(self, ns, name, container=None):
        """Host pid of a container's current process (from containerID podrunner://<pid>)."""
        st = self.pod(ns, name)["status"]["containerStatuses"]
        cs = next(c for c in st if container is None or c["name"] == container)
        return int(cs["containerID"].split("://", 1)[1])

    def netns(self, ns, name):
        return self.net.netns_name(self.pod(ns, name)["metadata"]["uid"])

    def host_veth(self, ns, name):
        """The host end of the pod's network link: `ip link set <it> down` partitions the pod from everything
        (its processes keep running), `up` heals it."""
        return self._podrunner.host_if_name(self.net.index, self.pod(ns, name)["metadata"]["uid"])

    def in_pod(self, ns, name, cmd, **kw):
        """Runs a host command inside the pod's network namespace (and its /etc/hosts view)."""
        return subprocess.run(["ip", "netns", "exec", self.netns(ns, name), *cmd], capture_output=True, text=True,
                              **kw)

    def resolve(self, name):
        return self._podrunner.resolve_in_hosts(self.runner_info["hosts"], name)

    def container_log(self, ns, name, container):
        pod = self.pod(ns, name)
        d = os.path.join(self.workdir, "runner", "pods", f"{ns}_{name}_{pod['metadata']['uid'][:8]}")
        with open(os.path.join(d, container + ".log"), errors="replace") as f:
            return f.read()
