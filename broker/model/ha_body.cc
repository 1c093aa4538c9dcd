#include "broker/model/ha_body.h"

#include "broker/model/internal/json_util.h"

namespace fmq::model {

using internal::BoolOf;
using internal::IntOf;
using internal::json;
using internal::StrOf;

std::string EncodeHaStatus(const HaStatusBody& b) {
  json epochs = json::array();
  for (const auto& e : b.epochs) epochs.push_back({{"epoch", e.epoch}, {"startOffset", e.start_offset}});
  json slaves = json::array();
  for (const auto& s : b.slaves) {
    slaves.push_back({{"address", s.address},
                      {"brokerId", s.broker_id},
                      {"ferrymq", s.ferry},
                      {"ackOffset", s.ack_offset},
                      {"lagBytes", s.lag_bytes},
                      {"caughtUpMsAgo", s.caught_up_ms_ago},
                      {"inSync", s.in_sync}});
  }
  json j = {{"cluster", b.cluster},
            {"brokerName", b.broker_name},
            {"address", b.address},
            {"haAddress", b.ha_address},
            {"role", b.role},
            {"brokerId", b.broker_id},
            {"epoch", b.epoch},
            {"promisedEpoch", b.promised_epoch},
            {"fenced", b.fenced},
            {"writable", b.writable},
            {"epochs", epochs},
            {"minOffset", b.min_offset},
            {"maxOffset", b.max_offset},
            {"completeEnd", b.complete_end},
            {"confirmOffset", b.confirm_offset},
            {"dispatchedOffset", b.dispatched_offset},
            {"flushedOffset", b.flushed_offset},
            {"minInSyncReplicas", b.min_in_sync_replicas},
            {"whenBelowMinInSync", b.when_below_min_in_sync},
            {"inSyncCopies", b.in_sync_copies},
            {"belowMinInSync", b.below_min_in_sync},
            {"degraded", b.degraded},
            {"slaves", slaves},
            {"masterAddress", b.master_address},
            {"masterHaAddress", b.master_ha_address},
            {"copyState", b.copy_state},
            {"copyError", b.copy_error},
            {"copyFerrymq", b.copy_ferry},
            {"masterEpoch", b.master_epoch},
            {"masterMaxOffset", b.master_max_offset},
            {"masterConfirmOffset", b.master_confirm_offset}};
  return j.dump();
}

Result<HaStatusBody> DecodeHaStatus(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("HA status", text));
  HaStatusBody b;
  b.cluster = StrOf(j, "cluster");
  b.broker_name = StrOf(j, "brokerName");
  b.address = StrOf(j, "address");
  b.ha_address = StrOf(j, "haAddress");
  b.role = StrOf(j, "role");
  b.broker_id = IntOf<int64_t>(j, "brokerId", 0);
  b.epoch = IntOf<int32_t>(j, "epoch", 0);
  b.promised_epoch = IntOf<int32_t>(j, "promisedEpoch", 0);
  b.fenced = BoolOf(j, "fenced", false);
  b.writable = BoolOf(j, "writable", false);
  if (auto it = j.find("epochs"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) return Status::InvalidArgument("HA status body: an epoch entry is not an object");
      b.epochs.push_back({IntOf<int32_t>(e, "epoch", 0), IntOf<int64_t>(e, "startOffset", 0)});
    }
  }
  b.min_offset = IntOf<int64_t>(j, "minOffset", 0);
  b.max_offset = IntOf<int64_t>(j, "maxOffset", 0);
  b.complete_end = IntOf<int64_t>(j, "completeEnd", 0);
  b.confirm_offset = IntOf<int64_t>(j, "confirmOffset", 0);
  b.dispatched_offset = IntOf<int64_t>(j, "dispatchedOffset", 0);
  b.flushed_offset = IntOf<int64_t>(j, "flushedOffset", 0);
  b.min_in_sync_replicas = IntOf<int32_t>(j, "minInSyncReplicas", 0);
  b.when_below_min_in_sync = StrOf(j, "whenBelowMinInSync");
  b.in_sync_copies = IntOf<int32_t>(j, "inSyncCopies", 0);
  b.below_min_in_sync = BoolOf(j, "belowMinInSync", false);
  b.degraded = BoolOf(j, "degraded", false);
  if (auto it = j.find("slaves"); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      if (!s.is_object()) return Status::InvalidArgument("HA status body: a slave entry is not an object");
      b.slaves.push_back({StrOf(s, "address"), IntOf<int64_t>(s, "brokerId", -1), BoolOf(s, "ferrymq", false),
                          IntOf<int64_t>(s, "ackOffset", 0), IntOf<int64_t>(s, "lagBytes", 0),
                          IntOf<int64_t>(s, "caughtUpMsAgo", -1), BoolOf(s, "inSync", false)});
    }
  }
  b.master_address = StrOf(j, "masterAddress");
  b.master_ha_address = StrOf(j, "masterHaAddress");
  b.copy_state = StrOf(j, "copyState");
  b.copy_error = StrOf(j, "copyError");
  b.copy_ferry = BoolOf(j, "copyFerrymq", false);
  b.master_epoch = IntOf<int32_t>(j, "masterEpoch", 0);
  b.master_max_offset = IntOf<int64_t>(j, "masterMaxOffset", 0);
  b.master_confirm_offset = IntOf<int64_t>(j, "masterConfirmOffset", -1);
  return b;
}

}  // namespace fmq::model
