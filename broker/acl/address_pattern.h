#pragma once

// The remote-address patterns of plain_acl.yml (`globalWhiteRemoteAddresses`, an account's
// `whiteRemoteAddress`; protocol reference 10.4), with Apache's RemoteAddressStrategyFactory's forms:
//
//   ""  (blank)                         matches nothing
//   "*", "*.*.*.*", "*:*:*:*:*:*:*:*"   matches every address
//   "10.0.0.1", "fe80::1"               one address (IPv6 compared after expansion)
//   "10.0.0.1,10.0.0.2"                 any of a list
//   "192.168.1.{1,2,3}"                 any of a brace list in the last segment
//   "192.168.*.*", "192.168.1.1-100"    a wildcard or range per segment; after the first wildcard or range
//                                       every later segment must be "*" (Apache's rule)
//   "1050:0:0:0:5:600:300c:*"           the same per IPv6 group, written without "::"
//
// A pattern Apache refuses is InvalidArgument here, naming the pattern. An IPv4-mapped IPv6 peer
// ("::ffff:10.0.0.1", what a dual-stack listener reports) matches as its IPv4 address.
//
// Thread-safety: an immutable value.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"

namespace fmq::acl {

class AddressPattern {
 public:
  AddressPattern() = default;  // blank: matches nothing
  static Result<AddressPattern> Parse(std::string_view text);

  // `ip` is an address without a port. An unparsable `ip` matches only the match-all pattern.
  bool Matches(std::string_view ip) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind : uint8_t { kNone, kAll, kSet, kRange };
  // An address as its segments: 4 octets or 8 groups.
  struct Address {
    bool v6 = false;
    std::array<uint16_t, 8> seg{};
    bool operator==(const Address&) const = default;
  };
  static bool ParseAddress(std::string_view text, Address* out);

  Kind kind_ = Kind::kNone;
  std::string text_;
  std::vector<Address> set_;
  bool range_v6_ = false;
  std::array<std::pair<uint16_t, uint16_t>, 8> range_{};  // inclusive bounds per segment
};

}  // namespace fmq::acl
