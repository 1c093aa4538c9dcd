#include "operator/runtime/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace fmq::op::runtime {
namespace {

// One HTTP/1.0 GET over a plain socket: returns the whole answer ("" if the connection fails).
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(AdminServerTest, ServesMetricsAndProbes) {
  MetricRegistry registry;
  registry.AddCounter("ferrymq_operator_kube_writes_total", "w", {"verb"}).WithLabels({"apply"}).Inc(3);
  bool ready = false;
  AdminServer server("127.0.0.1:0");
  server.ServeMetrics(&registry);
  server.AddHealthCheck("ping", [] { return Status::Ok(); });
  server.AddReadyCheck("leader-election", [] { return Status::Ok(); });
  server.AddReadyCheck("informers-synced",
                       [&] { return ready ? Status::Ok() : Status::Unavailable("topics not synced"); });
  ASSERT_TRUE(server.Start().ok());
  int port = server.port();
  ASSERT_GT(port, 0);

  std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("HTTP/1.1 200 OK"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ferrymq_operator_kube_writes_total{verb=\"apply\"} 3"), std::string::npos)
      << metrics;

  std::string healthz = HttpGet(port, "/healthz");
  EXPECT_NE(healthz.find("200 OK"), std::string::npos);
  EXPECT_EQ(healthz.substr(healthz.size() - 2), "ok");

  std::string readyz = HttpGet(port, "/readyz");
  EXPECT_NE(readyz.find("500 Internal Server Error"), std::string::npos) << readyz;
  EXPECT_NE(readyz.find("[-]informers-synced failed: topics not synced"), std::string::npos) << readyz;
  ready = true;
  std::string verbose = HttpGet(port, "/readyz?verbose");
  EXPECT_NE(verbose.find("200 OK"), std::string::npos);
  EXPECT_NE(verbose.find("[+]leader-election ok"), std::string::npos) << verbose;
  EXPECT_NE(HttpGet(port, "/nope").find("404"), std::string::npos);
  server.Stop();
  EXPECT_EQ(HttpGet(port, "/healthz"), "");
}

TEST(AdminServerTest, ZeroDisablesAndBadAddressesAreErrors) {
  AdminServer off("0");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Start().ok());
  EXPECT_EQ(off.port(), 0);
  AdminServer bad("nonsense");
  EXPECT_EQ(bad.Start().code(), StatusCode::kInvalidArgument);
  AdminServer first("127.0.0.1:0");
  ASSERT_TRUE(first.Start().ok());
  AdminServer second("127.0.0.1:" + std::to_string(first.port()));
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("already in use"), std::string::npos) << s;
}

}  // namespace
}  // namespace fmq::op::runtime
