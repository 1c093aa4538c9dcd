#pragma once

// The command-line flags every FerryMQ tool that connects to a cluster shares (ferryctl, ferrymq-bench): ACL
// credentials and TLS, with environment variables so secrets stay out of the process list.
//
//   --access-key / $FERRYMQ_ACCESS_KEY, --secret-key / $FERRYMQ_SECRET_KEY   sign every request (ACL 1.0)
//   --tls / $FERRYMQ_TLS=true             connect with TLS (to name servers and brokers)
//   --tls-trust <ca.pem>                  verify servers against this bundle (else any certificate is taken,
//                                         as RocketMQ's clients do by default)
//   --tls-cert <cert.pem> --tls-key <key.pem>   a client certificate for mutual TLS
//
// Thread-safety: call from main() before the tool starts its clients.

#include <CLI/CLI.hpp>

#include <string>

#include "broker/base/status.h"
#include "broker/client/client_core.h"

namespace fmq::client {

struct SecurityFlags {
  std::string access_key;
  std::string secret_key;
  bool tls = false;
  std::string tls_trust;
  std::string tls_cert;
  std::string tls_key;
};

void AddSecurityFlags(CLI::App& app, SecurityFlags* flags);

// Fills the credentials and TLS of `options`; InvalidArgument naming the flag when they cannot be used.
Status ApplySecurityFlags(const SecurityFlags& flags, ClientOptions* options);

}  // namespace fmq::client
