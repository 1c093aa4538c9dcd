#pragma once

// CRC-32 exactly as java.util.zip.CRC32 computes it (IEEE 802.3, reflected, polynomial 0xEDB88320), using
// ISA-L's carry-less-multiply implementation (~18 GB/s here vs ~2.6 GB/s for zlib;
// ../shared/reference/performance.md B.7). RocketMQ stores body CRCs masked with 0x7FFFFFFF (UtilAll.crc32):
// use RocketMqCrc32 for those.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace fmq {

// Continues a running CRC (start with 0), like CRC32.update in Java.
uint32_t Crc32Update(uint32_t crc, const void* data, size_t n);

inline uint32_t JavaCrc32(const void* data, size_t n) { return Crc32Update(0, data, n); }
inline uint32_t JavaCrc32(std::string_view s) { return JavaCrc32(s.data(), s.size()); }

// RocketMQ's UtilAll.crc32: CRC-32 with the sign bit cleared. Always non-negative as an int32.
inline int32_t RocketMqCrc32(const void* data, size_t n) {
  return static_cast<int32_t>(JavaCrc32(data, n) & 0x7FFFFFFFu);
}
inline int32_t RocketMqCrc32(std::string_view s) { return RocketMqCrc32(s.data(), s.size()); }
inline int32_t RocketMqCrc32(std::span<const uint8_t> s) { return RocketMqCrc32(s.data(), s.size()); }

}  // namespace fmq
