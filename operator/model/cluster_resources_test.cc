#include "operator/model/cluster_resources.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

using nlohmann::json;

api::Cluster MakeCluster(json spec = json::object()) {
  json obj = {{"metadata", {{"name", "prod"}, {"namespace", "mq"}, {"uid", "uid-1"}, {"generation", 1}}},
              {"spec", std::move(spec)}};
  auto c = api::ClusterFromJson(obj);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

const Options kOptions{"ferrymq:0.1.0"};

TEST(ClusterResourcesTest, NameServerAddressesAreStableDnsNames) {
  api::Cluster c = MakeCluster({{"nameServer", {{"replicas", 2}}}});
  EXPECT_EQ(NameServerAddresses(c),
            "prod-namesrv-0.prod-namesrv.mq.svc:9876;prod-namesrv-1.prod-namesrv.mq.svc:9876");
}

TEST(ClusterResourcesTest, BrokerConfHasOwnedKeysThatUserConfigCannotOverride) {
  api::Cluster c = MakeCluster({{"brokers", {{"groups", 2}, {"config", {{"fileReservedTime", "24"}}}}}});
  c.spec.brokers.config["brokerName"] = "sneaky";  // the reader refuses this; the renderer must still win
  std::string conf = RenderBrokerConf(c, 1);
  EXPECT_NE(conf.find("brokerClusterName=prod\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("brokerName=prod-broker-1\n"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("sneaky"), std::string::npos) << conf;
  EXPECT_NE(conf.find("brokerId=0\n"), std::string::npos);
  EXPECT_NE(conf.find("namesrvAddr=prod-namesrv.mq.svc:9876\n"), std::string::npos) << conf;
  api::Cluster more = c;
  more.spec.name_server.replicas = 3;
  EXPECT_EQ(RenderBrokerConf(more, 1), conf) << "scaling the name servers changes no broker.conf";
  EXPECT_NE(conf.find("listenPort=10911\n"), std::string::npos);
  EXPECT_NE(conf.find("metricsExporterType=PROM\n"), std::string::npos) << "every broker serves /metrics";
  EXPECT_NE(conf.find("metricsPromExporterPort=5557\n"), std::string::npos);
  EXPECT_NE(conf.find("storePathRootDir=/var/lib/ferrymq/store\n"), std::string::npos);
  EXPECT_NE(conf.find("flushDiskType=ASYNC_FLUSH\n"), std::string::npos);
  EXPECT_NE(conf.find("fileReservedTime=24\n"), std::string::npos);
  EXPECT_EQ(conf.rfind("# Rendered by ferrymq-operator from Cluster mq/prod", 0), 0u);
}

TEST(ClusterResourcesTest, ReplicasRenderTheMasterRoleAndTheReplicationPolicy) {
  EXPECT_NE(RenderBrokerConf(MakeCluster(), 0).find("brokerRole=ASYNC_MASTER\n"), std::string::npos);
  EXPECT_EQ(RenderBrokerConf(MakeCluster(), 0).find("minInSyncReplicas"), std::string::npos);

  api::Cluster c = MakeCluster({{"brokers", {{"replicasPerGroup", 3}}}});
  std::string conf = RenderBrokerConf(c, 0);
  // Every member reads this file; --member-index turns members 1 and 2 into slaves at their first start.
  EXPECT_NE(conf.find("brokerRole=SYNC_MASTER\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("brokerId=0\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("minInSyncReplicas=2\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("whenBelowMinInSync=reject\n"), std::string::npos) << conf;
  EXPECT_EQ(BrokerStatefulSet(c, 0, kOptions)["spec"]["replicas"], 3);
  // The operator restarts replicated pods itself (slaves, a switchover, then the old master).
  EXPECT_EQ(BrokerStatefulSet(c, 0, kOptions)["spec"]["updateStrategy"]["type"], "OnDelete");
  EXPECT_EQ(BrokerStatefulSet(MakeCluster(), 0, kOptions)["spec"]["updateStrategy"]["type"], "RollingUpdate");

  c = MakeCluster({{"brokers",
                    {{"replicasPerGroup", 2},
                     {"replication",
                      {{"mode", "async"}, {"minInSyncReplicas", 1}, {"whenBelowMinInSync", "degrade"}}}}}});
  conf = RenderBrokerConf(c, 0);
  EXPECT_NE(conf.find("brokerRole=ASYNC_MASTER\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("minInSyncReplicas=1\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("whenBelowMinInSync=degrade\n"), std::string::npos) << conf;
}

TEST(ClusterResourcesTest, HaRecordConfigMapIsOwnedAndCarriesTheResourceVersionForCompareAndSwap) {
  api::Cluster c = MakeCluster({{"brokers", {{"replicasPerGroup", 3}}}});
  json cm = HaRecordConfigMap(c, 1, "{}", "");
  EXPECT_EQ(cm["metadata"]["name"], "prod-broker-1-ha");
  EXPECT_EQ(cm["data"]["record.json"], "{}");
  EXPECT_EQ(cm["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ferrymq-operator");
  EXPECT_FALSE(cm["metadata"].contains("resourceVersion"));
  EXPECT_EQ(HaRecordConfigMap(c, 1, "{}", "42")["metadata"]["resourceVersion"], "42");
  for (const json& o : DesiredObjects(c, kOptions)) {
    EXPECT_NE(o["metadata"]["name"], "prod-broker-1-ha") << "server-side apply would overwrite the record";
  }
}

TEST(ClusterResourcesTest, EveryObjectIsOwnedByTheClusterAndLabelled) {
  api::Cluster c = MakeCluster({{"brokers", {{"groups", 2}}}});
  std::vector<json> objs = DesiredObjects(c, kOptions);
  ASSERT_EQ(objs.size(), 4u + 2u * 5u);
  for (const json& o : objs) {
    SCOPED_TRACE(o["kind"].get<std::string>() + " " + o["metadata"]["name"].get<std::string>());
    EXPECT_EQ(o["metadata"]["namespace"], "mq");
    ASSERT_EQ(o["metadata"]["ownerReferences"].size(), 1u);
    const json& ref = o["metadata"]["ownerReferences"][0];
    EXPECT_EQ(ref["apiVersion"], "ferrymq.io/v1alpha1");
    EXPECT_EQ(ref["kind"], "Cluster");
    EXPECT_EQ(ref["uid"], "uid-1");
    EXPECT_EQ(ref["controller"], true);
    EXPECT_EQ(o["metadata"]["labels"]["app.kubernetes.io/instance"], "prod");
    EXPECT_EQ(o["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ferrymq-operator");
    EXPECT_EQ(o["metadata"]["labels"]["ferrymq.io/cluster"], "prod");
    EXPECT_LE(o["metadata"]["name"].get<std::string>().size(), 63u);
  }
  std::vector<std::string> names;
  for (const json& o : objs)
    names.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  std::vector<std::string> want = {"ConfigMap/prod-namesrv-config",
                                   "Service/prod-namesrv",
                                   "StatefulSet/prod-namesrv",
                                   "PodDisruptionBudget/prod-namesrv",
                                   "ConfigMap/prod-broker-0-config",
                                   "Service/prod-broker-0",
                                   "Service/prod-broker-0-client",
                                   "StatefulSet/prod-broker-0",
                                   "PodDisruptionBudget/prod-broker-0",
                                   "ConfigMap/prod-broker-1-config",
                                   "Service/prod-broker-1",
                                   "Service/prod-broker-1-client",
                                   "StatefulSet/prod-broker-1",
                                   "PodDisruptionBudget/prod-broker-1"};
  EXPECT_EQ(names, want);
}

TEST(ClusterResourcesTest, BrokerStatefulSetRunsTheBrokerWithItsConfigAndVolume) {
  api::Cluster c = MakeCluster({{"brokers",
                                 {{"storage", {{"size", "5Gi"}, {"storageClassName", "fast"}}},
                                  {"resources", {{"requests", {{"cpu", "500m"}}}}}}}});
  json sts = BrokerStatefulSet(c, 0, kOptions);
  EXPECT_EQ(sts["apiVersion"], "apps/v1");
  const json& spec = sts["spec"];
  EXPECT_EQ(spec["serviceName"], "prod-broker-0");
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(spec["selector"]["matchLabels"]["ferrymq.io/broker-group"], "prod-broker-0");
  // The selector is a subset of the pod labels (the apiserver rejects a StatefulSet otherwise).
  for (auto& [k, v] : spec["selector"]["matchLabels"].items()) {
    EXPECT_EQ(spec["template"]["metadata"]["labels"][k], v) << k;
  }
  const json& container = spec["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["image"], "ferrymq:0.1.0");
  EXPECT_EQ(container["command"], json::array({"/usr/local/bin/ferrymq"}));
  EXPECT_EQ(container["args"], json::array({"broker", "-c", "/etc/ferrymq/broker.conf", "--set",
                                            "brokerIP1=$(POD_IP)", "--member-index", "$(POD_NAME)"}));
  EXPECT_EQ(container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP");
  EXPECT_EQ(container["readinessProbe"]["tcpSocket"]["port"], 10911);
  EXPECT_EQ(container["ports"], json::parse(R"([{"name":"remoting","containerPort":10911},
                                               {"name":"metrics","containerPort":5557}])"));
  EXPECT_EQ(container["resources"]["requests"]["cpu"], "500m");
  EXPECT_EQ(spec["template"]["spec"]["volumes"][0]["configMap"]["name"], "prod-broker-0-config");
  const json& pvc = spec["volumeClaimTemplates"][0];
  EXPECT_EQ(pvc["metadata"]["name"], "data");
  EXPECT_EQ(pvc["spec"]["resources"]["requests"]["storage"], "5Gi");
  EXPECT_EQ(pvc["spec"]["storageClassName"], "fast");
  EXPECT_EQ(container["volumeMounts"][1]["mountPath"], "/var/lib/ferrymq");
}

TEST(ClusterResourcesTest, ConfigChangeChangesThePodTemplateHashAndNothingElseDoes) {
  api::Cluster a = MakeCluster();
  api::Cluster b = MakeCluster({{"brokers", {{"config", {{"fileReservedTime", "24"}}}}}});
  auto hash = [](const json& sts) {
    return sts["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  };
  EXPECT_NE(hash(BrokerStatefulSet(a, 0, kOptions)), hash(BrokerStatefulSet(b, 0, kOptions)));
  EXPECT_EQ(hash(BrokerStatefulSet(a, 0, kOptions)), hash(BrokerStatefulSet(MakeCluster(), 0, kOptions)));
  EXPECT_EQ(ConfigHash(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(ConfigHash("a"), "af63dc4c8601ec8c");
}

TEST(ClusterResourcesTest, SpecImageOverridesTheDefaultAndEmptyResourcesAreOmitted) {
  api::Cluster c = MakeCluster({{"image", "registry.local/ferrymq:2"}, {"imagePullPolicy", "Always"}});
  json sts = NameServerStatefulSet(c, kOptions);
  const json& container = sts["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["image"], "registry.local/ferrymq:2");
  EXPECT_EQ(container["imagePullPolicy"], "Always");
  EXPECT_FALSE(container.contains("resources"));
  EXPECT_EQ(container["args"], json::array({"namesrv", "-c", "/etc/ferrymq/namesrv.conf"}));
  EXPECT_NE(RenderNamesrvConf(c).find("kvConfigPath=/var/lib/ferrymq/namesrv/kvConfig.json\n"),
            std::string::npos);
}

TEST(ClusterResourcesTest, SecurityOffRendersNothingOfIt) {
  api::Cluster c = MakeCluster();
  for (const std::string& text : {RenderBrokerConf(c, 0), RenderNamesrvConf(c)}) {
    EXPECT_EQ(text.find("acl"), std::string::npos) << text;
    EXPECT_EQ(text.find("tls."), std::string::npos) << text;
  }
  EXPECT_EQ(BrokerStatefulSet(c, 0, kOptions).dump().find("credentials"), std::string::npos);
}

TEST(ClusterResourcesTest, AclSeedsEveryPodFromTheCredentialsSecretWithoutASecretInAConfigMap) {
  api::Cluster c = MakeCluster({{"security", {{"acl", {{"enabled", true}}}}}});
  const std::string broker = RenderBrokerConf(c, 0);
  EXPECT_NE(broker.find("aclEnable=true\n"), std::string::npos) << broker;
  EXPECT_NE(broker.find("aclSeedFile=/var/run/secrets/ferrymq/credentials/plain_acl.yml\n"),
            std::string::npos);
  EXPECT_NE(broker.find("innerAccessKey=ferrymq-broker\n"), std::string::npos);
  EXPECT_EQ(broker.find("innerSecretKey"), std::string::npos);
  EXPECT_EQ(broker.find("aclConfigFile"), std::string::npos) << "User accounts live on the data volume";
  const std::string ns = RenderNamesrvConf(c);
  EXPECT_NE(ns.find("aclConfigFile=/var/run/secrets/ferrymq/credentials/plain_acl.yml\n"), std::string::npos)
      << ns;

  for (const json& sts : {BrokerStatefulSet(c, 0, kOptions), NameServerStatefulSet(c, kOptions)}) {
    const json& pod = sts["spec"]["template"]["spec"];
    const json& vol = pod["volumes"].back();
    EXPECT_EQ(vol["name"], "credentials");
    EXPECT_EQ(vol["secret"]["secretName"], "prod-credentials");
    EXPECT_EQ(vol["secret"]["items"], json::array({{{"key", "plain_acl.yml"}, {"path", "plain_acl.yml"}}}));
    EXPECT_EQ(pod["containers"][0]["volumeMounts"].back()["mountPath"],
              "/var/run/secrets/ferrymq/credentials");
  }
  // Turning ACL on changes the pod template hash: the pods roll onto it.
  EXPECT_NE(BrokerStatefulSet(c, 0, kOptions)["spec"]["template"]["metadata"],
            BrokerStatefulSet(MakeCluster(), 0, kOptions)["spec"]["template"]["metadata"]);

  const json secret = CredentialsSecret(c, {"op-secret-0123456789", "broker-secret-0123456789"});
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(secret["stringData"]["accessKey"], "ferrymq-operator");
  EXPECT_EQ(secret["stringData"]["secretKey"], "op-secret-0123456789");
  EXPECT_EQ(secret["stringData"]["plain_acl.yml"],
            "# Seeded by ferrymq-operator: its admin account and the brokers' own.\naccounts:\n"
            "- accessKey: ferrymq-operator\n  secretKey: op-secret-0123456789\n  admin: true\n"
            "- accessKey: ferrymq-broker\n  secretKey: broker-secret-0123456789\n  admin: true\n");
}

TEST(ClusterResourcesTest, TlsMountsTheSecretAndSetsRocketMqKeys) {
  api::Cluster c = MakeCluster(
      {{"security",
        {{"tls", {{"mode", "Enforcing"}, {"secretName", "prod-tls"}, {"clientAuth", "Require"}}}}}});
  const std::string broker = RenderBrokerConf(c, 0);
  for (const char* line :
       {"tls.server.mode=enforcing\n", "tls.server.certPath=/var/run/secrets/ferrymq/tls/tls.crt\n",
        "tls.server.keyPath=/var/run/secrets/ferrymq/tls/tls.key\n",
        "tls.server.trustCertPath=/var/run/secrets/ferrymq/tls/ca.crt\n",
        "tls.server.need.client.auth=require\n", "tls.enable=true\n",
        "tls.client.trustCertPath=/var/run/secrets/ferrymq/tls/ca.crt\n",
        "tls.client.certPath=/var/run/secrets/ferrymq/tls/tls.crt\n"}) {
    EXPECT_NE(broker.find(line), std::string::npos) << line << broker;
  }
  const std::string ns = RenderNamesrvConf(c);
  EXPECT_NE(ns.find("tls.server.mode=enforcing\n"), std::string::npos) << ns;
  EXPECT_EQ(ns.find("tls.enable"), std::string::npos) << "a name server dials nobody";
  const json sts = BrokerStatefulSet(c, 0, kOptions);
  const json& vol = sts["spec"]["template"]["spec"]["volumes"].back();
  EXPECT_EQ(vol["secret"]["secretName"], "prod-tls");
  EXPECT_EQ(vol["secret"]["items"].size(), 3u);

  api::Cluster permissive =
      MakeCluster({{"security", {{"tls", {{"mode", "Permissive"}, {"secretName", "t"}}}}}});
  const std::string p = RenderBrokerConf(permissive, 0);
  EXPECT_NE(p.find("tls.server.mode=permissive\n"), std::string::npos);
  EXPECT_NE(p.find("tls.server.need.client.auth=none\n"), std::string::npos);
  EXPECT_EQ(p.find("tls.client.certPath"), std::string::npos);
}

TEST(ClusterResourcesTest, ServicesAndPdbs) {
  api::Cluster c = MakeCluster();
  json headless = BrokerHeadlessService(c, 0);
  EXPECT_EQ(headless["spec"]["clusterIP"], "None");
  EXPECT_EQ(headless["spec"]["publishNotReadyAddresses"], true);
  EXPECT_EQ(headless["spec"]["ports"][0]["port"], 10911);
  json client = BrokerClientService(c, 0);
  EXPECT_EQ(client["metadata"]["name"], "prod-broker-0-client");
  EXPECT_EQ(client["spec"]["type"], "ClusterIP");
  EXPECT_EQ(NameServerService(c)["spec"]["ports"][0]["port"], 9876);
  json pdb = BrokerPdb(c, 0);
  EXPECT_EQ(pdb["apiVersion"], "policy/v1");
  EXPECT_EQ(pdb["spec"]["maxUnavailable"], 1);
  EXPECT_EQ(pdb["spec"]["selector"]["matchLabels"]["ferrymq.io/broker-group"], "prod-broker-0");
}

}  // namespace
}  // namespace fmq::op::model
