#pragma once

// UserReconciler: makes a User's ACL account (RocketMQ plain ACL: access key, secret key, permissions) exist
// on every broker of its Cluster, masters and slaves (each keeps its own plain_acl.yml), and hands
// applications a Secret with the keys and the name-server address (docs/clients.md).
//
// One pass, as named steps:
//   observe  the User, its Cluster (spec.security.acl.enabled), the Secret it writes (and spec.secretRef's),
//            every registered broker's accounts (GET_BROKER_CLUSTER_ACL_CONFIG);
//   decide   (operator/model/user_plan.h, pure) the current key (rotations), the account, the Secret, whether
//            the retiring key is still valid;
//   act      a rotation is recorded in status first, then the Secret is written, then every broker that lacks
//            the account as specified gets UPDATE_AND_CREATE_ACL_CONFIG (creating it, adopting an account
//            made elsewhere, or reverting drift); a retiring key is kept until status.retiring.until and then
//            DELETE_ACL_CONFIG'd everywhere;
//   report   status (accessKey, secretName, rotations, retiring, brokers) and Ready, with Events.
// A synced User is compared with the brokers every `drift_check`, which also brings the account to a broker
// that joined (scale-out, a slave on a new volume).
//
// Every broker means every broker the Cluster runs (groups x replicasPerGroup): a broker that is down is not
// registered, yet keeps its plain_acl.yml, so a pass with fewer registered brokers is not Ready, and a
// deletion waits for it.
//
// Deletion sits behind the finalizer ferrymq.io/user-revoke: the account (and a retiring one) is deleted on
// every registered broker; while a broker cannot be asked or is not registered, deletion waits (Ready=False,
// reason RevokePending) unless the User carries ferrymq.io/force-delete="true" (the account then stays on a
// broker that was down). A Cluster that is gone, or has ACL off, releases the finalizer at once.
//
// Thread-safety: as ClusterReconciler.

#include <chrono>
#include <string>

#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"

namespace fmq::op::controllers {

struct UserOptions {
  std::chrono::milliseconds drift_check{60'000};
};

class UserReconciler {
 public:
  UserReconciler(Deps deps, UserOptions options);
  Outcome Reconcile(const std::string& key);

 private:
  Outcome Finalize(const nlohmann::json& obj, const api::ObjectMeta& meta);
  Status WriteStatus(const nlohmann::json& obj, const api::UserStatus& status, bool ready,
                     const std::string& reason, const std::string& message);
  void RecordEvent(const api::ObjectMeta& meta, bool normal, const std::string& reason,
                   const std::string& message);

  Deps d_;
  UserOptions o_;
};

}  // namespace fmq::op::controllers
