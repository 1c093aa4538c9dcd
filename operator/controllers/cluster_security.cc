#include "operator/controllers/cluster_security.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include "broker/net/tls.h"
#include "operator/kube/config.h"
#include "operator/kube/errors.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;

// A Secret's data value, decoded; FailedPrecondition naming the key when it is absent.
Result<std::string> SecretValue(const json& secret, const std::string& key, const std::string& what) {
  const json data = secret.value("data", json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return Status::FailedPrecondition(what + " has no " + key);
  auto decoded = kube::Base64Decode(it->get<std::string>());
  if (!decoded.ok()) return Status::InvalidArgument(what + ": " + key + " is not base64");
  return *decoded;
}

std::string SecretWhat(const api::Cluster& c, const std::string& name) {
  return "Secret " + c.metadata.namespace_ + "/" + name;
}

// Writes `content` to `path` (mode 0600) unless it already holds it.
Status WritePrivateFile(const std::string& path, const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream have;
    have << in.rdbuf();
    if (in && have.str() == content) return Status::Ok();
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);
    out << content;
    if (!out.flush()) return Status::Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

std::string RandomSecret(size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < length) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) continue;  // the generator reseeds; try again
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: no modulo bias
      out += kAlphabet[b % 62];
      if (out.size() == length) break;
    }
  }
  return out;
}

Result<model::ClusterCredentials> ReadCredentials(kube::Client& kube, const api::Cluster& c) {
  const std::string name = model::CredentialsSecretName(c);
  FMQ_ASSIGN_OR_RETURN(json secret, kube.Get(kube::kinds::kSecret, c.metadata.namespace_, name));
  model::ClusterCredentials creds;
  FMQ_ASSIGN_OR_RETURN(creds.operator_secret, SecretValue(secret, "secretKey", SecretWhat(c, name)));
  FMQ_ASSIGN_OR_RETURN(creds.broker_secret, SecretValue(secret, "brokerSecretKey", SecretWhat(c, name)));
  return creds;
}

Result<model::ClusterCredentials> EnsureCredentials(kube::Client& kube, const api::Cluster& c) {
  auto existing = ReadCredentials(kube, c);
  if (existing.ok() || !kube::IsNotFound(existing.status())) return existing;
  model::ClusterCredentials creds{RandomSecret(40), RandomSecret(40)};
  auto created = kube.Create(kube::kinds::kSecret, c.metadata.namespace_, model::CredentialsSecret(c, creds));
  if (kube::IsAlreadyExists(created.status())) return ReadCredentials(kube, c);  // another pass won
  if (!created.ok()) {
    return created.status().WithContext("create " + SecretWhat(c, model::CredentialsSecretName(c)));
  }
  return creds;
}

Status CheckTlsSecret(kube::Client& kube, const api::Cluster& c) {
  const std::string& name = c.spec.security.tls.secret_name;
  auto secret = kube.Get(kube::kinds::kSecret, c.metadata.namespace_, name);
  if (!secret.ok()) {
    return Status::FailedPrecondition(
        SecretWhat(c, name) + " (spec.security.tls.secretName): " + std::string(secret.status().message()));
  }
  for (const char* key : {"tls.crt", "tls.key", "ca.crt"}) {
    auto v = SecretValue(*secret, key, SecretWhat(c, name) + " (spec.security.tls.secretName)");
    if (!v.ok()) return Status::FailedPrecondition(std::string(v.status().message()));
    if (v->empty()) return Status::FailedPrecondition(SecretWhat(c, name) + ": " + key + " is empty");
  }
  return Status::Ok();
}

Result<std::shared_ptr<client::Admin>> ClusterAdmin(const Deps& d, const api::Cluster& c,
                                                    const std::string& owner) {
  AdminPool::Security security;
  const auto& sec = c.spec.security;
  if (sec.acl_enabled) {
    FMQ_ASSIGN_OR_RETURN(model::ClusterCredentials creds, ReadCredentials(*d.kube, c));
    security.access_key = model::kOperatorAccessKey;
    security.secret_key = creds.operator_secret;
    security.fingerprint = "acl:" + model::ConfigHash(creds.operator_secret);
  }
  if (sec.tls.enabled()) {
    auto secret = d.kube->Get(kube::kinds::kSecret, c.metadata.namespace_, sec.tls.secret_name);
    if (!secret.ok()) return secret.status().WithContext(SecretWhat(c, sec.tls.secret_name));
    const std::string dir = d.work_dir + "/tls/" + c.metadata.namespace_ + "_" + c.metadata.name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Unavailable("cannot create " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    net::TlsFiles files;
    files.trust_cert_path = dir + "/ca.crt";
    std::vector<std::pair<std::string, std::string>> wanted = {{"ca.crt", files.trust_cert_path}};
    if (sec.tls.client_auth != "None") {
      files.cert_path = dir + "/tls.crt";
      files.key_path = dir + "/tls.key";
      wanted.push_back({"tls.crt", files.cert_path});
      wanted.push_back({"tls.key", files.key_path});
    }
    for (const auto& [key, path] : wanted) {
      FMQ_ASSIGN_OR_RETURN(std::string value, SecretValue(*secret, key, SecretWhat(c, sec.tls.secret_name)));
      FMQ_RETURN_IF_ERROR(WritePrivateFile(path, value));
    }
    // The client's context reloads the files when they change; it is rebuilt only when the mode does.
    security.tls_files = std::move(files);
    security.fingerprint += " tls:" + sec.tls.client_auth;
  }
  return d.admins->For(model::NameServerAddresses(c), owner, security);
}

}  // namespace fmq::op::controllers
