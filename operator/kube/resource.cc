#include "operator/kube/resource.h"

namespace fmq::op::kube {

std::string ResourceKind::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

std::string ResourceKind::ApiPrefix() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string ResourceKind::Resource() const { return group.empty() ? plural : plural + "." + group; }

std::string UrlEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ResourcePath(const ResourceKind& kind, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path = kind.ApiPrefix();
  if (kind.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += UrlEscape(ns);
  }
  path += '/';
  path += kind.plural;
  if (!name.empty()) {
    path += '/';
    path += UrlEscape(name);
    if (!subresource.empty()) {
      path += '/';
      path += UrlEscape(subresource);
    }
  }
  return path;
}

Query& Query::Add(std::string_view key, std::string_view value) {
  params_.emplace_back(std::string(key), std::string(value));
  return *this;
}

Query& Query::AddIfSet(std::string_view key, std::string_view value) {
  if (!value.empty()) Add(key, value);
  return *this;
}

std::string Query::Encode() const {
  std::string out;
  for (const auto& [k, v] : params_) {
    out += out.empty() ? '?' : '&';
    out += UrlEscape(k);
    out += '=';
    out += UrlEscape(v);
  }
  return out;
}

}  // namespace fmq::op::kube
