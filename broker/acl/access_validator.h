#pragma once

// Which requests need what, and the decision: RocketMQ ACL 1.0's PlainAccessValidator (protocol reference
// 10.2) with the holes of Apache 4.9 closed. The answer to a refused request is NO_PERMISSION with Apache's
// message (`No acl config for <ak>`, `Check signature failed for accessKey=<ak>`, `No default permission for
// topic:<t>`, ...), the code RocketMQ 5 answers; Apache 4.9 answered SYSTEM_ERROR with the same text, and the
// Java, Go and C++ clients treat both as a failed request (the producer retries another broker).
//
// Order of the checks (Apache's): a peer in globalWhiteRemoteAddresses passes; else the request must carry an
// AccessKey that names an account; a peer in that account's whiteRemoteAddress passes; else the signature
// must match; a PUB on the trace topic passes; an admin request needs `admin: true`; every resource needs its
// permission, from the account's explicit entry or its default (an admin account without entries passes).
//
// Where FerryMQ is stricter than Apache 4.9 (docs/security.md):
//  * admin-only codes: Apache's five (create/delete topic and group, update broker config) plus the ACL admin
//    codes 50-54 (54 returns secret keys), GET_BROKER_CONFIG, reset offsets, clone offsets, consume directly,
//    the clean-up codes, and FerryMQ's replication admin codes;
//  * SEND_BATCH_MESSAGE needs PUB on its topic (Apache 4.9 checked nothing);
//  * a send to a retry topic needs SUB on that topic's group (Apache took the producer group, which for the
//    Java consumer's fall-back send is CLIENT_INNER_PRODUCER);
//  * QUERY_CONSUMER_OFFSET and LOCK/UNLOCK_BATCH_MQ need SUB on the group and topics, like
//    UPDATE_CONSUMER_OFFSET.
// On the name server (which Apache 4.x never checks) reads stay open to everyone, so unsigned clients still
// find routes; the writes (register and unregister broker, delete topic, KV config, write permission, config)
// need an admin account.
//
// Thread-safety: pure functions over immutable rules.

#include <map>
#include <string>
#include <string_view>

#include "broker/acl/permission.h"
#include "broker/acl/plain_acl.h"
#include "broker/base/status.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::acl {

enum class Endpoint { kBroker, kNameServer };

struct AccessNeed {
  bool authenticate = true;  // false: open to everyone (name-server reads)
  bool admin = false;
  std::map<std::string, Perm> resources;  // topic, or "%RETRY%<group>" for a group -> the permission needed
};

bool IsAdminCode(Endpoint endpoint, int32_t code);

// What `request` needs. A header or body the rules must read but cannot is InvalidArgument (refused, as
// Apache refuses a request whose resources it cannot parse).
Result<AccessNeed> RequiredAccess(Endpoint endpoint, const protocol::RemotingCommand& request);

// The verdict on `request` from `remote_ip` (no port). PermissionDenied carries the message for the remark.
Status Authorize(const AclRules& rules, Endpoint endpoint, std::string_view remote_ip,
                 const protocol::RemotingCommand& request);

// "1.2.3.4" of "1.2.3.4:5678", "::1" of "[::1]:5678" or "::1:5678" (Apache cuts at the last ':').
std::string_view HostOf(std::string_view remote_address);

}  // namespace fmq::acl
