#pragma once

// The custom resources of ferrymq.io/v1alpha1 as C++ values, read from and written to the apiserver's JSON.
// The CRDs in crds/ are the schema users see (defaults, CEL rules, descriptions); the readers here apply the
// same defaults and re-check what the controllers rely on, so an object that slipped past validation (an
// apiserver without CEL, a CRD installed by hand) becomes a clear InvalidArgument — a terminal spec error —
// and never a crash or a half-applied cluster. Pure values; not thread-safe.

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/status.h"
#include "operator/api/conditions.h"

namespace fmq::op::api {

inline constexpr std::string_view kGroup = "ferrymq.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "ferrymq.io/v1alpha1";

// Annotations, labels and finalizers the operator reads or writes.
inline constexpr std::string_view kForceDeleteAnnotation = "ferrymq.io/force-delete";
inline constexpr std::string_view kAllowQueueShrinkAnnotation = "ferrymq.io/allow-queue-shrink";
// On a Cluster: broker groups leaving it are removed at once, whatever they still hold.
inline constexpr std::string_view kForceScaleInAnnotation = "ferrymq.io/force-scale-in";
// On a leaving group's StatefulSet (the operator's): when it started leaving (RFC 3339).
inline constexpr std::string_view kScaleInSinceAnnotation = "ferrymq.io/scale-in-since";
inline constexpr std::string_view kTopicFinalizer = "ferrymq.io/topic-cleanup";
inline constexpr std::string_view kGroupFinalizer = "ferrymq.io/group-cleanup";
inline constexpr std::string_view kUserFinalizer = "ferrymq.io/user-revoke";
// On a User with generated credentials: a new value (any text) asks for a new key pair; the old one keeps
// working for spec.rotation.gracePeriodSeconds.
inline constexpr std::string_view kRotateAnnotation = "ferrymq.io/rotate";
inline constexpr std::string_view kClusterLabel = "ferrymq.io/cluster";
inline constexpr std::string_view kBrokerGroupLabel = "ferrymq.io/broker-group";

// Longest Cluster name: owned names such as "<cluster>-broker-63-client" and StatefulSet pods
// ("<cluster>-broker-63-0", plus the controller-revision-hash label "<sts>-<10 chars>") must stay DNS labels
// of at most 63 characters.
inline constexpr size_t kMaxClusterNameLength = 42;

// broker.conf keys the operator renders itself; spec.brokers.config may not set them.
const std::vector<std::string>& OperatorOwnedBrokerKeys();

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  std::string deletion_timestamp;  // empty unless the object is being deleted
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;

  bool being_deleted() const { return !deletion_timestamp.empty(); }
  bool HasFinalizer(std::string_view f) const;
  bool AnnotationTrue(std::string_view key) const;
  std::string Key() const { return namespace_ + "/" + name; }
};
ObjectMeta MetaFromJson(const nlohmann::json& object);

// --- Cluster
// -------------------------------------------------------------------------------------------------

struct ClusterSpec {
  std::string image;  // empty: the operator's --broker-image
  std::string image_pull_policy = "IfNotPresent";
  struct NameServer {
    int replicas = 1;
    nlohmann::json resources = nlohmann::json::object();
  } name_server;
  struct Brokers {
    int groups = 1;
    int replicas_per_group = 1;
    std::string flush_disk_type = "ASYNC_FLUSH";
    struct Storage {
      std::string size = "10Gi";
      std::string storage_class_name;
    } storage;
    nlohmann::json resources = nlohmann::json::object();
    std::map<std::string, std::string> config;
    std::string scale_in_policy = "Drain";  // spec.brokers.scaleIn.policy: Drain | Expire
    // spec.brokers.replication: how a group's slaves copy its master (only with replicasPerGroup > 1).
    struct Replication {
      std::string mode = "sync";                      // sync: SYNC_MASTER; async: ASYNC_MASTER
      int min_in_sync_replicas = 0;                   // 0: min(2, replicasPerGroup)
      std::string when_below_min_in_sync = "reject";  // reject | degrade
      bool unclean_failover = false;  // promote a slave that is not in sync (may lose messages)
    } replication;
    // The effective minInSyncReplicas.
    int MinInSyncReplicas() const {
      return replication.min_in_sync_replicas > 0 ? replication.min_in_sync_replicas
                                                  : std::min(2, replicas_per_group);
    }
  } brokers;
  // spec.probe: the operator's continuous dial test (controllers/probe_runner.h); absent: none.
  struct Probe {
    bool enabled = false;
    std::chrono::milliseconds interval{30'000};
    int message_size = 128;
    std::string topic = "ferrymq-probe";
  } probe;
  // spec.security (docs/security.md).
  struct Security {
    // acl.enabled: every request must be signed (RocketMQ ACL 1.0); applications get accounts from User
    // objects, the operator and the brokers use accounts of the operator's credentials Secret.
    bool acl_enabled = false;
    struct Tls {
      std::string mode = "Disabled";     // Disabled | Permissive | Enforcing (tls.server.mode)
      std::string secret_name;           // a kubernetes.io/tls Secret: tls.crt, tls.key, ca.crt
      std::string client_auth = "None";  // None | Optional | Require (mutual TLS)
      bool enabled() const { return mode != "Disabled"; }
    } tls;
  } security;
};

struct BrokerGroupStatus {
  std::string name;     // brokerName
  std::string master;   // pod name of the master
  std::string address;  // what the broker registered with the name servers
  bool ready = false;
  bool writable = false;
  // With replicas (from the group's HA record): the master's epoch, the pods in sync with it (itself
  // included), the last failover (RFC 3339) and how many there were, and what the failover step last saw.
  int32_t epoch = 0;
  std::vector<std::string> in_sync;
  std::string last_failover;
  int64_t failovers = 0;
  std::string failover_state;  // a CamelCase reason: MasterServing, MasterUnavailable, FailingOver, ...
  std::string failover_message;
  // Only for a group leaving the cluster (spec.brokers.groups decreased; model/scale_in.h).
  struct ScaleIn {
    std::string phase;  // empty: the group is not leaving
    std::string since;
    int64_t backlog = -1;
    std::string backlog_topics;
    std::string message;
    bool operator==(const ScaleIn&) const = default;
  } scale_in;
  bool operator==(const BrokerGroupStatus&) const = default;
};

struct ClusterStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  std::string name_servers;
  std::vector<BrokerGroupStatus> broker_groups;
  int ready_replicas = 0;
  int desired_replicas = 0;
  std::string replicas_summary;
};

struct Cluster {
  ObjectMeta metadata;
  ClusterSpec spec;
  ClusterStatus status;
};

// InvalidArgument naming the field (spec.brokers.groups: ...) for a spec the operator cannot act on.
Result<Cluster> ClusterFromJson(const nlohmann::json& object);
nlohmann::json ClusterStatusToJson(const ClusterStatus& status);
ClusterStatus ClusterStatusFromJson(const nlohmann::json& status);

// --- Topic
// ---------------------------------------------------------------------------------------------------

struct ClusterRef {
  std::string name;
  std::string namespace_;  // filled with the referring object's namespace when omitted
};

struct TopicSpec {
  ClusterRef cluster_ref;
  std::string topic_name;  // filled with metadata.name when omitted
  int write_queues = 8;
  int read_queues = 8;
  std::string permission = "ReadWrite";  // ReadWrite | ReadOnly | WriteOnly
  bool order = false;
  std::vector<std::string> broker_groups;  // empty: every group
  std::string deletion_policy = "Delete";  // Delete | Retain
};

struct TopicGroupStatus {
  std::string name;
  int read_queues = 0;
  int write_queues = 0;
  std::string permission;
  int64_t messages = 0;    // held in the group's queues (max - min offset, summed)
  std::string last_write;  // RFC 3339 store time of the newest message; empty: none
  bool operator==(const TopicGroupStatus&) const = default;
};

// What the Topic's masters saw, re-read with the drift check (coarse: for `kubectl get`, not for alerting).
struct TopicTrafficStatus {
  std::string messages_in_per_second;        // last minute, every target master
  std::string messages_out_per_second;       // last minute, every consumer group
  std::vector<std::string> producer_groups;  // sent in the last day (at most kMaxListedGroups)
  std::vector<std::string> consumer_groups;  // have offsets or online consumers (at most kMaxListedGroups)
  bool operator==(const TopicTrafficStatus&) const = default;
};
inline constexpr size_t kMaxListedGroups = 20;

struct TopicStatus {
  int64_t observed_generation = 0;
  std::string topic_name;
  std::vector<TopicGroupStatus> broker_groups;
  std::optional<TopicTrafficStatus> traffic;
  std::vector<Condition> conditions;
};

struct Topic {
  ObjectMeta metadata;
  TopicSpec spec;
  TopicStatus status;
};

Result<Topic> TopicFromJson(const nlohmann::json& object);
nlohmann::json TopicStatusToJson(const TopicStatus& status);
TopicStatus TopicStatusFromJson(const nlohmann::json& status);

// --- ConsumerGroup
// -------------------------------------------------------------------------------------------

// spec.resetOffset: move the group's consumed offsets once per `id`.
struct ResetOffsetSpec {
  std::string id;
  std::string to;                   // earliest | latest | an RFC 3339 time (client::ResetTimestampOf)
  std::vector<std::string> topics;  // empty: every topic the group has offsets for
  bool force = false;               // reset even while consumers of the group are online
  bool operator==(const ResetOffsetSpec&) const = default;
};

// spec.alerting: when the group's health conditions turn True and its alerts fire. The defaults are
// MQCloud's.
struct GroupAlertingSpec {
  int lag_messages = 10'000;           // Lagging: more unconsumed messages than this ...
  int lag_seconds = 300;               // ... and the oldest unconsumed one stored longer ago than this
  int consume_failures_per_hour = 10;  // ConsumeFailing: more failed consumptions in the last hour
  int dead_letters_per_hour = 0;       // DeadLetters: more messages moved to %DLQ% in the last hour
  int blocked_seconds = 60;            // ClientsBlocked: a queue with nothing consumed for this long ...
  int blocked_messages = 100;          // ... while the client holds at least this many of its messages
  bool operator==(const GroupAlertingSpec&) const = default;
};

struct ConsumerGroupSpec {
  ClusterRef cluster_ref;
  std::string group_name;                   // filled with metadata.name when omitted
  std::string consume_mode = "Clustering";  // Clustering | Broadcast
  bool orderly = false;
  bool enabled = true;
  int retry_max_times = 16;
  int retry_queues = 1;
  bool consume_from_min = true;
  int read_from_broker_id_when_slow = 1;   // whichBrokerWhenConsumeSlowly
  std::vector<std::string> broker_groups;  // empty: every group
  std::string deletion_policy = "Retain";  // Retain | Delete
  std::optional<ResetOffsetSpec> reset_offset;
  GroupAlertingSpec alerting;
};

struct GroupSubscriptionStatus {
  std::string topic;
  std::string expression;
  bool operator==(const GroupSubscriptionStatus&) const = default;
};

struct GroupLagStatus {
  std::string topic;
  int64_t messages = 0;  // broker offset - consumer offset, summed over the topic's queues
  bool operator==(const GroupLagStatus&) const = default;
};

// The last spec.resetOffset the operator acted on.
struct LastResetStatus {
  std::string id;
  std::string to;
  std::string result;  // Applied | Refused | Failed
  std::string message;
  std::string time;  // RFC 3339, when it was applied or last refused
  int64_t queues = 0;
  bool operator==(const LastResetStatus&) const = default;
};

struct ConsumerGroupStatus {
  int64_t observed_generation = 0;
  std::string group_name;
  std::vector<std::string> broker_groups;  // where the group is as specified (or was, for dropped groups)
  int64_t online_clients = 0;
  std::vector<std::string> clients;  // client ids, at most kMaxListedClients
  std::vector<GroupSubscriptionStatus> subscriptions;
  std::vector<GroupLagStatus> lag;
  int64_t total_lag = 0;
  std::optional<LastResetStatus> last_reset;
  std::vector<Condition> conditions;
};

inline constexpr size_t kMaxListedClients = 20;

struct ConsumerGroup {
  ObjectMeta metadata;
  ConsumerGroupSpec spec;
  ConsumerGroupStatus status;
};

Result<ConsumerGroup> ConsumerGroupFromJson(const nlohmann::json& object);
nlohmann::json ConsumerGroupStatusToJson(const ConsumerGroupStatus& status);
ConsumerGroupStatus ConsumerGroupStatusFromJson(const nlohmann::json& status);

// --- User
// ----------------------------------------------------------------------------------------------------

struct UserPermission {
  std::string name;
  std::string perm;  // DENY | PUB | SUB | PUB|SUB (RocketMQ's plain_acl.yml names)
  bool operator==(const UserPermission&) const = default;
};

struct UserSpec {
  ClusterRef cluster_ref;
  std::string access_key;  // filled with metadata.name when omitted; 7..64 letters, digits, '_', '-'
  // spec.secretRef: take the secret key from this Secret (adopting an account made elsewhere); empty name:
  // the operator generates it.
  std::string secret_ref_name;
  std::string secret_ref_key = "secretKey";
  std::string secret_name;  // the Secret the operator writes; default "<name>-ferrymq"
  bool admin = false;
  std::string default_topic_perm = "DENY";
  std::string default_group_perm = "SUB";
  std::vector<UserPermission> topics;
  std::vector<UserPermission> groups;
  std::string allowed_addresses;          // whiteRemoteAddress
  int64_t rotation_grace_seconds = 3600;  // spec.rotation.gracePeriodSeconds
};

struct UserStatus {
  int64_t observed_generation = 0;
  std::string access_key;  // the current key (spec.accessKey, "-r<N>" after N rotations)
  std::string secret_name;
  int64_t rotations = 0;
  std::string last_rotate_request;  // the ferrymq.io/rotate value last acted on
  std::string retiring_access_key;  // the previous key, valid until retiring_until (RFC 3339)
  std::string retiring_until;
  int64_t brokers = 0;  // brokers that have the current account as specified
  std::vector<Condition> conditions;
};

struct User {
  ObjectMeta metadata;
  UserSpec spec;
  UserStatus status;
};

// Access keys the operator keeps for itself (model/cluster_resources.h).
bool IsReservedAccessKey(std::string_view access_key);
Result<User> UserFromJson(const nlohmann::json& object);
nlohmann::json UserStatusToJson(const UserStatus& status);
UserStatus UserStatusFromJson(const nlohmann::json& status);

// RocketMQ permission bits (PermName): 2 = write, 4 = read.
int PermissionBits(std::string_view permission);
std::string PermissionName(int perm_bits);

// Letters, digits, '_' and '-', 1..127 characters: the names Topic and ConsumerGroup accept.
bool IsValidResourceName(std::string_view name);

}  // namespace fmq::op::api
