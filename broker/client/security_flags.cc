#include "broker/client/security_flags.h"

namespace fmq::client {

void AddSecurityFlags(CLI::App& app, SecurityFlags* f) {
  app.add_option("--access-key", f->access_key, "ACL access key to sign requests with")
      ->envname("FERRYMQ_ACCESS_KEY");
  app.add_option("--secret-key", f->secret_key,
                 "ACL secret key (prefer $FERRYMQ_SECRET_KEY: a flag shows in the process list)")
      ->envname("FERRYMQ_SECRET_KEY");
  app.add_flag("--tls", f->tls, "connect with TLS")->envname("FERRYMQ_TLS");
  app.add_option("--tls-trust", f->tls_trust, "CA bundle to verify servers with (default: any certificate)")
      ->envname("FERRYMQ_TLS_TRUST");
  app.add_option("--tls-cert", f->tls_cert, "client certificate for mutual TLS")->envname("FERRYMQ_TLS_CERT");
  app.add_option("--tls-key", f->tls_key, "key of --tls-cert")->envname("FERRYMQ_TLS_KEY");
}

Status ApplySecurityFlags(const SecurityFlags& f, ClientOptions* o) {
  if (f.access_key.empty() != f.secret_key.empty()) {
    return Status::InvalidArgument("--access-key and --secret-key go together");
  }
  o->access_key = f.access_key;
  o->secret_key = f.secret_key;
  const bool tls = f.tls || !f.tls_trust.empty() || !f.tls_cert.empty();
  if (!tls) return Status::Ok();
  if (f.tls_cert.empty() != f.tls_key.empty())
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  auto source = net::TlsContextSource::Create(
      net::TlsFiles{.cert_path = f.tls_cert, .key_path = f.tls_key, .trust_cert_path = f.tls_trust},
      /*client=*/true);
  if (!source.ok()) return source.status();
  o->tls = *source;
  return Status::Ok();
}

}  // namespace fmq::client
