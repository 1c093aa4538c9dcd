#include "operator/controllers/object_reader.h"

namespace fmq::op::controllers {

std::pair<std::string, std::string> SplitKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::string KeyOf(const nlohmann::json& object) {
  const auto& md = object.value("metadata", nlohmann::json::object());
  std::string ns = md.value("namespace", "");
  std::string name = md.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

const kube::ResourceKind* KindOf(const nlohmann::json& object) {
  const std::string api_version = object.value("apiVersion", "");
  const std::string kind = object.value("kind", "");
  for (const kube::ResourceKind* k :
       {&kube::kinds::kConfigMap, &kube::kinds::kService, &kube::kinds::kStatefulSet,
        &kube::kinds::kPodDisruptionBudget, &kube::kinds::kSecret, &kube::kinds::kFerryCluster,
        &kube::kinds::kFerryTopic}) {
    if (k->kind == kind && k->ApiVersion() == api_version) return k;
  }
  return nullptr;
}

}  // namespace fmq::op::controllers
