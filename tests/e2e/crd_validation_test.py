#!/usr/bin/env python3
"""The ferrymq.io CRDs against a real kube-apiserver: schemas, defaults, CEL rules and their messages, printer
columns, short names and the `ferrymq` category.

    python3 tests/e2e/crd_validation_test.py [-v] [unittest args]

Needs etcd, kube-apiserver and kubectl from scripts/install_e2e_tools.sh (FMQ_TOOLS_BIN, default
$HOME/.cache/ferrymq/tools/bin; FMQ_KUBECTL overrides the kubectl). Applies crds/*.yaml (the single source), then creates and updates resources
with kubectl and checks that invalid ones are refused with the message a user would read.
FMQ_KEEP_WORKDIR=1 keeps the work directory (logs, kubeconfig) for inspection.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from lib.checks import unittest_main  # noqa: E402
from lib.controlplane import ControlPlane  # noqa: E402

TOOLS_BIN = os.environ.get("FMQ_TOOLS_BIN", os.path.expanduser("~/.cache/ferrymq/tools/bin"))
NS = "crd-e2e"
KINDS = ["clusters", "topics", "consumergroups", "users"]

API = None
WORKDIR = None


def setUpModule():
    global API, WORKDIR
    WORKDIR = tempfile.mkdtemp(prefix="fmq-crd-e2e-")
    API = ControlPlane(WORKDIR, TOOLS_BIN, log=lambda m: print(m, file=sys.stderr)).start()
    kubectl("apply", "--server-side", "-f", os.path.join(ROOT, "crds"))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{k}.ferrymq.io" for k in KINDS])
    kubectl("create", "namespace", NS)


def tearDownModule():
    if API is not None:
        API.stop()
    if WORKDIR and not os.environ.get("FMQ_KEEP_WORKDIR"):
        shutil.rmtree(WORKDIR, ignore_errors=True)
    elif WORKDIR:
        print(f"crd_validation_test: work directory kept: {WORKDIR}", file=sys.stderr)


def kubectl(*args, stdin=None, check=True):
    cmd = [os.environ.get("FMQ_KUBECTL", os.path.join(TOOLS_BIN, "kubectl")), "--kubeconfig", API.kubeconfig, *args]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def manifest(kind, name, spec, status=None):
    obj = {"apiVersion": "ferrymq.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": NS},
           "spec": spec}
    if status is not None:
        obj["status"] = status
    return json.dumps(obj)


def apply(kind, name, spec):
    """Server-side apply (create or update) as one field manager, so removing a field from spec removes it."""
    return kubectl("apply", "--server-side", "--field-manager=crd-test", "-f", "-",
                   stdin=manifest(kind, name, spec), check=False)


READY_TRUE = {"type": "Ready", "status": "True", "reason": "Synced", "message": "applied on every broker group",
              "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}


def set_status(resource, name, status):
    """Writes status through the status subresource, as the operator does."""
    kubectl("patch", resource, name, "-n", NS, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": status}))


def get(resource, name):
    return json.loads(kubectl("get", resource, name, "-n", NS, "-o", "json").stdout)


class Case(unittest.TestCase):
    def accepted(self, kind, name, spec):
        r = apply(kind, name, spec)
        self.assertEqual(r.returncode, 0, f"{kind} {name} was refused:\n{r.stderr}")
        return r

    def refused(self, kind, name, spec, *messages):
        """Asserts the apply fails and the error names each message (what the user reads)."""
        r = apply(kind, name, spec)
        self.assertNotEqual(r.returncode, 0, f"{kind} {name} {spec} was accepted")
        for m in messages:
            self.assertIn(m, r.stderr, f"expected message {m!r} in:\n{r.stderr}")
        return r.stderr


class ClusterTest(Case):
    def test_defaults_are_filled_in(self):
        self.accepted("Cluster", "defaults", {})
        spec = get("cluster", "defaults")["spec"]
        self.assertEqual(spec["imagePullPolicy"], "IfNotPresent")
        self.assertEqual(spec["nameServer"], {"replicas": 1})
        self.assertEqual(spec["brokers"], {"groups": 1, "replicasPerGroup": 1, "flushDiskType": "ASYNC_FLUSH",
                                           "storage": {"size": "10Gi"}, "scaleIn": {"policy": "Drain"}})
        self.assertNotIn("image", spec)  # defaulted by the operator's --broker-image, not by the CRD

    def test_full_spec_is_accepted(self):
        self.accepted("Cluster", "full", {
            "image": "registry.example.com/ferrymq:0.1.0", "imagePullPolicy": "Always",
            "nameServer": {"replicas": 3, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
            "brokers": {"groups": 2, "replicasPerGroup": 1, "flushDiskType": "SYNC_FLUSH",
                        "storage": {"size": "50Gi", "storageClassName": "fast"},
                        "resources": {"limits": {"memory": "4Gi"}},
                        "config": {"fileReservedTime": "72", "maxMessageSize": "4194304"}}})
        spec = get("cluster", "full")["spec"]
        self.assertEqual(spec["nameServer"]["resources"], {"requests": {"cpu": "100m", "memory": "128Mi"}})
        self.accepted("Cluster", "replicated", {"brokers": {"replicasPerGroup": 3,
                                                            "replication": {"minInSyncReplicas": 2}}})
        rep = get("cluster", "replicated")["spec"]["brokers"]["replication"]
        self.assertEqual(rep, {"mode": "sync", "minInSyncReplicas": 2, "whenBelowMinInSync": "reject",
                               "uncleanFailover": False})
        self.assertEqual(spec["brokers"]["config"]["fileReservedTime"], "72")

    def test_name_must_fit_in_service_names(self):
        self.refused("Cluster", "c" * 43, {}, "metadata.name: Too long: may not be more than 42")
        self.accepted("Cluster", "c" * 42, {})
        self.refused("Cluster", "1abc", {}, 'Cluster name "1abc" is not usable: it must start with a lower-case letter')
        self.refused("Cluster", "a.b", {}, 'Cluster name "a.b" is not usable')

    def test_ranges_and_enums(self):
        self.refused("Cluster", "zero-ns", {"nameServer": {"replicas": 0}},
                     "spec.nameServer.replicas", "greater than or equal to 1")
        self.refused("Cluster", "many-ns", {"nameServer": {"replicas": 8}}, "less than or equal to 7")
        self.refused("Cluster", "replicas", {"brokers": {"replicasPerGroup": 4}},
                     "spec.brokers.replicasPerGroup", "less than or equal to 3")
        self.refused("Cluster", "min-in-sync", {"brokers": {"replicasPerGroup": 2,
                                                           "replication": {"minInSyncReplicas": 3}}},
                     "spec.brokers.replication.minInSyncReplicas cannot exceed spec.brokers.replicasPerGroup")
        self.refused("Cluster", "min-in-sync-1", {"brokers": {"replication": {"minInSyncReplicas": 2}}},
                     "spec.brokers.replication.minInSyncReplicas cannot exceed spec.brokers.replicasPerGroup")
        self.refused("Cluster", "mode", {"brokers": {"replicasPerGroup": 3, "replication": {"mode": "semi"}}},
                     'Unsupported value: "semi"', '"sync", "async"')
        self.refused("Cluster", "groups", {"brokers": {"groups": 65}}, "less than or equal to 64")
        self.refused("Cluster", "flush", {"brokers": {"flushDiskType": "SOMETIMES"}},
                     'Unsupported value: "SOMETIMES"', '"ASYNC_FLUSH", "SYNC_FLUSH"')
        self.refused("Cluster", "pull", {"imagePullPolicy": "Sometimes"}, 'Unsupported value: "Sometimes"')

    def test_probe(self):
        self.accepted("Cluster", "probe", {"probe": {}})
        self.assertEqual(get("cluster", "probe")["spec"]["probe"],
                         {"interval": "30s", "messageSize": 128, "topic": "ferrymq-probe"})
        self.accepted("Cluster", "probe-set", {"probe": {"interval": "1m", "messageSize": 0,
                                                         "topic": "canary_1"}})
        self.refused("Cluster", "probe-fast", {"probe": {"interval": "5s"}},
                     "spec.probe.interval must be between 10s and 1h")
        self.refused("Cluster", "probe-slow", {"probe": {"interval": "2h"}},
                     "spec.probe.interval must be between 10s and 1h")
        self.refused("Cluster", "probe-unit", {"probe": {"interval": "30"}}, "spec.probe.interval", "should match")
        self.refused("Cluster", "probe-size", {"probe": {"messageSize": 4194305}},
                     "spec.probe.messageSize", "less than or equal to 4194304")
        self.refused("Cluster", "probe-topic", {"probe": {"topic": "a b"}}, "spec.probe.topic", "should match")

    def test_groups_scale_both_ways_and_the_scale_in_policy_is_an_enum(self):
        self.accepted("Cluster", "scale", {"brokers": {"groups": 3}})
        self.assertEqual(get("cluster", "scale")["spec"]["brokers"]["scaleIn"], {"policy": "Drain"})
        self.accepted("Cluster", "scale", {"brokers": {"groups": 2, "scaleIn": {"policy": "Expire"}}})
        self.assertEqual(get("cluster", "scale")["spec"]["brokers"]["groups"], 2)
        self.refused("Cluster", "scale", {"brokers": {"groups": 2, "scaleIn": {"policy": "Now"}}},
                     'Unsupported value: "Now"', '"Drain", "Expire"')
        self.accepted("Cluster", "scale", {"brokers": {"groups": 4}})
        self.assertEqual(get("cluster", "scale")["spec"]["brokers"]["groups"], 4)

    def test_replicas_per_group_is_fixed_once_the_cluster_exists(self):
        self.accepted("Cluster", "fixed-replicas", {"brokers": {"replicasPerGroup": 3}})
        self.refused("Cluster", "fixed-replicas", {"brokers": {"replicasPerGroup": 1}},
                     "replicasPerGroup cannot change on an existing Cluster")
        self.accepted("Cluster", "fixed-replicas", {"brokers": {"replicasPerGroup": 3, "groups": 2}})

    def test_storage_size_grows_only(self):
        self.accepted("Cluster", "grow", {"brokers": {"storage": {"size": "20Gi"}}})
        self.refused("Cluster", "grow", {"brokers": {"storage": {"size": "10Gi"}}},
                     "storage size cannot shrink: persistent volumes can only grow")
        self.refused("Cluster", "grow", {"brokers": {"storage": {"size": "20000Mi"}}}, "cannot shrink")
        self.accepted("Cluster", "grow", {"brokers": {"storage": {"size": "21Gi"}}})
        self.refused("Cluster", "badsize", {"brokers": {"storage": {"size": "lots"}}},
                     "size must be a positive Kubernetes quantity such as 10Gi")
        self.refused("Cluster", "badsize", {"brokers": {"storage": {"size": "0"}}}, "positive Kubernetes quantity")

    def test_storage_class_is_immutable(self):
        self.accepted("Cluster", "sc", {"brokers": {"storage": {"storageClassName": "fast"}}})
        self.refused("Cluster", "sc", {"brokers": {"storage": {"storageClassName": "slow"}}},
                     "storageClassName is immutable")
        self.refused("Cluster", "sc", {"brokers": {"storage": {}}}, "storageClassName is immutable")
        self.accepted("Cluster", "sc-none", {})
        self.refused("Cluster", "sc-none", {"brokers": {"storage": {"storageClassName": "fast"}}},
                     "storageClassName is immutable")

    def test_operator_owned_config_keys_are_refused(self):
        err = self.refused("Cluster", "conf", {"brokers": {"config": {"brokerName": "x", "namesrvAddr": "y:9876",
                                                                      "fileReservedTime": "48"}}},
                           "config may not set", "brokerName", "namesrvAddr", "the operator sets the keys")
        self.assertNotIn("may not set fileReservedTime", err)
        for key in ["brokerClusterName", "brokerId", "brokerRole", "listenPort", "storePathRootDir",
                    "storePathCommitLog", "brokerIP1", "haListenPort"]:
            self.refused("Cluster", "conf", {"brokers": {"config": {key: "1"}}}, f"config may not set {key}")
        self.accepted("Cluster", "conf", {"brokers": {"config": {"fileReservedTime": "48", "deleteWhen": "04"}}})
        for key in ["tls.server.mode", "aclEnable", "innerSecretKey"]:
            self.refused("Cluster", "conf", {"brokers": {"config": {key: "1"}}}, "set spec.security instead")
        for key in ["metricsExporterType", "metricsPromExporterPort"]:
            self.refused("Cluster", "conf", {"brokers": {"config": {key: "1"}}},
                         "every broker serves Prometheus metrics on its port 5557")
        self.accepted("Cluster", "conf", {"brokers": {"config": {"metricsLabel": "env:prod"}}})

    def test_security(self):
        self.refused("Cluster", "sec", {"security": {"tls": {"mode": "Enforcing"}}},
                     "secretName is required when mode is Permissive or Enforcing")
        self.refused("Cluster", "sec", {"security": {"tls": {"mode": "Strict", "secretName": "t"}}},
                     'Unsupported value: "Strict"')
        self.accepted("Cluster", "sec", {"security": {"acl": {"enabled": True},
                                                      "tls": {"mode": "Permissive", "secretName": "demo-tls"}}})
        self.assertEqual(get("cluster", "sec")["spec"]["security"],
                         {"acl": {"enabled": True},
                          "tls": {"mode": "Permissive", "secretName": "demo-tls", "clientAuth": "None"}})

    def test_status_and_printer_columns(self):
        self.accepted("Cluster", "printed", {"brokers": {"groups": 2}})
        status = {"observedGeneration": 1, "replicasSummary": "2/3", "readyReplicas": 2, "desiredReplicas": 3,
                  "nameServers": f"printed-namesrv-0.printed-namesrv.{NS}.svc:9876",
                  "brokerGroups": [{"name": "printed-broker-0", "master": "printed-broker-0-0",
                                    "address": "10.0.0.5:10911", "ready": True, "writable": True}],
                  "conditions": [
                      {"type": "Ready", "status": "False", "reason": "RollingOut", "message": "1 pod not ready",
                       "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1},
                      {"type": "Available", "status": "True", "reason": "AllGroupsWritable", "message": "",
                       "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]}
        set_status("cluster", "printed", status)
        out = kubectl("get", "clusters", "printed", "-n", NS).stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "READY", "AVAILABLE", "GROUPS", "REPLICAS", "AGE"])
        self.assertEqual(out[1].split()[:5], ["printed", "False", "True", "2", "2/3"])
        # The status schema is the standard condition shape: a bad status value is refused.
        bad = dict(status["conditions"][0], status="Yes")
        r = kubectl("patch", "cluster", "printed", "-n", NS, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"conditions": [bad]}}), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Unsupported value: "Yes"', r.stderr)


class TopicTest(Case):
    REF = {"name": "demo"}

    def test_defaults_are_filled_in(self):
        self.accepted("Topic", "defaults", {"clusterRef": self.REF})
        spec = get("topic", "defaults")["spec"]
        self.assertEqual(spec, {"clusterRef": {"name": "demo"}, "queues": {"write": 8, "read": 8},
                                "permission": "ReadWrite", "order": False, "deletionPolicy": "Delete"})

    def test_cluster_ref_is_required(self):
        self.refused("Topic", "noref", {}, "spec.clusterRef: Required value")

    def test_bad_topic_names(self):
        self.refused("Topic", "dot", {"clusterRef": self.REF, "topicName": "orders.v1"},
                     'spec.topicName: Invalid value: "orders.v1": topicName "orders.v1" is not a valid topic name: '
                     'use letters, digits, "_" and "-" only')
        self.refused("Topic", "space", {"clusterRef": self.REF, "topicName": "my orders"},
                     'topicName "my orders" is not a valid topic name')
        self.refused("Topic", "empty", {"clusterRef": self.REF, "topicName": ""}, "spec.topicName",
                     "at least 1 chars long")
        self.refused("Topic", "long", {"clusterRef": self.REF, "topicName": "t" * 128},
                     "spec.topicName", "may not be more than 127")
        self.accepted("Topic", "longest", {"clusterRef": self.REF, "topicName": "T_" + "t" * 125})

    def test_metadata_name_must_be_a_topic_name_unless_topic_name_is_set(self):
        self.refused("Topic", "orders.v1", {"clusterRef": self.REF},
                     'the Topic name "orders.v1" cannot be used as the topic name', "set spec.topicName")
        self.accepted("Topic", "orders.v1", {"clusterRef": self.REF, "topicName": "orders_v1"})
        self.assertEqual(get("topic", "orders.v1")["spec"]["topicName"], "orders_v1")

    def test_queue_ranges(self):
        self.refused("Topic", "zero", {"clusterRef": self.REF, "queues": {"write": 0}},
                     "spec.queues.write", "greater than or equal to 1")
        self.refused("Topic", "zero", {"clusterRef": self.REF, "queues": {"read": 0}},
                     "spec.queues.read", "greater than or equal to 1")
        self.refused("Topic", "huge", {"clusterRef": self.REF, "queues": {"write": 1025}},
                     "less than or equal to 1024")
        self.refused("Topic", "perm", {"clusterRef": self.REF, "permission": "Everything"},
                     'Unsupported value: "Everything"')

    def test_cluster_ref_is_immutable(self):
        self.accepted("Topic", "moving", {"clusterRef": self.REF})
        self.refused("Topic", "moving", {"clusterRef": {"name": "other"}},
                     "clusterRef is immutable: a Topic cannot move to another Cluster; create a new Topic instead")
        self.refused("Topic", "moving", {"clusterRef": {"name": "demo", "namespace": "elsewhere"}},
                     "clusterRef is immutable")

    def test_topic_name_is_immutable(self):
        self.accepted("Topic", "renamed", {"clusterRef": self.REF, "topicName": "First"})
        self.refused("Topic", "renamed", {"clusterRef": self.REF, "topicName": "Second"},
                     "topicName is immutable: create a new Topic instead")
        self.refused("Topic", "renamed", {"clusterRef": self.REF}, "topicName is immutable")
        # Without topicName the effective name is metadata.name: setting it to that later changes nothing...
        self.accepted("Topic", "implicit", {"clusterRef": self.REF})
        self.accepted("Topic", "implicit", {"clusterRef": self.REF, "topicName": "implicit"})
        # ...but any other value renames the topic.
        self.accepted("Topic", "implicit2", {"clusterRef": self.REF})
        self.refused("Topic", "implicit2", {"clusterRef": self.REF, "topicName": "Other"},
                     "topicName is immutable")

    def test_mutable_fields_change(self):
        self.accepted("Topic", "mutable", {"clusterRef": self.REF})
        self.accepted("Topic", "mutable", {"clusterRef": self.REF, "queues": {"write": 16, "read": 16},
                                           "permission": "ReadOnly", "order": True,
                                           "brokerGroups": ["demo-broker-0"], "deletionPolicy": "Retain"})
        spec = get("topic", "mutable")["spec"]
        self.assertEqual((spec["queues"]["write"], spec["permission"], spec["deletionPolicy"]),
                         (16, "ReadOnly", "Retain"))

    def test_printer_columns(self):
        self.accepted("Topic", "printed", {"clusterRef": self.REF, "queues": {"write": 4, "read": 6}})
        status = {"topicName": "printed", "observedGeneration": 1,
                  "brokerGroups": [{"name": "demo-broker-0", "readQueues": 6, "writeQueues": 4,
                                    "permission": "ReadWrite", "messages": 1200,
                                    "lastWrite": "2026-01-01T00:00:00Z"}],
                  "traffic": {"messagesInPerSecond": "12.5", "messagesOutPerSecond": "3.33",
                              "producerGroups": ["pg"], "consumerGroups": ["billing"]},
                  "conditions": [{"type": "Ready", "status": "False", "reason": "ClusterNotFound",
                                  "message": "Cluster crd-e2e/demo not found",
                                  "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]}
        set_status("topic", "printed", status)
        out = kubectl("get", "fmqt", "printed", "-n", NS).stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "CLUSTER", "TOPIC", "WRITE", "READ", "IN/S", "OUT/S", "READY",
                                          "REASON", "AGE"])
        self.assertEqual(out[1].split()[:9], ["printed", "demo", "printed", "4", "6", "12.5", "3.33", "False",
                                              "ClusterNotFound"])
        self.assertEqual(get("topic", "printed")["status"]["brokerGroups"][0]["messages"], 1200)


class ConsumerGroupTest(Case):
    REF = {"name": "demo"}

    def test_defaults_are_filled_in(self):
        self.accepted("ConsumerGroup", "defaults", {"clusterRef": self.REF})
        spec = get("consumergroup", "defaults")["spec"]
        self.assertEqual(spec, {"clusterRef": {"name": "demo"}, "consumeMode": "Clustering", "orderly": False,
                                "enabled": True, "retry": {"maxTimes": 16, "queues": 1}, "consumeFromMinEnable": True,
                                "whichBrokerWhenConsumeSlowly": 1, "deletionPolicy": "Retain"})

    def test_alerting_defaults_are_mqclouds_and_bounded(self):
        self.accepted("ConsumerGroup", "alerting", {"clusterRef": self.REF, "alerting": {"lagMessages": 50}})
        self.assertEqual(get("consumergroup", "alerting")["spec"]["alerting"],
                         {"lagMessages": 50, "lagSeconds": 300, "consumeFailuresPerHour": 10, "deadLettersPerHour": 0,
                          "blockedSeconds": 60, "blockedMessages": 100})
        self.refused("ConsumerGroup", "neglag", {"clusterRef": self.REF, "alerting": {"lagMessages": -1}},
                     "spec.alerting.lagMessages", "greater than or equal to 0")
        self.refused("ConsumerGroup", "noblock", {"clusterRef": self.REF, "alerting": {"blockedSeconds": 0}},
                     "spec.alerting.blockedSeconds", "greater than or equal to 1")

    def test_validation(self):
        self.refused("ConsumerGroup", "retry", {"clusterRef": self.REF, "retry": {"maxTimes": 33}},
                     "spec.retry.maxTimes", "less than or equal to 32")
        self.refused("ConsumerGroup", "retryqueues", {"clusterRef": self.REF, "retry": {"queues": 0}},
                     "spec.retry.queues", "greater than or equal to 1")
        self.refused("ConsumerGroup", "slow", {"clusterRef": self.REF, "whichBrokerWhenConsumeSlowly": 3},
                     "spec.whichBrokerWhenConsumeSlowly", "less than or equal to 2")
        self.refused("ConsumerGroup", "resetnoid", {"clusterRef": self.REF, "resetOffset": {"to": "earliest"}},
                     "spec.resetOffset.id: Required value")
        self.refused("ConsumerGroup", "mode", {"clusterRef": self.REF, "consumeMode": "Fanout"},
                     'Unsupported value: "Fanout"')
        self.refused("ConsumerGroup", "group.v1", {"clusterRef": self.REF},
                     'the ConsumerGroup name "group.v1" cannot be used as the group name')
        self.refused("ConsumerGroup", "badname", {"clusterRef": self.REF, "groupName": "g/1"},
                     'groupName "g/1" is not a valid consumer group name')

    def test_group_name_and_cluster_ref_are_immutable(self):
        self.accepted("ConsumerGroup", "g", {"clusterRef": self.REF, "groupName": "G_1"})
        self.refused("ConsumerGroup", "g", {"clusterRef": self.REF, "groupName": "G_2"},
                     "groupName is immutable: create a new ConsumerGroup instead")
        self.refused("ConsumerGroup", "g", {"clusterRef": {"name": "other"}, "groupName": "G_1"},
                     "clusterRef is immutable")
        self.accepted("ConsumerGroup", "g", {"clusterRef": self.REF, "groupName": "G_1", "enabled": False})

    def test_printer_columns(self):
        self.accepted("ConsumerGroup", "printed", {"clusterRef": self.REF, "consumeMode": "Broadcast"})
        lagging = {"type": "Lagging", "status": "True", "reason": "BacklogTooLarge", "message": "40 messages",
                   "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}
        set_status("consumergroup", "printed", {"groupName": "printed", "onlineClients": 2, "totalLag": 40,
                                                "conditions": [READY_TRUE, lagging]})
        out = kubectl("get", "fmqg", "printed", "-n", NS).stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "CLUSTER", "GROUP", "MODE", "ONLINE", "LAG", "READY", "LAGGING",
                                          "AGE"])
        self.assertEqual(out[1].split()[:8], ["printed", "demo", "printed", "Broadcast", "2", "40", "True", "True"])


class UserTest(Case):
    REF = {"name": "demo"}
    SECRET = {"name": "app-acl"}

    def test_defaults_are_filled_in(self):
        self.accepted("User", "defaults", {"clusterRef": self.REF})
        spec = get("user", "defaults")["spec"]
        self.assertEqual(spec, {"clusterRef": {"name": "demo"}, "admin": False, "defaultTopicPerm": "DENY",
                                "defaultGroupPerm": "SUB"})
        self.accepted("User", "withref", {"clusterRef": self.REF, "secretRef": self.SECRET})
        self.assertEqual(get("user", "withref")["spec"]["secretRef"], {"name": "app-acl", "key": "secretKey"})

    def test_validation(self):
        self.refused("User", "short", {"clusterRef": self.REF, "accessKey": "abcdef"},
                     "spec.accessKey", "at least 7 chars long")
        self.refused("User", "space", {"clusterRef": self.REF, "accessKey": "a b c d e"},
                     'accessKey "a b c d e" is not a valid access key')
        self.refused("User", "reserved", {"clusterRef": self.REF, "accessKey": "ferrymq-operator"},
                     "the operator's own")
        self.refused("User", "topicname", {"clusterRef": self.REF, "topics": [{"name": "a.b", "perm": "PUB"}]},
                     "spec.topics[0].name")
        self.refused("User", "app", {"clusterRef": self.REF},
                     'the User name "app" cannot be used as the access key', "set spec.accessKey")
        self.refused("User", "perm-test", {"clusterRef": self.REF, "topics": [{"name": "Orders", "perm": "ALL"}]},
                     'Unsupported value: "ALL"')
        self.refused("User", "dup-test", {"clusterRef": self.REF,
                                          "topics": [{"name": "Orders", "perm": "PUB"},
                                                     {"name": "Orders", "perm": "SUB"}]},
                     'duplicate entries for key [name="Orders"]')
        self.refused("User", "addr-test", {"clusterRef": self.REF, "allowedAddresses": "10.0.0.1; rm -rf"},
                     "spec.allowedAddresses")
        self.refused("User", "grace-test", {"clusterRef": self.REF, "rotation": {"gracePeriodSeconds": -1}},
                     "spec.rotation.gracePeriodSeconds")
        self.accepted("User", "full-user", {"clusterRef": self.REF, "secretRef": {"name": "app-acl", "key": "sk"},
                                            "accessKey": "APP_0001", "admin": True, "defaultTopicPerm": "PUB|SUB",
                                            "secretName": "app-keys",
                                            "topics": [{"name": "Orders", "perm": "PUB"}],
                                            "groups": [{"name": "order-processor", "perm": "SUB"}],
                                            "allowedAddresses": "192.168.1.*,10.0.0.{1,2},10.1.1.1-100",
                                            "rotation": {"gracePeriodSeconds": 60}})

    def test_access_key_is_immutable(self):
        self.accepted("User", "key-user", {"clusterRef": self.REF, "accessKey": "AK_00001"})
        self.refused("User", "key-user", {"clusterRef": self.REF, "accessKey": "AK_00002"},
                     "accessKey is immutable: create a new User instead")
        self.refused("User", "key-user", {"clusterRef": {"name": "x"}, "accessKey": "AK_00001"},
                     "clusterRef is immutable")

    def test_printer_columns(self):
        self.accepted("User", "printed", {"clusterRef": self.REF, "admin": True})
        set_status("user", "printed", {"accessKey": "printed", "conditions": [READY_TRUE]})
        out = kubectl("get", "fmqu", "printed", "-n", NS).stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "CLUSTER", "ACCESSKEY", "ADMIN", "READY", "AGE"])
        self.assertEqual(out[1].split()[:5], ["printed", "demo", "printed", "true", "True"])


class DiscoveryTest(Case):
    def test_category_and_short_names(self):
        ns = "crd-e2e-category"
        kubectl("create", "namespace", ns)
        for kind, name, spec in [("Cluster", "cat", {}), ("Topic", "cat-topic", {"clusterRef": {"name": "cat"}}),
                                 ("ConsumerGroup", "cat-group", {"clusterRef": {"name": "cat"}}),
                                 ("User", "cat-user", {"clusterRef": {"name": "cat"}})]:
            obj = json.loads(manifest(kind, name, spec))
            obj["metadata"]["namespace"] = ns
            kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(obj))
        out = kubectl("get", "ferrymq", "-n", ns, "-o", "name").stdout.split()
        self.assertEqual(sorted(out), sorted(["cluster.ferrymq.io/cat", "topic.ferrymq.io/cat-topic",
                                              "consumergroup.ferrymq.io/cat-group", "user.ferrymq.io/cat-user"]))
        for short, name in [("fmq", "cat"), ("fmqc", "cat"), ("fmqt", "cat-topic"), ("fmqg", "cat-group"),
                            ("fmqu", "cat-user")]:
            self.assertIn(name, kubectl("get", short, "-n", ns, "-o", "name").stdout)

    def test_examples_apply(self):
        ns = "crd-e2e-examples"
        kubectl("create", "namespace", ns)
        examples = os.path.join(ROOT, "docs", "examples")
        for f in sorted(os.listdir(examples)):
            if f.endswith(".yaml"):
                kubectl("apply", "--server-side", "-n", ns, "-f", os.path.join(examples, f))
        self.assertEqual(json.loads(kubectl("get", "topic", "orders", "-n", ns, "-o", "json").stdout)
                         ["spec"]["topicName"], "Orders_V1")

    def test_every_field_has_a_description(self):
        """The published schema (what kubectl explain shows) documents every field."""
        missing = []
        for kind in KINDS:
            crd = json.loads(kubectl("get", "crd", f"{kind}.ferrymq.io", "-o", "json").stdout)
            schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

            def walk(s, path):
                for name, child in s.get("properties", {}).items():
                    p = f"{path}.{name}"
                    if name != "metadata" and not child.get("description"):
                        missing.append(p)
                    walk(child, p)
                if "items" in s:
                    walk(s["items"], path + "[]")
            walk(schema, kind)
        self.assertEqual(missing, [])
        r = kubectl("explain", "clusters.spec.brokers.groups", "--api-version=ferrymq.io/v1alpha1")
        self.assertIn("broker groups", r.stdout)


def main():
    return unittest_main("crd_validation")

if __name__ == "__main__":
    sys.exit(main())
