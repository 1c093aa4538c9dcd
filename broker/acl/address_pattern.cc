#include "broker/acl/address_pattern.h"

#include "broker/base/strings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>

namespace fmq::acl {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool ParseNumber(std::string_view s, int base, uint32_t max, uint16_t* out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

// Concatenation by appends: GCC 12 -O3 warns (-Wrestrict, a false positive) on chains of "literal" + string.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(Cat({"address pattern \"", text, "\": ", why}));
}

}  // namespace

bool AddressPattern::ParseAddress(std::string_view text, Address* out) {
  text = TrimBlanks(text);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string s(text);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    const auto* b = reinterpret_cast<const uint8_t*>(&v4.s_addr);
    *out = Address{};
    for (int i = 0; i < 4; ++i) out->seg[i] = b[i];
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return false;
  const uint8_t* b = v6.s6_addr;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  *out = Address{};
  if (std::equal(kMapped, kMapped + 12, b)) {  // ::ffff:a.b.c.d is the IPv4 peer a.b.c.d
    for (int i = 0; i < 4; ++i) out->seg[i] = b[12 + i];
    return true;
  }
  out->v6 = true;
  for (int i = 0; i < 8; ++i) out->seg[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  return true;
}

Result<AddressPattern> AddressPattern::Parse(std::string_view raw) {
  AddressPattern p;
  p.text_ = std::string(raw);
  const std::string_view text = TrimBlanks(raw);
  if (text.empty()) return p;
  if (text == "*" || text == "*.*.*.*" || text == "*:*:*:*:*:*:*:*") {
    p.kind_ = Kind::kAll;
    return p;
  }
  const bool colon = text.find(':') != std::string_view::npos;
  const char sep = colon ? ':' : '.';
  if (text.back() == '}') {
    const size_t last_sep = text.rfind(sep);
    if (last_sep == std::string_view::npos || text[last_sep + 1] != '{') {
      return Bad(text, "a brace list must be the whole last segment");
    }
    if (!colon && Split(text, '.').size() < 4) return Bad(text, "an IPv4 brace pattern needs 4 segments");
    const std::string_view head = text.substr(0, last_sep + 1);
    const std::string_view items = text.substr(last_sep + 2, text.size() - last_sep - 3);
    p.kind_ = Kind::kSet;
    for (std::string_view item : Split(items, ',')) {
      Address a;
      const std::string address = Cat({head, TrimBlanks(item)});
      if (!ParseAddress(address, &a)) return Bad(text, Cat({"\"", address, "\" is not an address"}));
      p.set_.push_back(a);
    }
    return p;
  }
  if (text.find(',') != std::string_view::npos) {
    p.kind_ = Kind::kSet;
    for (std::string_view item : Split(text, ',')) {
      if (TrimBlanks(item).empty()) continue;  // Apache's StringUtils.split drops empty items
      Address a;
      if (!ParseAddress(item, &a)) return Bad(text, Cat({"\"", TrimBlanks(item), "\" is not an address"}));
      p.set_.push_back(a);
    }
    if (p.set_.empty()) p.kind_ = Kind::kNone;
    return p;
  }
  if (text.find('*') != std::string_view::npos || text.find('-') != std::string_view::npos) {
    if (text.find("::") != std::string_view::npos) {
      return Bad(text, "write IPv6 wildcard and range patterns with every group, without \"::\"");
    }
    std::vector<std::string_view> segs = Split(text, sep);
    const size_t want = colon ? 8 : 4;
    // Apache allows an IPv6 range to end early with "*" ("1050:0:0:0:5:600:*"): the rest is wild.
    while (colon && segs.size() < want && TrimBlanks(segs.back()) == "*") segs.push_back("*");
    if (segs.size() != want) {
      return Bad(text, colon ? "an IPv6 pattern needs 8 groups" : "an IPv4 pattern needs 4 segments");
    }
    p.kind_ = Kind::kRange;
    p.range_v6_ = colon;
    const uint32_t max = colon ? 0xffff : 255;
    const int base = colon ? 16 : 10;
    bool wild = false;
    for (size_t i = 0; i < want; ++i) {
      const std::string_view s = TrimBlanks(segs[i]);
      auto& r = p.range_[i];
      if (s == "*") {
        r = {0, static_cast<uint16_t>(max)};
        wild = true;
        continue;
      }
      if (wild) return Bad(text, "every segment after a wildcard or range must be \"*\"");
      if (size_t dash = s.find('-'); dash != std::string_view::npos) {
        if (!ParseNumber(s.substr(0, dash), base, max, &r.first) ||
            !ParseNumber(s.substr(dash + 1), base, max, &r.second) || r.first > r.second) {
          return Bad(text, Cat({"\"", s, "\" is not a range start-end within the segment's bounds"}));
        }
        wild = true;
        continue;
      }
      uint16_t v = 0;
      if (!ParseNumber(s, base, max, &v)) return Bad(text, Cat({"\"", s, "\" is not a segment value"}));
      r = {v, v};
    }
    return p;
  }
  Address a;
  if (!ParseAddress(text, &a)) return Bad(text, "not an IPv4 or IPv6 address");
  p.kind_ = Kind::kSet;
  p.set_.push_back(a);
  return p;
}

bool AddressPattern::Matches(std::string_view ip) const {
  if (kind_ == Kind::kAll) return true;
  if (kind_ == Kind::kNone) return false;
  Address a;
  if (!ParseAddress(ip, &a)) return false;
  if (kind_ == Kind::kSet) {
    for (const Address& s : set_) {
      if (s == a) return true;
    }
    return false;
  }
  if (a.v6 != range_v6_) return false;
  const size_t n = a.v6 ? 8 : 4;
  for (size_t i = 0; i < n; ++i) {
    if (a.seg[i] < range_[i].first || a.seg[i] > range_[i].second) return false;
  }
  return true;
}

}  // namespace fmq::acl
