#pragma once

// The one place where internal errors become RocketMQ response codes (CONVENTIONS.md rule 3).

#include <cstdint>

#include "broker/base/status.h"

namespace fmq::server {

// Response code for the result of appending a message (protocol reference 2.2, store result table).
int32_t PutResponseCode(const Status& status);

}  // namespace fmq::server
