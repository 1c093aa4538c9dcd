#include "operator/model/user_plan.h"

#include "broker/base/time_codec.h"

namespace fmq::op::model {

using nlohmann::json;

std::string AccessKeyAfter(const api::User& u, int64_t rotations) {
  return rotations <= 0 ? u.spec.access_key : u.spec.access_key + "-r" + std::to_string(rotations);
}

bool GeneratesCredentials(const api::User& u) { return u.spec.secret_ref_name.empty(); }

bool RotationRequested(const api::User& u) {
  if (!GeneratesCredentials(u)) return false;
  auto it = u.metadata.annotations.find(std::string(api::kRotateAnnotation));
  if (it == u.metadata.annotations.end() || it->second.empty()) return false;
  return it->second != u.status.last_rotate_request;
}

api::UserStatus StartRotation(const api::User& u, int64_t now_ms) {
  api::UserStatus s = u.status;
  const std::string current = AccessKeyAfter(u, s.rotations);
  s.rotations += 1;
  s.last_rotate_request = u.metadata.annotations.at(std::string(api::kRotateAnnotation));
  s.retiring_access_key = current;
  s.retiring_until = FormatRfc3339(now_ms + u.spec.rotation_grace_seconds * 1000);
  return s;
}

UserAccount DesiredAccount(const api::User& u, const std::string& access_key, const std::string& secret_key) {
  UserAccount a;
  a.access_key = access_key;
  a.secret_key = secret_key;
  a.white_remote_address = u.spec.allowed_addresses;
  a.admin = u.spec.admin;
  a.default_topic_perm = u.spec.default_topic_perm;
  a.default_group_perm = u.spec.default_group_perm;
  for (const auto& t : u.spec.topics) a.topic_perms.push_back(t.name + "=" + t.perm);
  for (const auto& g : u.spec.groups) a.group_perms.push_back(g.name + "=" + g.perm);
  return a;
}

json UserSecret(const api::User& u, const UserCredentials& creds, const std::string& namesrv_addrs) {
  json data = {
      {"accessKey", creds.access_key}, {"secretKey", creds.secret_key}, {"namesrvAddr", namesrv_addrs}};
  if (!creds.retiring_access_key.empty()) {
    data["retiringAccessKey"] = creds.retiring_access_key;
    data["retiringSecretKey"] = creds.retiring_secret_key;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", u.spec.secret_name},
            {"namespace", u.metadata.namespace_},
            {"labels",
             {{"app.kubernetes.io/name", "ferrymq"},
              {"app.kubernetes.io/managed-by", "ferrymq-operator"},
              {"app.kubernetes.io/component", "user"},
              {std::string(api::kClusterLabel), u.spec.cluster_ref.name}}},
            {"ownerReferences", json::array({{{"apiVersion", std::string(api::kApiVersion)},
                                              {"kind", "User"},
                                              {"name", u.metadata.name},
                                              {"uid", u.metadata.uid},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"type", "Opaque"},
          {"data", data}};
}

Retiring RetiringState(const api::UserStatus& s, int64_t now_ms) {
  if (s.retiring_access_key.empty()) return Retiring::kNone;
  auto until = ParseRfc3339Micros(s.retiring_until);
  if (!until.ok()) return Retiring::kExpired;  // a status edited by hand: the old key goes
  return now_ms * 1000 < *until ? Retiring::kValid : Retiring::kExpired;
}

}  // namespace fmq::op::model
