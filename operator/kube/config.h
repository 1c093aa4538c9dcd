#pragma once

// Config: where the apiserver is and how to authenticate, loaded from a kubeconfig file or from the
// in-cluster service account.
//
// Lookup order of DefaultConfig (the operator's flags, as controller-runtime does it): an explicit
// --kubeconfig path, then $KUBECONFIG (a ':'-separated list, merged: the first file that names a
// cluster/user/context wins, and current-context comes from the first file that sets it), then the in-cluster
// service account (when KUBERNETES_SERVICE_HOST is set), then ~/.kube/config.
//
// Kubeconfig support: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name (read
// but not applied: cpprestsdk cannot override the verified host name), client-certificate(-data),
// client-key(-data), token, tokenFile, username/password, the context's namespace. Relative file paths are
// relative to the kubeconfig's directory. exec and auth-provider plugins are refused with a clear error.
//
// Thread-safety: plain values and pure functions.

#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq::op::kube {

struct Config {
  // "https://host:port" (possibly with a path prefix).
  std::string server{};
  // PEM bundle of CAs that verify the apiserver ("" = the system's default trust store).
  std::string ca_pem{};
  // Client certificate chain and key in PEM, for mutual TLS ("" = none).
  std::string client_cert_pem{};
  std::string client_key_pem{};
  // A fixed bearer token.
  std::string token{};
  // A file holding the bearer token; re-read periodically because projected service-account tokens rotate.
  // Wins over `token` when both are set.
  std::string token_file{};
  std::string username{};  // basic auth, rarely used
  std::string password{};
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name{};  // parsed for diagnostics; not applied (see above)
  // The default namespace: the context's namespace, the in-cluster namespace file, else "default".
  std::string default_namespace = "default";
  // Where this came from ("kubeconfig /path context=x" or "in-cluster"), for logs.
  std::string source{};
};

// Parses one kubeconfig file. `context` "" = current-context.
Result<Config> LoadKubeconfig(const std::string& path, const std::string& context = "");
// Parses kubeconfig text; relative file paths resolve against `base_dir`.
Result<Config> LoadKubeconfigFromString(std::string_view yaml, const std::string& base_dir,
                                        const std::string& context = "");
// Merges several kubeconfig files (the $KUBECONFIG rule above); missing files are skipped, as kubectl does.
Result<Config> LoadKubeconfigList(const std::string& colon_separated_paths, const std::string& context = "");

struct InClusterPaths {
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};
// The pod's service account: token file (kept as token_file so it is re-read), ca.crt, namespace, and
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
Result<Config> InClusterConfig(const InClusterPaths& paths = {});

// The lookup order described at the top. `kubeconfig_path` and `context` come from the operator's flags.
Result<Config> DefaultConfig(const std::string& kubeconfig_path = "", const std::string& context = "");

// RFC 4648 base64 (the *-data fields). Whitespace is ignored; anything else invalid is an error.
Result<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace fmq::op::kube
