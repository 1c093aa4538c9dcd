#include "broker/base/java_hash.h"

namespace fmq {
namespace {

// Decodes one UTF-8 sequence at s[i]; advances i. Returns U+FFFD for a malformed sequence (consuming one
// byte).
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  auto cont = [&](size_t k) -> int {
    if (i + k >= s.size()) return -1;
    auto b = static_cast<uint8_t>(s[i + k]);
    return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
  };
  if (b0 < 0x80) {
    i += 1;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0) {
    int c1 = cont(1);
    uint32_t cp = ((b0 & 0x1Fu) << 6) | static_cast<uint32_t>(c1);
    if (c1 >= 0 && cp >= 0x80) {
      i += 2;
      return cp;
    }
  } else if ((b0 & 0xF0) == 0xE0) {
    int c1 = cont(1), c2 = c1 >= 0 ? cont(2) : -1;
    uint32_t cp = ((b0 & 0x0Fu) << 12) | (static_cast<uint32_t>(c1) << 6) | static_cast<uint32_t>(c2);
    if (c1 >= 0 && c2 >= 0 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      i += 3;
      return cp;
    }
  } else if ((b0 & 0xF8) == 0xF0) {
    int c1 = cont(1), c2 = c1 >= 0 ? cont(2) : -1, c3 = c2 >= 0 ? cont(3) : -1;
    uint32_t cp = ((b0 & 0x07u) << 18) | (static_cast<uint32_t>(c1) << 12) |
                  (static_cast<uint32_t>(c2) << 6) | static_cast<uint32_t>(c3);
    if (c1 >= 0 && c2 >= 0 && c3 >= 0 && cp >= 0x10000 && cp <= 0x10FFFF) {
      i += 4;
      return cp;
    }
  }
  i += 1;
  return 0xFFFD;
}

}  // namespace

int32_t JavaStringHashCode(std::string_view utf8) {
  uint32_t h = 0;
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp = NextCodePoint(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = 31 * h + (0xD800 + (cp >> 10));
      h = 31 * h + (0xDC00 + (cp & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>(h);
}

}  // namespace fmq
