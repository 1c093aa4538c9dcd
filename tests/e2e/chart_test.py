#!/usr/bin/env python3
"""The ferrymq-operator Helm chart: `helm lint`, rendering with several value sets, and a real `helm install`,
`upgrade` and `uninstall` against a kube-apiserver whose RBAC authorizer checks the operator's permissions.

    python3 tests/e2e/chart_test.py [-v] [unittest args]

Needs helm, etcd, kube-apiserver and kubectl from scripts/install_e2e_tools.sh (FMQ_TOOLS_BIN, default
$HOME/.cache/ferrymq/tools/bin) and PyYAML (python3-yaml). No operator pod runs here (there is no kubelet): the
e2e tier with the operator itself lives beside this file.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHART = os.path.join(ROOT, "charts", "ferrymq-operator")
sys.path.insert(0, HERE)

from lib.checks import unittest_main  # noqa: E402
from lib.controlplane import ControlPlane  # noqa: E402

TOOLS_BIN = os.environ.get("FMQ_TOOLS_BIN", os.path.expanduser("~/.cache/ferrymq/tools/bin"))
HELM = os.path.join(TOOLS_BIN, "helm")
KUBECTL = os.environ.get("FMQ_KUBECTL", os.path.join(TOOLS_BIN, "kubectl"))
# helm template assumes Kubernetes 1.20 without a cluster; the chart needs 1.30+.
KUBE_VERSION = "1.35.0"
CRD_NAMES = ["clusters.ferrymq.io", "consumergroups.ferrymq.io", "topics.ferrymq.io", "users.ferrymq.io"]


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def helm(*args, check=True, kubeconfig=None):
    env = dict(os.environ, HELM_CACHE_HOME=os.path.join(WORKDIR, "helm-cache"),
               HELM_CONFIG_HOME=os.path.join(WORKDIR, "helm-config"),
               HELM_DATA_HOME=os.path.join(WORKDIR, "helm-data"))
    extra = ["--kubeconfig", kubeconfig] if kubeconfig else []
    return run([HELM, *args, *extra], check=check, env=env)


def render(*sets, namespace="ferrymq-system"):
    """helm template with --set values; returns the documents as dicts."""
    args = ["template", "fmq", CHART, "--namespace", namespace, "--kube-version", KUBE_VERSION]
    for s in sets:
        args += ["--set", s]
    return [d for d in yaml.safe_load_all(helm(*args).stdout) if d]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind, name=None):
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


def rules_for(role, group, resource):
    """The verbs a Role/ClusterRole grants on group/resource (set)."""
    verbs = set()
    for r in role["rules"]:
        if group in r.get("apiGroups", []) and resource in r.get("resources", []):
            verbs |= set(r["verbs"])
    return verbs


WORKDIR = None


def setUpModule():
    global WORKDIR
    WORKDIR = tempfile.mkdtemp(prefix="fmq-chart-e2e-")


def tearDownModule():
    if WORKDIR and not os.environ.get("FMQ_KEEP_WORKDIR"):
        shutil.rmtree(WORKDIR, ignore_errors=True)


class LintAndRenderTest(unittest.TestCase):
    def test_lint_is_clean(self):
        r = helm("lint", "--strict", CHART)
        out = r.stdout + r.stderr
        self.assertIn("1 chart(s) linted, 0 chart(s) failed", out)
        self.assertNotIn("[WARNING]", out)
        self.assertNotIn("[ERROR]", out)
        r = helm("lint", "--strict", CHART, "--set", "watchNamespaces={a,b}", "--set", "replicaCount=1")
        self.assertIn("0 chart(s) failed", r.stdout)

    def test_defaults(self):
        docs = render()
        kinds = sorted(d["kind"] for d in docs)
        self.assertEqual(kinds, sorted(["CustomResourceDefinition"] * 4 + [
            "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment",
            "PodDisruptionBudget"]))
        dep = one(docs, "Deployment")
        self.assertEqual(dep["metadata"]["namespace"], "ferrymq-system")
        self.assertEqual(dep["spec"]["replicas"], 2)
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["image"], "ferrymq:0.1.0")
        self.assertEqual(c["command"], ["/usr/local/bin/ferrymq-operator"])
        self.assertEqual(c["args"], [
            "--leader-elect=true", "--lease-name=ferrymq-operator", "--lease-namespace=$(POD_NAMESPACE)",
            "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081", "--broker-image=ferrymq:0.1.0",
            "--workers=2"])
        env = {e["name"]: e for e in c["env"]}
        self.assertEqual(env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name")
        self.assertEqual(env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.namespace")
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"metrics": 8080, "health": 8081})
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "health"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "health"})
        sc = c["securityContext"]
        self.assertEqual((sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"], sc["capabilities"]),
                         (True, False, {"drop": ["ALL"]}))
        psc = pod["securityContext"]
        self.assertEqual((psc["runAsNonRoot"], psc["runAsUser"], psc["seccompProfile"]),
                         (True, 65532, {"type": "RuntimeDefault"}))
        self.assertEqual(pod["serviceAccountName"], "fmq-ferrymq-operator")
        svc = one(docs, "Service")
        self.assertEqual(svc["spec"]["ports"][0]["port"], 8080)
        self.assertEqual(svc["spec"]["selector"], dep["spec"]["selector"]["matchLabels"])
        self.assertEqual(one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"], 1)

    def test_rbac_is_least_privilege(self):
        docs = render()
        cr = one(docs, "ClusterRole")
        for r in cr["rules"]:
            self.assertNotIn("*", r["verbs"])
            self.assertNotIn("*", r["resources"])
        for kind in ["clusters", "topics", "consumergroups", "users"]:
            self.assertEqual(rules_for(cr, "ferrymq.io", kind), {"get", "list", "watch", "update", "patch"})
            self.assertEqual(rules_for(cr, "ferrymq.io", kind + "/status"), {"get", "update", "patch"})
            self.assertEqual(rules_for(cr, "ferrymq.io", kind + "/finalizers"), {"update"})
        self.assertEqual(rules_for(cr, "", "pods"), {"get", "list", "watch", "delete"})
        # Secrets: read by name and written (a Cluster's credentials, a User's Secret), never listed or deleted.
        self.assertEqual(rules_for(cr, "", "secrets"), {"get", "create", "update", "patch"})
        self.assertEqual(rules_for(cr, "", "persistentvolumeclaims"), {"get", "list", "watch", "patch", "delete"})
        self.assertEqual(rules_for(cr, "", "events"), {"create", "patch"})
        self.assertEqual(rules_for(cr, "events.k8s.io", "events"), {"create", "patch"})
        self.assertEqual(rules_for(cr, "coordination.k8s.io", "leases"), set())  # leases: own namespace only
        self.assertIn("create", rules_for(cr, "apps", "statefulsets"))
        self.assertIn("create", rules_for(cr, "policy", "poddisruptionbudgets"))
        leader = one(docs, "Role")
        self.assertEqual(leader["metadata"]["namespace"], "ferrymq-system")
        self.assertEqual(rules_for(leader, "coordination.k8s.io", "leases"), {"get", "create", "update", "patch"})
        binding = one(docs, "ClusterRoleBinding")
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": "fmq-ferrymq-operator",
                                                "namespace": "ferrymq-system"}])

    def test_watch_namespaces_use_roles(self):
        docs = render("watchNamespaces={team-a,team-b}")
        self.assertEqual(by_kind(docs, "ClusterRole") + by_kind(docs, "ClusterRoleBinding"), [])
        roles = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in by_kind(docs, "Role")}
        self.assertEqual(roles, {("team-a", "fmq-ferrymq-operator"), ("team-b", "fmq-ferrymq-operator"),
                                 ("ferrymq-system", "fmq-ferrymq-operator-leader-election")})
        bindings = {d["metadata"]["namespace"] for d in by_kind(docs, "RoleBinding")}
        self.assertEqual(bindings, {"team-a", "team-b", "ferrymq-system"})
        args = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertIn("--namespaces=team-a,team-b", args)

    def test_crds_are_the_repository_crds(self):
        docs = render()
        rendered = {d["metadata"]["name"]: d for d in by_kind(docs, "CustomResourceDefinition")}
        self.assertEqual(sorted(rendered), CRD_NAMES)
        for f in sorted(os.listdir(os.path.join(ROOT, "crds"))):
            if not f.endswith(".yaml"):
                continue
            with open(os.path.join(ROOT, "crds", f)) as fh:
                source = yaml.safe_load(fh)
            got = rendered[source["metadata"]["name"]]
            self.assertEqual(got["spec"], source["spec"], f"chart CRD {f} differs from crds/{f}")
            self.assertEqual(got["metadata"]["annotations"], {"helm.sh/resource-policy": "keep"})
            for k, v in source["metadata"]["labels"].items():
                self.assertEqual(got["metadata"]["labels"][k], v)
            # The chart's copy is byte-identical (what scripts/sync_chart_crds.sh --check also asserts).
            with open(os.path.join(CHART, "files", "crds", f), "rb") as a, \
                    open(os.path.join(ROOT, "crds", f), "rb") as b:
                self.assertEqual(a.read(), b.read(), f"charts/ferrymq-operator/files/crds/{f} is stale")
        nokeep = by_kind(render("crds.keep=false"), "CustomResourceDefinition")
        self.assertEqual(len(nokeep), 4)
        self.assertNotIn("annotations", nokeep[0]["metadata"])
        self.assertEqual(by_kind(render("crds.install=false"), "CustomResourceDefinition"), [])

    def test_options(self):
        docs = render("replicaCount=1", "leaderElection.enabled=false", "metrics.enabled=false",
                      "brokerImage=registry.example.com/ferrymq:9", "image.tag=1.2.3",
                      "leaderElection.leaseDuration=30s", "extraArgs={--workers=4}")
        self.assertEqual(by_kind(docs, "PodDisruptionBudget") + by_kind(docs, "Service"), [])
        self.assertEqual(by_kind(docs, "Role"), [])  # no leader-election Role
        c = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["image"], "ferrymq:1.2.3")
        self.assertIn("--leader-elect=false", c["args"])
        self.assertNotIn("--lease-name=ferrymq-operator", c["args"])
        self.assertNotIn("--lease-duration=30s", c["args"])  # only with leader election
        self.assertIn("--broker-image=registry.example.com/ferrymq:9", c["args"])
        self.assertEqual(c["args"][-1], "--workers=4")
        docs = render("leaderElection.leaseDuration=30s", "metrics.serviceMonitor.enabled=true")
        c = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("--lease-duration=30s", c["args"])
        sm = one(docs, "ServiceMonitor")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "metrics")

    def test_monitoring_options(self):
        """The broker PodMonitor (with the exporter family), the PrometheusRule and the Grafana dashboards."""
        docs = render()
        self.assertEqual(by_kind(docs, "PodMonitor") + by_kind(docs, "PrometheusRule"), [])
        self.assertEqual([d for d in by_kind(docs, "ConfigMap") if "dashboard" in d["metadata"]["name"]], [])
        docs = render("metrics.brokerPodMonitor.enabled=true", "metrics.brokerPodMonitor.exporterFamily=true",
                      "metrics.prometheusRule.enabled=true", "metrics.grafanaDashboards.enabled=true",
                      "metrics.grafanaDashboards.namespace=monitoring",
                      "metrics.grafanaDashboards.folderAnnotation=grafana_folder")
        pm = one(docs, "PodMonitor")
        self.assertEqual([(e["port"], e["path"]) for e in pm["spec"]["podMetricsEndpoints"]],
                         [("metrics", "/metrics"), ("metrics", "/metrics/exporter")])
        self.assertEqual(pm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"], "broker")
        rules = [r["alert"] for g in one(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
        self.assertIn("FerryMQReplicaOutOfSync", rules)
        self.assertIn("FerryMQConsumerBacklog", rules)
        boards = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap") if "dashboard" in d["metadata"]["name"]}
        self.assertEqual(sorted(boards), ["fmq-ferrymq-operator-dashboard-" + n for n in
                                          ("broker", "cluster", "consumer-group", "operator", "topic")])
        for name, cm in boards.items():
            self.assertEqual(cm["metadata"]["namespace"], "monitoring")
            self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
            self.assertEqual(cm["metadata"]["annotations"]["grafana_folder"], "FerryMQ")
            (file, text), = cm["data"].items()
            self.assertEqual(json.loads(text)["uid"], file[: -len(".json")], name)


class InstallTest(unittest.TestCase):
    """helm install / upgrade / uninstall against a real API server with RBAC authorization."""

    @classmethod
    def setUpClass(cls):
        cls.api = ControlPlane(os.path.join(WORKDIR, "api"), TOOLS_BIN,
                                log=lambda m: print(m, file=sys.stderr)).start()
        cls.kubeconfig = cls.api.kubeconfig

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def kubectl(self, *args, check=True):
        return run([KUBECTL, "--kubeconfig", self.kubeconfig, *args], check=check)

    def can(self, verb, resource, namespace, sa="system:serviceaccount:ferrymq-system:fmq-ferrymq-operator"):
        r = self.kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", sa, check=False)
        return r.stdout.strip() == "yes"

    def test_install_upgrade_uninstall(self):
        out = helm("install", "fmq", CHART, "-n", "ferrymq-system", "--create-namespace",
                   kubeconfig=self.kubeconfig).stdout
        self.assertIn("It manages FerryMQ resources in every namespace.", out)  # NOTES.txt
        self.assertIn("kubectl get ferrymq", out)
        crds = self.kubectl("get", "crd", "-o", "name").stdout.split()
        self.assertEqual(sorted(crds), [f"customresourcedefinition.apiextensions.k8s.io/{n}" for n in CRD_NAMES])
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in CRD_NAMES])
        dep = json.loads(self.kubectl("get", "deployment", "fmq-ferrymq-operator", "-n", "ferrymq-system",
                                      "-o", "json").stdout)
        self.assertEqual(dep["spec"]["replicas"], 2)
        # The RBAC authorizer agrees with the intended permissions, in any namespace.
        for verb, res in [("list", "clusters.ferrymq.io"), ("watch", "topics.ferrymq.io"),
                          ("patch", "users.ferrymq.io/status"), ("update", "topics.ferrymq.io/finalizers"),
                          ("create", "statefulsets.apps"), ("delete", "pods"), ("get", "secrets"),
                          ("create", "secrets"), ("patch", "secrets"),
                          ("patch", "persistentvolumeclaims"), ("delete", "persistentvolumeclaims"),
                          ("create", "events"),
                          ("create", "events.events.k8s.io"), ("create", "poddisruptionbudgets.policy")]:
            self.assertTrue(self.can(verb, res, "team-x"), f"operator cannot {verb} {res}")
        for verb, res in [("create", "clusters.ferrymq.io"), ("delete", "topics.ferrymq.io"),
                          ("list", "secrets"), ("delete", "secrets"), ("create", "persistentvolumeclaims"),
                          ("create", "pods"),
                          ("create", "leases.coordination.k8s.io")]:
            self.assertFalse(self.can(verb, res, "team-x"), f"operator may {verb} {res}")
        self.assertTrue(self.can("update", "leases.coordination.k8s.io", "ferrymq-system"))

        # A second release limited to one namespace (which must exist: its Role lives there), using the CRDs the
        # first one installed.
        self.kubectl("create", "namespace", "team-a")
        helm("install", "scoped", CHART, "-n", "scoped-system", "--create-namespace",
             "--set", "crds.install=false", "--set", "watchNamespaces={team-a}", kubeconfig=self.kubeconfig)
        sa = "system:serviceaccount:scoped-system:scoped-ferrymq-operator"
        self.assertTrue(self.can("list", "topics.ferrymq.io", "team-a", sa=sa))
        self.assertFalse(self.can("list", "topics.ferrymq.io", "team-b", sa=sa))
        self.assertTrue(self.can("update", "leases.coordination.k8s.io", "scoped-system", sa=sa))
        self.assertFalse(self.can("update", "leases.coordination.k8s.io", "team-a", sa=sa))

        # Upgrade re-applies the CRDs (templates, not crds/), then uninstall keeps them.
        self.kubectl("label", "crd", "topics.ferrymq.io", "app.kubernetes.io/part-of-", "--overwrite")
        helm("upgrade", "fmq", CHART, "-n", "ferrymq-system", "--set", "replicaCount=3", kubeconfig=self.kubeconfig)
        labels = json.loads(self.kubectl("get", "crd", "topics.ferrymq.io", "-o", "json").stdout)["metadata"]["labels"]
        self.assertEqual(labels.get("app.kubernetes.io/part-of"), "ferrymq")
        helm("uninstall", "scoped", "-n", "scoped-system", kubeconfig=self.kubeconfig)
        helm("uninstall", "fmq", "-n", "ferrymq-system", kubeconfig=self.kubeconfig)
        self.assertEqual(len(self.kubectl("get", "crd", "-o", "name").stdout.split()), 4)
        r = self.kubectl("get", "deployment", "fmq-ferrymq-operator", "-n", "ferrymq-system", check=False)
        self.assertIn("NotFound", r.stderr)


def main():
    return unittest_main("chart")

if __name__ == "__main__":
    sys.exit(main())
