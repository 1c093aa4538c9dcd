#pragma once

// Small string helpers shared by the broker, its tools and the operator.

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

}  // namespace fmq
