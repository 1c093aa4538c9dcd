"""A small Kubernetes REST client on the Python standard library (http.client + ssl).

Enough for the e2e harness, the pod runner and tests: CRUD on any resource path, merge/JSON/apply patches,
subresources, list+watch with bookmarks, and a client built from a kubeconfig that this harness wrote (JSON,
which every kubeconfig reader accepts since JSON is YAML) or from explicit certificate files.

Paths are REST paths, e.g. kube.path("pods", namespace="ns", name="p", subresource="status") or
kube.path("statefulsets", namespace="ns", group="apps", version="v1").

Thread safety: a KubeClient may be shared by threads; every request opens its own connection (the apiserver is
local, so connection reuse buys little and per-request connections make watches and requests independent).
"""

import atexit
import base64
import http.client
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
import urllib.parse

# Resources of the core group and of the named groups this harness uses; anything else passes group/version.
_CORE = {
    "pods", "services", "endpoints", "configmaps", "secrets", "namespaces", "nodes", "serviceaccounts", "events",
    "persistentvolumeclaims", "persistentvolumes", "resourcequotas", "limitranges",
}
_GROUPS = {
    "statefulsets": "apps/v1", "deployments": "apps/v1", "replicasets": "apps/v1", "daemonsets": "apps/v1",
    "controllerrevisions": "apps/v1",
    "endpointslices": "discovery.k8s.io/v1",
    "poddisruptionbudgets": "policy/v1",
    "leases": "coordination.k8s.io/v1",
    "storageclasses": "storage.k8s.io/v1",
    "customresourcedefinitions": "apiextensions.k8s.io/v1",
    "roles": "rbac.authorization.k8s.io/v1", "rolebindings": "rbac.authorization.k8s.io/v1",
    "clusterroles": "rbac.authorization.k8s.io/v1", "clusterrolebindings": "rbac.authorization.k8s.io/v1",
    "jobs": "batch/v1",
}


class ApiError(Exception):
    """A non-2xx answer from the apiserver (status = HTTP code, body = decoded Status object or text)."""

    def __init__(self, status, reason, body):
        self.status = status
        self.reason = reason
        self.body = body
        msg = body.get("message") if isinstance(body, dict) else str(body)[:500]
        super().__init__(f"HTTP {status} {reason}: {msg}")


class Expired(Exception):
    """A watch or list answered 410 Gone: the caller relists."""


def path(resource, namespace=None, name=None, subresource=None, group=None, version=None):
    """REST path of a resource; group/version default from the built-in table (core group: /api/v1)."""
    if group is None and version is None:
        if resource in _CORE:
            base = "/api/v1"
        elif resource in _GROUPS:
            base = "/apis/" + _GROUPS[resource]
        else:
            raise ValueError(f"unknown resource {resource!r}: pass group and version")
    elif not group:
        base = "/api/" + (version or "v1")
    else:
        base = f"/apis/{group}/{version}"
    p = base
    if namespace:
        p += f"/namespaces/{namespace}"
    p += f"/{resource}"
    if name:
        p += f"/{name}"
    if subresource:
        p += f"/{subresource}"
    return p


class KubeClient:
    """Client for one apiserver. server = "https://host:port"; ca/cert/key = PEM file paths."""

    def __init__(self, server, ca_file, cert_file=None, key_file=None, token=None, timeout=30.0):
        u = urllib.parse.urlsplit(server)
        if u.scheme != "https":
            raise ValueError("only https apiservers are supported")
        self.server = server
        self.host = u.hostname
        self.port = u.port or 443
        self.timeout = timeout
        self.token = token
        self._ctx = ssl.create_default_context(cafile=ca_file)
        if cert_file:
            self._ctx.load_cert_chain(cert_file, key_file)

    # -- construction -----------------------------------------------------------------------------------------
    @staticmethod
    def from_kubeconfig(kubeconfig, context=None):
        """Client for a kubeconfig in JSON (as written by lib.controlplane). *-data fields are decoded into a
        private temporary directory; file paths are used as they are."""
        with open(kubeconfig) as f:
            cfg = json.load(f)
        ctx_name = context or cfg.get("current-context")
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        tmp = None

        def material(obj, file_key, data_key):
            nonlocal tmp
            if obj.get(file_key):
                return obj[file_key]
            if obj.get(data_key):
                if tmp is None:
                    tmp = tempfile.mkdtemp(prefix="fmq-kubecfg-")
                    # Key material: gone when the test process exits.
                    atexit.register(shutil.rmtree, tmp, True)
                p = os.path.join(tmp, data_key)
                with open(p, "wb") as out:
                    out.write(base64.b64decode(obj[data_key]))
                os.chmod(p, 0o600)
                return p
            return None

        ca = material(cluster, "certificate-authority", "certificate-authority-data")
        cert = material(user, "client-certificate", "client-certificate-data")
        key = material(user, "client-key", "client-key-data")
        return KubeClient(cluster["server"], ca, cert, key, token=user.get("token"))

    # -- requests ---------------------------------------------------------------------------------------------
    def _conn(self, timeout=None):
        return http.client.HTTPSConnection(self.host, self.port, context=self._ctx,
                                           timeout=timeout if timeout is not None else self.timeout)

    def _headers(self, content_type=None):
        h = {"Accept": "application/json", "User-Agent": "ferrymq-e2e"}
        if content_type:
            h["Content-Type"] = content_type
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        return h

    def request(self, method, p, body=None, params=None, content_type="application/json", timeout=None,
                raw=False):
        """One request; returns the decoded JSON answer (or text if raw). Raises ApiError on non-2xx."""
        if params:
            p += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        conn = self._conn(timeout)
        try:
            conn.request(method, p, body=data, headers=self._headers(content_type if data is not None else None))
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if resp.status >= 300:
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = text
            if resp.status == 410:
                raise Expired(text)
            raise ApiError(resp.status, resp.reason, decoded)
        if raw:
            return text
        return json.loads(text) if text else None

    def get(self, p, params=None):
        return self.request("GET", p, params=params)

    def get_or_none(self, p):
        try:
            return self.get(p)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def create(self, p, obj, params=None):
        return self.request("POST", p, obj, params=params)

    def replace(self, p, obj):
        return self.request("PUT", p, obj)

    def merge_patch(self, p, patch, params=None):
        return self.request("PATCH", p, patch, params=params, content_type="application/merge-patch+json")

    def json_patch(self, p, ops):
        return self.request("PATCH", p, ops, content_type="application/json-patch+json")

    def apply(self, p, obj, field_manager="ferrymq-e2e", force=True):
        """Server-side apply (PATCH application/apply-patch+yaml; JSON is YAML)."""
        return self.request("PATCH", p, obj, params={"fieldManager": field_manager, "force": str(force).lower()},
                            content_type="application/apply-patch+yaml")

    def delete(self, p, body=None, params=None, missing_ok=True):
        try:
            return self.request("DELETE", p, body, params=params)
        except ApiError as e:
            if missing_ok and e.status == 404:
                return None
            raise

    # -- list and watch ---------------------------------------------------------------------------------------
    def list(self, p, params=None):
        return self.get(p, params=params)

    def watch(self, p, resource_version, params=None, timeout_seconds=300, stop=None):
        """Yields watch events (dicts with type and object) from resource_version, with bookmarks. Ends when
        the server closes the watch (the caller re-watches from the last resourceVersion it saw); raises
        Expired on 410. `stop` (threading.Event) ends the stream at the next event or read timeout."""
        q = dict(params or {})
        q.update({"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(timeout_seconds)})
        url = p + "?" + urllib.parse.urlencode(q)
        # A read timeout ends the stream (a timed-out socket file cannot be read again): the caller re-watches
        # from the last resourceVersion, so `stop` is noticed within this many seconds.
        conn = self._conn(timeout=10.0)
        try:
            conn.request("GET", url, headers=self._headers())
            resp = conn.getresponse()
            if resp.status == 410:
                raise Expired(resp.read().decode())
            if resp.status >= 300:
                text = resp.read().decode("utf-8", "replace")
                raise ApiError(resp.status, resp.reason, text)
            buf = b""
            while stop is None or not stop.is_set():
                try:
                    chunk = resp.read1(65536)
                except (OSError, http.client.HTTPException):  # includes the read timeout
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    ev = json.loads(line)
                    if ev.get("type") == "ERROR":
                        status = ev.get("object", {})
                        if status.get("code") == 410:
                            raise Expired(status.get("message", "expired"))
                        raise ApiError(status.get("code", 500), status.get("reason", ""), status)
                    yield ev
        finally:
            conn.close()


class Informer:
    """Level-based cache of one resource kind: list, then watch with bookmarks; relist on 410 or error.

    `on_change()` (no arguments) is called after every change to the cache, from the informer's thread.
    Thread safety: the cache is guarded by a lock; `items()` returns a snapshot list."""

    def __init__(self, client, p, on_change=None, params=None, name=None):
        self.client = client
        self.path = p
        self.params = params or {}
        self.on_change = on_change or (lambda: None)
        self.name = name or p
        self._lock = threading.Lock()
        self._items = {}  # guarded by _lock: (namespace, name) -> object
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"informer {self.name}", daemon=True)
        self.errors = 0

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()

    def wait_synced(self, timeout=30.0):
        return self._synced.wait(timeout)

    def items(self):
        with self._lock:
            return list(self._items.values())

    def get(self, namespace, name):
        with self._lock:
            return self._items.get((namespace or "", name))

    @staticmethod
    def _key(obj):
        md = obj.get("metadata", {})
        return (md.get("namespace", ""), md.get("name"))

    def _run(self):
        while not self._stop.is_set():
            try:
                lst = self.client.list(self.path, params=self.params)
                with self._lock:
                    self._items = {self._key(o): o for o in lst.get("items", [])}
                self._synced.set()
                self.on_change()
                rv = lst["metadata"]["resourceVersion"]
                while not self._stop.is_set():
                    for ev in self.client.watch(self.path, rv, params=self.params, stop=self._stop):
                        obj = ev["object"]
                        rv = obj.get("metadata", {}).get("resourceVersion", rv)
                        if ev["type"] == "BOOKMARK":
                            continue
                        with self._lock:
                            if ev["type"] == "DELETED":
                                self._items.pop(self._key(obj), None)
                            else:
                                self._items[self._key(obj)] = obj
                        self.on_change()
            except Expired:
                continue
            except Exception:  # connection refused at shutdown, apiserver restart: back off and relist
                self.errors += 1
                self._stop.wait(1.0)


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    """Polls predicate() until it returns a truthy value (returned) or timeout seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = predicate()
            if v:
                return v
        except Exception as e:  # an apiserver hiccup counts as "not yet"
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)
