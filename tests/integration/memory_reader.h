#pragma once

// MemoryReader (tests only): the operator's informer caches as a map the test fills itself, for reconciler
// tests against real brokers and a scripted apiserver.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controllers/object_reader.h"
#include "operator/kube/resource.h"

namespace fmq::op::controllers {

// The informer caches: objects by kind, namespace and name.
class MemoryReader : public ObjectReader {
 public:
  void Put(const kube::ResourceKind& kind, nlohmann::json object) {
    const std::string key = Key(kind, object["metadata"].value("namespace", ""), object["metadata"]["name"]);
    objects_[key] = std::move(object);
  }
  void Erase(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
    objects_.erase(Key(kind, ns, name));
  }
  std::optional<nlohmann::json> Get(const kube::ResourceKind& kind, std::string_view ns,
                                    std::string_view name) const override {
    auto it = objects_.find(Key(kind, std::string(ns), std::string(name)));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<nlohmann::json> List(const kube::ResourceKind& kind, std::string_view ns,
                                   const std::map<std::string, std::string>& labels) const override {
    std::vector<nlohmann::json> out;
    for (const auto& [k, o] : objects_) {
      if (k.rfind(kind.plural + "/", 0) != 0) continue;
      if (!ns.empty() && o["metadata"].value("namespace", "") != ns) continue;
      bool match = true;
      for (const auto& [lk, lv] : labels) {
        match = match && o["metadata"].value("labels", nlohmann::json::object()).value(lk, "") == lv;
      }
      if (match) out.push_back(o);
    }
    return out;
  }

 private:
  static std::string Key(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
    return kind.plural + "/" + ns + "/" + name;
  }
  std::map<std::string, nlohmann::json> objects_;
};

}  // namespace fmq::op::controllers
