#include "broker/base/crc32.h"

#include <isa-l/crc.h>

namespace fmq {

uint32_t Crc32Update(uint32_t crc, const void* data, size_t n) {
  // crc32_gzip_refl takes and returns the finalised (inverted) value, as zlib's crc32() does.
  return crc32_gzip_refl(crc, static_cast<const unsigned char*>(data), static_cast<uint64_t>(n));
}

}  // namespace fmq
