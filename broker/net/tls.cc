#include "broker/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "broker/base/logging.h"

namespace fmq::net {
namespace {

// OpenSSL's queued errors of this thread, as one line (empties the queue).
std::string OpensslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status Fail(const std::string& what) { return Status::InvalidArgument(what + ": " + OpensslErrors()); }

Status LoadCertAndKey(SSL_CTX* ctx, const TlsFiles& f) {
  if (SSL_CTX_use_certificate_chain_file(ctx, f.cert_path.c_str()) != 1) {
    return Fail("TLS certificate " + f.cert_path + " cannot be used");
  }
  if (f.key_path.empty())
    return Status::InvalidArgument("TLS certificate " + f.cert_path + " needs its key file");
  if (SSL_CTX_use_PrivateKey_file(ctx, f.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Fail("TLS key " + f.key_path +
                " cannot be used (unreadable, encrypted, or it does not belong to certificate " +
                f.cert_path + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Fail("TLS key " + f.key_path + " does not belong to certificate " + f.cert_path);
  }
  return Status::Ok();
}

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

}  // namespace

std::optional<TlsMode> ParseTlsMode(std::string_view text) {
  if (text == "disabled") return TlsMode::kDisabled;
  if (text == "permissive") return TlsMode::kPermissive;
  if (text == "enforcing") return TlsMode::kEnforcing;
  return std::nullopt;
}

std::string_view TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisabled:
      return "disabled";
    case TlsMode::kPermissive:
      return "permissive";
    case TlsMode::kEnforcing:
      return "enforcing";
  }
  return "?";
}

std::optional<TlsClientAuth> ParseTlsClientAuth(std::string_view text) {
  if (text == "none") return TlsClientAuth::kNone;
  if (text == "optional") return TlsClientAuth::kOptional;
  if (text == "require") return TlsClientAuth::kRequire;
  return std::nullopt;
}

Status ApplyTlsProperty(const std::string& key, const std::string& value, TlsSettings* t) {
  if (key == "tls.server.mode") {
    auto m = ParseTlsMode(value);
    if (!m)
      return Status::InvalidArgument("config key tls.server.mode: '" + value +
                                     "' is not disabled, permissive or enforcing");
    t->server_mode = *m;
  } else if (key == "tls.server.need.client.auth") {
    auto a = ParseTlsClientAuth(value);
    if (!a)
      return Status::InvalidArgument("config key tls.server.need.client.auth: '" + value +
                                     "' is not none, optional or require");
    t->server.client_auth = *a;
  } else if (key == "tls.server.certPath") {
    t->server.cert_path = value;
  } else if (key == "tls.server.keyPath") {
    t->server.key_path = value;
  } else if (key == "tls.server.trustCertPath") {
    t->server.trust_cert_path = value;
  } else if (key == "tls.enable") {
    if (value != "true" && value != "false")
      return Status::InvalidArgument("config key tls.enable: '" + value + "' is not true or false");
    t->client_enable = value == "true";
  } else if (key == "tls.client.certPath") {
    t->client.cert_path = value;
  } else if (key == "tls.client.keyPath") {
    t->client.key_path = value;
  } else if (key == "tls.client.trustCertPath") {
    t->client.trust_cert_path = value;
  } else {
    return Status::NotFound(key);
  }
  return Status::Ok();
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::shared_ptr<const TlsContext>> TlsContext::ForServer(const TlsFiles& f) {
  ERR_clear_error();
  if (f.cert_path.empty())
    return Status::InvalidArgument("TLS on a server port needs a certificate and key file");
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Fail("TLS server context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  FMQ_RETURN_IF_ERROR(LoadCertAndKey(ctx.get(), f));
  if (f.client_auth != TlsClientAuth::kNone) {
    if (f.trust_cert_path.empty()) {
      return Status::InvalidArgument(
          "verifying client certificates needs a trust bundle (tls.server.trustCertPath)");
    }
    if (SSL_CTX_load_verify_locations(ctx.get(), f.trust_cert_path.c_str(), nullptr) != 1) {
      return Fail("TLS trust bundle " + f.trust_cert_path + " cannot be used");
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.trust_cert_path.c_str())) {
      SSL_CTX_set_client_CA_list(ctx.get(), names);
    }
    SSL_CTX_set_verify(
        ctx.get(),
        SSL_VERIFY_PEER | (f.client_auth == TlsClientAuth::kRequire ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  }
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx.release(), /*client=*/false));
}

Result<std::shared_ptr<const TlsContext>> TlsContext::ForClient(const TlsFiles& f) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Fail("TLS client context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!f.cert_path.empty()) FMQ_RETURN_IF_ERROR(LoadCertAndKey(ctx.get(), f));
  if (!f.trust_cert_path.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), f.trust_cert_path.c_str(), nullptr) != 1) {
      return Fail("TLS trust bundle " + f.trust_cert_path + " cannot be used");
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // as RocketMQ's tls.client.authServer=false
  }
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx.release(), /*client=*/true));
}

Result<std::shared_ptr<TlsContextSource>> TlsContextSource::Create(TlsFiles files, bool client) {
  std::shared_ptr<TlsContextSource> source(new TlsContextSource(std::move(files), client));
  auto ctx = client ? TlsContext::ForClient(source->files_) : TlsContext::ForServer(source->files_);
  if (!ctx.ok()) return ctx.status();
  MutexLock lock(&source->mu_);
  source->current_ = *ctx;
  source->stamps_ = source->Stamps();
  source->checked_ = std::chrono::steady_clock::now();
  return source;
}

std::vector<int64_t> TlsContextSource::Stamps() const {
  // The files' contents, hashed: a renewal can keep the size and land within the file system's timestamp
  // granularity, and a Kubernetes Secret volume swaps a symlink. The files are a few KiB, read once a second.
  std::vector<int64_t> out;
  for (const std::string* p : {&files_.cert_path, &files_.key_path, &files_.trust_cert_path}) {
    if (p->empty()) continue;
    std::ifstream in(*p, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out.push_back(
        in.bad() || !std::filesystem::exists(*p) ? -1 : static_cast<int64_t>(std::hash<std::string>{}(text)));
  }
  return out;
}

std::shared_ptr<const TlsContext> TlsContextSource::Current() {
  MutexLock lock(&mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return current_;
  checked_ = now;
  std::vector<int64_t> stamps = Stamps();
  if (stamps == stamps_ || stamps == failed_stamps_) return current_;
  auto ctx = client_ ? TlsContext::ForClient(files_) : TlsContext::ForServer(files_);
  if (!ctx.ok()) {
    failed_stamps_ = std::move(stamps);
    GetLogger("net")->error(
        "TLS files changed but cannot be used; new connections keep the previous ones: {}",
        ctx.status().message());
    return current_;
  }
  current_ = *ctx;
  stamps_ = std::move(stamps);
  ++reloads_;
  GetLogger("net")->info("TLS files reloaded: cert={} trust={}", files_.cert_path, files_.trust_cert_path);
  return current_;
}

int TlsContextSource::reloads() const {
  MutexLock lock(&mu_);
  return reloads_;
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context) : context_(std::move(context)) {
  ssl_ = SSL_new(context_->native());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);  // an empty input is "want more", not end of stream
  SSL_set_bio(ssl_, in_, out_);
  if (context_->client()) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::Drain(std::string* out) {
  while (size_t pending = BIO_ctrl_pending(out_)) {
    const size_t at = out->size();
    out->resize(at + pending);
    const int n = BIO_read(out_, out->data() + at, static_cast<int>(pending));
    out->resize(at + static_cast<size_t>(std::max(n, 0)));
    if (n <= 0) break;
  }
}

Status TlsSession::Start(std::string* out) {
  if (!context_->client()) return Status::Ok();
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  const int e = SSL_get_error(ssl_, r);
  if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return Fail("TLS handshake");
  Drain(out);
  return Status::Ok();
}

Status TlsSession::Feed(std::span<const uint8_t> in, std::string* plain, std::string* out) {
  ERR_clear_error();
  if (!in.empty() && BIO_write(in_, in.data(), static_cast<int>(in.size())) != static_cast<int>(in.size())) {
    return Status::Internal("TLS input buffer refused " + std::to_string(in.size()) + " bytes");
  }
  if (!handshake_done_) {
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      handshake_done_ = true;
    } else {
      const int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        std::string reason = OpensslErrors();
        Drain(out);  // the alert tells the peer why
        if (long v = SSL_get_verify_result(ssl_); v != X509_V_OK) {
          reason += " (certificate: " + std::string(X509_verify_cert_error_string(v)) + ")";
        }
        return Status::Unauthenticated("TLS handshake failed: " + reason);
      }
    }
  }
  if (handshake_done_) {
    char buf[16 * 1024];
    while (true) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        plain->append(buf, static_cast<size_t>(n));
        continue;
      }
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      Drain(out);
      if (e == SSL_ERROR_ZERO_RETURN) return Status::Unavailable("the peer ended the TLS session");
      return Status::InvalidArgument("TLS stream corrupt: " + OpensslErrors());
    }
  }
  Drain(out);
  return Status::Ok();
}

Status TlsSession::Encrypt(std::string_view plain, std::string* out) {
  ERR_clear_error();
  while (!plain.empty()) {
    const int chunk = static_cast<int>(std::min<size_t>(plain.size(), 1 << 30));
    const int n = SSL_write(ssl_, plain.data(), chunk);
    if (n <= 0) return Status::Internal("TLS encrypt failed: " + OpensslErrors());
    plain.remove_prefix(static_cast<size_t>(n));
  }
  Drain(out);
  return Status::Ok();
}

std::string TlsSession::PeerSubject() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  X509_free(cert);
  return buf;
}

}  // namespace fmq::net
