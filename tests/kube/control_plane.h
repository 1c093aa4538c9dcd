#pragma once

// ControlPlane (tests labelled `kube`): a real etcd and kube-apiserver as child processes, for testing the
// operator's Kubernetes client and runtime against the real API.
//
// Tools: $FMQ_TOOLS_DIR/bin (default ~/.cache/ferrymq/tools/bin), installed by scripts/install_e2e_tools.sh.
// When they are missing, Start() fails with a message saying so: these tests never skip.
//
// What it sets up, all under one temporary work directory (kept when FMQ_E2E_KEEP=1):
//   pki      a CA, the apiserver's serving certificate for 127.0.0.1/localhost, an admin client certificate
//            (O=system:masters) and the service-account key pair, made in-process with OpenSSL
//   tokens   a static token file: kAdminToken (system:masters) and kNobodyToken (authenticated, no RBAC
//   grants) etcd     on free loopback ports, --unsafe-no-fsync apiserver RBAC authorization, watch cache on
//   (so bookmarks are sent and a watch from resourceVersion "1" is
//            410 Gone), logs in <workdir>/logs
//
// Thread-safety: configuration getters from any thread after Start().

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "operator/kube/config.h"

namespace fmq::kubetest {

inline constexpr char kAdminToken[] = "fmq-test-admin-token";
inline constexpr char kNobodyToken[] = "fmq-test-nobody-token";

// The directory the tools are taken from.
std::string ToolsBinDir();

class ControlPlane {
 public:
  // Starts etcd and kube-apiserver and waits until the apiserver serves requests.
  static Result<std::unique_ptr<ControlPlane>> Start();
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Admin through the client certificate (mutual TLS, verified against the test CA).
  op::kube::Config AdminConfig() const;
  // A bearer token (verified server certificate).
  op::kube::Config TokenConfig(const std::string& token) const;
  // Writes a kubeconfig with embedded CA and client certificate data for the admin; returns its path.
  std::string WriteAdminKubeconfig(const std::string& name) const;

  const std::string& server() const { return server_; }
  const std::string& workdir() const { return workdir_; }
  const std::string& ca_pem() const { return ca_pem_; }
  // Whether etcd and kube-apiserver are still running (tests check it when something fails).
  Status CheckAlive() const;

 private:
  ControlPlane() = default;
  Status StartEtcd();
  Status StartApiserver();
  void StopAll();

  std::string workdir_;
  std::string tools_;
  std::string server_;
  std::string etcd_url_;
  std::string ca_pem_;
  std::string admin_cert_pem_;
  std::string admin_key_pem_;
  pid_t etcd_pid_ = -1;
  pid_t apiserver_pid_ = -1;
};

}  // namespace fmq::kubetest
