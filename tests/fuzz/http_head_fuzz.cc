// libFuzzer target for the HTTP request-head parser every HTTP port uses (broker/net/http_server.h: the
// broker's /metrics, the operator's metrics and probes): any bytes. Nothing may crash or hang; an accepted
// head has a method, a target starting with the path, and a body length the server then reads.

#include <cstdint>
#include <string_view>

#include "broker/base/check.h"
#include "broker/net/http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  auto h = fmq::net::ParseHttpRequestHead(head);
  if (!h.ok()) return 0;
  FMQ_CHECK(!h->request.method.empty());
  FMQ_CHECK(h->request.target.starts_with(h->request.path));
  FMQ_CHECK(h->request.version == "HTTP/1.0" || h->request.version == "HTTP/1.1");
  for (const auto& [name, value] : h->request.headers) {
    FMQ_CHECK(!name.empty());
    FMQ_CHECK(name.find('\n') == std::string::npos && value.find('\n') == std::string::npos);
  }
  return 0;
}
