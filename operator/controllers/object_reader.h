#pragma once

// ObjectReader: how reconcilers read Kubernetes objects — from the informer caches in the operator (never
// from the apiserver on every pass), so a converged pass costs no apiserver request. The composition root
// adapts the runtime's informers to it.
//
// Thread-safety: implementations are safe to call from any worker thread. Returned objects are copies.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/resource.h"

namespace fmq::op::controllers {

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // The cached object, or nullopt when the cache does not have it (or the kind is not cached).
  virtual std::optional<nlohmann::json> Get(const kube::ResourceKind& kind, std::string_view ns,
                                            std::string_view name) const = 0;
  // Cached objects of `kind` in `ns` ("" = every watched namespace) whose labels include every pair of
  // `labels`.
  virtual std::vector<nlohmann::json> List(const kube::ResourceKind& kind, std::string_view ns,
                                           const std::map<std::string, std::string>& labels = {}) const = 0;
};

// "ns/name" -> {ns, name}; a key without '/' is a cluster-scoped name.
std::pair<std::string, std::string> SplitKey(std::string_view key);
std::string KeyOf(const nlohmann::json& object);

// The kind of a desired object from its apiVersion and kind (only the kinds the operator writes).
const kube::ResourceKind* KindOf(const nlohmann::json& object);

}  // namespace fmq::op::controllers
