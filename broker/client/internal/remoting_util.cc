#include "broker/client/internal/remoting_util.h"

namespace fmq::client::internal {

Status ResponseError(const protocol::RemotingCommand& response, std::string_view context) {
  namespace rc = protocol::response_code;
  std::string msg(context);
  msg += ": CODE: " + std::to_string(response.code);
  std::string_view name = protocol::ResponseCodeName(response.code);
  if (!name.empty()) msg += " (" + std::string(name) + ")";
  msg += " DESC: " + response.remark.value_or("");
  switch (response.code) {
    case rc::kTopicNotExist:
    case rc::kQueryNotFound:
    case rc::kSubscriptionGroupNotExist:
    case rc::kSubscriptionNotExist:
    case rc::kConsumerNotOnline:
      return Status::NotFound(std::move(msg));
    case rc::kSystemBusy:
    case rc::kFlowControl:
      return Status::ResourceExhausted(std::move(msg));
    case rc::kNoPermission:
      return Status::FailedPrecondition(std::move(msg));
    case rc::kMessageIllegal:
    case rc::kSubscriptionParseFailed:
      return Status::InvalidArgument(std::move(msg));
    case rc::kServiceNotAvailable:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

}  // namespace fmq::client::internal
