#include "tests/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fmq::testing_pki {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "test_pki: %s failed\n", what);
  std::abort();
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string KeyPem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioString(b);
}

std::string CertPem(X509* cert) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  return BioString(b);
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

// Issues a certificate for `key`, signed by issuer/issuer_key (self-signed CA when issuer is null).
Cert Issue(const CertSpec& spec, bool ca, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  Cert cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  for (const auto& o : spec.orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(o.c_str()), -1,
                               -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : x;
  X509_set_issuer_name(x, X509_get_subject_name(signer));
  bool ok = true;
  if (ca) {
    ok &= AddExt(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    ok &= AddExt(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    ok &= AddExt(x, signer, NID_subject_key_identifier, "hash");
  } else {
    ok &= AddExt(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    ok &= AddExt(x, signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    ok &= AddExt(x, signer, NID_ext_key_usage, spec.server ? "serverAuth,clientAuth" : "clientAuth");
    ok &= AddExt(x, signer, NID_authority_key_identifier, "keyid");
    if (!spec.sans.empty()) ok &= AddExt(x, signer, NID_subject_alt_name, spec.sans);
  }
  if (!ok || X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0)
    Die("certificate signing");
  return cert;
}

}  // namespace

struct TestCa::Impl {
  Key key;
  Cert cert;
};

TestCa::TestCa(const std::string& cn) : impl_(std::make_unique<Impl>()) {
  impl_->key.reset(EVP_EC_gen("P-256"));
  if (!impl_->key) Die("CA key generation");
  impl_->cert =
      fmq::testing_pki::Issue(CertSpec{.cn = cn}, /*ca=*/true, impl_->key.get(), nullptr, nullptr, 1);
  cert_pem_ = CertPem(impl_->cert.get());
}

TestCa::~TestCa() = default;

KeyPair TestCa::Issue(const CertSpec& spec) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) Die("key generation");
  Cert cert =
      fmq::testing_pki::Issue(spec, /*ca=*/false, key.get(), impl_->cert.get(), impl_->key.get(), serial_++);
  return KeyPair{CertPem(cert.get()), KeyPem(key.get())};
}

KeyPair RsaKeyWithPublicPem(int bits) {
  Key key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) Die("RSA key generation");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key.get());
  return KeyPair{BioString(b), KeyPem(key.get())};
}

bool WriteSecretFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) return false;
  out.close();
  std::error_code ec;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               ec);
  return !ec;
}

}  // namespace fmq::testing_pki
