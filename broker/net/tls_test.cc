// TLS on the remoting layer: sessions, the three server modes, mutual TLS, bad input on TLS and plaintext
// ports, and certificate reload, with certificates from a throw-away CA (tests/testing/test_pki.h).

#include "broker/net/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "broker/base/poll.h"
#include "broker/net/net_test_util.h"
#include "broker/net/remoting_client.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "tests/testing/test_pki.h"

namespace fmq::net {
namespace {

using protocol::RemotingCommand;
namespace rc = protocol::response_code;
constexpr int32_t kEcho = 9001;
constexpr auto kTimeout = std::chrono::seconds(10);

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("fmq-tls-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto server = ca_.Issue({.cn = "broker", .server = true, .sans = "IP:127.0.0.1"});
    auto client = ca_.Issue({.cn = "app-orders"});
    auto stranger = other_ca_.Issue({.cn = "stranger"});
    Write("ca.pem", ca_.cert_pem());
    Write("other-ca.pem", other_ca_.cert_pem());
    Write("server.pem", server.cert_pem);
    Write("server.key", server.key_pem);
    Write("client.pem", client.cert_pem);
    Write("client.key", client.key_pem);
    Write("stranger.pem", stranger.cert_pem);
    Write("stranger.key", stranger.key_pem);
    ASSERT_TRUE(executor_.Start().ok());
  }
  void TearDown() override {
    for (auto& s : servers_) s->Stop();
    for (auto& c : clients_) c->Stop();
    executor_.Stop();
    std::filesystem::remove_all(dir_);
  }

  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(testing_pki::WriteSecretFile(Path(name), text));
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  TlsFiles ServerFiles(TlsClientAuth auth = TlsClientAuth::kNone) const {
    return TlsFiles{.cert_path = Path("server.pem"),
                    .key_path = Path("server.key"),
                    .trust_cert_path = auth == TlsClientAuth::kNone ? "" : Path("ca.pem"),
                    .client_auth = auth};
  }

  // A server on a free port answering kEcho; returns "127.0.0.1:port".
  std::string StartServer(TlsMode mode, TlsFiles files) {
    ServerConfig sc{.host = "127.0.0.1", .port = 0, .io_threads = 1};
    sc.tls_mode = mode;
    if (mode != TlsMode::kDisabled) {
      auto source = TlsContextSource::Create(files, /*client=*/false);
      EXPECT_TRUE(source.ok()) << source.status();
      sc.tls = *source;
    }
    auto server = std::make_unique<RemotingServer>(sc);
    server->Register(
        kEcho,
        [](RemotingCommand req, Responder r) {
          RemotingCommand resp;
          resp.code = rc::kSuccess;
          resp.body = req.body;
          r.Send(std::move(resp));
        },
        &executor_);
    EXPECT_TRUE(server->Start().ok());
    std::string addr = "127.0.0.1:" + std::to_string(server->port());
    servers_.push_back(std::move(server));
    return addr;
  }

  // A client: plaintext when `files` is null, else TLS with those files.
  RemotingClient* NewClient(const TlsFiles* files) {
    ClientConfig cc;
    if (files != nullptr) {
      auto source = TlsContextSource::Create(*files, /*client=*/true);
      EXPECT_TRUE(source.ok()) << source.status();
      cc.tls = *source;
    }
    clients_.push_back(std::make_unique<RemotingClient>(cc));
    EXPECT_TRUE(clients_.back()->Start().ok());
    return clients_.back().get();
  }

  static Result<RemotingCommand> Echo(RemotingClient* c, const std::string& addr, std::string body) {
    RemotingCommand req = RemotingCommand::Request(kEcho, 0);
    req.body = std::move(body);
    return c->InvokeSync(addr, req, kTimeout);
  }

  static int RawConnect(const std::string& addr) {
    return testing::RawConnect(std::stoi(addr.substr(addr.rfind(':') + 1)));
  }
  // Sends `bytes`, then reads until the server closes; true when it closed (rather than timing out).
  static bool ServerCloses(const std::string& addr, const std::string& bytes) {
    int fd = RawConnect(addr);
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  std::filesystem::path dir_;
  testing_pki::TestCa ca_{"ferrymq-test-ca"};
  testing_pki::TestCa other_ca_{"someone-elses-ca"};
  BoundedExecutor executor_{"test", 2, 64};
  std::vector<std::unique_ptr<RemotingServer>> servers_;
  std::vector<std::unique_ptr<RemotingClient>> clients_;
};

TEST_F(TlsTest, SessionsHandshakeAndCarryBytesBothWays) {
  auto server_ctx = TlsContext::ForServer(ServerFiles());
  auto client_ctx = TlsContext::ForClient(TlsFiles{.trust_cert_path = Path("ca.pem")});
  ASSERT_TRUE(server_ctx.ok() && client_ctx.ok());
  TlsSession server(*server_ctx), client(*client_ctx);
  std::string to_server, to_client, plain;
  ASSERT_TRUE(client.Start(&to_server).ok());
  for (int round = 0; round < 4 && !(client.handshake_done() && server.handshake_done()); ++round) {
    std::string a, b;
    ASSERT_TRUE(
        server.Feed({reinterpret_cast<const uint8_t*>(to_server.data()), to_server.size()}, &plain, &a).ok());
    to_server.clear();
    ASSERT_TRUE(client.Feed({reinterpret_cast<const uint8_t*>(a.data()), a.size()}, &plain, &b).ok());
    to_server = b;
  }
  ASSERT_TRUE(client.handshake_done());
  std::string cipher;
  ASSERT_TRUE(client.Encrypt("hello broker", &cipher).ok());
  EXPECT_EQ(cipher.find("hello broker"), std::string::npos) << "encrypted on the wire";
  cipher = to_server + cipher;  // what the client still owed the server (TLS 1.3 Finished)
  std::string got, back;
  ASSERT_TRUE(
      server.Feed({reinterpret_cast<const uint8_t*>(cipher.data()), cipher.size()}, &got, &back).ok());
  EXPECT_EQ(got, "hello broker");
  EXPECT_TRUE(server.handshake_done());
}

TEST_F(TlsTest, PermissiveServesTlsAndPlaintextOnOnePort) {
  const std::string addr = StartServer(TlsMode::kPermissive, ServerFiles());
  TlsFiles trusting{.trust_cert_path = Path("ca.pem")};
  RemotingClient* tls = NewClient(&trusting);
  RemotingClient* plain = NewClient(nullptr);
  for (int i = 0; i < 20; ++i) {
    auto a = Echo(tls, addr, "tls " + std::to_string(i));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->body, "tls " + std::to_string(i));
    auto b = Echo(plain, addr, "plain");
    ASSERT_TRUE(b.ok()) << b.status();
  }
  // A large frame crosses many TLS records and many reads.
  std::string big(3 * 1024 * 1024, 'x');
  auto r = Echo(tls, addr, big);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body.size(), big.size());
}

TEST_F(TlsTest, EnforcingRefusesPlaintextAndDisabledRefusesTls) {
  const std::string enforcing = StartServer(TlsMode::kEnforcing, ServerFiles());
  TlsFiles no_verify{};
  EXPECT_TRUE(Echo(NewClient(&no_verify), enforcing, "tls").ok());
  auto refused = Echo(NewClient(nullptr), enforcing, "plain");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status();

  const std::string disabled = StartServer(TlsMode::kDisabled, {});
  auto tls_on_plain = Echo(NewClient(&no_verify), disabled, "tls");
  EXPECT_FALSE(tls_on_plain.ok()) << "a ClientHello is not a remoting frame: that connection closes";
  EXPECT_TRUE(Echo(NewClient(nullptr), disabled, "plain").ok()) << "and only that one";
}

TEST_F(TlsTest, GarbageClosesOnlyItsOwnConnection) {
  const std::string addr = StartServer(TlsMode::kPermissive, ServerFiles());
  TlsFiles no_verify{};
  RemotingClient* good = NewClient(&no_verify);
  ASSERT_TRUE(Echo(good, addr, "before").ok());
  std::mt19937 rng(7);
  std::string junk(2048, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  // A whole handshake record whose ClientHello is nonsense.
  std::string fake_hello = std::string("\x16\x03\x01\x00\x40\x01\x00\x00\x3c", 9) + junk.substr(0, 60);
  int i = 0;
  for (const std::string& bad : {std::string("GET /metrics HTTP/1.1\r\nHost: b\r\n\r\n"), junk,
                                 std::string("\x16") + junk, fake_hello}) {
    SCOPED_TRACE(i++);
    EXPECT_TRUE(ServerCloses(addr, bad)) << "the server closes a connection that sent garbage";
    auto after = Echo(good, addr, "after");
    ASSERT_TRUE(after.ok()) << "other connections are unaffected: " << after.status();
  }
}

TEST_F(TlsTest, MutualTlsRequiresACertificateFromTheTrustedCa) {
  const std::string addr = StartServer(TlsMode::kEnforcing, ServerFiles(TlsClientAuth::kRequire));
  TlsFiles with_cert{
      .cert_path = Path("client.pem"), .key_path = Path("client.key"), .trust_cert_path = Path("ca.pem")};
  EXPECT_TRUE(Echo(NewClient(&with_cert), addr, "mtls").ok());
  TlsFiles without_cert{.trust_cert_path = Path("ca.pem")};
  EXPECT_FALSE(Echo(NewClient(&without_cert), addr, "no cert").ok());
  TlsFiles stranger{.cert_path = Path("stranger.pem"), .key_path = Path("stranger.key")};
  EXPECT_FALSE(Echo(NewClient(&stranger), addr, "other CA").ok());
}

TEST_F(TlsTest, AClientThatVerifiesRefusesAServerFromAnotherCa) {
  const std::string addr = StartServer(TlsMode::kEnforcing, ServerFiles());
  TlsFiles wrong_trust{.trust_cert_path = Path("other-ca.pem")};
  EXPECT_FALSE(Echo(NewClient(&wrong_trust), addr, "x").ok());
}

TEST_F(TlsTest, ARenewedCertificateServesNewConnectionsWithoutARestart) {
  const std::string addr = StartServer(TlsMode::kEnforcing, ServerFiles());
  TlsFiles trust_other{.trust_cert_path = Path("other-ca.pem")};
  EXPECT_FALSE(Echo(NewClient(&trust_other), addr, "before").ok());
  // The certificate is replaced by one from the other CA (as cert-manager renews into the same Secret).
  auto renewed = other_ca_.Issue({.cn = "broker", .server = true, .sans = "IP:127.0.0.1"});
  Write("server.key.new", renewed.key_pem);
  Write("server.pem.new", renewed.cert_pem);
  std::filesystem::rename(Path("server.key.new"), Path("server.key"));
  std::filesystem::rename(Path("server.pem.new"), Path("server.pem"));
  EXPECT_TRUE(
      PollUntil([&] { return Echo(NewClient(&trust_other), addr, "after").ok(); }, std::chrono::seconds(10)));
}

TEST_F(TlsTest, AFailedReloadKeepsThePreviousCertificate) {
  auto source = TlsContextSource::Create(ServerFiles(), /*client=*/false);
  ASSERT_TRUE(source.ok());
  auto before = (*source)->Current();
  Write("server.pem", "-----BEGIN CERTIFICATE-----\nhalf written\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Current() looks at the files once a second
  EXPECT_EQ((*source)->Current(), before) << "a certificate that does not load is not taken";
  EXPECT_EQ((*source)->reloads(), 0);
  auto renewed = ca_.Issue({.cn = "broker", .server = true, .sans = "IP:127.0.0.1"});
  Write("server.key", renewed.key_pem);
  Write("server.pem", renewed.cert_pem);
  EXPECT_TRUE(PollUntil([&] { return (*source)->Current() != before; }, std::chrono::seconds(5)));
  EXPECT_EQ((*source)->reloads(), 1);
}

TEST_F(TlsTest, BadFilesAreClearErrors) {
  auto missing =
      TlsContext::ForServer(TlsFiles{.cert_path = Path("nope.pem"), .key_path = Path("server.key")});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.pem"), std::string::npos) << missing.status();
  auto mismatched =
      TlsContext::ForServer(TlsFiles{.cert_path = Path("server.pem"), .key_path = Path("client.key")});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not belong to certificate"), std::string::npos)
      << mismatched.status();
  auto no_trust = TlsContext::ForServer(TlsFiles{.cert_path = Path("server.pem"),
                                                 .key_path = Path("server.key"),
                                                 .client_auth = TlsClientAuth::kRequire});
  ASSERT_FALSE(no_trust.ok());
  EXPECT_NE(no_trust.status().message().find("tls.server.trustCertPath"), std::string::npos);
  EXPECT_EQ(ParseTlsMode("enforcing"), TlsMode::kEnforcing);
  EXPECT_FALSE(ParseTlsMode("strict").has_value());
}

TEST(LogLimiterTest, LetsOneLineASecondThroughAndCountsTheRest) {
  LogLimiter limiter;
  uint64_t held = 99;
  EXPECT_TRUE(limiter.Allow(&held));
  EXPECT_EQ(held, 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow(&held));
}

}  // namespace
}  // namespace fmq::net
