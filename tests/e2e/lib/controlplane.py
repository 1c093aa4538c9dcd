"""A real Kubernetes control plane for e2e tests: etcd, kube-apiserver and kube-controller-manager as local
processes (binaries from scripts/install_e2e_tools.sh), all state under one work directory.

    cp = ControlPlane(workdir, tools_bin, extra_ips=["10.213.7.1"])
    cp.start()                       # raises (after stopping what it started) if anything fails to come up
    cp.kubeconfig                    # admin kubeconfig (JSON), system:masters
    cp.client()                      # lib.kube.KubeClient as admin
    cp.stop()                        # SIGTERM, then SIGKILL; logs stay in workdir/logs

Layout of workdir: pki/ (CA, apiserver serving cert, client certs, service-account keys), etcd/ (data),
logs/{etcd,kube-apiserver,kube-controller-manager}.log, audit/audit.log (JSON lines, one per write request:
create/update/patch/delete/deletecollection; events at Metadata level, everything else at Request level so the
request body is in `requestObject`), audit/policy.yaml, kubeconfig (admin), kubeconfig-podrunner (the pod
runner's identity), kubeconfig-controller-manager.

The apiserver listens on 0.0.0.0:<secure_port> and advertises `advertise_address` (the pod network's gateway when
a pod runner is used), so the `kubernetes` Service's endpoint is reachable from pods; its certificate names
127.0.0.1, localhost, the advertise address, the extra IPs, the first service IP and kubernetes.default.svc*.
Authorization is RBAC (so operator RBAC in charts is really exercised); admins are in system:masters.
CRD validation rules (x-kubernetes-validations, CEL) are GA since 1.29 and need no flag.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request

from . import kube
from .proc import spawn, stop_process

SERVICE_CIDR = "10.96.0.0/16"   # virtual: there is no kube-proxy, nothing routes to it
FIRST_SERVICE_IP = "10.96.0.1"


def free_port():
    """A TCP port that was free a moment ago (bind to 0); callers retry if a start then fails to bind."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r.stdout


class Pki:
    """Certificates made with openssl (ECDSA P-256 keys; RSA for the service-account signing key)."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.ca_crt = os.path.join(d, "ca.crt")
        self.ca_key = os.path.join(d, "ca.key")
        self.sa_key = os.path.join(d, "sa.key")
        self.sa_pub = os.path.join(d, "sa.pub")

    def _key(self, p):
        _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p])
        os.chmod(p, 0o600)

    def make_ca(self):
        self._key(self.ca_key)
        _run(["openssl", "req", "-x509", "-new", "-key", self.ca_key, "-out", self.ca_crt, "-days", "3650",
              "-subj", "/CN=ferrymq-e2e-ca", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"])
        _run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.sa_key])
        _run(["openssl", "pkey", "-in", self.sa_key, "-pubout", "-out", self.sa_pub])

    def issue(self, name, cn, orgs=(), dns=(), ips=(), server=False):
        """Issues <name>.crt/<name>.key signed by the CA; returns (crt, key)."""
        key = os.path.join(self.dir, name + ".key")
        crt = os.path.join(self.dir, name + ".crt")
        csr = os.path.join(self.dir, name + ".csr")
        ext = os.path.join(self.dir, name + ".ext")
        self._key(key)
        subj = "".join(f"/O={o}" for o in orgs) + f"/CN={cn}"
        _run(["openssl", "req", "-new", "-key", key, "-out", csr, "-subj", subj])
        lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
                 "extendedKeyUsage=" + ("serverAuth,clientAuth" if server else "clientAuth")]
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        with open(ext, "w") as f:
            f.write("\n".join(lines) + "\n")
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
              "-CAcreateserial", "-out", crt, "-days", "3650", "-extfile", ext])
        os.remove(csr)
        os.remove(ext)
        return crt, key


def write_kubeconfig(p, server, ca_file, cert_file, key_file, user, cluster_name="ferrymq-e2e"):
    """A kubeconfig in JSON with embedded (base64) certificate data, readable by kubectl, helm, client-go,
    yaml-cpp and lib.kube."""
    import base64

    def b64(f):
        with open(f, "rb") as fh:
            return base64.b64encode(fh.read()).decode()

    cfg = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": b64(ca_file)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert_file),
                                          "client-key-data": b64(key_file)}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    with open(p, "w") as f:
        json.dump(cfg, f, indent=1)
    os.chmod(p, 0o600)
    return p


AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
  resources: [{group: "", resources: ["events"]}, {group: "events.k8s.io", resources: ["events"]}]
- level: Request
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
"""

CONTROLLERS = [
    "statefulset-controller", "replicaset-controller", "deployment-controller", "daemonset-controller",
    "job-controller", "garbage-collector-controller", "endpoints-controller", "endpointslice-controller",
    "endpointslice-mirroring-controller", "serviceaccount-controller", "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller", "namespace-controller", "disruption-controller",
    "persistentvolume-binder-controller", "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller", "ttl-after-finished-controller", "clusterrole-aggregation-controller",
]


class ControlPlane:
    def __init__(self, workdir, tools_bin, advertise_address="127.0.0.1", extra_ips=(), log=print):
        self.workdir = os.path.abspath(workdir)
        self.tools_bin = tools_bin
        self.advertise_address = advertise_address
        self.extra_ips = list(extra_ips)
        self.log = log
        self.logs_dir = os.path.join(self.workdir, "logs")
        self.audit_log = os.path.join(self.workdir, "audit", "audit.log")
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.kubeconfig_podrunner = os.path.join(self.workdir, "kubeconfig-podrunner")
        self.pki = Pki(os.path.join(self.workdir, "pki"))
        self.procs = {}  # name -> Popen
        self.secure_port = None
        self.etcd_port = None
        self.server = None
        self.service_account_issuer = "https://kubernetes.default.svc.cluster.local"

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self, timeout=120.0):
        t0 = time.monotonic()
        try:
            os.makedirs(self.logs_dir, exist_ok=True)
            os.makedirs(os.path.dirname(self.audit_log), exist_ok=True)
            self._make_pki()
            self._start_etcd(timeout)
            self._start_apiserver(timeout)
            self._start_controller_manager(timeout)
        except BaseException:
            self.log(f"controlplane: start failed; logs in {self.logs_dir}")
            self.stop()
            raise
        self.log(f"controlplane: up in {time.monotonic() - t0:.1f}s at {self.server} (workdir {self.workdir})")
        return self

    def stop(self):
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            p = self.procs.pop(name, None)
            if p is not None:
                stop_process(p, grace=10.0)

    def client(self):
        return kube.KubeClient.from_kubeconfig(self.kubeconfig)

    def binary(self, name):
        p = os.path.join(self.tools_bin, name)
        if not os.access(p, os.X_OK):
            raise FileNotFoundError(f"{p} missing: run scripts/install_e2e_tools.sh")
        return p

    def audit_events(self):
        """Every audit event written so far (list of dicts)."""
        out = []
        try:
            with open(self.audit_log) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out

    def check_alive(self):
        """Raises if a control-plane process has exited."""
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}; see {self.logs_dir}/{name}.log")

    # -- pieces -----------------------------------------------------------------------------------------------
    def _make_pki(self):
        self.pki.make_ca()
        ips = ["127.0.0.1", FIRST_SERVICE_IP, self.advertise_address] + self.extra_ips
        self.apiserver_crt, self.apiserver_key = self.pki.issue(
            "apiserver", "kube-apiserver", server=True, ips=sorted(set(ips)),
            dns=["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local"])
        self.admin_crt, self.admin_key = self.pki.issue("admin", "ferrymq-e2e-admin", orgs=["system:masters"])
        self.runner_crt, self.runner_key = self.pki.issue("podrunner", "ferrymq-e2e-podrunner",
                                                          orgs=["system:masters"])
        self.kcm_crt, self.kcm_key = self.pki.issue("kube-controller-manager", "system:kube-controller-manager")

    def _wait_http(self, url, timeout, name, ctx=None, ok=lambda body: True):
        def probe():
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2, context=ctx) as r:
                    body = r.read().decode()
                    return r.status == 200 and ok(body)
            except (OSError, ValueError):
                return False
        kube.wait_for(probe, timeout, interval=0.25, what=f"{name} at {url}")

    def _start_etcd(self, timeout):
        data = os.path.join(self.workdir, "etcd")
        for attempt in range(3):
            self.etcd_port, peer = free_port(), free_port()
            url, peer_url = f"http://127.0.0.1:{self.etcd_port}", f"http://127.0.0.1:{peer}"
            shutil.rmtree(data, ignore_errors=True)
            self.procs["etcd"] = spawn(
                [self.binary("etcd"), "--name", "e2e", "--data-dir", data,
                 "--listen-client-urls", url, "--advertise-client-urls", url,
                 "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                 "--initial-cluster", f"e2e={peer_url}", "--initial-cluster-state", "new",
                 "--unsafe-no-fsync", "--log-level", "warn", "--quota-backend-bytes", str(2 << 30)],
                os.path.join(self.logs_dir, "etcd.log"))
            try:
                self._wait_http(url + "/health", timeout, "etcd", ok=lambda b: '"health":"true"' in b)
                return
            except (TimeoutError, RuntimeError):
                stop_process(self.procs.pop("etcd"))
                if attempt == 2:
                    raise

    def _start_apiserver(self, timeout):
        policy = os.path.join(os.path.dirname(self.audit_log), "policy.yaml")
        with open(policy, "w") as f:
            f.write(AUDIT_POLICY)
        for attempt in range(3):
            self.secure_port = free_port()
            self.server = f"https://127.0.0.1:{self.secure_port}"
            self.procs["kube-apiserver"] = spawn(
                [self.binary("kube-apiserver"),
                 f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                 "--bind-address=0.0.0.0", f"--secure-port={self.secure_port}",
                 f"--advertise-address={self.advertise_address}",
                 f"--tls-cert-file={self.apiserver_crt}", f"--tls-private-key-file={self.apiserver_key}",
                 f"--client-ca-file={self.pki.ca_crt}",
                 f"--service-account-key-file={self.pki.sa_pub}",
                 f"--service-account-signing-key-file={self.pki.sa_key}",
                 f"--service-account-issuer={self.service_account_issuer}",
                 f"--service-cluster-ip-range={SERVICE_CIDR}",
                 "--authorization-mode=RBAC", "--allow-privileged=true",
                 f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
                 "--audit-log-format=json", "--audit-log-mode=blocking", "--audit-log-maxsize=0",
                 "--endpoint-reconciler-type=lease", "--profiling=false", "--v=1"],
                os.path.join(self.logs_dir, "kube-apiserver.log"))
            try:
                ctx = ssl.create_default_context(cafile=self.pki.ca_crt)
                ctx.load_cert_chain(self.admin_crt, self.admin_key)
                self._wait_http(self.server + "/readyz", timeout, "kube-apiserver", ctx=ctx)
                break
            except (TimeoutError, RuntimeError):
                stop_process(self.procs.pop("kube-apiserver"))
                if attempt == 2:
                    raise
        write_kubeconfig(self.kubeconfig, self.server, self.pki.ca_crt, self.admin_crt, self.admin_key,
                         "ferrymq-e2e-admin")
        write_kubeconfig(self.kubeconfig_podrunner, self.server, self.pki.ca_crt, self.runner_crt,
                         self.runner_key, "ferrymq-e2e-podrunner")

    def _start_controller_manager(self, timeout):
        kcfg = write_kubeconfig(os.path.join(self.workdir, "kubeconfig-controller-manager"), self.server,
                                self.pki.ca_crt, self.kcm_crt, self.kcm_key, "system:kube-controller-manager")
        for attempt in range(3):
            port = free_port()
            self.procs["kube-controller-manager"] = spawn(
                [self.binary("kube-controller-manager"), f"--kubeconfig={kcfg}",
                 f"--authentication-kubeconfig={kcfg}", f"--authorization-kubeconfig={kcfg}",
                 "--bind-address=127.0.0.1", f"--secure-port={port}",
                 "--leader-elect=false", "--use-service-account-credentials=true",
                 "--controllers=" + ",".join(CONTROLLERS),
                 f"--root-ca-file={self.pki.ca_crt}",
                 f"--service-account-private-key-file={self.pki.sa_key}",
                 f"--service-cluster-ip-range={SERVICE_CIDR}",
                 "--concurrent-statefulset-syncs=5", "--profiling=false", "--v=1"],
                os.path.join(self.logs_dir, "kube-controller-manager.log"))
            try:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE  # its serving cert is self-signed; only its health matters
                self._wait_http(f"https://127.0.0.1:{port}/healthz", timeout, "kube-controller-manager", ctx=ctx)
                return
            except (TimeoutError, RuntimeError):
                stop_process(self.procs.pop("kube-controller-manager"))
                if attempt == 2:
                    raise
