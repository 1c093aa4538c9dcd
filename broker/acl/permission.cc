#include "broker/acl/permission.h"

#include "broker/base/strings.h"

namespace fmq::acl {

std::optional<Perm> StrictParsePerm(std::string_view text) {
  text = TrimBlanks(text);
  if (text == "PUB") return kPub;
  if (text == "SUB") return kSub;
  if (text == "PUB|SUB" || text == "SUB|PUB") return static_cast<Perm>(kPub | kSub);
  if (text == "DENY") return kDeny;
  return std::nullopt;
}

Perm ParsePerm(std::string_view text) { return StrictParsePerm(text).value_or(kDeny); }

std::string PermName(Perm perm) {
  if ((perm & kDeny) != 0) return "DENY";
  const bool pub = (perm & kPub) != 0;
  const bool sub = (perm & kSub) != 0;
  if (pub && sub) return "PUB|SUB";
  if (pub) return "PUB";
  if (sub) return "SUB";
  return "DENY";
}

bool CheckPermission(Perm needed, Perm owned) {
  if ((owned & kDeny) != 0) return false;
  if ((needed & kAny) != 0) return (owned & (kPub | kSub)) != 0;
  return (needed & owned) != 0;
}

}  // namespace fmq::acl
