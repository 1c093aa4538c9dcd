"""The smallest real Kubernetes API for CRD tests: etcd and kube-apiserver as local processes (binaries from
scripts/install_e2e_tools.sh), no controllers, all state under one work directory.

    api = ApiServerOnly(workdir, tools_bin).start()
    api.kubeconfig          # admin kubeconfig (JSON; a bearer token in group system:masters)
    api.stop()              # SIGTERM, then SIGKILL; logs stay in workdir/logs

Same interface as lib.controlplane.ControlPlane (the full e2e control plane); tests that only need the API
(CRD schemas, CEL rules, printer columns) use this one because it starts in a few seconds.
"""

import ctypes
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(p, grace=10.0):
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


class ApiServerOnly:
    def __init__(self, workdir, tools_bin, log=print):
        self.workdir = os.path.abspath(workdir)
        self.tools_bin = tools_bin
        self.log = log
        self.logs_dir = os.path.join(self.workdir, "logs")
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.procs = {}
        self.server = None

    def binary(self, name):
        p = os.path.join(self.tools_bin, name)
        if not os.access(p, os.X_OK):
            raise FileNotFoundError(f"{p} missing: run scripts/install_e2e_tools.sh")
        return p

    def start(self, timeout=90.0):
        t0 = time.monotonic()
        os.makedirs(self.logs_dir, exist_ok=True)
        try:
            self._start_etcd(timeout)
            self._start_apiserver(timeout)
        except BaseException:
            self.log(f"apiserver_only: start failed; logs in {self.logs_dir}")
            self.stop()
            raise
        self.log(f"apiserver_only: up in {time.monotonic() - t0:.1f}s at {self.server} (workdir {self.workdir})")
        return self

    def stop(self):
        for name in ("kube-apiserver", "etcd"):
            p = self.procs.pop(name, None)
            if p is not None:
                _stop(p)

    def _spawn(self, name, cmd):
        log = open(os.path.join(self.logs_dir, name + ".log"), "ab", buffering=0)
        try:
            self.procs[name] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()

    def _wait(self, name, url, timeout, ctx=None, headers=None, ok=lambda body: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.procs[name]
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}; see {self.logs_dir}/{name}.log")
            try:
                req = urllib.request.Request(url, headers=headers or {})
                with urllib.request.urlopen(req, timeout=2, context=ctx) as r:
                    if r.status == 200 and ok(r.read().decode()):
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.25)  # polling a process that is starting up; not a test delay
        raise TimeoutError(f"{name} not ready at {url} after {timeout:.0f}s; see {self.logs_dir}/{name}.log")

    def _start_etcd(self, timeout):
        client, peer = _free_port(), _free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        peer_url = f"http://127.0.0.1:{peer}"
        self._spawn("etcd", [
            self.binary("etcd"), "--name", "crd", "--data-dir", os.path.join(self.workdir, "etcd"),
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"crd={peer_url}", "--unsafe-no-fsync", "--log-level", "warn"])
        self._wait("etcd", self.etcd_url + "/health", timeout, ok=lambda b: '"health":"true"' in b)

    def _start_apiserver(self, timeout):
        pki = os.path.join(self.workdir, "pki")
        os.makedirs(pki, exist_ok=True)
        sa_key, sa_pub = os.path.join(pki, "sa.key"), os.path.join(pki, "sa.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", sa_key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", sa_key, "-pubout", "-out", sa_pub], check=True, capture_output=True)
        token = secrets.token_hex(16)
        tokens = os.path.join(pki, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(f'{token},crd-test-admin,crd-test-admin,"system:masters"\n')
        port = _free_port()
        self.server = f"https://127.0.0.1:{port}"
        self._spawn("kube-apiserver", [
            self.binary("kube-apiserver"), f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={pki}", f"--token-auth-file={tokens}", "--authorization-mode=RBAC",
            f"--service-account-key-file={sa_pub}", f"--service-account-signing-key-file={sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc", "--service-cluster-ip-range=10.97.0.0/24",
            "--profiling=false", "--v=1"])
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed serving certificate from --cert-dir
        self._wait("kube-apiserver", self.server + "/readyz", timeout, ctx=ctx,
                   headers={"Authorization": "Bearer " + token})
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "crd",
            "clusters": [{"name": "crd", "cluster": {"server": self.server, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "crd", "context": {"cluster": "crd", "user": "admin"}}],
        }
        with open(self.kubeconfig, "w") as f:
            json.dump(config, f)
        os.chmod(self.kubeconfig, 0o600)
