#pragma once

// Pure decisions of the User reconciler (controllers/user_controller.h): which access key is current, whether
// a rotation was asked for, the account every broker must hold, the Secret handed to applications, and what
// to do with a retiring key.
//
// Rotation (generated credentials only): a new ferrymq.io/rotate value makes key "<accessKey>-r<N>" current
// with a new secret; the previous key stays on the brokers until status.retiring.until (now +
// spec.rotation.gracePeriodSeconds), so running clients keep working until they pick up the new Secret.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/types.h"

namespace fmq::op::model {

// The account as RocketMQ's plain_acl.yml holds it (the broker's PlainAccessConfig fields).
struct UserAccount {
  std::string access_key;
  std::string secret_key;
  std::string white_remote_address;
  bool admin = false;
  std::string default_topic_perm;
  std::string default_group_perm;
  std::vector<std::string> topic_perms;  // "topic=PERM"
  std::vector<std::string> group_perms;  // "group=PERM"
  bool operator==(const UserAccount&) const = default;
};

// spec.accessKey after `rotations` rotations: the key itself, then "<key>-r<N>".
std::string AccessKeyAfter(const api::User& u, int64_t rotations);
bool GeneratesCredentials(const api::User& u);
// A new ferrymq.io/rotate value on a User with generated credentials.
bool RotationRequested(const api::User& u);
// The status after acting on a rotation request at `now_ms`: one more rotation, the current key retiring.
api::UserStatus StartRotation(const api::User& u, int64_t now_ms);

UserAccount DesiredAccount(const api::User& u, const std::string& access_key, const std::string& secret_key);

// What the Secret for applications holds (data keys accessKey, secretKey, namesrvAddr; while a key retires
// also retiringAccessKey and retiringSecretKey, which only the operator reads back).
struct UserCredentials {
  std::string access_key;
  std::string secret_key;
  std::string retiring_access_key;
  std::string retiring_secret_key;
  bool operator==(const UserCredentials&) const = default;
};
// The Secret object (string values; the controller base64-encodes them), owned by the User.
nlohmann::json UserSecret(const api::User& u, const UserCredentials& creds, const std::string& namesrv_addrs);

// The retiring key's state at `now_ms`.
enum class Retiring { kNone, kValid, kExpired };
Retiring RetiringState(const api::UserStatus& s, int64_t now_ms);

}  // namespace fmq::op::model
