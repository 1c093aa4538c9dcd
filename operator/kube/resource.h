#pragma once

// ResourceKind: what the Kubernetes REST API needs to address a kind (group, version, plural, scope), the
// kinds the operator uses, and the URL building for them (paths, escaping, query strings).
//
// Thread-safety: values and pure functions; safe everywhere.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fmq::op::kube {

struct ResourceKind {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string kind;     // "ConfigMap"
  std::string plural;   // "configmaps"
  bool namespaced = true;

  // "v1" for the core group, "apps/v1" otherwise (the apiVersion field of objects of this kind).
  std::string ApiVersion() const;
  // "/api/v1" for the core group, "/apis/apps/v1" otherwise.
  std::string ApiPrefix() const;
  // "configmaps" or "statefulsets.apps" (how kubectl and RBAC name it; used in logs and metrics).
  std::string Resource() const;

  friend bool operator==(const ResourceKind& a, const ResourceKind& b) {
    return a.group == b.group && a.version == b.version && a.plural == b.plural;
  }
};

// The kinds the operator touches.
namespace kinds {
inline const ResourceKind kPod{"", "v1", "Pod", "pods", true};
inline const ResourceKind kService{"", "v1", "Service", "services", true};
inline const ResourceKind kConfigMap{"", "v1", "ConfigMap", "configmaps", true};
inline const ResourceKind kSecret{"", "v1", "Secret", "secrets", true};
inline const ResourceKind kEvent{"", "v1", "Event", "events", true};
inline const ResourceKind kPersistentVolumeClaim{"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims",
                                                 true};
inline const ResourceKind kEndpoints{"", "v1", "Endpoints", "endpoints", true};
inline const ResourceKind kServiceAccount{"", "v1", "ServiceAccount", "serviceaccounts", true};
inline const ResourceKind kNamespace{"", "v1", "Namespace", "namespaces", false};
inline const ResourceKind kNode{"", "v1", "Node", "nodes", false};
inline const ResourceKind kStatefulSet{"apps", "v1", "StatefulSet", "statefulsets", true};
inline const ResourceKind kDeployment{"apps", "v1", "Deployment", "deployments", true};
inline const ResourceKind kPodDisruptionBudget{"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets",
                                               true};
inline const ResourceKind kLease{"coordination.k8s.io", "v1", "Lease", "leases", true};
inline const ResourceKind kCustomResourceDefinition{"apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                                                    "customresourcedefinitions", false};
inline const ResourceKind kRole{"rbac.authorization.k8s.io", "v1", "Role", "roles", true};
inline const ResourceKind kRoleBinding{"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings",
                                       true};
inline const ResourceKind kFerryCluster{"ferrymq.io", "v1alpha1", "Cluster", "clusters", true};
inline const ResourceKind kFerryTopic{"ferrymq.io", "v1alpha1", "Topic", "topics", true};
inline const ResourceKind kFerryConsumerGroup{"ferrymq.io", "v1alpha1", "ConsumerGroup", "consumergroups",
                                              true};
inline const ResourceKind kFerryUser{"ferrymq.io", "v1alpha1", "User", "users", true};
}  // namespace kinds

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), for one path segment
// or one query key/value. Selectors such as "app in (a,b),tier!=x" survive intact this way.
std::string UrlEscape(std::string_view s);

// The path of a collection or an object:
//   namespaced kind, ns set:     /api/v1/namespaces/<ns>/configmaps[/<name>[/<subresource>]]
//   namespaced kind, ns empty:   /api/v1/configmaps (all namespaces; list and watch only)
//   cluster-scoped kind:         /apis/apiextensions.k8s.io/v1/customresourcedefinitions[/<name>[/<sub>]]
// Every segment is escaped.
std::string ResourcePath(const ResourceKind& kind, std::string_view ns, std::string_view name = {},
                         std::string_view subresource = {});

// An ordered query string builder: Add("labelSelector", "a=b") -> "?labelSelector=a%3Db".
class Query {
 public:
  Query& Add(std::string_view key, std::string_view value);
  // Adds only when `value` is not empty.
  Query& AddIfSet(std::string_view key, std::string_view value);
  // "" when empty, else "?k=v&k2=v2".
  std::string Encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace fmq::op::kube
