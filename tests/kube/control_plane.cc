#include "tests/kube/control_plane.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"
#include "operator/kube/errors.h"
#include "tests/testing/test_pki.h"

namespace fmq::kubetest {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// ---- files and processes ----

Status WriteFile(const std::string& path, const std::string& text,
                 fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) return Status::IOError("cannot write " + path);
  out.close();
  fs::permissions(path, perms);
  return Status::Ok();
}

std::string Tail(const std::string& path, size_t max_bytes = 3000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Starts `argv` with stdout and stderr appended to `log`; the child dies with this process
// (PR_SET_PDEATHSIG).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(126);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  return pid;
}

bool Running(pid_t pid) {
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, WNOHANG) == 0;
}

void StopProcess(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(milliseconds(20));  // waiting for a process to exit
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
}

// A GET over a plain socket; the body of a 200 answer, or "" on any failure.
std::string HttpGetBody(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (out.rfind("HTTP/1.1 200", 0) != 0 && out.rfind("HTTP/1.0 200", 0) != 0) return "";
  auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

}  // namespace

std::string ToolsBinDir() {
  if (const char* dir = std::getenv("FMQ_TOOLS_DIR"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/bin";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/ferrymq/tools/bin";
}

Result<std::unique_ptr<ControlPlane>> ControlPlane::Start() {
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  cp->tools_ = ToolsBinDir();
  for (const char* tool : {"etcd", "kube-apiserver"}) {
    std::string path = cp->tools_ + "/" + tool;
    if (::access(path.c_str(), X_OK) != 0) {
      return Status::FailedPrecondition(path +
                                        " is missing: run scripts/install_e2e_tools.sh (or point "
                                        "FMQ_TOOLS_DIR at a directory whose bin/ holds etcd and "
                                        "kube-apiserver); the kube-labelled tests need a real apiserver");
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fmq-kube-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return Status::IOError("mkdtemp " + pattern + " failed");
  cp->workdir_ = buf.data();
  fs::create_directories(cp->workdir_ + "/pki");
  fs::create_directories(cp->workdir_ + "/logs");

  // PKI.
  const std::string pki = cp->workdir_ + "/pki/";
  testing_pki::TestCa ca("ferrymq-kube-test-ca");
  testing_pki::KeyPair server =
      ca.Issue({.cn = "kube-apiserver", .server = true, .sans = "IP:127.0.0.1,DNS:localhost"});
  testing_pki::KeyPair admin = ca.Issue({.cn = "ferrymq-test-admin", .orgs = {"system:masters"}});
  testing_pki::KeyPair sa = testing_pki::RsaKeyWithPublicPem(2048);
  cp->ca_pem_ = ca.cert_pem();
  cp->admin_cert_pem_ = admin.cert_pem;
  cp->admin_key_pem_ = admin.key_pem;
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "ca.crt", cp->ca_pem_));
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "apiserver.crt", server.cert_pem));
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "apiserver.key", server.key_pem));
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "sa.key", sa.key_pem));
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "sa.pub", sa.cert_pem));
  FMQ_RETURN_IF_ERROR(WriteFile(pki + "tokens.csv", std::string(kAdminToken) +
                                                        ",fmq-test-admin,uid-admin,\"system:masters\"\n" +
                                                        kNobodyToken + ",nobody,uid-nobody\n"));

  FMQ_RETURN_IF_ERROR(cp->StartEtcd());
  FMQ_RETURN_IF_ERROR(cp->StartApiserver());
  return cp;
}

Status ControlPlane::StartEtcd() {
  std::string log = workdir_ + "/logs/etcd.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    int client = FreePort();
    int peer = FreePort();
    std::string url = "http://127.0.0.1:" + std::to_string(client);
    std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    fs::remove_all(workdir_ + "/etcd");
    etcd_pid_ = Spawn({tools_ + "/etcd",
                       "--name",
                       "kt",
                       "--data-dir",
                       workdir_ + "/etcd",
                       "--listen-client-urls",
                       url,
                       "--advertise-client-urls",
                       url,
                       "--listen-peer-urls",
                       peer_url,
                       "--initial-advertise-peer-urls",
                       peer_url,
                       "--initial-cluster",
                       "kt=" + peer_url,
                       "--initial-cluster-state",
                       "new",
                       "--unsafe-no-fsync",
                       "--log-level",
                       "warn"},
                      log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline && Running(etcd_pid_)) {
      if (HttpGetBody(client, "/health").find("\"health\":\"true\"") != std::string::npos) {
        etcd_url_ = url;
        return Status::Ok();
      }
      std::this_thread::sleep_for(milliseconds(100));  // polling etcd's health endpoint
    }
    StopProcess(etcd_pid_);
    etcd_pid_ = -1;
  }
  return Status::Unavailable("etcd did not become healthy; log " + log + ":\n" + Tail(log));
}

Status ControlPlane::StartApiserver() {
  const std::string pki = workdir_ + "/pki/";
  std::string log = workdir_ + "/logs/kube-apiserver.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = FreePort();
    server_ = "https://127.0.0.1:" + std::to_string(port);
    apiserver_pid_ =
        Spawn({tools_ + "/kube-apiserver", "--etcd-servers=" + etcd_url_, "--bind-address=127.0.0.1",
               "--advertise-address=127.0.0.1", "--secure-port=" + std::to_string(port),
               "--tls-cert-file=" + pki + "apiserver.crt", "--tls-private-key-file=" + pki + "apiserver.key",
               "--client-ca-file=" + pki + "ca.crt", "--token-auth-file=" + pki + "tokens.csv",
               "--service-account-key-file=" + pki + "sa.pub",
               "--service-account-signing-key-file=" + pki + "sa.key",
               "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
               "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC",
               "--enable-priority-and-fairness=false", "--profiling=false", "--v=1"},
              log);
    auto client =
        op::kube::Client::New(AdminConfig(), {.request_timeout = milliseconds(3000), .max_attempts = 1});
    if (!client.ok()) return client.status();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline && Running(apiserver_pid_)) {
      // Serving, and the bootstrap controllers made the default namespace.
      if ((*client)->ServerVersion().ok() &&
          (*client)->Get(op::kube::kinds::kNamespace, "", "default").ok()) {
        return Status::Ok();
      }
      std::this_thread::sleep_for(milliseconds(200));  // polling the apiserver until it serves
    }
    bool died = !Running(apiserver_pid_);
    StopProcess(apiserver_pid_);
    apiserver_pid_ = -1;
    if (!died) break;  // it ran but never became ready: another port will not help
  }
  return Status::Unavailable("kube-apiserver did not become ready at " + server_ + "; log " + log + ":\n" +
                             Tail(log));
}

ControlPlane::~ControlPlane() {
  StopAll();
  const char* keep = std::getenv("FMQ_E2E_KEEP");
  if (!workdir_.empty() && !(keep != nullptr && std::string(keep) == "1")) {
    std::error_code ec;
    fs::remove_all(workdir_, ec);
  }
}

void ControlPlane::StopAll() {
  StopProcess(apiserver_pid_);
  apiserver_pid_ = -1;
  StopProcess(etcd_pid_);
  etcd_pid_ = -1;
}

Status ControlPlane::CheckAlive() const {
  if (!Running(etcd_pid_)) return Status::Unavailable("etcd exited; see " + workdir_ + "/logs/etcd.log");
  if (!Running(apiserver_pid_)) {
    return Status::Unavailable("kube-apiserver exited; see " + workdir_ + "/logs/kube-apiserver.log");
  }
  return Status::Ok();
}

op::kube::Config ControlPlane::AdminConfig() const {
  op::kube::Config c;
  c.server = server_;
  c.ca_pem = ca_pem_;
  c.client_cert_pem = admin_cert_pem_;
  c.client_key_pem = admin_key_pem_;
  c.source = "kube test control plane (admin certificate)";
  return c;
}

op::kube::Config ControlPlane::TokenConfig(const std::string& token) const {
  op::kube::Config c;
  c.server = server_;
  c.ca_pem = ca_pem_;
  c.token = token;
  c.source = "kube test control plane (token)";
  return c;
}

std::string ControlPlane::WriteAdminKubeconfig(const std::string& name) const {
  nlohmann::json cfg = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "kt"},
         {"cluster",
          {{"server", server_}, {"certificate-authority-data", op::kube::Base64Encode(ca_pem_)}}}}}},
      {"users",
       {{{"name", "admin"},
         {"user",
          {{"client-certificate-data", op::kube::Base64Encode(admin_cert_pem_)},
           {"client-key-data", op::kube::Base64Encode(admin_key_pem_)}}}}}},
      {"contexts",
       {{{"name", "kt"}, {"context", {{"cluster", "kt"}, {"user", "admin"}, {"namespace", "kt-ns"}}}}}},
      {"current-context", "kt"}};
  std::string path = workdir_ + "/" + name;
  std::ofstream(path) << cfg.dump(1);
  return path;
}

}  // namespace fmq::kubetest
