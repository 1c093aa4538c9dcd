#pragma once

// Java String.hashCode() of a UTF-8 string: h = 31*h + c over the UTF-16 code units, 32-bit wrap-around.
// RocketMQ uses it for consume-queue tag codes and index-file key hashes, so non-ASCII tags must hash exactly
// as the Java broker does (protocol reference 6.5, checklist item 10). Invalid UTF-8 bytes hash as U+FFFD,
// which is what Java's decoder produces for them.

#include <cstdint>
#include <string_view>

namespace fmq {

int32_t JavaStringHashCode(std::string_view utf8);

}  // namespace fmq
