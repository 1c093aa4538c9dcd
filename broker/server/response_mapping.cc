#include "broker/server/response_mapping.h"

#include "broker/protocol/codes.h"

namespace fmq::server {

int32_t PutResponseCode(const Status& status) {
  namespace rc = protocol::response_code;
  switch (status.code()) {
    case StatusCode::kOk:
      return rc::kSuccess;
    case StatusCode::kDeadlineExceeded:
      return rc::kFlushDiskTimeout;  // stored, not yet known durable
    case StatusCode::kDiskFull:
    case StatusCode::kUnavailable:
      return rc::kServiceNotAvailable;
    case StatusCode::kInvalidArgument:
      return rc::kMessageIllegal;
    default:
      return rc::kSystemError;
  }
}

}  // namespace fmq::server
