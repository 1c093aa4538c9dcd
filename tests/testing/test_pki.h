#pragma once

// A throw-away PKI for tests: a CA and the certificates it issues, as PEM text (keys in PKCS#8, which Java's
// netty reads too). Used by the kube-apiserver control plane and the TLS tests of the remoting layer.

#include <memory>
#include <string>
#include <vector>

namespace fmq::testing_pki {

struct CertSpec {
  std::string cn{};
  std::vector<std::string> orgs{};
  bool server = false;  // serverAuth as well as clientAuth
  std::string sans{};   // "IP:127.0.0.1,DNS:localhost"
};

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 ("BEGIN PRIVATE KEY")
};

class TestCa {
 public:
  // A self-signed P-256 CA; aborts the test binary when OpenSSL fails (it cannot, short of memory).
  explicit TestCa(const std::string& cn);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const { return cert_pem_; }
  // A P-256 key and a certificate for it signed by this CA.
  KeyPair Issue(const CertSpec& spec);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string cert_pem_;
  long serial_ = 2;
};

// An RSA key as PKCS#8 PEM (key_pem) and its public key as PEM (cert_pem; the apiserver's service-account
// signing key pair).
KeyPair RsaKeyWithPublicPem(int bits);

// Writes `text` to `path` readable by the owner only; false on error.
bool WriteSecretFile(const std::string& path, const std::string& text);

}  // namespace fmq::testing_pki
