#pragma once

// What a Cluster's spec.security needs from Secrets (docs/security.md), for the Cluster reconciler and for
// every controller that talks to the Cluster's brokers:
//
//  * EnsureCredentials: the "<cluster>-credentials" Secret (model/cluster_resources.h) is created once with
//    random secrets and then only read: the operator's admin account and the brokers' own, seeded into every
//    pod. A Secret someone changed by hand is used as it is (its plain_acl.yml is what the pods seed).
//  * CheckTlsSecret: the spec.security.tls.secretName Secret exists and has tls.crt, tls.key and ca.crt.
//  * ClusterAdmin: the AdminPool client of the Cluster, signing with the operator's account (ACL) and
//    speaking TLS (the Secret's ca.crt verifies the brokers' chain; brokers are dialled by pod IP, so host
//    names are not checked; with clientAuth the pod certificate is presented). TLS files are written under
//    Deps::work_dir, mode 0600, and rewritten only when the Secret changes.
//
// Secrets are read with direct GETs (never cached in an informer) and never logged.

#include <memory>
#include <string>

#include "broker/base/status.h"
#include "broker/client/admin.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"
#include "operator/model/cluster_resources.h"

namespace fmq::op::controllers {

// Letters and digits from OpenSSL's random generator.
std::string RandomSecret(size_t length);

Result<model::ClusterCredentials> EnsureCredentials(kube::Client& kube, const api::Cluster& cluster);
// The credentials when the Secret exists; NotFound before the Cluster reconciler made it.
Result<model::ClusterCredentials> ReadCredentials(kube::Client& kube, const api::Cluster& cluster);

// FailedPrecondition naming the Secret and what is wrong with it.
Status CheckTlsSecret(kube::Client& kube, const api::Cluster& cluster);

// The admin client for `cluster` (owner: see AdminPool::For).
Result<std::shared_ptr<client::Admin>> ClusterAdmin(const Deps& d, const api::Cluster& cluster,
                                                    const std::string& owner = "");

}  // namespace fmq::op::controllers
