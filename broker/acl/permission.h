#pragma once

// RocketMQ ACL 1.0 permissions (protocol reference 10.3): the bits an account owns on a topic or group, and
// the one check every decision uses. A string that is not one of RocketMQ's names parses as DENY, as in
// Apache (Permission.parsePermFromString); StrictParsePerm is for input FerryMQ validates (admin requests,
// the operator), where a typo must be an error instead of a silent DENY.
//
// Thread-safety: values and pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fmq::acl {

using Perm = uint8_t;
inline constexpr Perm kDeny = 1;
inline constexpr Perm kAny = 2;  // a need met by PUB or SUB
inline constexpr Perm kPub = 4;
inline constexpr Perm kSub = 8;

// "PUB", "SUB", "PUB|SUB", "SUB|PUB", "DENY" (surrounding blanks ignored); anything else is DENY.
Perm ParsePerm(std::string_view text);
// The same names, nullopt for anything else.
std::optional<Perm> StrictParsePerm(std::string_view text);
// RocketMQ's name of `perm` ("PUB|SUB" for both bits, "DENY" for anything without PUB or SUB).
std::string PermName(Perm perm);

// Whether `owned` grants `needed`: a DENY bit refuses everything; ANY needs PUB or SUB; else a shared bit.
bool CheckPermission(Perm needed, Perm owned);

}  // namespace fmq::acl
