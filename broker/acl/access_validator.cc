#include "broker/acl/access_validator.h"

#include "broker/acl/signature.h"

#include "broker/model/admin_body.h"
#include "broker/model/heartbeat.h"
#include "broker/model/names.h"
#include "broker/model/trace.h"
#include "broker/protocol/codes.h"

namespace fmq::acl {
namespace {

namespace rq = protocol::request_code;

std::string RetryTopic(std::string_view group) {
  return std::string(model::kRetryTopicPrefix) + std::string(group);
}

const std::string* Field(const protocol::RemotingCommand& r, const char* key) {
  auto it = r.ext_fields.find(key);
  return it == r.ext_fields.end() ? nullptr : &it->second;
}

// Adds `resource` (a topic, or a retry topic standing for its group) when the request names it.
void Need(AccessNeed& need, const std::string* resource, Perm perm) {
  if (resource != nullptr && !resource->empty()) need.resources[*resource] = perm;
}
void NeedGroup(AccessNeed& need, const std::string* group, Perm perm) {
  if (group != nullptr && !group->empty()) need.resources[RetryTopic(*group)] = perm;
}

// A send to `topic`: PUB on it, or SUB on the group a retry topic belongs to.
void NeedSend(AccessNeed& need, const std::string* topic) {
  if (topic == nullptr || topic->empty()) return;
  need.resources[*topic] = model::IsRetryTopic(*topic) ? kSub : kPub;
}

std::string ResourceName(std::string_view resource) {
  if (model::IsRetryTopic(resource))
    return "group:" + std::string(resource.substr(model::kRetryTopicPrefix.size()));
  return "topic:" + std::string(resource);
}

}  // namespace

std::string_view HostOf(std::string_view remote_address) {
  if (remote_address.starts_with('[')) {
    const size_t close = remote_address.find(']');
    if (close != std::string_view::npos) return remote_address.substr(1, close - 1);
  }
  const size_t colon = remote_address.rfind(':');
  return colon == std::string_view::npos ? remote_address : remote_address.substr(0, colon);
}

bool IsAdminCode(Endpoint endpoint, int32_t code) {
  if (endpoint == Endpoint::kNameServer) {
    switch (code) {
      case rq::kPutKvConfig:
      case rq::kDeleteKvConfig:
      case rq::kRegisterBroker:
      case rq::kUnregisterBroker:
      case rq::kWipeWritePermOfBroker:
      case rq::kAddWritePermOfBroker:
      case rq::kDeleteTopicInNamesrv:
      case rq::kUpdateNamesrvConfig:
        return true;
      default:
        return false;
    }
  }
  switch (code) {
    case rq::kUpdateAndCreateTopic:
    case rq::kUpdateBrokerConfig:
    case rq::kGetBrokerConfig:
    case rq::kDeleteTopicInBroker:
    case rq::kUpdateAndCreateSubscriptionGroup:
    case rq::kDeleteSubscriptionGroup:
    case rq::kUpdateAndCreateAclConfig:
    case rq::kDeleteAclConfig:
    case rq::kGetBrokerClusterAclInfo:
    case rq::kUpdateGlobalWhiteAddrsConfig:
    case rq::kGetBrokerClusterAclConfig:
    case rq::kInvokeBrokerToResetOffset:
    case rq::kConsumeMessageDirectly:
    case rq::kCloneGroupOffset:
    case rq::kCleanExpiredConsumeQueue:
    case rq::kCleanUnusedTopic:
    case rq::kDeleteExpiredCommitLog:
    case rq::kResumeCheckHalfMessage:
    case rq::kHaStatus:
    case rq::kHaFence:
    case rq::kHaPromote:
    case rq::kHaBecomeSlave:
    case rq::kTopicProducers:
      return true;
    default:
      return false;
  }
}

Result<AccessNeed> RequiredAccess(Endpoint endpoint, const protocol::RemotingCommand& r) {
  AccessNeed need;
  need.admin = IsAdminCode(endpoint, r.code);
  if (endpoint == Endpoint::kNameServer) {
    need.authenticate = need.admin;
    return need;
  }
  switch (r.code) {
    case rq::kSendMessage:
      NeedSend(need, Field(r, "topic"));
      break;
    case rq::kSendMessageV2:
    case rq::kSendBatchMessage:
      NeedSend(need, Field(r, "b"));
      break;
    case rq::kConsumerSendMsgBack:
      NeedGroup(need, Field(r, "group"), kSub);
      break;
    case rq::kPullMessage:
      Need(need, Field(r, "topic"), kSub);
      NeedGroup(need, Field(r, "consumerGroup"), kSub);
      break;
    case rq::kQueryMessage:
      Need(need, Field(r, "topic"), kSub);
      break;
    case rq::kHeartBeat: {
      auto hb = model::DecodeHeartbeat(r.body);
      if (!hb.ok()) return Status::InvalidArgument("heartbeat body: " + std::string(hb.status().message()));
      for (const model::ConsumerData& c : hb->consumers) {
        NeedGroup(need, &c.group_name, kSub);
        for (const model::SubscriptionData& s : c.subscriptions) Need(need, &s.topic, kSub);
      }
      break;
    }
    case rq::kUnregisterClient:
    case rq::kGetConsumerListByGroup:
      NeedGroup(need, Field(r, "consumerGroup"), kSub);
      break;
    case rq::kUpdateConsumerOffset:
    case rq::kQueryConsumerOffset:
      NeedGroup(need, Field(r, "consumerGroup"), kSub);
      Need(need, Field(r, "topic"), kSub);
      break;
    case rq::kLockBatchMq:
    case rq::kUnlockBatchMq: {
      auto body = model::DecodeLockBatchRequest(r.body);
      if (!body.ok())
        return Status::InvalidArgument("lock batch body: " + std::string(body.status().message()));
      NeedGroup(need, &body->consumer_group, kSub);
      for (const model::MessageQueue& mq : body->mq_set) Need(need, &mq.topic, kSub);
      break;
    }
    default:
      break;
  }
  return need;
}

Status Authorize(const AclRules& rules, Endpoint endpoint, std::string_view remote_ip,
                 const protocol::RemotingCommand& request) {
  for (const AddressPattern& p : rules.global_white_remote_addresses()) {
    if (p.Matches(remote_ip)) return Status::Ok();
  }
  // The resources first: a name-server read needs nothing, and a request whose resources cannot be read is
  // refused whoever sends it.
  auto need = RequiredAccess(endpoint, request);
  if (!need.ok()) return Status::PermissionDenied(std::string(need.status().message()));
  if (!need->authenticate) return Status::Ok();

  auto ak = request.ext_fields.find(std::string(kAccessKeyField));
  if (ak == request.ext_fields.end()) return Status::PermissionDenied("No accessKey is configured");
  const Account* account = rules.Find(ak->second);
  if (account == nullptr) return Status::PermissionDenied("No acl config for " + ak->second);
  if (account->white_remote_address.Matches(remote_ip)) return Status::Ok();

  // Apache's broker leaves _UNIQUE_KEY_QUERY out of the content, while the 4.9 Java client adds it before it
  // signs: a query by unique key is accepted signed either way.
  auto sig = request.ext_fields.find(std::string(kSignatureField));
  const bool valid =
      sig != request.ext_fields.end() &&
      (SignaturesEqual(Sign(ServerSignatureContent(request.ext_fields, request.body), account->secret_key),
                       sig->second) ||
       (request.ext_fields.contains(std::string(kUniqueKeyQueryField)) &&
        SignaturesEqual(Sign(ClientSignatureContent(request.ext_fields, request.body), account->secret_key),
                        sig->second)));
  if (!valid) return Status::PermissionDenied("Check signature failed for accessKey=" + account->access_key);

  if (auto it = need->resources.find(model::kDefaultTraceTopic);
      it != need->resources.end() && it->second == kPub) {
    return Status::Ok();
  }
  if (need->admin && !account->admin) {
    return Status::PermissionDenied("Need admin permission for request code=" + std::to_string(request.code) +
                                    ", but accessKey=" + account->access_key + " is not");
  }
  if (need->resources.empty()) return Status::Ok();
  if (account->admin && account->resource_perms.empty()) return Status::Ok();
  for (const auto& [resource, perm] : need->resources) {
    auto owned = account->resource_perms.find(resource);
    const Perm have = owned != account->resource_perms.end() ? owned->second
                      : model::IsRetryTopic(resource)        ? account->default_group_perm
                                                             : account->default_topic_perm;
    if (!CheckPermission(perm, have)) {
      return Status::PermissionDenied("No default permission for " + ResourceName(resource));
    }
  }
  return Status::Ok();
}

}  // namespace fmq::acl
