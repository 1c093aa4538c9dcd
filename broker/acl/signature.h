#pragma once

// Request signatures of RocketMQ ACL 1.0 (protocol reference 10.1), as the Java AclClientRPCHook, the Go and
// the C++ clients compute them: Base64(HmacSHA1(secretKey, content)), where content is the values of every
// ext field but `Signature`, in ascending order of their keys, then the body bytes. The broker also leaves
// out `_UNIQUE_KEY_QUERY` (Apache's PlainAccessValidator, for clients that added it after signing; the 4.9
// Java client signs it, so Authorize accepts both contents when the field is present).
//
// Thread-safety: pure functions.

#include <map>
#include <string>
#include <string_view>

namespace fmq::acl {

inline constexpr std::string_view kAccessKeyField = "AccessKey";
inline constexpr std::string_view kSignatureField = "Signature";
inline constexpr std::string_view kSecurityTokenField = "SecurityToken";
inline constexpr std::string_view kUniqueKeyQueryField = "_UNIQUE_KEY_QUERY";

// The bytes a client signs: the values of `ext_fields` but Signature, by key order, then `body`.
std::string ClientSignatureContent(const std::map<std::string, std::string>& ext_fields,
                                   std::string_view body);
// The bytes a broker verifies: as the client's, without _UNIQUE_KEY_QUERY either.
std::string ServerSignatureContent(const std::map<std::string, std::string>& ext_fields,
                                   std::string_view body);

// Base64(HmacSHA1(secret_key, content)), standard alphabet with padding.
std::string Sign(std::string_view content, std::string_view secret_key);

// Adds AccessKey and Signature to a request's ext fields, as AclClientRPCHook.doBeforeRequest does.
void SignRequest(std::map<std::string, std::string>& ext_fields, std::string_view body,
                 std::string_view access_key, std::string_view secret_key);

// Compares two signatures in time independent of where they differ.
bool SignaturesEqual(std::string_view a, std::string_view b);

}  // namespace fmq::acl
