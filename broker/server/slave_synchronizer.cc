#include "broker/server/slave_synchronizer.h"

#include "broker/base/logging.h"
#include "broker/model/admin_body.h"
#include "broker/model/route.h"
#include "broker/protocol/codes.h"

namespace fmq::server {

namespace code = protocol::request_code;
using protocol::RemotingCommand;

SlaveSynchronizer::SlaveSynchronizer(std::chrono::milliseconds period, const ha::HaService& ha,
                                     TopicConfigManager& topics, SubscriptionGroupManager& groups,
                                     ConsumerOffsetManager& offsets, ScheduleMessageService& schedule,
                                     net::RemotingClient& client)
    : ServiceThread("fmq-slave-sync"),
      period_(period),
      ha_(ha),
      topics_(topics),
      groups_(groups),
      offsets_(offsets),
      schedule_(schedule),
      client_(client) {}

SlaveSynchronizer::~SlaveSynchronizer() { Stop(); }

Status SlaveSynchronizer::SyncOnce() {
  if (ha_.is_master()) return Status::Ok();
  const std::string master = ha_.master_address();
  if (master.empty()) return Status::Ok();
  auto call = [&](int32_t c) -> Result<std::string> {
    auto r = client_.InvokeSync(master, RemotingCommand::Request(c, 0), std::chrono::seconds(3));
    if (!r.ok()) return r.status().WithContext("copy metadata from master " + master);
    if (r->code != protocol::response_code::kSuccess) {
      return Status::Unavailable("master " + master + " answered " +
                                 std::string(protocol::RequestCodeName(c)) + " with code " +
                                 std::to_string(r->code) + ": " + r->remark.value_or(""));
    }
    return std::move(r->body);
  };
  auto log = GetLogger("server");
  FMQ_ASSIGN_OR_RETURN(std::string topics_body, call(code::kGetAllTopicConfig));
  FMQ_ASSIGN_OR_RETURN(auto topics, model::DecodeTopicConfigWrapper(topics_body));
  FMQ_ASSIGN_OR_RETURN(bool topics_changed, topics_.ReplaceAll(topics));
  if (topics_changed)
    log->info("copied topics from master={} topics={}", master, topics.topic_config_table.size());
  FMQ_ASSIGN_OR_RETURN(std::string groups_body, call(code::kGetAllSubscriptionGroupConfig));
  FMQ_ASSIGN_OR_RETURN(auto groups, model::DecodeSubscriptionGroupWrapper(groups_body));
  FMQ_ASSIGN_OR_RETURN(bool groups_changed, groups_.ReplaceAll(groups));
  if (groups_changed) {
    log->info("copied subscription groups from master={} groups={}", master,
              groups.subscription_group_table.size());
  }
  FMQ_ASSIGN_OR_RETURN(std::string offsets_body, call(code::kGetAllConsumerOffset));
  FMQ_RETURN_IF_ERROR(offsets_.MergeAll(offsets_body));
  FMQ_RETURN_IF_ERROR(offsets_.Persist());
  FMQ_ASSIGN_OR_RETURN(std::string delay_body, call(code::kGetAllDelayOffset));
  FMQ_RETURN_IF_ERROR(schedule_.ReplaceFromMaster(delay_body));
  return schedule_.Persist();
}

void SlaveSynchronizer::Run() {
  std::string last_error;
  while (!IsStopped()) {
    Status s = SyncOnce();
    if (!s.ok() && s.ToString() != last_error) {
      GetLogger("server")->warn("slave metadata copy failed (retrying every {} ms): {}", period_.count(),
                                s.ToString());
    }
    last_error = s.ok() ? "" : s.ToString();
    WaitForRunning(period_);
  }
}

}  // namespace fmq::server
