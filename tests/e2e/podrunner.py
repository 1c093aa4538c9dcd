#!/usr/bin/env python3
"""The e2e tier's pod runner: scheduler + kubelet + volume provisioner for one Node, running pod containers as
local processes from the project's build tree. Python standard library only; needs root (netns, mounts).

    podrunner.py --kubeconfig K --workdir D --network-index N --bin-dir DIR[:DIR...] [--node-name e2e-node]

or, as a module: Runner(...).start() / .stop(). The harness (lib/cluster.py) reserves the pod network first,
because the apiserver's certificate must name the gateway address.

What it does (level-based: informers list+watch pods, services, endpointslices, PVCs and PVs; a control loop
compares that state with its own and acts):
* registers Node <node-name> (Ready, capacity from the machine, InternalIP = the pod network gateway) and binds
  every unscheduled pod of the default scheduler to it (pods/binding);
* per pod: a network namespace `fmq<N>-<pod uid>` with a veth `eth0` on bridge `fmqbr<N>` and an address from
  10.213.<N>.0/24 (round robin; the gateway .1 is the host side, so host processes reach pod IPs and pods reach
  the apiserver on the gateway);
* DNS without a DNS server: a hosts file per pod (/etc/netns/<netns>/hosts, rewritten in place so the bind
  mount `ip netns exec` makes over /etc/hosts sees changes) with the pod's own name,
  `<hostname>.<service>.<ns>.svc[.cluster.local]` for ready endpoints of headless services,
  `<service>.<ns>.svc[.cluster.local]` for services (headless: every ready endpoint IP; ClusterIP: ONE ready
  endpoint IP, because there is no kube-proxy and the ClusterIP itself routes nowhere), short forms for the pod's
  own namespace, and `kubernetes.default.svc` (the apiserver, via its endpoint). resolv.conf points at
  127.0.0.1 so other names fail fast. The host's view of the same names is in <workdir>/hosts;
* containers: `ip netns exec <netns> unshare --mount --uts --propagation private sh -c '<bind mounts>; exec
  prog args'`, with `$(VAR)` expansion, env (value, fieldRef, resourceFieldRef of limits/requests,
  configMapKeyRef, secretKeyRef, envFrom), KUBERNETES_SERVICE_HOST/PORT = gateway/apiserver port, HOSTNAME,
  HOME=<pod dir>/home; the program `/usr/local/bin/<prog>` or `<prog>` is looked up in the --bin-dir
  directories (the image's program layout), other absolute paths are the host's; no command = the program
  named like the image repository. Volumes (configMap, secret, emptyDir, downwardAPI, projected incl. the
  service-account token from the TokenRequest API, hostPath, persistentVolumeClaim) are bind-mounted at their
  mountPaths (subPath, readOnly) inside the container's private mount namespace; containers otherwise share
  the host's filesystem (missing mount points are created on the host and left there as empty directories);
* readiness, liveness and startup probes (tcpSocket, httpGet, exec via nsenter) from the host, restarts per
  restartPolicy with the kubelet's backoff (immediately, then 10s doubling to 300s; reset after 10 minutes
  running), init containers, preStop hooks (exec, httpGet, sleep), pod status (phase, podIP(s), hostIP(s),
  conditions, container statuses with containerID `podrunner://<pid>` of the current process);
* deletion: preStop, SIGTERM, grace period, SIGKILL, netns removed, then the final delete with
  gracePeriodSeconds=0 (the kubelet's);
* storage: StorageClass `standard` (default) with provisioner `e2e.ferrymq.io/hostpath`; PVCs of it get a
  hostPath PV whose directory (<workdir>/volumes/pvc-<uid>) survives pod restarts and re-creation and is removed
  when the PV is released (reclaimPolicy Delete).
* logs: <workdir>/podrunner.log (pod starts, exits, restarts), <workdir>/pods/<ns>_<pod>_<uid8>/<container>.log
  (container output, appended across restarts; there is no kubelet API, so `kubectl logs` does not work).
Not done: resource limits, security contexts, image pulls, service env links, ephemeral containers, grpc probes.

On exit (SIGTERM/SIGINT or stop()) it kills every container and removes netns, veths, the bridge and its state;
at start it cleans what a crashed runner left (state under /run/ferrymq-podrunner/net-<N>, owner pid checked).
"""

import argparse
import base64
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import kube  # noqa: E402

STATE_ROOT = "/run/ferrymq-podrunner"
NET_PREFIX = "10.213"
PROVISIONER = "e2e.ferrymq.io/hostpath"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "LLVM_PROFILE_FILE")
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def proc_start_time(pid):
    """Start time (clock ticks since boot) of pid, or None if it does not exist: with the pid, an identity
    that survives pid reuse."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(ident):
    return ident and proc_start_time(ident["pid"]) == ident["start"]


def me():
    return {"pid": os.getpid(), "start": proc_start_time(os.getpid())}


# --- pod network reservation and crash cleanup ------------------------------------------------------------------
class Network:
    """Pod network N: 10.213.N.0/24, gateway 10.213.N.1 on bridge fmqbrN; state in /run/ferrymq-podrunner/net-N."""

    def __init__(self, index):
        self.index = index
        self.prefix = f"{NET_PREFIX}.{index}"
        self.cidr = f"{self.prefix}.0/24"
        self.gateway = f"{self.prefix}.1"
        self.bridge = f"fmqbr{index}"
        self.bridge_mac = "02:fe:0a:d5:%02x:01" % index
        self.state_dir = os.path.join(STATE_ROOT, f"net-{index}")

    def netns_name(self, uid):
        return f"fmq{self.index}-{uid}"

    def set_owner(self, ident=None):
        with open(os.path.join(self.state_dir, "owner.json"), "w") as f:
            json.dump(ident or me(), f)

    def owner(self):
        try:
            with open(os.path.join(self.state_dir, "owner.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def release(self):
        shutil.rmtree(self.state_dir, ignore_errors=True)


def host_if_name(net_index, uid):
    """The host side of a pod's veth pair (at most 15 characters); taking it down cuts the pod off."""
    return f"fv{net_index}x{uid.replace('-', '')[:8]}"[:15]


def reserve_network(ident=None):
    """Reserves a free pod network for the calling process (or `ident`) and returns it."""
    os.makedirs(STATE_ROOT, exist_ok=True)
    cleanup_stale()
    used = sh("ip", "-4", "-o", "addr", "show").stdout
    for i in range(1, 251):
        net = Network(i)
        if f" {net.prefix}." in used:
            continue
        try:
            os.mkdir(net.state_dir)
        except FileExistsError:
            continue
        net.set_owner(ident)
        return net
    raise RuntimeError("no free pod network in 10.213.1-250.0/24")


def cleanup_network_state(net):
    """Kills recorded container processes and removes the netns, /etc/netns dirs and bridge of network `net`."""
    pods_dir = os.path.join(net.state_dir, "pods")
    for f in sorted(os.listdir(pods_dir)) if os.path.isdir(pods_dir) else []:
        try:
            with open(os.path.join(pods_dir, f)) as fh:
                rec = json.load(fh)
        except (OSError, ValueError):
            continue
        for ident in rec.get("procs", []):
            if alive(ident):
                try:
                    os.killpg(ident["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        netns = rec.get("netns")
        if netns:
            sh("ip", "netns", "del", netns, check=False)
            shutil.rmtree(os.path.join("/etc/netns", netns), ignore_errors=True)
    sh("ip", "link", "del", net.bridge, check=False)
    net.release()


def cleanup_stale():
    """Cleans every pod network whose owner process is gone (a crashed or killed runner or harness)."""
    if not os.path.isdir(STATE_ROOT):
        return
    for d in os.listdir(STATE_ROOT):
        m = re.fullmatch(r"net-(\d+)", d)
        if not m:
            continue
        net = Network(int(m.group(1)))
        owner = net.owner()
        if owner is None:
            # being created right now, or a reservation that crashed before writing: judge by age
            try:
                if time.time() - os.stat(net.state_dir).st_mtime < 60:
                    continue
            except OSError:
                continue
        elif alive(owner):
            continue
        cleanup_network_state(net)


# --- helpers for pod specs -------------------------------------------------------------------------------------
_VAR = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def expand(s, env):
    """Kubernetes $(VAR) expansion: defined variables are replaced, $$ becomes $, anything else stays."""
    def rep(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _VAR.sub(rep, s)


def field_path(pod, fp):
    md, st, sp = pod.get("metadata", {}), pod.get("status", {}), pod.get("spec", {})
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", fp)
    if m:
        return md.get(m.group(1), {}).get(m.group(2), "")
    simple = {
        "metadata.name": md.get("name"), "metadata.namespace": md.get("namespace"), "metadata.uid": md.get("uid"),
        "spec.nodeName": sp.get("nodeName"), "spec.serviceAccountName": sp.get("serviceAccountName"),
        "status.podIP": st.get("podIP"), "status.hostIP": st.get("hostIP"),
        "status.podIPs": ",".join(p["ip"] for p in st.get("podIPs", [])),
        "status.hostIPs": ",".join(p["ip"] for p in st.get("hostIPs", [])),
    }
    if fp in ("metadata.labels", "metadata.annotations"):
        d = md.get(fp.split(".")[1], {})
        return "\n".join(f'{k}="{v}"' for k, v in sorted(d.items()))
    if fp not in simple:
        raise ValueError(f"unsupported fieldRef {fp}")
    return simple[fp] or ""


_QTY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024 ** 2,
           "Gi": 1024 ** 3, "Ti": 1024 ** 4}


def quantity(q):
    m = _QTY.match(str(q))
    if not m or m.group(2) not in _SUFFIX:
        raise ValueError(f"bad quantity {q}")
    return float(m.group(1)) * _SUFFIX[m.group(2)]


# --- the runner -----------------------------------------------------------------------------------------------
class Runner:
    def __init__(self, kubeconfig, workdir, network, bin_dirs, node_name="e2e-node", log_to_stderr=False,
                 storage_class=True):
        self.client = kube.KubeClient.from_kubeconfig(kubeconfig)
        self.workdir = os.path.abspath(workdir)
        self.net = network
        self.bin_dirs = [os.path.abspath(d) for d in bin_dirs]
        self.node = node_name
        self.api_host = network.gateway
        self.api_port = self.client.port
        self.storage_class = storage_class
        os.makedirs(self.workdir, exist_ok=True)
        os.makedirs(os.path.join(self.workdir, "pods"), exist_ok=True)
        os.makedirs(os.path.join(self.workdir, "volumes"), exist_ok=True)
        self.hosts_file = os.path.join(self.workdir, "hosts")
        self._log_f = open(os.path.join(self.workdir, "podrunner.log"), "a", buffering=1)
        self._log_stderr = log_to_stderr
        self._log_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.workers = {}  # guarded by _lock: pod uid -> PodWorker
        self._next_ip = 2  # round robin over .2-.254; guarded by _lock
        self._last_heartbeat = 0.0
        self._provisioned = set()
        self._thread = None
        self._informers = {}
        self.dns_version = 0

    # -- logging --------------------------------------------------------------------------------------------------
    def log(self, msg):
        line = f"{datetime.datetime.now().isoformat(timespec='milliseconds')} {msg}"
        with self._log_lock:
            self._log_f.write(line + "\n")
            if self._log_stderr:
                print(line, file=sys.stderr, flush=True)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self):
        os.makedirs(os.path.join(self.net.state_dir, "pods"), exist_ok=True)
        self.net.set_owner()
        sh("ip", "link", "del", self.net.bridge, check=False)
        # A fixed (locally administered) MAC: a bridge without one takes the lowest MAC of its ports, so a new
        # pod's veth could change the gateway's MAC under the running pods, whose neighbour caches then send to
        # the old one and lose packets (a terminating operator once failed to release its Lease that way).
        sh("ip", "link", "add", self.net.bridge, "address", self.net.bridge_mac, "type", "bridge")
        sh("ip", "addr", "add", f"{self.net.gateway}/24", "dev", self.net.bridge)
        sh("ip", "link", "set", self.net.bridge, "up")
        self._register_node()
        if self.storage_class:
            self._ensure_storage_class()
        wake = self._wake.set
        c = self.client
        self._informers = {
            "pods": kube.Informer(c, kube.path("pods"), wake, name="pods"),
            "services": kube.Informer(c, kube.path("services"), wake, name="services"),
            "endpointslices": kube.Informer(c, kube.path("endpointslices"), wake, name="endpointslices"),
            "pvcs": kube.Informer(c, kube.path("persistentvolumeclaims"), wake, name="pvcs"),
            "pvs": kube.Informer(c, kube.path("persistentvolumes"), wake, name="pvs"),
            "storageclasses": kube.Informer(c, kube.path("storageclasses"), wake, name="storageclasses"),
        }
        for inf in self._informers.values():
            inf.start()
        for inf in self._informers.values():
            if not inf.wait_synced(60):
                raise RuntimeError(f"informer {inf.name} did not sync")
        self._thread = threading.Thread(target=self._loop, name="podrunner", daemon=True)
        self._thread.start()
        self.log(f"runner up: node {self.node}, network {self.net.cidr} on {self.net.bridge}, "
                 f"apiserver for pods {self.api_host}:{self.api_port}, bin dirs {self.bin_dirs}")
        return self

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(30)
        for inf in self._informers.values():
            inf.stop()
        with self._lock:
            workers = list(self.workers.values())
        threads = []
        for w in workers:
            t = threading.Thread(target=w.shutdown, args=(5.0,), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(30)
        sh("ip", "link", "del", self.net.bridge, check=False)
        cleanup_network_state(self.net)  # anything a worker could not remove
        self.log("runner stopped")

    def wait(self):
        while not self._stop.is_set():
            self._stop.wait(1.0)

    # -- node -----------------------------------------------------------------------------------------------------
    def _node_status(self):
        mem_kib = 0
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
        cap = {"cpu": str(os.cpu_count() or 1), "memory": f"{mem_kib}Ki", "pods": "110",
               "ephemeral-storage": "100Gi"}
        t = now_iso()
        return {
            "capacity": cap, "allocatable": dict(cap),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "ferrymq e2e pod runner is posting ready status",
                            "lastHeartbeatTime": t, "lastTransitionTime": self._ready_since}],
            "addresses": [{"type": "InternalIP", "address": self.net.gateway},
                          {"type": "Hostname", "address": self.node}],
            "nodeInfo": {"machineID": "ferrymq-e2e", "systemUUID": "ferrymq-e2e", "bootID": "ferrymq-e2e",
                         "kernelVersion": os.uname().release, "osImage": "ferrymq e2e pod runner",
                         "containerRuntimeVersion": "podrunner://1", "kubeletVersion": "v0.0.0-podrunner",
                         "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        }

    def _register_node(self):
        self._ready_since = now_iso()
        p = kube.path("nodes", name=self.node)
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node, "labels": {
                    "kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64", "ferrymq.io/e2e-node": "true"}}}
        self.client.delete(p)
        self.client.create(kube.path("nodes"), node)
        # The TaintNodesByCondition admission plugin adds node.kubernetes.io/not-ready at creation; the node
        # lifecycle controller (not run here) would lift it once Ready.
        self.client.merge_patch(p, {"spec": {"taints": None}})
        self.client.merge_patch(p + "/status", {"status": self._node_status()})
        self._last_heartbeat = time.monotonic()

    def _ensure_storage_class(self):
        scs = self.client.list(kube.path("storageclasses")).get("items", [])
        if any(sc.get("provisioner") == PROVISIONER for sc in scs):
            return
        default = not any(sc["metadata"].get("annotations", {}).get(
            "storageclass.kubernetes.io/is-default-class") == "true" for sc in scs)
        try:
            self.client.create(kube.path("storageclasses"), {
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "standard", "annotations": {
                    "storageclass.kubernetes.io/is-default-class": "true" if default else "false"}},
                "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
                "allowVolumeExpansion": True})
        except kube.ApiError as e:
            if e.status != 409:
                raise

    # -- control loop ---------------------------------------------------------------------------------------------
    def _loop(self):
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.reconcile()
            except Exception as e:  # keep going: the next pass sees the world again
                self.log(f"reconcile error: {type(e).__name__}: {e}")

    def wake(self):
        self._wake.set()

    def pods(self):
        return self._informers["pods"].items()

    def reconcile(self):
        if time.monotonic() - self._last_heartbeat > 30:
            self.client.merge_patch(kube.path("nodes", name=self.node, subresource="status"),
                                    {"status": self._node_status()})
            self._last_heartbeat = time.monotonic()
        pods = self.pods()
        seen = set()
        for pod in pods:
            md, spec = pod["metadata"], pod["spec"]
            uid = md["uid"]
            if not spec.get("nodeName"):
                if spec.get("schedulerName", "default-scheduler") == "default-scheduler" and \
                        not md.get("deletionTimestamp"):
                    self._bind(pod)
                continue
            if spec["nodeName"] != self.node:
                continue
            seen.add(uid)
            with self._lock:
                w = self.workers.get(uid)
            if w is None:
                if md.get("deletionTimestamp"):
                    self._final_delete(pod)  # never started here (or runner restarted): nothing to stop
                    continue
                if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                    continue
                w = PodWorker(self, pod)
                with self._lock:
                    self.workers[uid] = w
                w.start()
            else:
                w.update(pod)
        # pods that vanished (force-deleted): stop their containers
        with self._lock:
            gone = [w for uid, w in self.workers.items() if uid not in seen and not w.finished]
        for w in gone:
            w.request_delete(0, final_delete=False)
        with self._lock:
            for uid in [u for u, w in self.workers.items() if w.finished]:
                del self.workers[uid]
        self._sync_dns()
        self._provision()

    def _bind(self, pod):
        md = pod["metadata"]
        try:
            self.client.create(kube.path("pods", md["namespace"], md["name"], "binding"), {
                "apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": md["name"], "namespace": md["namespace"], "uid": md["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node}})
            self.log(f"pod {md['namespace']}/{md['name']} bound to {self.node}")
        except kube.ApiError as e:
            if e.status not in (404, 409):
                raise

    def _final_delete(self, pod):
        md = pod["metadata"]
        try:
            self.client.delete(kube.path("pods", md["namespace"], md["name"]),
                               body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                                     "preconditions": {"uid": md["uid"]}})
        except kube.ApiError as e:
            if e.status != 409:  # 409: a newer pod of the same name
                raise

    def allocate_ip(self):
        with self._lock:
            used = {w.ip for w in self.workers.values() if w.ip}
            for _ in range(253):
                n = self._next_ip
                self._next_ip = 2 if n >= 254 else n + 1
                ip = f"{self.net.prefix}.{n}"
                if ip not in used:
                    return ip
        raise RuntimeError("pod network full")

    # -- DNS --------------------------------------------------------------------------------------------------------
    def dns_records(self):
        """[(namespace or None, short names, fqdn names, ips)] for services and headless pod names."""
        slices = {}
        for s in self._informers["endpointslices"].items():
            svc = s["metadata"].get("labels", {}).get("kubernetes.io/service-name")
            if svc:
                slices.setdefault((s["metadata"]["namespace"], svc), []).append(s)
        out = []
        for svc in self._informers["services"].items():
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            spec = svc.get("spec", {})
            if spec.get("type") == "ExternalName":
                continue
            ready_ips, hostnames = [], []
            for s in slices.get((ns, name), []):
                for ep in s.get("endpoints") or []:
                    if ep.get("conditions", {}).get("ready") is False:
                        continue
                    ready_ips.extend(ep.get("addresses", []))
                    if ep.get("hostname"):
                        hostnames.append((ep["hostname"], ep.get("addresses", [])))
            ready_ips = sorted(set(ready_ips), key=lambda a: tuple(int(x) for x in a.split(".")) if "." in a else a)
            headless = spec.get("clusterIP") == "None"
            ips = ready_ips if headless else ready_ips[:1]
            if ips:
                out.append((ns, [name, f"{name}.{ns}"], [f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"], ips))
            if headless:
                for h, addrs in hostnames:
                    out.append((ns, [f"{h}.{name}", f"{h}.{name}.{ns}"],
                                [f"{h}.{name}.{ns}.svc", f"{h}.{name}.{ns}.svc.cluster.local"], addrs))
        return sorted(out, key=lambda r: r[2][0])

    def hosts_content(self, records, pod=None, ip=None):
        lines = ["# Kubernetes-managed hosts file (ferrymq e2e pod runner).", "127.0.0.1\tlocalhost",
                 "::1\tlocalhost ip6-localhost ip6-loopback"]
        own_ns = None
        if pod is not None:
            md, spec = pod["metadata"], pod["spec"]
            own_ns = md["namespace"]
            host = spec.get("hostname") or md["name"]
            if spec.get("subdomain"):
                lines.append(f"{ip}\t{host}.{spec['subdomain']}.{own_ns}.svc.cluster.local {host}")
            else:
                lines.append(f"{ip}\t{host}")
        for ns, short, fqdn, ips in records:
            names = fqdn + (short if ns == own_ns else [])
            for a in ips:
                lines.append(f"{a}\t{' '.join(names)}")
        return "\n".join(lines) + "\n"

    def _sync_dns(self):
        records = self.dns_records()
        write_in_place(self.hosts_file, self.hosts_content(records))
        with self._lock:
            workers = list(self.workers.values())
        for w in workers:
            w.write_hosts(records)

    def resolve(self, name):
        """IPs the host view gives `name` (fully qualified service or pod names)."""
        return resolve_in_hosts(self.hosts_file, name)

    # -- storage ----------------------------------------------------------------------------------------------------
    def _provision(self):
        classes = {sc["metadata"]["name"]: sc for sc in self._informers["storageclasses"].items()}
        pvs = {pv["metadata"]["name"]: pv for pv in self._informers["pvs"].items()}
        for pvc in self._informers["pvcs"].items():
            md, spec = pvc["metadata"], pvc["spec"]
            if spec.get("volumeName") or md.get("deletionTimestamp"):
                continue
            sc = classes.get(spec.get("storageClassName") or "")
            if not sc or sc.get("provisioner") != PROVISIONER:
                continue
            name = f"pvc-{md['uid']}"
            if name in pvs or name in self._provisioned:
                continue
            d = os.path.join(self.workdir, "volumes", name)
            os.makedirs(d, exist_ok=True)
            size = spec.get("resources", {}).get("requests", {}).get("storage", "1Gi")
            try:
                self.client.create(kube.path("persistentvolumes"), {
                    "apiVersion": "v1", "kind": "PersistentVolume",
                    "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
                                 "labels": {"ferrymq.io/e2e-node": self.node}},
                    "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                             "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                             "storageClassName": sc["metadata"]["name"],
                             "volumeMode": spec.get("volumeMode", "Filesystem"),
                             "hostPath": {"path": d, "type": "Directory"},
                             "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                          "namespace": md["namespace"], "name": md["name"], "uid": md["uid"]}}})
                self.log(f"provisioned {name} ({size}) for pvc {md['namespace']}/{md['name']} at {d}")
            except kube.ApiError as e:
                if e.status != 409:
                    raise
            self._provisioned.add(name)
        for pv in pvs.values():
            md = pv["metadata"]
            if md.get("annotations", {}).get("pv.kubernetes.io/provisioned-by") != PROVISIONER:
                continue
            if pv.get("status", {}).get("phase") == "Released" and \
                    pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
                d = pv["spec"].get("hostPath", {}).get("path", "")
                if d.startswith(os.path.join(self.workdir, "volumes") + "/"):
                    shutil.rmtree(d, ignore_errors=True)
                self.client.delete(kube.path("persistentvolumes", name=md["name"]))
                self.log(f"deleted released volume {md['name']}")

    def pvc(self, namespace, name):
        return self._informers["pvcs"].get(namespace, name)

    def pv(self, name):
        return self._informers["pvs"].get("", name)

    # -- programs ---------------------------------------------------------------------------------------------------
    def resolve_program(self, prog):
        """The image layout keeps programs in /usr/local/bin; they come from the bin dirs (build tree)."""
        if "/" not in prog or os.path.dirname(prog) == "/usr/local/bin":
            base = os.path.basename(prog)
            for d in self.bin_dirs:
                p = os.path.join(d, base)
                if os.path.isfile(p) and os.access(p, os.X_OK):
                    return p
            if "/" in prog:
                raise FileNotFoundError(f"{prog}: no {base} in {self.bin_dirs}")
            found = shutil.which(prog)
            if not found:
                raise FileNotFoundError(f"{prog}: not in {self.bin_dirs} nor on PATH")
            return found
        if not os.access(prog, os.X_OK):
            raise FileNotFoundError(f"{prog}: not executable on the host")
        return prog


def resolve_in_hosts(hosts_file, name):
    """IPs a hosts file gives `name`."""
    out = []
    with open(hosts_file) as f:
        for line in f:
            parts = line.split("#", 1)[0].split()
            if len(parts) >= 2 and name in parts[1:]:
                out.append(parts[0])
    return out


def write_in_place(p, content):
    """Rewrites a file's content keeping its inode (a bind mount of it sees the change); no-op if unchanged."""
    data = content.encode()
    try:
        with open(p, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)
    return True


def write_atomic(p, data, mode=0o644):
    tmp = p + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, p)


class NotReadyYet(Exception):
    """A volume or env source is missing (ConfigMap, Secret, unbound PVC): retry later."""


class ConfigError(Exception):
    """The pod spec asks for something the runner cannot do."""


# --- containers ------------------------------------------------------------------------------------------------
class Container:
    def __init__(self, spec, init=False):
        self.spec = spec
        self.name = spec["name"]
        self.init = init
        self.proc = None
        self.pid = None
        self.started_at = None     # iso of the current run
        self.started_mono = None
        self.restart_count = 0
        self.last_terminated = None
        self.terminated = None     # dict when the current run ended (and no restart is pending/done)
        self.waiting_reason = "ContainerCreating"
        self.waiting_message = None
        self.next_start = 0.0      # monotonic time the next start may happen
        self.backoff = 0.0
        self.ready = False
        self.started = False       # startup probe passed (or none)
        self.probe_state = {}      # kind -> {"next": t, "succ": n, "fail": n}
        self.exited = threading.Event()
        self.killing = False

    def status(self):
        st = {"name": self.name, "image": self.spec.get("image", ""),
              "imageID": "podrunner://" + self.spec.get("image", ""),
              "restartCount": self.restart_count, "ready": self.ready, "started": self.started and
              self.proc is not None and self.terminated is None}
        if self.pid:
            st["containerID"] = f"podrunner://{self.pid}"
        if self.proc is not None and self.terminated is None:
            st["state"] = {"running": {"startedAt": self.started_at}}
        elif self.terminated is not None:
            st["state"] = {"terminated": self.terminated}
        else:
            w = {"reason": self.waiting_reason}
            if self.waiting_message:
                w["message"] = self.waiting_message
            st["state"] = {"waiting": w}
        st["lastState"] = {"terminated": self.last_terminated} if self.last_terminated else {}
        return st


class PodWorker:
    """One pod's sandbox and containers, driven by its own thread."""

    def __init__(self, runner, pod):
        self.r = runner
        self.pod = pod
        md = pod["metadata"]
        self.uid = md["uid"]
        self.ns = md["namespace"]
        self.name = md["name"]
        self.key = f"{self.ns}/{self.name}"
        self.netns = runner.net.netns_name(self.uid)
        self.dir = os.path.join(runner.workdir, "pods", f"{self.ns}_{self.name}_{self.uid[:8]}")
        self.ip = None
        self.start_time = now_iso()
        self._cond = threading.Condition()
        self._delete = None           # (grace seconds, final_delete) once deletion is requested
        self.finished = False
        self.init_done = not pod["spec"].get("initContainers")
        self.init = [Container(c, init=True) for c in pod["spec"].get("initContainers") or []]
        self.containers = [Container(c) for c in pod["spec"]["containers"]]
        self.volumes = {}             # name -> host dir
        self.volume_error = None
        self._last_volume_sync = 0.0
        self._tokens = {}             # file path -> (issued monotonic, lifetime)
        self._last_status = None
        self._cond_times = {}
        self.sandbox_ready = False
        self.hosts_records = None
        self._thread = threading.Thread(target=self._run, name=f"pod {self.key}", daemon=True)

    # -- interface for the runner ---------------------------------------------------------------------------------
    def start(self):
        self._thread.start()

    def update(self, pod):
        with self._cond:
            self.pod = pod
            dt = pod["metadata"].get("deletionTimestamp")
            if dt and self._delete is None:
                grace = pod["metadata"].get("deletionGracePeriodSeconds",
                                            pod["spec"].get("terminationGracePeriodSeconds", 30))
                self._delete = (grace, True)
            self._cond.notify_all()

    def request_delete(self, grace, final_delete=True):
        with self._cond:
            if self._delete is None:
                self._delete = (grace, final_delete)
            self._cond.notify_all()

    def shutdown(self, grace):
        self.request_delete(grace, final_delete=False)
        self._thread.join(grace + 20)

    def write_hosts(self, records):
        if not self.sandbox_ready:
            return
        self.hosts_records = records
        try:
            write_in_place(os.path.join("/etc/netns", self.netns, "hosts"),
                           self.r.hosts_content(records, self.pod, self.ip))
        except OSError:
            pass

    # -- main thread of the pod ------------------------------------------------------------------------------------
    def _run(self):
        try:
            self._record()
            self._setup_sandbox()
            self.r.log(f"pod {self.key} sandbox {self.netns} ip {self.ip}")
            self._push_status()
            while True:
                with self._cond:
                    if self._delete is not None:
                        break
                self._step()
                self._push_status()
                with self._cond:
                    if self._delete is None:
                        self._cond.wait(self._next_wait())
            self._terminate()
        except Exception as e:
            self.r.log(f"pod {self.key} worker error: {type(e).__name__}: {e}")
            self._kill_all(0)
        finally:
            self._teardown_sandbox()
            grace, final = self._delete if self._delete else (0, False)
            if final:
                try:
                    self._push_status(force=True)
                    self.r._final_delete(self.pod)
                    self.r.log(f"pod {self.key} deleted")
                except Exception as e:
                    self.r.log(f"pod {self.key} final delete failed: {e}")
            self.finished = True
            self.r.wake()

    def _next_wait(self):
        now = time.monotonic()
        t = now + 1.0
        for c in self.init + self.containers:
            if c.proc is None and c.terminated is None and c.next_start > now:
                t = min(t, c.next_start)
            for ps in c.probe_state.values():
                t = min(t, ps["next"])
        return max(0.02, t - now)

    # -- sandbox ------------------------------------------------------------------------------------------------------
    def _record(self):
        rec = {"netns": self.netns, "pod": self.key, "uid": self.uid,
               "procs": [{"pid": c.pid, "start": proc_start_time(c.pid)} for c in self.init + self.containers
                         if c.pid and c.proc is not None and c.proc.poll() is None]}
        p = os.path.join(self.r.net.state_dir, "pods", self.uid + ".json")
        write_atomic(p, json.dumps(rec).encode())

    def _setup_sandbox(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "home"), exist_ok=True)
        self.ip = self.r.allocate_ip()
        host_if = host_if_name(self.r.net.index, self.uid)
        sh("ip", "netns", "del", self.netns, check=False)
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "del", host_if, check=False)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "link", "set", host_if, "master", self.r.net.bridge, "up")
        sh("ip", "-n", self.netns, "addr", "add", f"{self.ip}/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        sh("ip", "-n", self.netns, "route", "add", "default", "via", self.r.net.gateway)
        etc = os.path.join("/etc/netns", self.netns)
        os.makedirs(etc, exist_ok=True)
        spec = self.pod["spec"]
        search = f"{self.ns}.svc.cluster.local svc.cluster.local cluster.local"
        write_in_place(os.path.join(etc, "resolv.conf"),
                       f"# no DNS server: names come from /etc/hosts\nnameserver 127.0.0.1\nsearch {search}\n"
                       "options timeout:1 attempts:1\n")
        hostname = spec.get("hostname") or self.name
        write_in_place(os.path.join(etc, "hostname"), hostname + "\n")
        write_in_place(os.path.join(etc, "hosts"), self.r.hosts_content([], self.pod, self.ip))
        self.sandbox_ready = True
        self.write_hosts(self.r.dns_records())

    def _teardown_sandbox(self):
        self.sandbox_ready = False
        sh("ip", "netns", "del", self.netns, check=False)
        shutil.rmtree(os.path.join("/etc/netns", self.netns), ignore_errors=True)
        try:
            os.remove(os.path.join(self.r.net.state_dir, "pods", self.uid + ".json"))
        except OSError:
            pass

    # -- the pod's state machine --------------------------------------------------------------------------------------
    def _step(self):
        now = time.monotonic()
        if now - self._last_volume_sync > 10 or self.volume_error:
            try:
                self._sync_volumes()
                self.volume_error = None
            except NotReadyYet as e:
                self.volume_error = str(e)
            except ConfigError as e:
                self.volume_error = str(e)
            self._last_volume_sync = now
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if not self.init_done:
            for c in self.init:
                if c.terminated is not None and c.terminated.get("exitCode") == 0:
                    continue
                self._drive(c, "OnFailure" if policy == "Always" else policy)
                break
            self.init_done = all(c.terminated is not None and c.terminated.get("exitCode") == 0 for c in self.init)
            if not self.init_done:
                return
        for c in self.containers:
            self._drive(c, policy)

    def _drive(self, c, policy):
        """Advances one container: reap an exit, (re)start when due, run due probes."""
        now = time.monotonic()
        if c.proc is not None and c.proc.poll() is not None:
            self._reaped(c, policy)
        if c.proc is None and c.terminated is None:
            if self.volume_error:
                c.waiting_reason, c.waiting_message = "ContainerCreating", self.volume_error
                return
            if now >= c.next_start:
                self._start_container(c)
            return
        if c.proc is not None and not c.init:
            self._probe(c)

    def _reaped(self, c, policy):
        rc = c.proc.returncode
        finished = now_iso()
        term = {"exitCode": rc if rc >= 0 else 128 - rc, "startedAt": c.started_at, "finishedAt": finished,
                "containerID": f"podrunner://{c.pid}",
                "reason": "Completed" if rc == 0 else "Error"}
        if rc < 0:
            term["signal"] = -rc
        ran = time.monotonic() - (c.started_mono or time.monotonic())
        self.r.log(f"pod {self.key} container {c.name} pid {c.pid} exited "
                   f"{'with code ' + str(rc) if rc >= 0 else 'on signal ' + str(-rc)} after {ran:.1f}s")
        c.proc = None
        c.ready = False
        c.started = False
        c.probe_state = {}
        restart = policy == "Always" or (policy == "OnFailure" and rc != 0)
        if c.init and rc == 0:
            restart = False
        if not restart or self._delete is not None:
            c.terminated = term
            return
        c.last_terminated = term
        if ran >= BACKOFF_RESET:
            c.backoff = 0.0
        delay = c.backoff
        c.backoff = BACKOFF_INITIAL if c.backoff == 0 else min(BACKOFF_MAX, c.backoff * 2)
        c.next_start = time.monotonic() + delay
        c.waiting_reason = "CrashLoopBackOff" if delay > 0 else "ContainerCreating"
        c.waiting_message = f"back-off {int(delay)}s restarting failed container={c.name} pod={self.name}" \
            if delay > 0 else None
        c.restart_count += 1
        if delay:
            self.r.log(f"pod {self.key} container {c.name} restart {c.restart_count} in {delay:.0f}s")

    # -- env, volumes, command ------------------------------------------------------------------------------------
    def _get(self, kind, name):
        return self.r.client.get_or_none(kube.path(kind, self.ns, name))

    def _env(self, c):
        spec = c.spec
        env = {"PATH": DEFAULT_PATH, "HOME": os.path.join(self.dir, "home"),
               "HOSTNAME": self.pod["spec"].get("hostname") or self.name,
               "KUBERNETES_SERVICE_HOST": self.r.api_host, "KUBERNETES_SERVICE_PORT": str(self.r.api_port),
               "KUBERNETES_SERVICE_PORT_HTTPS": str(self.r.api_port),
               "KUBERNETES_PORT": f"tcp://{self.r.api_host}:{self.r.api_port}"}
        for k in PASS_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        for src in spec.get("envFrom") or []:
            prefix = src.get("prefix", "")
            if "configMapRef" in src:
                ref = src["configMapRef"]
                cm = self._get("configmaps", ref["name"])
                if cm is None:
                    if ref.get("optional"):
                        continue
                    raise NotReadyYet(f'configmap "{ref["name"]}" not found')
                for k, v in (cm.get("data") or {}).items():
                    env[prefix + k] = v
            elif "secretRef" in src:
                ref = src["secretRef"]
                s = self._get("secrets", ref["name"])
                if s is None:
                    if ref.get("optional"):
                        continue
                    raise NotReadyYet(f'secret "{ref["name"]}" not found')
                for k, v in (s.get("data") or {}).items():
                    env[prefix + k] = base64.b64decode(v).decode("utf-8", "replace")
        for e in spec.get("env") or []:
            if "valueFrom" not in e:
                env[e["name"]] = expand(e.get("value", ""), env)
                continue
            vf = e["valueFrom"]
            if "fieldRef" in vf:
                env[e["name"]] = field_path(self._pod_with_status(), vf["fieldRef"]["fieldPath"])
            elif "configMapKeyRef" in vf or "secretKeyRef" in vf:
                secret = "secretKeyRef" in vf
                ref = vf["secretKeyRef" if secret else "configMapKeyRef"]
                obj = self._get("secrets" if secret else "configmaps", ref["name"])
                val = None if obj is None else (obj.get("data") or {}).get(ref["key"])
                if val is None:
                    if ref.get("optional"):
                        continue
                    raise NotReadyYet(f'{"secret" if secret else "configmap"} {ref["name"]} key {ref["key"]} missing')
                env[e["name"]] = base64.b64decode(val).decode("utf-8", "replace") if secret else val
            elif "resourceFieldRef" in vf:
                rf = vf["resourceFieldRef"]
                kind, _, res = rf["resource"].partition(".")
                cspec = next((x for x in self.pod["spec"]["containers"] + (self.pod["spec"].get("initContainers")
                              or []) if x["name"] == rf.get("containerName", c.name)), spec)
                q = (cspec.get("resources", {}).get(kind, {}) or {}).get(res)
                if q is None:
                    node = {"cpu": str(os.cpu_count() or 1), "memory": str(os.sysconf("SC_PAGE_SIZE") *
                                                                           os.sysconf("SC_PHYS_PAGES"))}
                    q = node.get(res, "0")
                div = quantity(rf.get("divisor", "1"))
                v = quantity(q) / div
                env[e["name"]] = str(int(-(-v // 1)))
            else:
                raise ConfigError(f"env {e['name']}: unsupported valueFrom {list(vf)}")
        return env

    def _pod_with_status(self):
        pod = json.loads(json.dumps(self.pod))
        st = pod.setdefault("status", {})
        st["podIP"] = self.ip
        st["podIPs"] = [{"ip": self.ip}]
        st["hostIP"] = self.r.net.gateway
        st["hostIPs"] = [{"ip": self.r.net.gateway}]
        pod["spec"]["nodeName"] = self.r.node
        return pod

    def _sync_volumes(self):
        """Materialises every volume under <pod dir>/volumes (ConfigMap/Secret contents refreshed)."""
        vroot = os.path.join(self.dir, "volumes")
        os.makedirs(vroot, exist_ok=True)
        for v in self.pod["spec"].get("volumes") or []:
            name = v["name"]
            d = os.path.join(vroot, name)
            if "emptyDir" in v:
                os.makedirs(d, exist_ok=True)
            elif "configMap" in v or "secret" in v or "downwardAPI" in v or "projected" in v:
                os.makedirs(d, exist_ok=True)
                files = {}
                if "projected" in v:
                    mode = v["projected"].get("defaultMode", 0o644)
                    for src in v["projected"].get("sources") or []:
                        files.update(self._source_files(src, mode, d))
                else:
                    files = self._source_files(v, None, d)
                for rel, (data, m) in files.items():
                    p = os.path.join(d, rel)
                    os.makedirs(os.path.dirname(p), exist_ok=True)
                    try:
                        with open(p, "rb") as f:
                            same = f.read() == data
                    except OSError:
                        same = False
                    if not same:
                        write_atomic(p, data, m)
                for root, _, fnames in os.walk(d):
                    for fn in fnames:
                        rel = os.path.relpath(os.path.join(root, fn), d)
                        if rel not in files:
                            os.remove(os.path.join(root, fn))
            elif "persistentVolumeClaim" in v:
                claim = v["persistentVolumeClaim"]["claimName"]
                pvc = self.r.pvc(self.ns, claim) or self._get("persistentvolumeclaims", claim)
                if pvc is None:
                    raise NotReadyYet(f'persistentvolumeclaim "{claim}" not found')
                if pvc.get("status", {}).get("phase") != "Bound" or not pvc["spec"].get("volumeName"):
                    raise NotReadyYet(f'persistentvolumeclaim "{claim}" is not bound')
                pv = self.r.pv(pvc["spec"]["volumeName"]) or self.r.client.get_or_none(
                    kube.path("persistentvolumes", name=pvc["spec"]["volumeName"]))
                if pv is None or "hostPath" not in pv["spec"]:
                    raise ConfigError(f"volume of claim {claim} is not a hostPath volume")
                d = pv["spec"]["hostPath"]["path"]
                os.makedirs(d, exist_ok=True)
            elif "hostPath" in v:
                d = v["hostPath"]["path"]
                if v["hostPath"].get("type") in ("DirectoryOrCreate",):
                    os.makedirs(d, exist_ok=True)
            else:
                raise ConfigError(f"volume {name}: unsupported type {[k for k in v if k != 'name']}")
            self.volumes[name] = d

    def _items(self, data, items, default_mode):
        """{path: (bytes, mode)} from a key->bytes map and optional items."""
        out = {}
        if items:
            for it in items:
                if it["key"] not in data:
                    raise NotReadyYet(f"key {it['key']} missing")
                out[it["path"]] = (data[it["key"]], it.get("mode", default_mode))
        else:
            for k, b in data.items():
                out[k] = (b, default_mode)
        return out

    def _source_files(self, src, projected_mode, vdir):
        mode = projected_mode
        if "configMap" in src:
            ref = src["configMap"]
            mode = ref.get("defaultMode", mode if mode is not None else 0o644)
            cm = self._get("configmaps", ref["name"])
            if cm is None:
                if ref.get("optional"):
                    return {}
                raise NotReadyYet(f'configmap "{ref["name"]}" not found')
            data = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
            data.update({k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()})
            return self._items(data, ref.get("items"), mode)
        if "secret" in src:
            ref = src["secret"]
            mode = ref.get("defaultMode", mode if mode is not None else 0o644)
            s = self._get("secrets", ref.get("secretName") or ref.get("name"))
            if s is None:
                if ref.get("optional"):
                    return {}
                raise NotReadyYet(f'secret "{ref.get("secretName") or ref.get("name")}" not found')
            data = {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
            return self._items(data, ref.get("items"), mode)
        if "downwardAPI" in src:
            ref = src["downwardAPI"]
            mode = ref.get("defaultMode", mode if mode is not None else 0o644)
            out = {}
            pod = self._pod_with_status()
            for it in ref.get("items") or []:
                if "fieldRef" not in it:
                    raise ConfigError("downwardAPI: only fieldRef items are supported")
                out[it["path"]] = (field_path(pod, it["fieldRef"]["fieldPath"]).encode(), it.get("mode", mode))
            return out
        if "serviceAccountToken" in src:
            ref = src["serviceAccountToken"]
            path = ref["path"]
            exp = int(ref.get("expirationSeconds", 3600))
            issued = self._tokens.get(path)
            fp = os.path.join(vdir, path)
            if issued and time.monotonic() - issued[0] < 0.8 * issued[1] and os.path.exists(fp):
                with open(fp, "rb") as f:
                    return {path: (f.read(), mode if mode is not None else 0o644)}
            sa = self.pod["spec"].get("serviceAccountName") or "default"
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                    "spec": {"expirationSeconds": exp,
                             "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": self.name,
                                                "uid": self.uid}}}
            if ref.get("audience"):
                body["spec"]["audiences"] = [ref["audience"]]
            try:
                tr = self.r.client.create(kube.path("serviceaccounts", self.ns, sa, "token"), body)
            except kube.ApiError as e:
                if e.status == 404:
                    raise NotReadyYet(f'serviceaccount "{sa}" not found')
                raise
            self._tokens[path] = (time.monotonic(), exp)
            return {path: (tr["status"]["token"].encode(), mode if mode is not None else 0o644)}
        if "clusterTrustBundle" in src:
            raise ConfigError("clusterTrustBundle projections are not supported")
        raise ConfigError(f"unsupported projected source {list(src)}")

    def _command(self, c, env):
        spec = c.spec
        cmd = list(spec.get("command") or [])
        args = list(spec.get("args") or [])
        if not cmd:
            image = spec.get("image", "")
            repo = image.split("@")[0]
            if ":" in repo.rsplit("/", 1)[-1]:
                repo = repo.rsplit(":", 1)[0]
            cmd = [repo.rsplit("/", 1)[-1]]
        argv = [expand(a, env) for a in cmd + args]
        argv[0] = self.r.resolve_program(argv[0])
        return argv

    def _mount_script(self, c, program=None):
        lines = ["set -e", f"hostname {shlex.quote(self.pod['spec'].get('hostname') or self.name)}"]
        mounts = []
        for m in c.spec.get("volumeMounts") or []:
            src = self.volumes.get(m["name"])
            if src is None:
                raise ConfigError(f"volumeMount {m['name']}: no such volume")
            if m.get("subPath"):
                src = os.path.join(src, m["subPath"])
                if not os.path.exists(src):
                    os.makedirs(src, exist_ok=True)
            mounts.append((m, src))

        # The volumes' host directories live under the runner's work directory (often in /tmp). A kubelet mounts
        # from the host's view, but these binds run inside the container's mount namespace, so a mount at /tmp
        # (an emptyDir many charts use) would hide the sources of the mounts after it: do those last.
        sources = [os.path.realpath(src) for _, src in mounts]

        def shadows(target):
            t = os.path.realpath(target).rstrip("/") + "/"
            return any(src.startswith(t) for src in sources)
        mounts.sort(key=lambda ms: shadows(ms[0]["mountPath"]))
        # The program is a host path (the build tree); a mount over one of its parents (an emptyDir at /tmp with
        # a checkout under /tmp) would hide it. Open it before mounting and execute it through that descriptor.
        prog = os.path.realpath(program) if program else ""
        hidden = prog and any(prog.startswith(os.path.realpath(m["mountPath"]).rstrip("/") + "/") for m, _ in mounts)
        if hidden:
            lines.append(f"exec 9<{shlex.quote(prog)}")
        for m, src in mounts:
            target = m["mountPath"]
            q = shlex.quote(target)
            if os.path.isdir(src):
                lines.append(f"mkdir -p {q}")
            else:
                lines.append(f"mkdir -p {shlex.quote(os.path.dirname(target))}; [ -e {q} ] || : > {q}")
            lines.append(f"mount --bind {shlex.quote(src)} {q}")
            if m.get("readOnly") or self._volume_read_only(m["name"]):
                lines.append(f"mount -o remount,bind,ro {q}")
        wd = c.spec.get("workingDir")
        lines.append(f"mkdir -p {shlex.quote(wd)}; cd {shlex.quote(wd)}" if wd else "cd /")
        lines.append('shift; exec /proc/self/fd/9 "$@"' if hidden else 'exec "$@"')
        return "\n".join(lines)

    def _volume_read_only(self, name):
        for v in self.pod["spec"].get("volumes") or []:
            if v["name"] == name:
                return any(k in v for k in ("configMap", "secret", "downwardAPI", "projected"))
        return False

    def _start_container(self, c):
        try:
            env = self._env(c)
            argv = self._command(c, env)
            script = self._mount_script(c, argv[0])
        except NotReadyYet as e:
            c.waiting_reason, c.waiting_message = "ContainerCreating", str(e)
            c.next_start = time.monotonic() + 1.0
            return
        except (ConfigError, FileNotFoundError, ValueError, KeyError) as e:
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", str(e)
            c.next_start = time.monotonic() + 5.0
            self.r.log(f"pod {self.key} container {c.name}: cannot start: {e}")
            return
        full = ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts", "--propagation", "private",
                "--", "/bin/sh", "-c", script, c.name] + argv
        logp = os.path.join(self.dir, c.name + ".log")
        with open(logp, "ab", buffering=0) as log:
            log.write(f"--- {now_iso()} start {c.restart_count}: {' '.join(shlex.quote(a) for a in argv)}\n"
                      .encode())
            c.proc = subprocess.Popen(full, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True, preexec_fn=_pdeathsig_kill)
        c.pid = c.proc.pid
        c.started_at = now_iso()
        c.started_mono = time.monotonic()
        c.terminated = None
        c.waiting_reason, c.waiting_message = None, None
        c.ready = False
        c.started = "startupProbe" not in c.spec
        t0 = time.monotonic()
        c.probe_state = {}
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            pr = c.spec.get(kind)
            if pr:
                c.probe_state[kind] = {"next": t0 + pr.get("initialDelaySeconds", 0), "succ": 0, "fail": 0}
        self._record()
        threading.Thread(target=self._waiter, args=(c.proc,), daemon=True).start()
        self.r.log(f"pod {self.key} container {c.name} started pid {c.pid} (restart {c.restart_count}): "
                   f"{' '.join(argv)}")

    def _waiter(self, proc):
        proc.wait()
        with self._cond:
            self._cond.notify_all()

    # -- probes -------------------------------------------------------------------------------------------------------
    def _probe(self, c):
        now = time.monotonic()
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            ps = c.probe_state.get(kind)
            if ps is None or now < ps["next"]:
                continue
            if kind != "startupProbe" and not c.started:
                continue
            if kind == "startupProbe" and c.started:
                continue
            pr = c.spec[kind]
            ok = self._run_probe(c, pr)
            ps["next"] = time.monotonic() + pr.get("periodSeconds", 10)
            if ok:
                ps["succ"] += 1
                ps["fail"] = 0
            else:
                ps["fail"] += 1
                ps["succ"] = 0
            succ_needed = pr.get("successThreshold", 1)
            fail_limit = pr.get("failureThreshold", 3)
            if kind == "startupProbe":
                if ok:
                    c.started = True
                    if "readinessProbe" not in c.spec:
                        c.ready = True
                elif ps["fail"] >= fail_limit:
                    self.r.log(f"pod {self.key} container {c.name} failed its startup probe; killing")
                    self._kill(c, pr.get("terminationGracePeriodSeconds"))
            elif kind == "livenessProbe":
                if not ok and ps["fail"] >= fail_limit:
                    self.r.log(f"pod {self.key} container {c.name} failed its liveness probe; killing")
                    self._kill(c, pr.get("terminationGracePeriodSeconds"))
            else:
                if ok and ps["succ"] >= succ_needed and not c.ready:
                    c.ready = True
                    self.r.log(f"pod {self.key} container {c.name} ready")
                elif not ok and ps["fail"] >= fail_limit and c.ready:
                    c.ready = False
                    self.r.log(f"pod {self.key} container {c.name} not ready")
        if "readinessProbe" not in c.spec and c.started and c.proc is not None:
            c.ready = True

    def _port(self, c, port):
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for p in c.spec.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        raise ConfigError(f"no container port named {port}")

    def _run_probe(self, c, pr):
        timeout = pr.get("timeoutSeconds", 1)
        try:
            if "tcpSocket" in pr:
                t = pr["tcpSocket"]
                with socket.create_connection((t.get("host") or self.ip, self._port(c, t["port"])), timeout):
                    return True
            if "httpGet" in pr:
                return self._http(c, pr["httpGet"], timeout)
            if "exec" in pr:
                return self._exec(c, pr["exec"]["command"], timeout) == 0
        except (OSError, ConfigError, subprocess.TimeoutExpired):
            return False
        return False

    def _http(self, c, h, timeout):
        scheme = h.get("scheme", "HTTP").lower()
        url = f"{scheme}://{h.get('host') or self.ip}:{self._port(c, h['port'])}{h.get('path', '/')}"
        req = urllib.request.Request(url, headers={x["name"]: x["value"] for x in h.get("httpHeaders") or []})
        req.add_header("User-Agent", "kube-probe/ferrymq-e2e")
        import ssl
        ctx = ssl._create_unverified_context() if scheme == "https" else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                return 200 <= r.status < 400
        except urllib.error.HTTPError as e:
            return 200 <= e.code < 400

    def _exec(self, c, cmd, timeout):
        if c.proc is None:
            return -1
        env = self._env(c)
        # like the kubelet, exec handlers get the container's env but no $(VAR) expansion
        r = subprocess.run(["nsenter", "-t", str(c.pid), "-n", "-m", "-u", "--"] + list(cmd),
                           env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout, cwd="/")
        return r.returncode

    # -- stopping -------------------------------------------------------------------------------------------------------
    def _kill(self, c, grace=None):
        """Stops one container's current process (for liveness/startup failures); the reaper restarts it."""
        if grace is None:
            grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
        self._stop_procs([c], grace)

    def _stop_procs(self, cs, grace):
        procs = [c.proc for c in cs if c.proc is not None and c.proc.poll() is None]
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + max(0, grace)
        for p in procs:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()

    def _kill_all(self, grace):
        self._stop_procs(self.init + self.containers, grace)

    def _terminate(self):
        grace, _ = self._delete
        deadline = time.monotonic() + grace
        running = [c for c in self.init + self.containers if c.proc is not None and c.proc.poll() is None]
        hooks = []
        for c in running:
            pre = (c.spec.get("lifecycle") or {}).get("preStop")
            if pre and grace > 0:
                t = threading.Thread(target=self._pre_stop, args=(c, pre), daemon=True)
                t.start()
                hooks.append(t)
        for t in hooks:
            t.join(max(0.0, deadline - time.monotonic()))
        self.r.log(f"pod {self.key} stopping {len(running)} container(s), grace {grace}s")
        self._stop_procs(running, max(0.0, deadline - time.monotonic()))
        for c in self.init + self.containers:
            if c.proc is not None:
                self._reaped(c, "Never")

    def _pre_stop(self, c, pre):
        try:
            if "exec" in pre:
                self._exec(c, pre["exec"]["command"], 3600)
            elif "httpGet" in pre:
                self._http(c, pre["httpGet"], 30)
            elif "sleep" in pre:
                time.sleep(pre["sleep"].get("seconds", 0))
        except Exception as e:
            self.r.log(f"pod {self.key} container {c.name} preStop failed: {e}")

    # -- status -----------------------------------------------------------------------------------------------------------
    def _condition(self, ctype, ok, reason=None):
        status = "True" if ok else "False"
        prev = self._cond_times.get(ctype)
        if prev is None or prev[0] != status:
            self._cond_times[ctype] = (status, now_iso())
        c = {"type": ctype, "status": status, "lastProbeTime": None,
             "lastTransitionTime": self._cond_times[ctype][1]}
        if reason and not ok:
            c["reason"] = reason
        return c

    def status(self):
        policy = self.pod["spec"].get("restartPolicy", "Always")
        cs = [c.status() for c in self.containers]
        ics = [c.status() for c in self.init]
        running = any(c.proc is not None for c in self.containers)
        all_term = all(c.terminated is not None for c in self.containers)
        if all_term and policy != "Always":
            phase = "Succeeded" if all(c.terminated.get("exitCode") == 0 for c in self.containers) else "Failed"
        elif all_term and self._delete is not None:
            phase = "Failed" if any(c.terminated.get("exitCode") != 0 for c in self.containers) else "Succeeded"
        elif running or any(c.restart_count for c in self.containers):
            phase = "Running"
        else:
            phase = "Pending"
        ready = all(c.ready for c in self.containers)
        conds = [self._condition("PodReadyToStartContainers", self.sandbox_ready),
                 self._condition("Initialized", self.init_done, "ContainersNotInitialized"),
                 self._condition("ContainersReady", ready, "ContainersNotReady"),
                 self._condition("Ready", ready, "ContainersNotReady")]
        ours = {c["type"] for c in conds}
        for other in self.pod.get("status", {}).get("conditions") or []:
            if other["type"] not in ours:
                conds.append(other)
        st = {"phase": phase, "conditions": conds, "hostIP": self.r.net.gateway,
              "hostIPs": [{"ip": self.r.net.gateway}], "startTime": self.start_time, "containerStatuses": cs}
        if self.ip:
            st["podIP"] = self.ip
            st["podIPs"] = [{"ip": self.ip}]
        if ics:
            st["initContainerStatuses"] = ics
        return st

    def _push_status(self, force=False):
        st = self.status()
        if st == self._last_status and not force:
            return
        try:
            self.r.client.merge_patch(kube.path("pods", self.ns, self.name, "status"), {
                "metadata": {"uid": self.uid}, "status": st})
            self._last_status = st
        except kube.ApiError as e:
            if e.status not in (404, 409, 422):
                self.r.log(f"pod {self.key} status update failed: {e}")


def _pdeathsig_kill():
    import ctypes
    ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--network-index", type=int, help="a network reserved by reserve_network (default: reserve)")
    ap.add_argument("--bin-dir", action="append", default=[],
                    help="directory with the image programs (repeatable, or colon-separated)")
    ap.add_argument("--node-name", default="e2e-node")
    ap.add_argument("--no-storage-class", action="store_true")
    ap.add_argument("--ready-file", help="written (JSON: node, network, gateway, pid) once the runner is up")
    args = ap.parse_args(argv)
    bin_dirs = [d for a in (args.bin_dir or [os.environ.get("FMQ_BIN_DIR", "")]) for d in a.split(":") if d]
    if os.geteuid() != 0:
        print("podrunner: must run as root (network namespaces, mounts)", file=sys.stderr)
        return 2
    if args.network_index:
        net = Network(args.network_index)
        os.makedirs(net.state_dir, exist_ok=True)
        net.set_owner()
    else:
        net = reserve_network()
    runner = Runner(args.kubeconfig, args.workdir, net, bin_dirs, node_name=args.node_name, log_to_stderr=True,
                    storage_class=not args.no_storage_class)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner.start()
        if args.ready_file:
            write_atomic(args.ready_file, json.dumps({
                "node": runner.node, "network": net.cidr, "gateway": net.gateway, "bridge": net.bridge,
                "index": net.index, "pid": os.getpid(), "hosts": runner.hosts_file}).encode())
        runner.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
