#pragma once

// TLS for the remoting ports, on OpenSSL with memory BIOs: a TlsSession turns the bytes read from a socket
// into plaintext (and handshake bytes to send back) and plaintext into ciphertext, without touching the
// socket, so the Connection keeps its own read and write paths (direct writes, gather writes, the strand) for
// both.
//
//  * TlsContext: an SSL_CTX for a server (certificate chain and key; optional client-certificate
//    verification against a trust bundle) or a client (optional server verification; an optional certificate
//    for mutual TLS). TLS 1.2 and 1.3 only. Immutable once built; shared by the sessions made from it.
//  * TlsContextSource: the current TlsContext of a set of files, rebuilt when one of them changes (checked at
//    most once a second, when a connection asks): a renewed certificate applies to new connections without a
//    restart; files that fail to load keep the previous context and are reported once.
//  * TlsMode: how a server port treats a new connection (RocketMQ's tlsMode): kDisabled (plaintext only; a
//    TLS client is closed by the frame decoder), kPermissive (the first byte decides: 0x16, a TLS handshake,
//    means TLS, anything else plaintext), kEnforcing (TLS only; a plaintext peer is closed).
//
// Thread-safety: TlsContext is immutable; TlsContextSource is thread-safe; a TlsSession is not (its owner
// serializes calls).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace fmq::net {

enum class TlsMode : uint8_t { kDisabled, kPermissive, kEnforcing };
// "disabled", "permissive", "enforcing" (RocketMQ's tls.server.mode values).
std::optional<TlsMode> ParseTlsMode(std::string_view text);
std::string_view TlsModeName(TlsMode mode);

enum class TlsClientAuth : uint8_t { kNone, kOptional, kRequire };
// "none", "optional", "require" (RocketMQ's tls.server.need.client.auth values).
std::optional<TlsClientAuth> ParseTlsClientAuth(std::string_view text);

// Files of a server or client context. PEM; keys in PKCS#8 or traditional form, unencrypted.
struct TlsFiles {
  std::string cert_path{};  // server: required; client: only for mutual TLS
  std::string key_path{};   // goes with cert_path
  std::string
      trust_cert_path{};  // server: CA bundle client certificates must chain to; client: verify the server
  TlsClientAuth client_auth = TlsClientAuth::kNone;  // server only
};

// The TLS settings of a program, from RocketMQ's keys (broker.conf, namesrv.conf; Apache reads the same keys
// as system properties or from tls.properties):
//   tls.server.mode                  disabled | permissive | enforcing (FerryMQ's default: disabled)
//   tls.server.certPath, tls.server.keyPath, tls.server.trustCertPath
//   tls.server.need.client.auth      none | optional | require
//   tls.enable                       this program's own connections (a broker's to name servers and its
//                                    master; a client's to everything) use TLS
//   tls.client.certPath, tls.client.keyPath   a certificate for mutual TLS
//   tls.client.trustCertPath         verify servers against this bundle (without it, as Apache's default
//                                    tls.client.authServer=false, any server certificate is accepted)
struct TlsSettings {
  TlsMode server_mode = TlsMode::kDisabled;
  TlsFiles server{};
  bool client_enable = false;
  TlsFiles client{};
};
// Applies one tls.* key; NotFound for any other key, InvalidArgument for a bad value.
Status ApplyTlsProperty(const std::string& key, const std::string& value, TlsSettings* settings);

class TlsContext {
 public:
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // InvalidArgument naming the file and OpenSSL's reason when a file is missing, unreadable or does not
  // match.
  static Result<std::shared_ptr<const TlsContext>> ForServer(const TlsFiles& files);
  static Result<std::shared_ptr<const TlsContext>> ForClient(const TlsFiles& files);

  SSL_CTX* native() const { return ctx_; }
  bool client() const { return client_; }

 private:
  TlsContext(SSL_CTX* ctx, bool client) : ctx_(ctx), client_(client) {}
  SSL_CTX* ctx_;
  bool client_;
};

class TlsContextSource {
 public:
  // Loads the files once (an error here is the caller's start-up error).
  static Result<std::shared_ptr<TlsContextSource>> Create(TlsFiles files, bool client);

  // The context to use for a new connection; reloads first when a file changed since the last check.
  std::shared_ptr<const TlsContext> Current() FMQ_EXCLUDES(mu_);
  const TlsFiles& files() const { return files_; }
  int reloads() const FMQ_EXCLUDES(mu_);

 private:
  TlsContextSource(TlsFiles files, bool client) : files_(std::move(files)), client_(client) {}
  std::vector<int64_t> Stamps() const;  // hashes of the files' contents

  const TlsFiles files_;
  const bool client_;
  mutable Mutex mu_;
  std::shared_ptr<const TlsContext> current_ FMQ_GUARDED_BY(mu_);
  std::vector<int64_t> stamps_ FMQ_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point checked_ FMQ_GUARDED_BY(mu_);
  std::vector<int64_t> failed_stamps_ FMQ_GUARDED_BY(mu_);  // files that failed to load, reported once
  int reloads_ FMQ_GUARDED_BY(mu_) = 0;
};

class TlsSession {
 public:
  TlsSession(std::shared_ptr<const TlsContext> context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // A client's first flight (ClientHello) into `out`; nothing for a server.
  Status Start(std::string* out);
  // Bytes from the peer: the plaintext they carry is appended to `plain`, bytes to send back (handshake,
  // alerts) to `out`. An error is a failed handshake or a corrupt stream: close the connection.
  Status Feed(std::span<const uint8_t> in, std::string* plain, std::string* out);
  // Encrypts `plain` into `out`. REQUIRES: handshake_done().
  Status Encrypt(std::string_view plain, std::string* out);
  bool handshake_done() const { return handshake_done_; }
  // The peer certificate's subject ("CN=...,O=..."), empty without one.
  std::string PeerSubject() const;

 private:
  void Drain(std::string* out);  // what OpenSSL wrote for the peer

  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  bool handshake_done_ = false;
};

}  // namespace fmq::net
