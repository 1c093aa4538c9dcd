#include "broker/net/http_server.h"

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio.hpp>

#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace fmq::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A blocking raw-socket client, so the tests see the exact bytes the server writes.
class RawClient {
 public:
  explicit RawClient(int port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void Write(const std::string& s) { asio::write(socket_, asio::buffer(s)); }
  // Reads until `needle` appears in everything read so far; returns it all and keeps the rest buffered.
  std::string ReadUntil(const std::string& needle) {
    size_t pos;
    while ((pos = buf_.find(needle)) == std::string::npos) {
      char tmp[4096];
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(tmp), ec);
      if (ec) return "EOF:" + buf_;
      buf_.append(tmp, n);
    }
    std::string out = buf_.substr(0, pos + needle.size());
    buf_.erase(0, pos + needle.size());
    return out;
  }
  std::string ReadExactly(size_t n) {
    while (buf_.size() < n) {
      char tmp[4096];
      boost::system::error_code ec;
      size_t got = socket_.read_some(asio::buffer(tmp), ec);
      if (ec) return "EOF:" + buf_;
      buf_.append(tmp, got);
    }
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }
  // True when the server closed the connection (reads EOF).
  bool ReadsEof() {
    char tmp[64];
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(tmp), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  void Close() { socket_.close(); }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  std::string buf_;
};

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.max_body_bytes = 1024;
    server_ = std::make_unique<HttpServer>(config);
    server_->Handle("/hello", [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      r->Send(200, "text/plain", "hello " + req.method + "\n");
    });
    server_->Handle("/echo", [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      auto q = req.QueryParams();
      r->Send(201, "application/json", req.body + "|" + q["sel"] + "|" + req.Header("X-Test"),
              {{"X-Reply", "1"}});
    });
    server_->Handle("/stream", [this](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
      r->StartChunked(200, "application/json");
      stream_.set_value(r);
    });
  }
  void TearDown() override {
    held_.reset();
    server_->Stop();
  }

  std::unique_ptr<HttpServer> server_;
  std::promise<std::shared_ptr<HttpResponder>> stream_;
  std::shared_ptr<HttpResponder> held_;
};

TEST_F(HttpServerTest, ServesRoutesOnOneKeptAliveConnection) {
  ASSERT_TRUE(server_->Start().ok());
  RawClient c(server_->port());
  c.Write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Length: 10\r\n"), std::string::npos) << head;
  EXPECT_EQ(c.ReadExactly(10), "hello GET\n");

  c.Write("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << head;
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(HttpServerTest, ReadsBodiesHeadersAndDecodedQuery) {
  ASSERT_TRUE(server_->Start().ok());
  RawClient c(server_->port());
  c.Write(
      "POST /echo?sel=app%3Dx%2Cb+in+(1)&x=1 HTTP/1.1\r\nHost: x\r\nx-test:  v \r\nContent-Length: 5\r\n\r\n"
      "abcde");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 201 Created\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Reply: 1\r\n"), std::string::npos) << head;
  EXPECT_EQ(c.ReadExactly(22), "abcde|app=x,b in (1)|v");
}

TEST_F(HttpServerTest, StreamsChunksWrittenFromAnotherThread) {
  ASSERT_TRUE(server_->Start().ok());
  RawClient c(server_->port());
  c.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
  held_ = stream_.get_future().get();
  held_->WriteChunk("{\"a\":1}\n");
  EXPECT_EQ(c.ReadUntil("\r\n{\"a\":1}\n\r\n"), "8\r\n{\"a\":1}\n\r\n");
  held_->WriteChunk(std::string(20, 'x'));
  EXPECT_EQ(c.ReadUntil("\r\n" + std::string(20, 'x') + "\r\n"), "14\r\n" + std::string(20, 'x') + "\r\n");
  held_->EndChunked();
  EXPECT_EQ(c.ReadUntil("0\r\n\r\n"), "0\r\n\r\n");
  // The connection stays usable after a streamed response.
  c.Write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("hello GET\n").find("200 OK"), std::string::npos);
}

TEST_F(HttpServerTest, ResponderSeesPeerGoneAndAbortClosesConnection) {
  ASSERT_TRUE(server_->Start().ok());
  {
    RawClient c(server_->port());
    c.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    c.ReadUntil("\r\n\r\n");
    held_ = stream_.get_future().get();
    EXPECT_TRUE(held_->IsOpen());
    c.Close();
  }
  EXPECT_TRUE(WaitFor([&] { return !held_->IsOpen(); }));
  held_->WriteChunk("ignored after close");  // must not crash

  stream_ = {};
  RawClient c2(server_->port());
  c2.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c2.ReadUntil("\r\n\r\n");
  auto r = stream_.get_future().get();
  r->Abort();
  EXPECT_TRUE(c2.ReadsEof());
}

TEST_F(HttpServerTest, RefusesOversizedBodiesAndHonoursConnectionClose) {
  ASSERT_TRUE(server_->Start().ok());
  RawClient c(server_->port());
  c.Write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("413 Payload Too Large"), std::string::npos);
  EXPECT_TRUE(c.ReadsEof());

  RawClient c2(server_->port());
  c2.Write("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(c2.ReadUntil("hello GET\n").find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c2.ReadsEof());
}

TEST_F(HttpServerTest, StopClosesOpenStreams) {
  ASSERT_TRUE(server_->Start().ok());
  RawClient c(server_->port());
  c.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("\r\n\r\n");
  held_ = stream_.get_future().get();
  server_->Stop();
  EXPECT_FALSE(held_->IsOpen());
  EXPECT_TRUE(c.ReadsEof());
}

TEST_F(HttpServerTest, MalformedHeadsGetA400AndTheirConnectionCloses) {
  ASSERT_TRUE(server_->Start().ok());
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /hello\r\n\r\n", "GET /hello HTTP/2.0\r\n\r\n",
                          "GET /hello HTTP/1.1\r\nno colon here\r\n\r\n",
                          "GET /hello HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "\x16\x03\x01\x02\x10\x01\x01\x01\xfc\x03\x03\r\n\r\n"}) {
    RawClient c(server_->port());
    c.Write(bad);
    const std::string answer = c.ReadUntil("\n\n");
    EXPECT_NE(answer.find("400 Bad Request"), std::string::npos) << bad << "\n" << answer;
    EXPECT_NE(answer.find("malformed request head"), std::string::npos) << bad << "\n" << answer;
    EXPECT_TRUE(c.ReadsEof()) << bad;
  }
  RawClient chunked(server_->port());
  chunked.Write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_NE(chunked.ReadUntil("\n\n").find("501 Not Implemented"), std::string::npos);
  EXPECT_TRUE(chunked.ReadsEof());
  // The server still answers well-formed requests.
  RawClient ok(server_->port());
  ok.Write("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_NE(ok.ReadUntil("hello GET\n").find("200 OK"), std::string::npos);
  EXPECT_TRUE(ok.ReadsEof());  // HTTP/1.0 without keep-alive
}

TEST(HttpRequestHeadTest, ParsedByBeastWithKeepAliveLengthAndFields) {
  auto h = ParseHttpRequestHead(
      "POST /echo?sel=a%20b HTTP/1.1\r\nHost: x\r\nX-Test:  spaced  \r\nContent-Length: 12\r\n\r\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->request.method, "POST");
  EXPECT_EQ(h->request.path, "/echo");
  EXPECT_EQ(h->request.query, "sel=a%20b");
  EXPECT_EQ(h->request.version, "HTTP/1.1");
  EXPECT_EQ(h->request.Header("x-test"), "spaced");
  EXPECT_EQ(h->content_length, 12u);
  EXPECT_TRUE(h->keep_alive);
  EXPECT_FALSE(h->chunked);
  EXPECT_FALSE(ParseHttpRequestHead("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")->keep_alive);
  EXPECT_FALSE(ParseHttpRequestHead("GET / HTTP/1.0\r\n\r\n")->keep_alive);
  EXPECT_TRUE(ParseHttpRequestHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")->keep_alive);
  EXPECT_TRUE(ParseHttpRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")->chunked);
  auto incomplete = ParseHttpRequestHead("GET / HTTP/1.1\r\nHost: x\r\n");
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.status().message(), "incomplete request head");
  // Obsolete line folding is unfolded: a value never holds a line break.
  auto folded = ParseHttpRequestHead("GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n");
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(folded->request.Header("x-a").find('\n'), std::string::npos) << folded->request.Header("x-a");
}

TEST(HttpBindAddressTest, ParsesHostPortForms) {
  auto a = ParseBindAddress(":8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "0.0.0.0");
  EXPECT_EQ(a->second, 8080);
  auto b = ParseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "127.0.0.1");
  EXPECT_EQ(b->second, 0);
  auto c = ParseBindAddress("[::1]:81");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "::1");
  EXPECT_FALSE(ParseBindAddress("8080").ok());
  EXPECT_FALSE(ParseBindAddress(":http").ok());
  EXPECT_FALSE(ParseBindAddress(":70000").ok());
}

TEST(HttpBindAddressTest, PortInUseIsAClearError) {
  HttpServer first({.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(first.Start().ok());
  HttpServer second({.host = "127.0.0.1", .port = first.port()});
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.ToString().find("already in use"), std::string::npos);
}

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("a%2Fb+c%zz%4"), "a/b c%zz%4");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

}  // namespace
}  // namespace fmq::net
