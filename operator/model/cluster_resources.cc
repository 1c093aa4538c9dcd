#include "operator/model/cluster_resources.h"

#include <cinttypes>
#include <cstdio>
#include <map>

namespace fmq::op::model {
namespace {

using nlohmann::json;

std::string ImageOf(const api::Cluster& c, const Options& o) {
  return c.spec.image.empty() ? o.default_image : c.spec.image;
}

json Labels(const api::Cluster& c, const std::string& component, const std::string& group) {
  json l = SelectorLabels(c, component, group);
  l["app.kubernetes.io/managed-by"] = "ferrymq-operator";
  l[std::string(api::kClusterLabel)] = c.metadata.name;
  return l;
}

json Meta(const api::Cluster& c, const std::string& name, const std::string& component,
          const std::string& group) {
  return {{"name", name},
          {"namespace", c.metadata.namespace_},
          {"labels", Labels(c, component, group)},
          {"ownerReferences", json::array({OwnerReference(c)})}};
}

json HeadlessService(const api::Cluster& c, const std::string& name, const std::string& component,
                     const std::string& group, int port) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", Meta(c, name, component, group)},
      {"spec",
       {{"clusterIP", "None"},
        // Pods get DNS names while they start, so peers can be configured before they are ready.
        {"publishNotReadyAddresses", true},
        {"selector", SelectorLabels(c, component, group)},
        {"ports",
         json::array({{{"name", "remoting"}, {"port", port}, {"targetPort", port}, {"protocol", "TCP"}}})}}}};
}

json Pdb(const api::Cluster& c, const std::string& name, const std::string& component,
         const std::string& group) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", Meta(c, name, component, group)},
          {"spec",
           {{"maxUnavailable", 1}, {"selector", {{"matchLabels", SelectorLabels(c, component, group)}}}}}};
}

json PodSecurityContext() {
  return {{"runAsNonRoot", true},
          {"runAsUser", 65532},
          {"runAsGroup", 65532},
          {"fsGroup", 65532},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json ContainerSecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", json::array({"ALL"})}}}};
}

json FieldEnv(const char* name, const char* path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
}

json TcpProbe(int port, int period, int failures) {
  return {{"tcpSocket", {{"port", port}}}, {"periodSeconds", period}, {"failureThreshold", failures}};
}

std::string RenderProperties(const std::string& header, const std::map<std::string, std::string>& props) {
  std::string out = header;
  for (const auto& [k, v] : props) out += k + "=" + v + "\n";
  return out;
}

// The tls.* keys of a program's conf (net/tls.h): the port policy, and for a broker its own connections.
void AddTlsKeys(const api::Cluster& c, bool broker, std::map<std::string, std::string>* props) {
  const auto& t = c.spec.security.tls;
  if (!t.enabled()) return;
  const std::string dir = kTlsDir;
  auto& p = *props;
  p["tls.server.mode"] = t.mode == "Enforcing" ? "enforcing" : "permissive";
  p["tls.server.certPath"] = dir + "/tls.crt";
  p["tls.server.keyPath"] = dir + "/tls.key";
  p["tls.server.trustCertPath"] = dir + "/ca.crt";
  p["tls.server.need.client.auth"] = t.client_auth == "Require"    ? "require"
                                     : t.client_auth == "Optional" ? "optional"
                                                                   : "none";
  if (!broker) return;
  // A broker's registrations and a slave's copy go over TLS, verifying the peer against the same CA and
  // presenting the pod certificate where client certificates are asked for.
  p["tls.enable"] = "true";
  p["tls.client.trustCertPath"] = dir + "/ca.crt";
  if (t.client_auth != "None") {
    p["tls.client.certPath"] = dir + "/tls.crt";
    p["tls.client.keyPath"] = dir + "/tls.key";
  }
}

// The Secret volumes and mounts spec.security needs (none without it).
void AddSecurityVolumes(const api::Cluster& c, json* mounts, json* volumes) {
  constexpr int kReadOnlyForGroup = 0440;  // pods run with fsGroup 65532
  if (c.spec.security.acl_enabled) {
    mounts->push_back({{"name", "credentials"}, {"mountPath", kCredentialsDir}, {"readOnly", true}});
    volumes->push_back({{"name", "credentials"},
                        {"secret",
                         {{"secretName", CredentialsSecretName(c)},
                          {"defaultMode", kReadOnlyForGroup},
                          {"items", json::array({{{"key", kSeedAclKey}, {"path", kSeedAclKey}}})}}}});
  }
  if (c.spec.security.tls.enabled()) {
    mounts->push_back({{"name", "tls"}, {"mountPath", kTlsDir}, {"readOnly", true}});
    json items = json::array();
    for (const char* k : {"tls.crt", "tls.key", "ca.crt"}) items.push_back({{"key", k}, {"path", k}});
    volumes->push_back({{"name", "tls"},
                        {"secret",
                         {{"secretName", c.spec.security.tls.secret_name},
                          {"defaultMode", kReadOnlyForGroup},
                          {"items", items}}}});
  }
}

std::string Header(const api::Cluster& c) {
  return "# Rendered by ferrymq-operator from Cluster " + c.metadata.Key() +
         ". Edit the Cluster (spec.brokers.config), not this file.\n";
}

}  // namespace

std::string NameServerName(const api::Cluster& c) { return c.metadata.name + "-namesrv"; }

std::string BrokerGroupName(const api::Cluster& c, int group) {
  return c.metadata.name + "-broker-" + std::to_string(group);
}

std::string NameServerAddresses(const api::Cluster& c) {
  std::string out;
  const std::string svc = NameServerName(c);
  for (int i = 0; i < c.spec.name_server.replicas; ++i) {
    if (!out.empty()) out += ';';
    out += svc + "-" + std::to_string(i) + "." + svc + "." + c.metadata.namespace_ +
           ".svc:" + std::to_string(kNameServerPort);
  }
  return out;
}

std::string NameServerServiceAddress(const api::Cluster& c) {
  return NameServerName(c) + "." + c.metadata.namespace_ + ".svc:" + std::to_string(kNameServerPort);
}

std::string CredentialsSecretName(const api::Cluster& c) { return c.metadata.name + "-credentials"; }

std::string RenderSeedAcl(const ClusterCredentials& creds) {
  // Secrets are letters and digits (controllers generate them), so plain YAML scalars need no quoting.
  std::string out = "# Seeded by ferrymq-operator: its admin account and the brokers' own.\naccounts:\n";
  for (const auto& [ak, sk] : {std::pair{std::string(kOperatorAccessKey), creds.operator_secret},
                               std::pair{std::string(kBrokerAccessKey), creds.broker_secret}}) {
    out += "- accessKey: " + ak + "\n  secretKey: " + sk + "\n  admin: true\n";
  }
  return out;
}

json CredentialsSecret(const api::Cluster& c, const ClusterCredentials& creds) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", Meta(c, CredentialsSecretName(c), "credentials", "")},
          {"type", "Opaque"},
          {"stringData",
           {{"accessKey", kOperatorAccessKey},
            {"secretKey", creds.operator_secret},
            {"brokerAccessKey", kBrokerAccessKey},
            {"brokerSecretKey", creds.broker_secret},
            {kSeedAclKey, RenderSeedAcl(creds)}}}};
}

std::string RenderNamesrvConf(const api::Cluster& c) {
  std::map<std::string, std::string> props = {
      {"listenPort", std::to_string(kNameServerPort)},
      {"kvConfigPath", std::string(kDataDir) + "/namesrv/kvConfig.json"}};
  if (c.spec.security.acl_enabled) {
    // Writes (broker registration, topic deletion, KV config) need an admin of the seed file.
    props["aclEnable"] = "true";
    props["aclConfigFile"] = std::string(kCredentialsDir) + "/" + kSeedAclKey;
  }
  AddTlsKeys(c, /*broker=*/false, &props);
  return RenderProperties(Header(c), props);
}

std::string RenderBrokerConf(const api::Cluster& c, int group, bool read_only) {
  std::map<std::string, std::string> props = c.spec.brokers.config;  // the user's keys; owned ones win below
  props["brokerClusterName"] = c.metadata.name;
  props["brokerName"] = BrokerGroupName(c, group);
  props["brokerId"] = "0";
  // Every member of the group reads this file; `--member-index` (the pod's ordinal) makes member 0 the first
  // start's master and the others slaves. Afterwards each broker's ha.json and the group's HA record decide.
  const auto& b = c.spec.brokers;
  if (b.replicas_per_group > 1) {
    props["brokerRole"] = b.replication.mode == "async" ? "ASYNC_MASTER" : "SYNC_MASTER";
    props["minInSyncReplicas"] = std::to_string(b.MinInSyncReplicas());
    props["whenBelowMinInSync"] = b.replication.when_below_min_in_sync;
  } else {
    props["brokerRole"] = "ASYNC_MASTER";
  }
  props["namesrvAddr"] = NameServerServiceAddress(c);
  props["listenPort"] = std::to_string(kBrokerPort);
  // Every broker serves its metrics (the container port "metrics"; the chart's PodMonitor scrapes it).
  props["metricsExporterType"] = "PROM";
  props["metricsPromExporterPort"] = std::to_string(kBrokerMetricsPort);
  props["storePathRootDir"] = std::string(kDataDir) + "/store";
  props["flushDiskType"] = c.spec.brokers.flush_disk_type;
  if (read_only) props["brokerPermission"] = "4";  // leaving the cluster (model/scale_in.h)
  if (c.spec.security.acl_enabled) {
    // The ACL file stays on the data volume (aclConfigFile's default), where User accounts persist; the
    // seed's accounts are written into it at every start, and the broker signs with its seed account.
    props["aclEnable"] = "true";
    props["aclSeedFile"] = std::string(kCredentialsDir) + "/" + kSeedAclKey;
    props["innerAccessKey"] = kBrokerAccessKey;
  }
  AddTlsKeys(c, /*broker=*/true, &props);
  return RenderProperties(Header(c), props);
}

std::string ConfigHash(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;  // FNV prime
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, h);
  return buf;
}

json OwnerReference(const api::Cluster& c) {
  return {{"apiVersion", std::string(api::kApiVersion)},
          {"kind", "Cluster"},
          {"name", c.metadata.name},
          {"uid", c.metadata.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json SelectorLabels(const api::Cluster& c, const std::string& component, const std::string& group) {
  json l = {{"app.kubernetes.io/name", "ferrymq"},
            {"app.kubernetes.io/instance", c.metadata.name},
            {"app.kubernetes.io/component", component}};
  if (!group.empty()) l[std::string(api::kBrokerGroupLabel)] = group;
  return l;
}

json NameServerService(const api::Cluster& c) {
  return HeadlessService(c, NameServerName(c), "namesrv", "", kNameServerPort);
}

json NameServerConfigMap(const api::Cluster& c) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Meta(c, NameServerName(c) + "-config", "namesrv", "")},
          {"data", {{"namesrv.conf", RenderNamesrvConf(c)}}}};
}

json NameServerPdb(const api::Cluster& c) { return Pdb(c, NameServerName(c), "namesrv", ""); }

json NameServerStatefulSet(const api::Cluster& c, const Options& o) {
  const std::string name = NameServerName(c);
  json container = {{"name", "namesrv"},
                    {"image", ImageOf(c, o)},
                    {"imagePullPolicy", c.spec.image_pull_policy},
                    {"command", json::array({kProgram})},
                    {"args", json::array({"namesrv", "-c", std::string(kConfigDir) + "/namesrv.conf"})},
                    {"env", json::array({{{"name", "HOME"}, {"value", kDataDir}}})},
                    {"ports", json::array({{{"name", "remoting"}, {"containerPort", kNameServerPort}}})},
                    {"readinessProbe", TcpProbe(kNameServerPort, 5, 3)},
                    {"livenessProbe", TcpProbe(kNameServerPort, 10, 6)},
                    {"securityContext", ContainerSecurityContext()},
                    {"volumeMounts", json::array({{{"name", "config"}, {"mountPath", kConfigDir}},
                                                  {{"name", "data"}, {"mountPath", kDataDir}}})}};
  if (!c.spec.name_server.resources.empty()) container["resources"] = c.spec.name_server.resources;
  json volumes = json::array({{{"name", "config"}, {"configMap", {{"name", name + "-config"}}}},
                              {{"name", "data"}, {"emptyDir", json::object()}}});
  AddSecurityVolumes(c, &container["volumeMounts"], &volumes);
  json pod_meta = {{"labels", Labels(c, "namesrv", "")},
                   {"annotations", {{kConfigHashAnnotation, ConfigHash(RenderNamesrvConf(c))}}}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", Meta(c, name, "namesrv", "")},
          {"spec",
           {{"serviceName", name},
            {"replicas", c.spec.name_server.replicas},
            {"podManagementPolicy", "Parallel"},
            {"selector", {{"matchLabels", SelectorLabels(c, "namesrv", "")}}},
            {"template",
             {{"metadata", pod_meta},
              {"spec",
               {{"securityContext", PodSecurityContext()},
                {"terminationGracePeriodSeconds", 30},
                {"containers", json::array({container})},
                {"volumes", volumes}}}}}}}};
}

json BrokerHeadlessService(const api::Cluster& c, int group) {
  const std::string g = BrokerGroupName(c, group);
  return HeadlessService(c, g, "broker", g, kBrokerPort);
}

json BrokerClientService(const api::Cluster& c, int group) {
  const std::string g = BrokerGroupName(c, group);
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Meta(c, g + "-client", "broker", g)},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", SelectorLabels(c, "broker", g)},
            {"ports", json::array({{{"name", "remoting"},
                                    {"port", kBrokerPort},
                                    {"targetPort", kBrokerPort},
                                    {"protocol", "TCP"}}})}}}};
}

json BrokerConfigMap(const api::Cluster& c, int group, bool read_only) {
  const std::string g = BrokerGroupName(c, group);
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Meta(c, g + "-config", "broker", g)},
          {"data", {{"broker.conf", RenderBrokerConf(c, group, read_only)}}}};
}

json BrokerPdb(const api::Cluster& c, int group) {
  const std::string g = BrokerGroupName(c, group);
  return Pdb(c, g, "broker", g);
}

json BrokerStatefulSet(const api::Cluster& c, int group, const Options& o) {
  const std::string g = BrokerGroupName(c, group);
  json container = {
      {"name", "broker"},
      {"image", ImageOf(c, o)},
      {"imagePullPolicy", c.spec.image_pull_policy},
      {"command", json::array({kProgram})},
      // The broker announces its pod IP to the name servers; Kubernetes expands $(POD_IP) from the env below.
      // --member-index: the pod's ordinal decides the first start's role (0: master, N: slave with brokerId
      // N).
      {"args", json::array({"broker", "-c", std::string(kConfigDir) + "/broker.conf", "--set",
                            "brokerIP1=$(POD_IP)", "--member-index", "$(POD_NAME)"})},
      {"env", json::array({FieldEnv("POD_IP", "status.podIP"),
                           FieldEnv("POD_NAME", "metadata.name"),
                           FieldEnv("POD_NAMESPACE", "metadata.namespace"),
                           {{"name", "HOME"}, {"value", kDataDir}}})},
      {"ports", json::array({{{"name", "remoting"}, {"containerPort", kBrokerPort}},
                             {{"name", "metrics"}, {"containerPort", kBrokerMetricsPort}}})},
      // Unready after ~9 s without an answer: failover waits for that (model/failover.h), so it bounds how
      // long a group whose master is cut off stays unwritable.
      {"readinessProbe", TcpProbe(kBrokerPort, 3, 3)},
      {"livenessProbe", TcpProbe(kBrokerPort, 10, 6)},
      {"securityContext", ContainerSecurityContext()},
      {"volumeMounts", json::array({{{"name", "config"}, {"mountPath", kConfigDir}},
                                    {{"name", "data"}, {"mountPath", kDataDir}}})}};
  if (!c.spec.brokers.resources.empty()) container["resources"] = c.spec.brokers.resources;
  json volumes = json::array({{{"name", "config"}, {"configMap", {{"name", g + "-config"}}}}});
  AddSecurityVolumes(c, &container["volumeMounts"], &volumes);
  json pvc_spec = {{"accessModes", json::array({"ReadWriteOnce"})},
                   {"resources", {{"requests", {{"storage", c.spec.brokers.storage.size}}}}}};
  if (!c.spec.brokers.storage.storage_class_name.empty()) {
    pvc_spec["storageClassName"] = c.spec.brokers.storage.storage_class_name;
  }
  json pod_meta = {{"labels", Labels(c, "broker", g)},
                   {"annotations", {{kConfigHashAnnotation, ConfigHash(RenderBrokerConf(c, group))}}}};
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "StatefulSet"},
      {"metadata", Meta(c, g, "broker", g)},
      {"spec",
       {{"serviceName", g},
        {"replicas", c.spec.brokers.replicas_per_group},
        {"podManagementPolicy", "Parallel"},
        // With replicas the operator restarts the pods itself, slaves first and the master after a switchover
        // (controllers/roll_step.h); the StatefulSet controller would restart the master in place.
        {"updateStrategy", {{"type", c.spec.brokers.replicas_per_group > 1 ? "OnDelete" : "RollingUpdate"}}},
        {"selector", {{"matchLabels", SelectorLabels(c, "broker", g)}}},
        {"template",
         {{"metadata", pod_meta},
          {"spec",
           {{"securityContext", PodSecurityContext()},
            // Time for the broker to flush and unregister before it is killed.
            {"terminationGracePeriodSeconds", 60},
            {"containers", json::array({container})},
            {"volumes", volumes}}}}},
        {"volumeClaimTemplates",
         json::array({{{"apiVersion", "v1"},
                       {"kind", "PersistentVolumeClaim"},
                       {"metadata", {{"name", "data"}, {"labels", SelectorLabels(c, "broker", g)}}},
                       {"spec", pvc_spec}}})}}}};
}

std::string HaRecordName(const api::Cluster& c, int group) { return BrokerGroupName(c, group) + "-ha"; }

json HaRecordConfigMap(const api::Cluster& c, int group, const std::string& record_json,
                       const std::string& resource_version) {
  const std::string g = BrokerGroupName(c, group);
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", Meta(c, HaRecordName(c, group), "broker", g)},
             {"data", {{std::string(kHaRecordKey), record_json}}}};
  if (!resource_version.empty()) cm["metadata"]["resourceVersion"] = resource_version;
  return cm;
}

std::vector<json> DesiredObjects(const api::Cluster& c, const Options& o) {
  std::vector<json> out = {NameServerConfigMap(c), NameServerService(c), NameServerStatefulSet(c, o),
                           NameServerPdb(c)};
  for (int g = 0; g < c.spec.brokers.groups; ++g) {
    out.push_back(BrokerConfigMap(c, g));
    out.push_back(BrokerHeadlessService(c, g));
    out.push_back(BrokerClientService(c, g));
    out.push_back(BrokerStatefulSet(c, g, o));
    out.push_back(BrokerPdb(c, g));
  }
  return out;
}

}  // namespace fmq::op::model
