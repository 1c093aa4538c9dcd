#pragma once

// Helpers shared by the client classes: turning a non-success response into a Status that keeps RocketMQ's
// code and remark, and building requests from HeaderSpec-declared headers. Pure functions.

#include <string>
#include <string_view>

#include "broker/base/status.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/header_codec.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::client::internal {

// "<context>: CODE: 17 (TOPIC_NOT_EXIST) DESC: <remark>", with a Status code that fits the response code
// (TOPIC_NOT_EXIST and QUERY_NOT_FOUND → NotFound, SYSTEM_BUSY → ResourceExhausted, NO_PERMISSION →
// FailedPrecondition, others → Unavailable/Internal).
Status ResponseError(const protocol::RemotingCommand& response, std::string_view context);

template <typename H>
protocol::RemotingCommand MakeRequest(int32_t code, const H& header) {
  protocol::RemotingCommand cmd = protocol::RemotingCommand::Request(code, 0);
  H::Spec().Encode(header, &cmd.ext_fields);
  return cmd;
}

template <typename H>
Result<H> DecodeResponseHeader(const protocol::RemotingCommand& response) {
  H h;
  FMQ_RETURN_IF_ERROR(H::Spec().Decode(response.ext_fields, &h));
  return h;
}

}  // namespace fmq::client::internal
