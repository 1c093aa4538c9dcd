#pragma once

// Pure functions from a Cluster to the Kubernetes objects that run it (ARCHITECTURE.md section 5): a
// name-server StatefulSet with its headless Service, ConfigMap and PDB; per broker group a StatefulSet, a
// headless and a client Service, a ConfigMap with the rendered broker.conf and a PDB. Every object carries
// the Cluster as its controlling owner (garbage collection tears a Cluster down) and only the fields the
// operator owns, because the controller applies them with server-side apply: fields defaulted by the
// apiserver or set by other managers are left alone, and applying the same output twice writes nothing.
//
// Names and labels are part of the contract in docs/crd-reference.md; tests pin the JSON.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/types.h"

namespace fmq::op::model {

inline constexpr int kNameServerPort = 9876;
inline constexpr int kBrokerPort = 10911;
// The brokers' Prometheus /metrics (metricsExporterType=PROM, docs/metrics.md); the container port named
// "metrics".
inline constexpr int kBrokerMetricsPort = 5557;
inline constexpr const char* kConfigDir = "/etc/ferrymq";
inline constexpr const char* kDataDir = "/var/lib/ferrymq";
inline constexpr const char* kProgram = "/usr/local/bin/ferrymq";
inline constexpr const char* kConfigHashAnnotation = "ferrymq.io/config-hash";
inline constexpr const char* kHaRecordKey = "record.json";

// spec.security (docs/security.md). The credentials Secret "<cluster>-credentials" is generated once by the
// controller (random secrets) and never rewritten: accessKey/secretKey are the operator's admin account,
// brokerAccessKey/brokerSecretKey the account brokers sign their own requests with, and plain_acl.yml holds
// both (admin: true), mounted read-only into every pod: the name servers' ACL file, the brokers' aclSeedFile.
// Secrets are mounted outside kConfigDir: a mount point inside the read-only ConfigMap volume cannot be
// created.
inline constexpr const char* kCredentialsDir = "/var/run/secrets/ferrymq/credentials";
inline constexpr const char* kTlsDir =
    "/var/run/secrets/ferrymq/tls";  // the spec.security.tls.secretName Secret
inline constexpr const char* kSeedAclKey = "plain_acl.yml";
inline constexpr const char* kOperatorAccessKey = "ferrymq-operator";
inline constexpr const char* kBrokerAccessKey = "ferrymq-broker";

struct Options {
  std::string default_image;  // used when spec.image is empty (--broker-image)
};

std::string NameServerName(const api::Cluster& c);              // "<cluster>-namesrv"
std::string BrokerGroupName(const api::Cluster& c, int group);  // "<cluster>-broker-<group>" = brokerName
// "<cluster>-namesrv-0.<cluster>-namesrv.<ns>.svc:9876;..." — stable DNS names, never pod IPs, so brokers
// keep finding name servers that restart on new addresses.
std::string NameServerAddresses(const api::Cluster& c);
// The brokers' namesrvAddr: the name servers' headless Service, which a broker resolves to every name-server
// pod again every few seconds, so scaling the name servers changes no broker.conf and restarts no broker.
std::string NameServerServiceAddress(const api::Cluster& c);

struct ClusterCredentials {
  std::string operator_secret;  // of kOperatorAccessKey
  std::string broker_secret;    // of kBrokerAccessKey
};
std::string CredentialsSecretName(const api::Cluster& c);  // "<cluster>-credentials"
// The seed ACL file: both accounts, admin: true.
std::string RenderSeedAcl(const ClusterCredentials& creds);
// The credentials Secret (stringData; owned by the Cluster, so it goes with it).
nlohmann::json CredentialsSecret(const api::Cluster& c, const ClusterCredentials& creds);

std::string RenderNamesrvConf(const api::Cluster& c);
// `read_only`: a group leaving the cluster (brokerPermission=4, model/scale_in.h).
std::string RenderBrokerConf(const api::Cluster& c, int group, bool read_only = false);

// FNV-1a 64 of `text` in hex; the pod templates carry the hash of their config so a config change rolls them.
std::string ConfigHash(const std::string& text);

nlohmann::json OwnerReference(const api::Cluster& c);
nlohmann::json SelectorLabels(const api::Cluster& c, const std::string& component, const std::string& group);

nlohmann::json NameServerService(const api::Cluster& c);
nlohmann::json NameServerConfigMap(const api::Cluster& c);
nlohmann::json NameServerStatefulSet(const api::Cluster& c, const Options& o);
nlohmann::json NameServerPdb(const api::Cluster& c);
nlohmann::json BrokerHeadlessService(const api::Cluster& c, int group);
nlohmann::json BrokerClientService(const api::Cluster& c, int group);
nlohmann::json BrokerConfigMap(const api::Cluster& c, int group, bool read_only = false);
nlohmann::json BrokerStatefulSet(const api::Cluster& c, int group, const Options& o);
nlohmann::json BrokerPdb(const api::Cluster& c, int group);

// The HA record of a group with replicas (model/failover.h): ConfigMap "<cluster>-broker-<g>-ha", data key
// record.json. Not among DesiredObjects: only the failover step writes it, by compare-and-swap on
// `resource_version` (empty: create).
std::string HaRecordName(const api::Cluster& c, int group);
nlohmann::json HaRecordConfigMap(const api::Cluster& c, int group, const std::string& record_json,
                                 const std::string& resource_version);

// Everything the Cluster owns, in apply order: name-server objects first, then each group's ConfigMap and
// Services before its StatefulSet and PDB.
std::vector<nlohmann::json> DesiredObjects(const api::Cluster& c, const Options& o);

}  // namespace fmq::op::model
