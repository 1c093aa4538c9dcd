#include "broker/acl/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace fmq::acl {
namespace {

std::string Content(const std::map<std::string, std::string>& ext_fields, std::string_view body,
                    bool server) {
  std::string out;
  size_t n = body.size();
  for (const auto& [k, v] : ext_fields) n += v.size();
  out.reserve(n);
  for (const auto& [k, v] : ext_fields) {  // std::map orders keys as Java's TreeMap does for ASCII keys
    if (k == kSignatureField || (server && k == kUniqueKeyQueryField)) continue;
    out += v;
  }
  out += body;
  return out;
}

}  // namespace

std::string ClientSignatureContent(const std::map<std::string, std::string>& ext_fields,
                                   std::string_view body) {
  return Content(ext_fields, body, /*server=*/false);
}

std::string ServerSignatureContent(const std::map<std::string, std::string>& ext_fields,
                                   std::string_view body) {
  return Content(ext_fields, body, /*server=*/true);
}

std::string Sign(std::string_view content, std::string_view secret_key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret_key.data(), static_cast<int>(secret_key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_len);
  std::string b64(4 * ((mac_len + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(mac_len));
  b64.resize(static_cast<size_t>(written));
  return b64;
}

void SignRequest(std::map<std::string, std::string>& ext_fields, std::string_view body,
                 std::string_view access_key, std::string_view secret_key) {
  ext_fields.erase(std::string(kSignatureField));
  ext_fields[std::string(kAccessKeyField)] = std::string(access_key);
  ext_fields[std::string(kSignatureField)] = Sign(ClientSignatureContent(ext_fields, body), secret_key);
}

bool SignaturesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace fmq::acl
