#include "operator/api/types.h"

#include <algorithm>

#include "broker/base/time_codec.h"

namespace fmq::op::api {
namespace {

using nlohmann::json;

const json* Child(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status ReadInt(const json& obj, std::string_view key, const std::string& path, int min, int max, int* out) {
  const json* v = Child(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_number_integer()) return Status::InvalidArgument(path + " must be an integer");
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    return Status::InvalidArgument(path + " must be between " + std::to_string(min) + " and " +
                                   std::to_string(max) + ", got " + std::to_string(n));
  }
  *out = static_cast<int>(n);
  return Status::Ok();
}

Status ReadString(const json& obj, std::string_view key, const std::string& path, std::string* out) {
  const json* v = Child(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return Status::InvalidArgument(path + " must be a string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status ReadEnum(const json& obj, std::string_view key, const std::string& path,
                std::initializer_list<std::string_view> allowed, std::string* out) {
  std::string value = *out;
  FMQ_RETURN_IF_ERROR(ReadString(obj, key, path, &value));
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Status::InvalidArgument(path + " must be one of " + list + ", got '" + value + "'");
  }
  *out = std::move(value);
  return Status::Ok();
}

Status ReadBool(const json& obj, std::string_view key, const std::string& path, bool* out) {
  const json* v = Child(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) return Status::InvalidArgument(path + " must be true or false");
  *out = v->get<bool>();
  return Status::Ok();
}

Status ReadStringList(const json& obj, std::string_view key, const std::string& path,
                      std::vector<std::string>* out) {
  const json* v = Child(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return Status::InvalidArgument(path + " must be a list of strings");
  for (const json& e : *v) {
    if (!e.is_string()) return Status::InvalidArgument(path + " must be a list of strings");
    out->push_back(e.get<std::string>());
  }
  return Status::Ok();
}

std::map<std::string, std::string> StringMap(const json* v) {
  std::map<std::string, std::string> out;
  if (v == nullptr || !v->is_object()) return out;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

int64_t IntOr(const json& obj, std::string_view key, int64_t fallback) {
  const json* v = Child(obj, key);
  return v != nullptr && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

std::string StringOr(const json& obj, std::string_view key) {
  const json* v = Child(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

Status ReadClusterRef(const json& spec, const ObjectMeta& meta, ClusterRef* ref) {
  const json* r = Child(spec, "clusterRef");
  if (r == nullptr || !r->is_object()) return Status::InvalidArgument("spec.clusterRef is required");
  FMQ_RETURN_IF_ERROR(ReadString(*r, "name", "spec.clusterRef.name", &ref->name));
  FMQ_RETURN_IF_ERROR(ReadString(*r, "namespace", "spec.clusterRef.namespace", &ref->namespace_));
  if (ref->name.empty()) return Status::InvalidArgument("spec.clusterRef.name is required");
  if (ref->namespace_.empty()) ref->namespace_ = meta.namespace_;
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& OperatorOwnedBrokerKeys() {
  static const std::vector<std::string> keys = {"brokerClusterName",
                                                "brokerName",
                                                "brokerId",
                                                "brokerRole",
                                                "namesrvAddr",
                                                "listenPort",
                                                "storePathRootDir",
                                                "storePathCommitLog",
                                                "brokerIP1",
                                                "haListenPort",
                                                "minInSyncReplicas",
                                                "whenBelowMinInSync",
                                                "brokerPermission",
                                                "aclEnable",
                                                "aclConfigFile",
                                                "aclSeedFile",
                                                "innerAccessKey",
                                                "innerSecretKey",
                                                "metricsExporterType",
                                                "metricsPromExporterPort"};
  return keys;
}

bool ObjectMeta::HasFinalizer(std::string_view f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

bool ObjectMeta::AnnotationTrue(std::string_view key) const {
  auto it = annotations.find(std::string(key));
  return it != annotations.end() && (it->second == "true" || it->second == "True");
}

ObjectMeta MetaFromJson(const json& object) {
  ObjectMeta m;
  const json* md = Child(object, "metadata");
  if (md == nullptr) return m;
  m.name = StringOr(*md, "name");
  m.namespace_ = StringOr(*md, "namespace");
  m.uid = StringOr(*md, "uid");
  m.resource_version = StringOr(*md, "resourceVersion");
  m.generation = IntOr(*md, "generation", 0);
  m.creation_timestamp = StringOr(*md, "creationTimestamp");
  m.deletion_timestamp = StringOr(*md, "deletionTimestamp");
  m.labels = StringMap(Child(*md, "labels"));
  m.annotations = StringMap(Child(*md, "annotations"));
  if (const json* f = Child(*md, "finalizers"); f != nullptr && f->is_array()) {
    for (const json& e : *f) {
      if (e.is_string()) m.finalizers.push_back(e.get<std::string>());
    }
  }
  return m;
}

bool IsValidResourceName(std::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

int PermissionBits(std::string_view permission) {
  if (permission == "ReadOnly") return 4;
  if (permission == "WriteOnly") return 2;
  return 6;
}

std::string PermissionName(int perm_bits) {
  bool r = (perm_bits & 4) != 0, w = (perm_bits & 2) != 0;
  if (r && w) return "ReadWrite";
  if (r) return "ReadOnly";
  if (w) return "WriteOnly";
  return "None";
}

// --- Cluster
// -------------------------------------------------------------------------------------------------

Result<Cluster> ClusterFromJson(const json& object) {
  Cluster c;
  c.metadata = MetaFromJson(object);
  if (c.metadata.name.empty()) return Status::InvalidArgument("metadata.name is required");
  if (c.metadata.name.size() > kMaxClusterNameLength) {
    return Status::InvalidArgument("metadata.name must be at most " + std::to_string(kMaxClusterNameLength) +
                                   " characters (owned StatefulSets and Services are named after it)");
  }
  static const json kEmpty = json::object();
  const json* specp = Child(object, "spec");
  const json& spec = specp != nullptr ? *specp : kEmpty;
  ClusterSpec& s = c.spec;
  FMQ_RETURN_IF_ERROR(ReadString(spec, "image", "spec.image", &s.image));
  FMQ_RETURN_IF_ERROR(ReadEnum(spec, "imagePullPolicy", "spec.imagePullPolicy",
                               {"Always", "IfNotPresent", "Never"}, &s.image_pull_policy));
  if (const json* ns = Child(spec, "nameServer")) {
    FMQ_RETURN_IF_ERROR(ReadInt(*ns, "replicas", "spec.nameServer.replicas", 1, 7, &s.name_server.replicas));
    if (const json* r = Child(*ns, "resources"); r != nullptr && r->is_object()) s.name_server.resources = *r;
  }
  if (const json* b = Child(spec, "brokers")) {
    FMQ_RETURN_IF_ERROR(ReadInt(*b, "groups", "spec.brokers.groups", 1, 64, &s.brokers.groups));
    FMQ_RETURN_IF_ERROR(ReadInt(*b, "replicasPerGroup", "spec.brokers.replicasPerGroup", 1, 3,
                                &s.brokers.replicas_per_group));
    if (const json* r = Child(*b, "replication")) {
      auto& rep = s.brokers.replication;
      FMQ_RETURN_IF_ERROR(
          ReadEnum(*r, "mode", "spec.brokers.replication.mode", {"sync", "async"}, &rep.mode));
      FMQ_RETURN_IF_ERROR(ReadInt(*r, "minInSyncReplicas", "spec.brokers.replication.minInSyncReplicas", 1, 3,
                                  &rep.min_in_sync_replicas));
      FMQ_RETURN_IF_ERROR(ReadEnum(*r, "whenBelowMinInSync", "spec.brokers.replication.whenBelowMinInSync",
                                   {"reject", "degrade"}, &rep.when_below_min_in_sync));
      FMQ_RETURN_IF_ERROR(
          ReadBool(*r, "uncleanFailover", "spec.brokers.replication.uncleanFailover", &rep.unclean_failover));
      if (rep.min_in_sync_replicas > s.brokers.replicas_per_group) {
        return Status::InvalidArgument(
            "spec.brokers.replication.minInSyncReplicas (" + std::to_string(rep.min_in_sync_replicas) +
            ") cannot exceed spec.brokers.replicasPerGroup (" + std::to_string(s.brokers.replicas_per_group) +
            "): no send could ever be acknowledged");
      }
    }
    if (const json* si = Child(*b, "scaleIn")) {
      FMQ_RETURN_IF_ERROR(ReadEnum(*si, "policy", "spec.brokers.scaleIn.policy", {"Drain", "Expire"},
                                   &s.brokers.scale_in_policy));
    }
    FMQ_RETURN_IF_ERROR(ReadEnum(*b, "flushDiskType", "spec.brokers.flushDiskType",
                                 {"ASYNC_FLUSH", "SYNC_FLUSH"}, &s.brokers.flush_disk_type));
    if (const json* st = Child(*b, "storage")) {
      FMQ_RETURN_IF_ERROR(ReadString(*st, "size", "spec.brokers.storage.size", &s.brokers.storage.size));
      FMQ_RETURN_IF_ERROR(ReadString(*st, "storageClassName", "spec.brokers.storage.storageClassName",
                                     &s.brokers.storage.storage_class_name));
      if (s.brokers.storage.size.empty())
        return Status::InvalidArgument("spec.brokers.storage.size is empty");
    }
    if (const json* r = Child(*b, "resources"); r != nullptr && r->is_object()) s.brokers.resources = *r;
    if (const json* cfg = Child(*b, "config")) {
      if (!cfg->is_object()) return Status::InvalidArgument("spec.brokers.config must be a map of strings");
      for (auto it = cfg->begin(); it != cfg->end(); ++it) {
        if (!it.value().is_string()) {
          return Status::InvalidArgument("spec.brokers.config." + it.key() +
                                         " must be a string (quote numbers and booleans)");
        }
        const auto& owned = OperatorOwnedBrokerKeys();
        if (std::find(owned.begin(), owned.end(), it.key()) != owned.end()) {
          return Status::InvalidArgument("spec.brokers.config may not set " + it.key() +
                                         ": the operator renders it from the Cluster");
        }
        if (it.key().starts_with("tls.")) {
          return Status::InvalidArgument("spec.brokers.config may not set " + it.key() +
                                         ": set spec.security.tls instead");
        }
        s.brokers.config[it.key()] = it.value().get<std::string>();
      }
    }
  }
  if (const json* probe = Child(spec, "probe"); probe != nullptr && probe->is_object()) {
    auto& p = s.probe;
    p.enabled = true;
    std::string interval = "30s";
    FMQ_RETURN_IF_ERROR(ReadString(*probe, "interval", "spec.probe.interval", &interval));
    auto d = ParseDuration(interval);
    if (!d.ok()) return Status::InvalidArgument("spec.probe.interval: " + std::string(d.status().message()));
    if (*d < std::chrono::seconds(10) || *d > std::chrono::hours(1)) {
      return Status::InvalidArgument("spec.probe.interval must be between 10s and 1h, not " + interval);
    }
    p.interval = *d;
    FMQ_RETURN_IF_ERROR(
        ReadInt(*probe, "messageSize", "spec.probe.messageSize", 0, 4 << 20, &p.message_size));
    FMQ_RETURN_IF_ERROR(ReadString(*probe, "topic", "spec.probe.topic", &p.topic));
    if (p.topic.empty()) return Status::InvalidArgument("spec.probe.topic is empty");
  }
  if (const json* sec = Child(spec, "security")) {
    if (const json* acl = Child(*sec, "acl")) {
      FMQ_RETURN_IF_ERROR(ReadBool(*acl, "enabled", "spec.security.acl.enabled", &s.security.acl_enabled));
    }
    if (const json* tls = Child(*sec, "tls")) {
      auto& t = s.security.tls;
      FMQ_RETURN_IF_ERROR(
          ReadEnum(*tls, "mode", "spec.security.tls.mode", {"Disabled", "Permissive", "Enforcing"}, &t.mode));
      FMQ_RETURN_IF_ERROR(ReadString(*tls, "secretName", "spec.security.tls.secretName", &t.secret_name));
      FMQ_RETURN_IF_ERROR(ReadEnum(*tls, "clientAuth", "spec.security.tls.clientAuth",
                                   {"None", "Optional", "Require"}, &t.client_auth));
      if (t.enabled() && t.secret_name.empty()) {
        return Status::InvalidArgument(
            "spec.security.tls.secretName is required with spec.security.tls.mode " + t.mode +
            " (a kubernetes.io/tls Secret with tls.crt, tls.key, ca.crt)");
      }
    }
  }
  if (const json* st = Child(object, "status")) c.status = ClusterStatusFromJson(*st);
  return c;
}

json ClusterStatusToJson(const ClusterStatus& s) {
  json groups = json::array();
  for (const BrokerGroupStatus& g : s.broker_groups) {
    json e = {{"name", g.name},
              {"master", g.master},
              {"address", g.address},
              {"ready", g.ready},
              {"writable", g.writable}};
    if (g.epoch > 0 || !g.failover_state.empty()) {
      e["epoch"] = g.epoch;
      e["inSync"] = g.in_sync;
      e["failovers"] = g.failovers;
      e["failoverState"] = g.failover_state;
      e["failoverMessage"] = g.failover_message;
      if (!g.last_failover.empty()) e["lastFailover"] = g.last_failover;
    }
    if (!g.scale_in.phase.empty()) {
      e["scaleIn"] = {{"phase", g.scale_in.phase},
                      {"since", g.scale_in.since},
                      {"backlog", g.scale_in.backlog},
                      {"backlogTopics", g.scale_in.backlog_topics},
                      {"message", g.scale_in.message}};
    }
    groups.push_back(std::move(e));
  }
  return {{"observedGeneration", s.observed_generation},
          {"conditions", ConditionsToJson(s.conditions)},
          {"nameServers", s.name_servers},
          {"brokerGroups", groups},
          {"readyReplicas", s.ready_replicas},
          {"desiredReplicas", s.desired_replicas},
          {"replicasSummary", s.replicas_summary}};
}

ClusterStatus ClusterStatusFromJson(const json& j) {
  ClusterStatus s;
  if (!j.is_object()) return s;
  s.observed_generation = IntOr(j, "observedGeneration", 0);
  if (const json* c = Child(j, "conditions")) s.conditions = ConditionsFromJson(*c);
  s.name_servers = StringOr(j, "nameServers");
  if (const json* g = Child(j, "brokerGroups"); g != nullptr && g->is_array()) {
    for (const json& e : *g) {
      BrokerGroupStatus b;
      b.name = StringOr(e, "name");
      b.master = StringOr(e, "master");
      b.address = StringOr(e, "address");
      b.ready = e.is_object() && e.value("ready", false);
      b.writable = e.is_object() && e.value("writable", false);
      b.epoch = static_cast<int32_t>(IntOr(e, "epoch", 0));
      if (const json* in = Child(e, "inSync"); in != nullptr && in->is_array()) {
        for (const json& p : *in) {
          if (p.is_string()) b.in_sync.push_back(p.get<std::string>());
        }
      }
      b.last_failover = StringOr(e, "lastFailover");
      b.failovers = IntOr(e, "failovers", 0);
      b.failover_state = StringOr(e, "failoverState");
      b.failover_message = StringOr(e, "failoverMessage");
      if (const json* si = Child(e, "scaleIn"); si != nullptr && si->is_object()) {
        b.scale_in.phase = StringOr(*si, "phase");
        b.scale_in.since = StringOr(*si, "since");
        b.scale_in.backlog = IntOr(*si, "backlog", -1);
        b.scale_in.backlog_topics = StringOr(*si, "backlogTopics");
        b.scale_in.message = StringOr(*si, "message");
      }
      s.broker_groups.push_back(std::move(b));
    }
  }
  s.ready_replicas = static_cast<int>(IntOr(j, "readyReplicas", 0));
  s.desired_replicas = static_cast<int>(IntOr(j, "desiredReplicas", 0));
  s.replicas_summary = StringOr(j, "replicasSummary");
  return s;
}

// --- Topic
// ---------------------------------------------------------------------------------------------------

Result<Topic> TopicFromJson(const json& object) {
  Topic t;
  t.metadata = MetaFromJson(object);
  if (t.metadata.name.empty()) return Status::InvalidArgument("metadata.name is required");
  const json* specp = Child(object, "spec");
  if (specp == nullptr || !specp->is_object()) return Status::InvalidArgument("spec is required");
  const json& spec = *specp;
  TopicSpec& s = t.spec;
  FMQ_RETURN_IF_ERROR(ReadClusterRef(spec, t.metadata, &s.cluster_ref));
  FMQ_RETURN_IF_ERROR(ReadString(spec, "topicName", "spec.topicName", &s.topic_name));
  if (s.topic_name.empty()) s.topic_name = t.metadata.name;
  if (!IsValidResourceName(s.topic_name)) {
    return Status::InvalidArgument("topic name '" + s.topic_name +
                                   "' must be 1 to 127 letters, digits, '_' or '-' (set spec.topicName)");
  }
  if (const json* q = Child(spec, "queues")) {
    FMQ_RETURN_IF_ERROR(ReadInt(*q, "write", "spec.queues.write", 1, 1024, &s.write_queues));
    FMQ_RETURN_IF_ERROR(ReadInt(*q, "read", "spec.queues.read", 1, 1024, &s.read_queues));
  }
  FMQ_RETURN_IF_ERROR(
      ReadEnum(spec, "permission", "spec.permission", {"ReadWrite", "ReadOnly", "WriteOnly"}, &s.permission));
  FMQ_RETURN_IF_ERROR(ReadBool(spec, "order", "spec.order", &s.order));
  FMQ_RETURN_IF_ERROR(ReadStringList(spec, "brokerGroups", "spec.brokerGroups", &s.broker_groups));
  FMQ_RETURN_IF_ERROR(
      ReadEnum(spec, "deletionPolicy", "spec.deletionPolicy", {"Delete", "Retain"}, &s.deletion_policy));
  if (const json* st = Child(object, "status")) t.status = TopicStatusFromJson(*st);
  return t;
}

json TopicStatusToJson(const TopicStatus& s) {
  json groups = json::array();
  for (const TopicGroupStatus& g : s.broker_groups) {
    json e = {{"name", g.name},
              {"readQueues", g.read_queues},
              {"writeQueues", g.write_queues},
              {"permission", g.permission},
              {"messages", g.messages}};
    if (!g.last_write.empty()) e["lastWrite"] = g.last_write;
    groups.push_back(std::move(e));
  }
  json out = {{"observedGeneration", s.observed_generation},
              {"topicName", s.topic_name},
              {"brokerGroups", groups},
              {"conditions", ConditionsToJson(s.conditions)}};
  if (s.traffic) {
    out["traffic"] = {{"messagesInPerSecond", s.traffic->messages_in_per_second},
                      {"messagesOutPerSecond", s.traffic->messages_out_per_second},
                      {"producerGroups", s.traffic->producer_groups},
                      {"consumerGroups", s.traffic->consumer_groups}};
  }
  return out;
}

TopicStatus TopicStatusFromJson(const json& j) {
  TopicStatus s;
  if (!j.is_object()) return s;
  s.observed_generation = IntOr(j, "observedGeneration", 0);
  s.topic_name = StringOr(j, "topicName");
  if (const json* g = Child(j, "brokerGroups"); g != nullptr && g->is_array()) {
    for (const json& e : *g) {
      TopicGroupStatus b;
      b.name = StringOr(e, "name");
      b.read_queues = static_cast<int>(IntOr(e, "readQueues", 0));
      b.write_queues = static_cast<int>(IntOr(e, "writeQueues", 0));
      b.permission = StringOr(e, "permission");
      b.messages = IntOr(e, "messages", 0);
      b.last_write = StringOr(e, "lastWrite");
      s.broker_groups.push_back(std::move(b));
    }
  }
  if (const json* t = Child(j, "traffic"); t != nullptr && t->is_object()) {
    TopicTrafficStatus traffic;
    traffic.messages_in_per_second = StringOr(*t, "messagesInPerSecond");
    traffic.messages_out_per_second = StringOr(*t, "messagesOutPerSecond");
    for (auto [key, into] : {std::pair{"producerGroups", &traffic.producer_groups},
                             {"consumerGroups", &traffic.consumer_groups}}) {
      if (const json* a = Child(*t, key); a != nullptr && a->is_array()) {
        for (const json& e : *a) {
          if (e.is_string()) into->push_back(e.get<std::string>());
        }
      }
    }
    s.traffic = std::move(traffic);
  }
  if (const json* c = Child(j, "conditions")) s.conditions = ConditionsFromJson(*c);
  return s;
}

// --- ConsumerGroup

Result<ConsumerGroup> ConsumerGroupFromJson(const json& object) {
  ConsumerGroup g;
  g.metadata = MetaFromJson(object);
  if (g.metadata.name.empty()) return Status::InvalidArgument("metadata.name is required");
  const json* specp = Child(object, "spec");
  if (specp == nullptr || !specp->is_object()) return Status::InvalidArgument("spec is required");
  const json& spec = *specp;
  ConsumerGroupSpec& s = g.spec;
  FMQ_RETURN_IF_ERROR(ReadClusterRef(spec, g.metadata, &s.cluster_ref));
  FMQ_RETURN_IF_ERROR(ReadString(spec, "groupName", "spec.groupName", &s.group_name));
  if (s.group_name.empty()) s.group_name = g.metadata.name;
  if (!IsValidResourceName(s.group_name)) {
    return Status::InvalidArgument("group name '" + s.group_name +
                                   "' must be 1 to 127 letters, digits, '_' or '-' (set spec.groupName)");
  }
  FMQ_RETURN_IF_ERROR(
      ReadEnum(spec, "consumeMode", "spec.consumeMode", {"Clustering", "Broadcast"}, &s.consume_mode));
  FMQ_RETURN_IF_ERROR(ReadBool(spec, "orderly", "spec.orderly", &s.orderly));
  FMQ_RETURN_IF_ERROR(ReadBool(spec, "enabled", "spec.enabled", &s.enabled));
  if (const json* r = Child(spec, "retry")) {
    FMQ_RETURN_IF_ERROR(ReadInt(*r, "maxTimes", "spec.retry.maxTimes", 0, 32, &s.retry_max_times));
    FMQ_RETURN_IF_ERROR(ReadInt(*r, "queues", "spec.retry.queues", 1, 64, &s.retry_queues));
  }
  FMQ_RETURN_IF_ERROR(
      ReadBool(spec, "consumeFromMinEnable", "spec.consumeFromMinEnable", &s.consume_from_min));
  FMQ_RETURN_IF_ERROR(ReadInt(spec, "whichBrokerWhenConsumeSlowly", "spec.whichBrokerWhenConsumeSlowly", 0, 2,
                              &s.read_from_broker_id_when_slow));
  FMQ_RETURN_IF_ERROR(ReadStringList(spec, "brokerGroups", "spec.brokerGroups", &s.broker_groups));
  FMQ_RETURN_IF_ERROR(
      ReadEnum(spec, "deletionPolicy", "spec.deletionPolicy", {"Retain", "Delete"}, &s.deletion_policy));
  if (const json* r = Child(spec, "resetOffset"); r != nullptr && !r->is_null()) {
    if (!r->is_object()) return Status::InvalidArgument("spec.resetOffset must be an object");
    ResetOffsetSpec reset;
    FMQ_RETURN_IF_ERROR(ReadString(*r, "id", "spec.resetOffset.id", &reset.id));
    FMQ_RETURN_IF_ERROR(ReadString(*r, "to", "spec.resetOffset.to", &reset.to));
    FMQ_RETURN_IF_ERROR(ReadStringList(*r, "topics", "spec.resetOffset.topics", &reset.topics));
    FMQ_RETURN_IF_ERROR(ReadBool(*r, "force", "spec.resetOffset.force", &reset.force));
    if (reset.id.empty()) return Status::InvalidArgument("spec.resetOffset.id is required");
    if (reset.to.empty()) return Status::InvalidArgument("spec.resetOffset.to is required");
    for (const auto& t : reset.topics) {
      if (!IsValidResourceName(t)) {
        return Status::InvalidArgument("spec.resetOffset.topics: '" + t + "' is not a topic name");
      }
    }
    s.reset_offset = std::move(reset);
  }
  if (const json* a = Child(spec, "alerting"); a != nullptr && !a->is_null()) {
    if (!a->is_object()) return Status::InvalidArgument("spec.alerting must be an object");
    GroupAlertingSpec& al = s.alerting;
    constexpr int kMax = 2'000'000'000;
    FMQ_RETURN_IF_ERROR(ReadInt(*a, "lagMessages", "spec.alerting.lagMessages", 0, kMax, &al.lag_messages));
    FMQ_RETURN_IF_ERROR(ReadInt(*a, "lagSeconds", "spec.alerting.lagSeconds", 0, kMax, &al.lag_seconds));
    FMQ_RETURN_IF_ERROR(ReadInt(*a, "consumeFailuresPerHour", "spec.alerting.consumeFailuresPerHour", 0, kMax,
                                &al.consume_failures_per_hour));
    FMQ_RETURN_IF_ERROR(ReadInt(*a, "deadLettersPerHour", "spec.alerting.deadLettersPerHour", 0, kMax,
                                &al.dead_letters_per_hour));
    FMQ_RETURN_IF_ERROR(
        ReadInt(*a, "blockedSeconds", "spec.alerting.blockedSeconds", 1, kMax, &al.blocked_seconds));
    FMQ_RETURN_IF_ERROR(
        ReadInt(*a, "blockedMessages", "spec.alerting.blockedMessages", 1, kMax, &al.blocked_messages));
  }
  if (const json* st = Child(object, "status")) g.status = ConsumerGroupStatusFromJson(*st);
  return g;
}

json ConsumerGroupStatusToJson(const ConsumerGroupStatus& s) {
  json subs = json::array();
  for (const auto& x : s.subscriptions) subs.push_back({{"topic", x.topic}, {"expression", x.expression}});
  json lag = json::array();
  for (const auto& x : s.lag) lag.push_back({{"topic", x.topic}, {"messages", x.messages}});
  json out = {{"observedGeneration", s.observed_generation},
              {"groupName", s.group_name},
              {"brokerGroups", s.broker_groups},
              {"onlineClients", s.online_clients},
              {"clients", s.clients},
              {"subscriptions", subs},
              {"lag", lag},
              {"totalLag", s.total_lag},
              {"conditions", ConditionsToJson(s.conditions)}};
  if (s.last_reset) {
    const LastResetStatus& r = *s.last_reset;
    out["lastReset"] = {{"id", r.id},           {"to", r.to},     {"result", r.result},
                        {"message", r.message}, {"time", r.time}, {"queues", r.queues}};
  }
  return out;
}

ConsumerGroupStatus ConsumerGroupStatusFromJson(const json& j) {
  ConsumerGroupStatus s;
  if (!j.is_object()) return s;
  s.observed_generation = IntOr(j, "observedGeneration", 0);
  s.group_name = StringOr(j, "groupName");
  auto strings = [&](std::string_view key) {
    std::vector<std::string> out;
    if (const json* a = Child(j, key); a != nullptr && a->is_array()) {
      for (const json& e : *a) {
        if (e.is_string()) out.push_back(e.get<std::string>());
      }
    }
    return out;
  };
  s.broker_groups = strings("brokerGroups");
  s.clients = strings("clients");
  s.online_clients = IntOr(j, "onlineClients", 0);
  if (const json* a = Child(j, "subscriptions"); a != nullptr && a->is_array()) {
    for (const json& e : *a) s.subscriptions.push_back({StringOr(e, "topic"), StringOr(e, "expression")});
  }
  if (const json* a = Child(j, "lag"); a != nullptr && a->is_array()) {
    for (const json& e : *a) s.lag.push_back({StringOr(e, "topic"), IntOr(e, "messages", 0)});
  }
  s.total_lag = IntOr(j, "totalLag", 0);
  if (const json* r = Child(j, "lastReset"); r != nullptr && r->is_object()) {
    s.last_reset = LastResetStatus{StringOr(*r, "id"),      StringOr(*r, "to"),   StringOr(*r, "result"),
                                   StringOr(*r, "message"), StringOr(*r, "time"), IntOr(*r, "queues", 0)};
  }
  if (const json* c = Child(j, "conditions")) s.conditions = ConditionsFromJson(*c);
  return s;
}

// --- User

bool IsReservedAccessKey(std::string_view access_key) {
  return access_key == "ferrymq-operator" || access_key == "ferrymq-broker";
}

namespace {

Status ReadPermissions(const json& spec, std::string_view key, const std::string& path,
                       std::vector<UserPermission>* out) {
  const json* v = Child(spec, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return Status::InvalidArgument(path + " must be a list of {name, perm}");
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    UserPermission p;
    FMQ_RETURN_IF_ERROR(ReadString((*v)[i], "name", at + ".name", &p.name));
    if (!IsValidResourceName(p.name)) {
      return Status::InvalidArgument(at + ".name '" + p.name +
                                     "' must be 1 to 127 letters, digits, '_' or '-'");
    }
    p.perm = "DENY";
    FMQ_RETURN_IF_ERROR(ReadEnum((*v)[i], "perm", at + ".perm", {"DENY", "PUB", "SUB", "PUB|SUB"}, &p.perm));
    for (const UserPermission& q : *out) {
      if (q.name == p.name) return Status::InvalidArgument(path + " names " + p.name + " twice");
    }
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

}  // namespace

Result<User> UserFromJson(const json& object) {
  User u;
  u.metadata = MetaFromJson(object);
  if (u.metadata.name.empty()) return Status::InvalidArgument("metadata.name is required");
  const json* specp = Child(object, "spec");
  if (specp == nullptr || !specp->is_object()) return Status::InvalidArgument("spec is required");
  const json& spec = *specp;
  UserSpec& s = u.spec;
  FMQ_RETURN_IF_ERROR(ReadClusterRef(spec, u.metadata, &s.cluster_ref));
  FMQ_RETURN_IF_ERROR(ReadString(spec, "accessKey", "spec.accessKey", &s.access_key));
  if (s.access_key.empty()) s.access_key = u.metadata.name;
  const bool valid_key = s.access_key.size() >= 7 && s.access_key.size() <= 64 &&
                         std::all_of(s.access_key.begin(), s.access_key.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '_' || c == '-';
                         });
  if (!valid_key) {
    return Status::InvalidArgument(
        "access key '" + s.access_key +
        "' must be 7 to 64 letters, digits, '_' or '-' (RocketMQ needs more than 6; "
        "set spec.accessKey)");
  }
  if (IsReservedAccessKey(s.access_key)) {
    return Status::InvalidArgument("access key '" + s.access_key + "' is the operator's own: choose another");
  }
  if (const json* r = Child(spec, "secretRef")) {
    FMQ_RETURN_IF_ERROR(ReadString(*r, "name", "spec.secretRef.name", &s.secret_ref_name));
    FMQ_RETURN_IF_ERROR(ReadString(*r, "key", "spec.secretRef.key", &s.secret_ref_key));
    if (s.secret_ref_name.empty()) return Status::InvalidArgument("spec.secretRef.name is required");
  }
  FMQ_RETURN_IF_ERROR(ReadString(spec, "secretName", "spec.secretName", &s.secret_name));
  if (s.secret_name.empty()) s.secret_name = u.metadata.name + "-ferrymq";
  if (!s.secret_ref_name.empty() && s.secret_ref_name == s.secret_name) {
    return Status::InvalidArgument(
        "spec.secretName must differ from spec.secretRef.name: the operator writes it");
  }
  FMQ_RETURN_IF_ERROR(ReadBool(spec, "admin", "spec.admin", &s.admin));
  FMQ_RETURN_IF_ERROR(ReadEnum(spec, "defaultTopicPerm", "spec.defaultTopicPerm",
                               {"DENY", "PUB", "SUB", "PUB|SUB"}, &s.default_topic_perm));
  FMQ_RETURN_IF_ERROR(ReadEnum(spec, "defaultGroupPerm", "spec.defaultGroupPerm",
                               {"DENY", "PUB", "SUB", "PUB|SUB"}, &s.default_group_perm));
  FMQ_RETURN_IF_ERROR(ReadPermissions(spec, "topics", "spec.topics", &s.topics));
  FMQ_RETURN_IF_ERROR(ReadPermissions(spec, "groups", "spec.groups", &s.groups));
  FMQ_RETURN_IF_ERROR(ReadString(spec, "allowedAddresses", "spec.allowedAddresses", &s.allowed_addresses));
  if (const json* r = Child(spec, "rotation")) {
    int grace = static_cast<int>(s.rotation_grace_seconds);
    FMQ_RETURN_IF_ERROR(
        ReadInt(*r, "gracePeriodSeconds", "spec.rotation.gracePeriodSeconds", 0, 30 * 86400, &grace));
    s.rotation_grace_seconds = grace;
  }
  if (const json* st = Child(object, "status")) u.status = UserStatusFromJson(*st);
  return u;
}

json UserStatusToJson(const UserStatus& s) {
  json out = {{"observedGeneration", s.observed_generation},
              {"accessKey", s.access_key},
              {"secretName", s.secret_name},
              {"rotations", s.rotations},
              {"brokers", s.brokers},
              {"conditions", ConditionsToJson(s.conditions)}};
  if (!s.last_rotate_request.empty()) out["lastRotateRequest"] = s.last_rotate_request;
  // Cleared by an apply of the whole status: absent fields are dropped (the status is applied by one
  // manager).
  if (!s.retiring_access_key.empty()) {
    out["retiring"] = {{"accessKey", s.retiring_access_key}, {"until", s.retiring_until}};
  }
  return out;
}

UserStatus UserStatusFromJson(const json& j) {
  UserStatus s;
  s.observed_generation = IntOr(j, "observedGeneration", 0);
  s.access_key = StringOr(j, "accessKey");
  s.secret_name = StringOr(j, "secretName");
  s.rotations = IntOr(j, "rotations", 0);
  s.brokers = IntOr(j, "brokers", 0);
  s.last_rotate_request = StringOr(j, "lastRotateRequest");
  if (const json* r = Child(j, "retiring")) {
    s.retiring_access_key = StringOr(*r, "accessKey");
    s.retiring_until = StringOr(*r, "until");
  }
  if (const json* c = Child(j, "conditions")) s.conditions = ConditionsFromJson(*c);
  return s;
}

}  // namespace fmq::op::api
