#pragma once

// Small string helpers shared by the broker, its tools and the operator.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fmq {

// `parts` with `sep` between each two ("" for none).
inline std::string JoinStrings(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// `s` without leading and trailing spaces and tabs.
inline std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). Returns the
// offset of the first bad byte in `bad_at` when it is not.
inline bool IsValidUtf8(std::string_view s, size_t* bad_at = nullptr) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      if (bad_at) *bad_at = i;
      return false;
    }
    bool ok = i + n < s.size();  // the continuation bytes are there
    for (size_t k = 1; ok && k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      if (bad_at) *bad_at = i;
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace fmq
