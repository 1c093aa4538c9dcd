#pragma once

// The two codecs of the JSON command header behind protocol::EncodeJsonHeader / DecodeJsonHeader:
//
//  * the generic one (nlohmann-json) reads and writes any JSON: it is the reference;
//  * the fast one is a hand-written reader and writer for the flat object every client sends (top-level
//    scalars and the extFields object of scalars, ASCII text (\u escapes of ASCII included), integers): it
//    needs no JSON tree and a few allocations instead of dozens. For anything else it declines (returns
//    false) and the caller uses the generic codec, which also produces every error message, so the result is
//    the same either way; protocol_test and command_header_fuzz hold the two to that.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "broker/base/status.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::protocol::internal {

std::string EncodeJsonHeaderGeneric(const RemotingCommand& cmd);
Status DecodeJsonHeaderGeneric(std::string_view header, RemotingCommand* cmd);

// Appends the header to `out` and returns true, or returns false (nothing appended) when a text holds a byte
// outside ASCII (the generic codec validates and replaces bad UTF-8).
bool EncodeJsonHeaderFast(const RemotingCommand& cmd, std::string* out);
// Decodes a well-formed header it fully understands and returns true; otherwise returns false and leaves
// `cmd` untouched.
bool DecodeJsonHeaderFast(std::string_view header, RemotingCommand* cmd);

}  // namespace fmq::protocol::internal
