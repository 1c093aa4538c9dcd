#include "operator/kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace fmq::op::kube {

namespace {

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(std::string(what) + " " + path + " cannot be read: " +
                            (std::filesystem::exists(path) ? "permission denied" : "no such file"));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

// One named entry of a kubeconfig list and the directory its relative paths resolve against.
struct Entry {
  YAML::Node node;
  std::string base_dir;
};

struct Merged {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
  std::vector<std::string> files;
};

std::string Scalar(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap()) return "";
  YAML::Node v = n[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

bool Bool(const YAML::Node& n, const char* key) {
  std::string v = Scalar(n, key);
  return v == "true" || v == "True" || v == "TRUE" || v == "yes";
}

// Adds one parsed kubeconfig to `m`; names already present are kept (first file wins).
Status MergeInto(const YAML::Node& root, const std::string& base_dir, const std::string& origin, Merged* m) {
  if (!root || root.IsNull()) return Status::Ok();  // an empty file is allowed
  if (!root.IsMap()) return Status::InvalidArgument("kubeconfig " + origin + " is not a YAML mapping");
  auto add_list = [&](const char* list, const char* inner, std::map<std::string, Entry>* out) -> Status {
    YAML::Node items = root[list];
    if (!items || items.IsNull()) return Status::Ok();
    if (!items.IsSequence())
      return Status::InvalidArgument("kubeconfig " + origin + ": '" + list + "' is not a list");
    for (const auto& item : items) {
      std::string name = Scalar(item, "name");
      if (name.empty())
        return Status::InvalidArgument("kubeconfig " + origin + ": an entry of '" + list + "' has no name");
      if (!out->count(name)) (*out)[name] = Entry{item[inner], base_dir};
    }
    return Status::Ok();
  };
  FMQ_RETURN_IF_ERROR(add_list("clusters", "cluster", &m->clusters));
  FMQ_RETURN_IF_ERROR(add_list("users", "user", &m->users));
  FMQ_RETURN_IF_ERROR(add_list("contexts", "context", &m->contexts));
  if (m->current_context.empty()) m->current_context = Scalar(root, "current-context");
  m->files.push_back(origin);
  return Status::Ok();
}

Status ParseInto(std::string_view yaml, const std::string& base_dir, const std::string& origin, Merged* m) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return MergeInto(root, base_dir, origin, m);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + origin + " is not valid YAML: " + e.what());
  }
}

// Reads a PEM given inline (base64 *-data) or as a file path.
Status LoadPem(const YAML::Node& n, const char* data_key, const char* file_key, const std::string& base_dir,
               const std::string& what, std::string* out) {
  std::string data = Scalar(n, data_key);
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) return decoded.status().WithContext(what + " (" + data_key + ")");
    *out = std::move(decoded).value();
    return Status::Ok();
  }
  std::string file = Scalar(n, file_key);
  if (!file.empty()) {
    FMQ_ASSIGN_OR_RETURN(*out, ReadFile(Resolve(file, base_dir), what));
  }
  return Status::Ok();
}

Result<Config> Build(const Merged& m, const std::string& context_arg) {
  std::string files;
  for (const auto& f : m.files) files += (files.empty() ? "" : ":") + f;
  std::string context_name = context_arg.empty() ? m.current_context : context_arg;
  if (context_name.empty()) {
    return Status::InvalidArgument("kubeconfig " + files +
                                   " sets no current-context and no --context was given");
  }
  auto ctx_it = m.contexts.find(context_name);
  if (ctx_it == m.contexts.end()) {
    return Status::NotFound("context '" + context_name + "' not found in kubeconfig " + files);
  }
  const YAML::Node& ctx = ctx_it->second.node;
  std::string cluster_name = Scalar(ctx, "cluster");
  std::string user_name = Scalar(ctx, "user");
  auto cl_it = m.clusters.find(cluster_name);
  if (cl_it == m.clusters.end()) {
    return Status::NotFound("cluster '" + cluster_name + "' of context '" + context_name +
                            "' not found in kubeconfig " + files);
  }
  Config c;
  c.source = "kubeconfig " + files + " context=" + context_name;
  const YAML::Node& cluster = cl_it->second.node;
  c.server = Scalar(cluster, "server");
  if (c.server.empty())
    return Status::InvalidArgument("cluster '" + cluster_name + "' has no server in " + files);
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  c.insecure_skip_tls_verify = Bool(cluster, "insecure-skip-tls-verify");
  c.tls_server_name = Scalar(cluster, "tls-server-name");
  FMQ_RETURN_IF_ERROR(LoadPem(cluster, "certificate-authority-data", "certificate-authority",
                              cl_it->second.base_dir,
                              "certificate authority of cluster '" + cluster_name + "'", &c.ca_pem));
  if (!user_name.empty()) {
    auto u_it = m.users.find(user_name);
    if (u_it == m.users.end()) {
      return Status::NotFound("user '" + user_name + "' of context '" + context_name +
                              "' not found in kubeconfig " + files);
    }
    const YAML::Node& user = u_it->second.node;
    const std::string& dir = u_it->second.base_dir;
    if (user && user.IsMap() && (user["exec"] || user["auth-provider"])) {
      return Status::InvalidArgument(
          "user '" + user_name +
          "' uses an exec or auth-provider credential plugin, which ferrymq-operator "
          "does not run; use a token, tokenFile or client certificate");
    }
    FMQ_RETURN_IF_ERROR(LoadPem(user, "client-certificate-data", "client-certificate", dir,
                                "client certificate of user '" + user_name + "'", &c.client_cert_pem));
    FMQ_RETURN_IF_ERROR(LoadPem(user, "client-key-data", "client-key", dir,
                                "client key of user '" + user_name + "'", &c.client_key_pem));
    if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
      return Status::InvalidArgument(
          "user '" + user_name + "' has a client certificate without a key or a key without a certificate");
    }
    c.token = Scalar(user, "token");
    std::string token_file = Scalar(user, "tokenFile");
    if (!token_file.empty()) {
      c.token_file = Resolve(token_file, dir);
      FMQ_RETURN_IF_ERROR(ReadFile(c.token_file, "token file of user '" + user_name + "'").status());
    }
    c.username = Scalar(user, "username");
    c.password = Scalar(user, "password");
  }
  std::string ns = Scalar(ctx, "namespace");
  if (!ns.empty()) c.default_namespace = ns;
  return c;
}

std::string DirOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

Result<Config> LoadKubeconfigFromString(std::string_view yaml, const std::string& base_dir,
                                        const std::string& context) {
  Merged m;
  FMQ_RETURN_IF_ERROR(ParseInto(yaml, base_dir, "<inline>", &m));
  return Build(m, context);
}

Result<Config> LoadKubeconfig(const std::string& path, const std::string& context) {
  FMQ_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "kubeconfig"));
  Merged m;
  FMQ_RETURN_IF_ERROR(ParseInto(text, DirOf(path), path, &m));
  return Build(m, context);
}

Result<Config> LoadKubeconfigList(const std::string& colon_separated_paths, const std::string& context) {
  Merged m;
  std::string_view rest = colon_separated_paths;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string path(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (path.empty() || !std::filesystem::exists(path)) continue;
    FMQ_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "kubeconfig"));
    FMQ_RETURN_IF_ERROR(ParseInto(text, DirOf(path), path, &m));
  }
  if (m.files.empty()) {
    return Status::NotFound("none of the kubeconfig files in '" + colon_separated_paths + "' exists");
  }
  return Build(m, context);
}

Result<Config> InClusterConfig(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return Status::FailedPrecondition(
        "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (pass "
        "--kubeconfig "
        "or set KUBECONFIG)");
  }
  Config c;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + port;
  const std::string dir = paths.service_account_dir;
  c.token_file = dir + "/token";
  FMQ_RETURN_IF_ERROR(ReadFile(c.token_file, "service account token").status());
  FMQ_ASSIGN_OR_RETURN(c.ca_pem, ReadFile(dir + "/ca.crt", "service account CA"));
  auto ns = ReadFile(dir + "/namespace", "service account namespace");
  if (ns.ok() && !Trim(*ns).empty()) c.default_namespace = Trim(*ns);
  c.source = "in-cluster service account " + dir;
  return c;
}

Result<Config> DefaultConfig(const std::string& kubeconfig_path, const std::string& context) {
  if (!kubeconfig_path.empty()) return LoadKubeconfig(kubeconfig_path, context);
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') return LoadKubeconfigList(env, context);
  const char* svc = std::getenv("KUBERNETES_SERVICE_HOST");
  if (svc != nullptr && *svc != '\0') return InClusterConfig();
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    std::string path = std::string(home) + "/.kube/config";
    if (std::filesystem::exists(path)) return LoadKubeconfig(path, context);
  }
  return Status::NotFound(
      "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or create "
      "~/.kube/config");
}

Result<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  int pad = 0;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return Status::InvalidArgument("invalid base64: data after padding");
    int v = value(c);
    if (v < 0) return Status::InvalidArgument(std::string("invalid base64 character '") + c + "'");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (pad > 2 || bits >= 6) return Status::InvalidArgument("invalid base64: truncated input");
  return out;
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace fmq::op::kube
