// libFuzzer target for what the operator decodes from the apiserver and from its own ConfigMaps: the custom
// resources users write (Cluster, Topic, ConsumerGroup, User: operator/api/types.h, with what a User's
// spec turns into: operator/model/user_plan.h), their status blocks, and the
// HA record of a broker group (operator/model/failover.h, which a person can edit by hand), and the names and
// values the scale-in reads (operator/model/scale_in.h). Nothing may crash
// or throw; a decoded status re-encodes to a fixed point; an HA record that decodes re-encodes to the same
// record.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/base/check.h"
#include "operator/api/types.h"
#include "operator/model/failover.h"
#include "operator/model/scale_in.h"
#include "operator/model/user_plan.h"

using namespace fmq;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Names of StatefulSets and spec.brokers.config.fileReservedTime (scale-in, operator/model/scale_in.h).
  if (auto index = op::model::BrokerGroupIndex("c", text))
    FMQ_CHECK(text == "c-broker-" + std::to_string(*index));
  FMQ_CHECK(op::model::FileReservedMillis(text) > 0);
  if (auto r = op::model::DecodeHaRecord(text); r.ok()) {
    auto again = op::model::DecodeHaRecord(op::model::EncodeHaRecord(*r));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(*again == *r);
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  // Each reader gets the document as an object and, wrapped, as its spec and status.
  for (const json& object :
       {j, json{{"metadata", {{"name", "f"}, {"namespace", "n"}}}, {"spec", j}, {"status", j}}}) {
    (void)op::api::ClusterFromJson(object);
    (void)op::api::TopicFromJson(object);
    (void)op::api::ConsumerGroupFromJson(object);
    if (auto u = op::api::UserFromJson(object); u.ok()) {
      const op::model::UserAccount a = op::model::DesiredAccount(*u, u->spec.access_key, "secret-0123456");
      FMQ_CHECK(a.topic_perms.size() == u->spec.topics.size());
      (void)op::model::UserSecret(*u, {a.access_key, a.secret_key, "", ""}, "ns:9876").dump();
      (void)op::model::RetiringState(u->status, 1'765'000'000'000);
      if (op::model::RotationRequested(*u)) (void)op::model::StartRotation(*u, 1'765'000'000'000);
    }
  }
  const json c1 = op::api::ClusterStatusToJson(op::api::ClusterStatusFromJson(j));
  FMQ_CHECK(op::api::ClusterStatusToJson(op::api::ClusterStatusFromJson(c1)) == c1);
  const json t1 = op::api::TopicStatusToJson(op::api::TopicStatusFromJson(j));
  FMQ_CHECK(op::api::TopicStatusToJson(op::api::TopicStatusFromJson(t1)) == t1);
  const json g1 = op::api::ConsumerGroupStatusToJson(op::api::ConsumerGroupStatusFromJson(j));
  FMQ_CHECK(op::api::ConsumerGroupStatusToJson(op::api::ConsumerGroupStatusFromJson(g1)) == g1);
  const json u1 = op::api::UserStatusToJson(op::api::UserStatusFromJson(j));
  FMQ_CHECK(op::api::UserStatusToJson(op::api::UserStatusFromJson(u1)) == u1);
  return 0;
}
