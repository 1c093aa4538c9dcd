#include "operator/controllers/user_controller.h"

#include <algorithm>
#include <map>

#include "broker/acl/plain_acl.h"
#include "broker/base/logging.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "operator/controllers/cluster_security.h"
#include "operator/controllers/resource_steps.h"
#include "operator/kube/config.h"
#include "operator/kube/errors.h"
#include "operator/model/user_plan.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kRecheckNotReady{10'000};
constexpr StatusTarget kStatus{&kube::kinds::kFerryUser, "User", "UserSynced"};

acl::PlainAccessConfig ToBroker(const model::UserAccount& a) {
  acl::PlainAccessConfig c;
  c.access_key = a.access_key;
  c.secret_key = a.secret_key;
  c.white_remote_address = a.white_remote_address;
  c.admin = a.admin;
  c.default_topic_perm = a.default_topic_perm;
  c.default_group_perm = a.default_group_perm;
  c.topic_perms = a.topic_perms;
  c.group_perms = a.group_perms;
  return c;
}

// A Secret's data, decoded (values that are not base64 are left out).
std::map<std::string, std::string> SecretData(const json& secret) {
  std::map<std::string, std::string> out;
  const json data = secret.value("data", json::object());
  for (const auto& [k, v] : data.items()) {
    if (!v.is_string()) continue;
    if (auto d = kube::Base64Decode(v.get<std::string>()); d.ok()) out[k] = *d;
  }
  return out;
}

// Brokers the Cluster runs: a broker that is down (not registered) still has its plain_acl.yml and answers
// with it when it is back, so a change is complete only when this many brokers confirmed it.
size_t ExpectedBrokers(const api::Cluster& c) {
  return static_cast<size_t>(c.spec.brokers.groups) * static_cast<size_t>(c.spec.brokers.replicas_per_group);
}

std::string MissingBrokers(size_t registered, size_t expected) {
  return "only " + std::to_string(registered) + " of " + std::to_string(expected) +
         " brokers are registered with the name servers";
}

std::string Get(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

UserReconciler::UserReconciler(Deps deps, UserOptions options) : d_(std::move(deps)), o_(options) {}

void UserReconciler::RecordEvent(const api::ObjectMeta& meta, bool normal, const std::string& reason,
                                 const std::string& message) {
  if (d_.events == nullptr) return;
  Status st =
      d_.events->Record(InvolvedObject("User", meta),
                        normal ? kube::EventType::kNormal : kube::EventType::kWarning, reason, message);
  if (!st.ok()) GetLogger("operator")->warn("cannot record event user={}: {}", meta.Key(), st.message());
}

Status UserReconciler::WriteStatus(const json& obj, const api::UserStatus& status, bool ready,
                                   const std::string& reason, const std::string& message) {
  return WriteReadyStatus(d_, kStatus, obj, api::UserStatusToJson(status), ready, reason, message);
}

Outcome UserReconciler::Reconcile(const std::string& key) {
  auto log = GetLogger("operator");
  const auto [ns, name] = SplitKey(key);
  // --- observe: the object and its Cluster
  std::optional<json> obj = d_.reader->Get(kube::kinds::kFerryUser, ns, name);
  if (!obj) return {};
  api::ObjectMeta meta = api::MetaFromJson(*obj);
  if (meta.being_deleted()) return Finalize(*obj, meta);
  api::UserStatus status = api::UserStatusFromJson(obj->value("status", json::object()));
  auto fail = [&](const std::string& reason, const std::string& message, std::optional<milliseconds> again) {
    Status st = WriteStatus(*obj, status, false, reason, message);
    return Outcome{st, st.ok() ? again : std::nullopt};
  };
  auto parsed = api::UserFromJson(*obj);
  if (!parsed.ok()) return fail("InvalidSpec", std::string(parsed.status().message()), std::nullopt);
  api::User user = std::move(*parsed);
  if (!meta.HasFinalizer(api::kUserFinalizer)) {
    return {SetFinalizer(*d_.kube, kube::kinds::kFerryUser, *obj, api::kUserFinalizer, true), std::nullopt};
  }
  ClusterLookup cluster = LookupCluster(*d_.reader, user.spec.cluster_ref);
  if (!cluster.cluster) return fail(cluster.reason, cluster.message, kRecheckNotReady);
  const api::Cluster& c = *cluster.cluster;
  if (!c.spec.security.acl_enabled) {
    return fail(
        "AclDisabled",
        "Cluster " + c.metadata.Key() +
            " has spec.security.acl.enabled false: its brokers take every request, so a User means nothing",
        kRecheckNotReady);
  }
  auto older =
      OlderClaimant(*d_.reader, kube::kinds::kFerryUser, meta, user.spec.cluster_ref, user.spec.access_key,
                    [](const json& o) -> std::optional<std::pair<api::ClusterRef, std::string>> {
                      auto u = api::UserFromJson(o);
                      if (!u.ok()) return std::nullopt;
                      return std::pair{u->spec.cluster_ref, u->spec.access_key};
                    });
  if (older) {
    return fail("ResourceConflict", "access key " + user.spec.access_key + " belongs to User " + *older,
                std::nullopt);
  }

  // --- decide: a rotation asked for is recorded first (status is the source of the current key)
  const int64_t now = d_.clock->NowMillis();
  if (model::RotationRequested(user)) {
    const std::string retiring = status.retiring_access_key;  // a key still retiring from an earlier rotation
    status = model::StartRotation(user, now);
    Status st = WriteStatus(*obj, status, false, "Rotating",
                            "new key " + model::AccessKeyAfter(user, status.rotations) + "; " +
                                status.retiring_access_key + " stays valid until " + status.retiring_until);
    if (!st.ok()) return {st, std::nullopt};
    RecordEvent(meta, true, "Rotating",
                "new access key " + model::AccessKeyAfter(user, status.rotations) + "; " +
                    status.retiring_access_key + " stays valid until " + status.retiring_until);
    if (!retiring.empty()) log->info("user={}: {} replaced before its grace period ended", key, retiring);
    return {Status::Ok(), milliseconds(0)};  // the status write brings the next pass
  }
  const std::string access_key = model::GeneratesCredentials(user)
                                     ? model::AccessKeyAfter(user, status.rotations)
                                     : user.spec.access_key;
  const model::Retiring retiring = model::RetiringState(status, now);

  // --- the credentials: the Secret the operator wrote, or spec.secretRef's
  auto live_secret = d_.kube->Get(kube::kinds::kSecret, ns, user.spec.secret_name);
  if (!live_secret.ok() && !kube::IsNotFound(live_secret.status())) {
    return {live_secret.status().WithContext("Secret " + ns + "/" + user.spec.secret_name), std::nullopt};
  }
  const std::map<std::string, std::string> have =
      live_secret.ok() ? SecretData(*live_secret) : std::map<std::string, std::string>{};
  model::UserCredentials creds{access_key, "", "", ""};
  if (!model::GeneratesCredentials(user)) {
    auto ref = d_.kube->Get(kube::kinds::kSecret, ns, user.spec.secret_ref_name);
    if (!ref.ok()) {
      return fail(kube::IsNotFound(ref.status()) ? "SecretNotFound" : "SecretUnreadable",
                  "Secret " + ns + "/" + user.spec.secret_ref_name +
                      " (spec.secretRef): " + std::string(ref.status().message()),
                  kRecheckNotReady);
    }
    creds.secret_key = Get(SecretData(*ref), user.spec.secret_ref_key);
    if (creds.secret_key.size() < acl::kMinKeyLength) {
      return fail("SecretKeyMissing",
                  "Secret " + ns + "/" + user.spec.secret_ref_name + " has no key " +
                      user.spec.secret_ref_key + " with at least 7 characters",
                  kRecheckNotReady);
    }
  } else {
    creds.secret_key = Get(have, "accessKey") == access_key ? Get(have, "secretKey") : "";
    if (creds.secret_key.empty()) creds.secret_key = RandomSecret(40);
    if (retiring == model::Retiring::kValid) {
      // The retiring key's secret: what the Secret held as current (a rotation not yet written) or as
      // retiring.
      creds.retiring_access_key = status.retiring_access_key;
      if (Get(have, "accessKey") == status.retiring_access_key) {
        creds.retiring_secret_key = Get(have, "secretKey");
      } else if (Get(have, "retiringAccessKey") == status.retiring_access_key) {
        creds.retiring_secret_key = Get(have, "retiringSecretKey");
      }
      if (creds.retiring_secret_key.empty()) creds.retiring_access_key.clear();  // unknown: nothing to keep
    }
  }

  // --- act: the Secret for applications
  const std::string namesrv = model::NameServerAddresses(c);
  json secret = model::UserSecret(user, creds, namesrv);
  std::map<std::string, std::string> want;
  for (const auto& [k, v] : secret["data"].items()) want[k] = v.get<std::string>();
  if (want != have) {
    for (auto& [k, v] : secret["data"].items()) v = kube::Base64Encode(v.get<std::string>());
    auto applied =
        d_.kube->Apply(kube::kinds::kSecret, ns, secret, {.field_manager = kFieldManager, .force = true});
    if (!applied.ok()) {
      return fail(
          "SecretWriteFailed",
          "Secret " + ns + "/" + user.spec.secret_name + ": " + std::string(applied.status().message()),
          kRecheckNotReady);
    }
    log->info("user={}: wrote Secret {} (accessKey {})", key, user.spec.secret_name, access_key);
  }

  // --- act: the account on every broker
  auto admin = ClusterAdmin(d_, c);
  if (!admin.ok()) return fail("ClusterNotReady", std::string(admin.status().message()), kRecheckNotReady);
  auto brokers = RegisteredBrokers(**admin, c.metadata.name);
  if (!brokers.ok()) {
    return fail("ClusterNotReady", "name servers: " + std::string(brokers.status().message()),
                kRecheckNotReady);
  }
  if (brokers->empty()) return fail("ClusterNotReady", "no broker is registered yet", kRecheckNotReady);
  const acl::PlainAccessConfig current = ToBroker(model::DesiredAccount(user, access_key, creds.secret_key));
  std::optional<acl::PlainAccessConfig> keep;  // the retiring account, same permissions, old secret
  if (!creds.retiring_access_key.empty()) {
    keep = ToBroker(model::DesiredAccount(user, creds.retiring_access_key, creds.retiring_secret_key));
  }
  std::vector<std::string> errors;
  int64_t synced = 0;
  bool retired_everywhere = true;
  for (const auto& [who, addr] : *brokers) {
    auto config = (*admin)->GetAclConfig(addr);
    if (!config.ok()) {
      errors.push_back(who + " (" + addr + "): " + std::string(config.status().message()));
      retired_everywhere = false;
      continue;
    }
    auto find = [&](const std::string& ak) -> const acl::PlainAccessConfig* {
      for (const auto& a : config->accounts) {
        if (a.access_key == ak) return &a;
      }
      return nullptr;
    };
    bool ok = true;
    for (const acl::PlainAccessConfig* want_account :
         std::initializer_list<const acl::PlainAccessConfig*>{&current, keep ? &*keep : nullptr}) {
      if (want_account == nullptr) continue;
      const acl::PlainAccessConfig* there = find(want_account->access_key);
      if (there != nullptr && *there == *want_account) continue;
      if (Status st = (*admin)->UpdateAclAccount(addr, *want_account); !st.ok()) {
        errors.push_back(who + " (" + addr + "): " + std::string(st.message()));
        ok = false;
        continue;
      }
      if (there != nullptr) {
        RecordEvent(meta, true, "AccountUpdated",
                    "account " + want_account->access_key + " on " + who + " set to the User's spec");
      }
      log->info("user={}: account {} {} on {} ({})", key, want_account->access_key,
                there ? "updated" : "created", who, addr);
    }
    if (retiring == model::Retiring::kExpired && find(status.retiring_access_key) != nullptr) {
      Status st = (*admin)->DeleteAclAccount(addr, status.retiring_access_key);
      if (!st.ok() && st.code() != StatusCode::kNotFound) {
        errors.push_back(who + " (" + addr + "): " + std::string(st.message()));
        retired_everywhere = false;
      }
    }
    if (ok) ++synced;
  }
  if (brokers->size() < ExpectedBrokers(c)) {
    errors.push_back(MissingBrokers(brokers->size(), ExpectedBrokers(c)));
    retired_everywhere = false;
  }
  if (retiring == model::Retiring::kExpired && retired_everywhere) {
    RecordEvent(
        meta, true, "KeyRetired",
        "access key " + status.retiring_access_key + " revoked on every broker: its grace period ended");
    status.retiring_access_key.clear();
    status.retiring_until.clear();
  }

  // --- report
  status.access_key = access_key;
  status.secret_name = user.spec.secret_name;
  status.brokers = synced;
  if (!errors.empty()) return fail("BrokerError", JoinStrings(errors, "; "), kRecheckNotReady);
  Status st = WriteStatus(*obj, status, true, "Synced",
                          "account " + access_key + " on " + std::to_string(synced) + " broker(s); Secret " +
                              user.spec.secret_name);
  if (!st.ok()) return {st, std::nullopt};
  milliseconds again = o_.drift_check;
  if (retiring == model::Retiring::kValid) {
    auto until = ParseRfc3339Micros(status.retiring_until);
    if (until.ok()) again = std::min(again, milliseconds(std::max<int64_t>(0, *until / 1000 - now) + 1000));
  }
  return {Status::Ok(), again};
}

Outcome UserReconciler::Finalize(const json& obj, const api::ObjectMeta& meta) {
  if (!meta.HasFinalizer(api::kUserFinalizer)) return {};
  auto log = GetLogger("operator");
  auto release = [&] {
    return Outcome{SetFinalizer(*d_.kube, kube::kinds::kFerryUser, obj, api::kUserFinalizer, false),
                   std::nullopt};
  };
  auto parsed = api::UserFromJson(obj);
  if (!parsed.ok()) return release();  // never applied
  api::UserStatus status = parsed->status;
  ClusterLookup cluster = LookupCluster(*d_.reader, parsed->spec.cluster_ref);
  if (!cluster.cluster || !cluster.cluster->spec.security.acl_enabled) {
    log->info("user={}: its Cluster is gone or has ACL off; releasing the finalizer", meta.Key());
    return release();
  }
  auto blocked = [&](const std::string& message) {
    if (meta.AnnotationTrue(api::kForceDeleteAnnotation)) {
      RecordEvent(meta, false, "RevokeSkipped", "ferrymq.io/force-delete: " + message);
      return release();
    }
    Status st = WriteStatus(obj, status, false, "RevokePending", message);
    return Outcome{st, st.ok() ? std::optional<milliseconds>(kRecheckNotReady) : std::nullopt};
  };
  auto admin = ClusterAdmin(d_, *cluster.cluster);
  if (!admin.ok()) return blocked("cannot reach the cluster: " + std::string(admin.status().message()));
  auto brokers = RegisteredBrokers(**admin, cluster.cluster->metadata.name);
  if (!brokers.ok()) return blocked("name servers: " + std::string(brokers.status().message()));
  std::vector<std::string> keys = {status.access_key.empty() ? parsed->spec.access_key : status.access_key};
  if (!status.retiring_access_key.empty()) keys.push_back(status.retiring_access_key);
  std::vector<std::string> errors;
  for (const auto& [who, addr] : *brokers) {
    for (const std::string& ak : keys) {
      Status st = (*admin)->DeleteAclAccount(addr, ak);
      if (!st.ok() && st.code() != StatusCode::kNotFound) {
        errors.push_back(who + " (" + addr + "): " + std::string(st.message()));
      }
    }
  }
  if (brokers->size() < ExpectedBrokers(*cluster.cluster)) {
    errors.push_back(MissingBrokers(brokers->size(), ExpectedBrokers(*cluster.cluster)) +
                     " (a broker that is down keeps the account until it is revoked there)");
  }
  if (!errors.empty()) {
    return blocked("cannot revoke " + JoinStrings(keys, ", ") + ": " + JoinStrings(errors, "; "));
  }
  log->info("user={}: revoked {} on {} broker(s)", meta.Key(), JoinStrings(keys, ", "), brokers->size());
  RecordEvent(meta, true, "Revoked",
              "access key " + JoinStrings(keys, ", ") + " deleted on " + std::to_string(brokers->size()) +
                  " broker(s)");
  return release();
}

}  // namespace fmq::op::controllers
