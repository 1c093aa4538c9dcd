#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "broker/base/coding.h"
#include "broker/net/net_test_util.h"
#include "broker/net/remoting_client.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"

namespace fmq::net {
namespace {

using protocol::RemotingCommand;
namespace rc = protocol::response_code;

constexpr int32_t kEcho = 9001;
constexpr int32_t kSlow = 9002;
constexpr int32_t kAskClient = 9003;
constexpr int32_t kEchoInline = 9004;  // answered on the I/O thread
constexpr int32_t kNoAnswer = 9005;    // never answered
constexpr auto kTimeout = std::chrono::seconds(10);

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(executor_.Start().ok());
    ASSERT_TRUE(slow_executor_.Start().ok());
    server_.Register(
        kEcho,
        [](RemotingCommand req, Responder r) {
          RemotingCommand resp;
          resp.code = rc::kSuccess;
          resp.body = req.body;
          resp.ext_fields["seen"] = req.ext_fields.count("k") ? req.ext_fields["k"] : "";
          r.Send(std::move(resp));
        },
        &executor_);
    server_.Register(
        kEchoInline,
        [](RemotingCommand req, Responder r) {
          RemotingCommand resp;
          resp.code = rc::kSuccess;
          resp.body = req.body;
          r.Send(std::move(resp));
        },
        nullptr);
    server_.Register(
        kNoAnswer, [](RemotingCommand, Responder) {}, nullptr);
    server_.Register(
        kSlow,
        [this](RemotingCommand, Responder r) {
          release_.wait();
          RemotingCommand resp;
          resp.code = rc::kSuccess;
          r.Send(std::move(resp));
        },
        &slow_executor_);
    server_.Register(
        kAskClient,
        [](RemotingCommand req, Responder r) {
          // The broker asks the client something over the client's own connection, then answers.
          auto conn = r.connection();
          ASSERT_NE(conn, nullptr);
          conn->Invoke(RemotingCommand::Request(protocol::request_code::kGetConsumerStatusFromClient, 0),
                       kTimeout, [r, req](Result<RemotingCommand> answer) {
                         RemotingCommand resp;
                         resp.code = answer.ok() ? rc::kSuccess : rc::kSystemError;
                         resp.body = answer.ok() ? answer->body : "";
                         r.Send(std::move(resp));
                       });
        },
        &executor_);
    ASSERT_TRUE(server_.Start().ok());
    addr_ = "127.0.0.1:" + std::to_string(server_.port());
    ASSERT_TRUE(client_.Start().ok());
  }
  void TearDown() override {
    release_promise_.set_value();
    client_.Stop();
    server_.Stop();
    executor_.Stop();
    slow_executor_.Stop();
  }

  Result<RemotingCommand> Echo(const std::string& body) {
    RemotingCommand req = RemotingCommand::Request(kEcho, 0);
    req.body = body;
    req.ext_fields["k"] = "v";
    return client_.InvokeSync(addr_, req, kTimeout);
  }

  // A raw TCP connection to the server for sending arbitrary bytes.
  int RawConnect() { return RawConnect(server_.port()); }
  static int RawConnect(int port) { return testing::RawConnect(port); }
  // Reads until the server closes the connection; returns what it sent before closing.
  static std::string ReadUntilClosed(int fd) {
    std::string got;
    char buf[4096];
    while (true) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

  BoundedExecutor executor_{"test", 2, 64};
  BoundedExecutor slow_executor_{"slow", 1, 1};
  std::promise<void> release_promise_;
  std::shared_future<void> release_ = release_promise_.get_future().share();
  // A long idle timeout: under TSan on a busy machine, building a 10 MiB frame can keep a connection silent
  // for longer than a short one (AnIdleConnectionIsClosedByTheServer has a server of its own).
  RemotingServer server_{ServerConfig{
      .host = "127.0.0.1", .port = 0, .io_threads = 1, .idle_timeout = std::chrono::seconds(30)}};
  RemotingClient client_;
  std::string addr_;
};

TEST_F(NetTest, RoutesARequestToItsHandlerAndMatchesTheResponse) {
  auto r = Echo("payload");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, rc::kSuccess);
  EXPECT_TRUE(r->IsResponse());
  EXPECT_EQ(r->body, "payload");
  EXPECT_EQ(r->ext_fields.at("seen"), "v");
  EXPECT_EQ(r->version, protocol::kCurrentVersion);
}

TEST_F(NetTest, ManyConcurrentInvokesEachGetTheirOwnAnswer) {
  std::vector<std::future<bool>> all;
  for (int t = 0; t < 8; ++t) {
    all.push_back(std::async(std::launch::async, [this, t] {
      for (int i = 0; i < 50; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto r = Echo(body);
        if (!r.ok() || r->body != body) return false;
      }
      return true;
    }));
  }
  for (auto& f : all) EXPECT_TRUE(f.get());
}

TEST_F(NetTest, AnUnknownCodeIsAnsweredWithCodeThree) {
  auto r = client_.InvokeSync(addr_, RemotingCommand::Request(4242, 0), kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, rc::kRequestCodeNotSupported);
  EXPECT_EQ(r->remark, " request type 4242 not supported");
  EXPECT_TRUE(client_.InvokeOneway(addr_, RemotingCommand::Request(4242, 0)).ok());
  EXPECT_TRUE(Echo("still fine").ok());  // the oneway got no answer that could be mistaken for this one
}

TEST_F(NetTest, AFullExecutorAnswersSystemBusyAtOnce) {
  // The slow executor has one thread and room for one queued task; its handler blocks until released. Of
  // three requests at most two fit, so at least one is refused at once, while the others still wait.
  Mutex mu;
  CondVar cv(&mu);
  int busy = 0, ok = 0;
  for (int i = 0; i < 3; ++i) {
    client_.InvokeAsync(addr_, RemotingCommand::Request(kSlow, 0), kTimeout, [&](Result<RemotingCommand> r) {
      MutexLock lock(&mu);
      ASSERT_TRUE(r.ok()) << r.status();
      if (r->code == rc::kSystemBusy) {
        EXPECT_NE(r->remark->find("[REJECTREQUEST]"), std::string::npos);
        ++busy;
      } else if (r->code == rc::kSuccess) {
        ++ok;
      }
      cv.SignalAll();
    });
  }
  {
    MutexLock lock(&mu);
    while (busy == 0) cv.Wait();
    EXPECT_EQ(ok, 0) << "nothing completes while the handler blocks";
  }
  release_promise_.set_value();
  release_promise_ = std::promise<void>();
  MutexLock lock(&mu);
  while (busy + ok < 3) cv.Wait();
  EXPECT_GE(busy, 1);
  EXPECT_GE(ok, 1);
}

TEST_F(NetTest, BadInputClosesOnlyItsOwnConnection) {
  ASSERT_TRUE(Echo("before").ok());
  std::vector<std::string> bad = {
      "GET / HTTP/1.1\r\nHost: broker\r\n\r\n",
      std::string("\x7f\xff\xff\xff", 4),                               // oversized length prefix
      std::string("\x00\x00\x00\x0c\x05\x00\x00\x08", 8) + "xxxxxxxx",  // unknown serialize type
      std::string("\x00\x00\x00\x0c\x00\x00\x00\x08", 8) + "notjson!",
  };
  std::mt19937 rng(5);
  std::string junk(512, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  bad.push_back(junk);
  for (const auto& b : bad) {
    int fd = RawConnect();
    ASSERT_EQ(write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
    EXPECT_EQ(ReadUntilClosed(fd), "") << "the server closes without answering";
    close(fd);
    ASSERT_TRUE(Echo("after").ok()) << "other clients are unaffected";
  }
  // A truncated frame followed by a close is simply dropped.
  int fd = RawConnect();
  std::string f = protocol::EncodeFrame(RemotingCommand::Request(kEcho, 1));
  ASSERT_EQ(write(fd, f.data(), f.size() / 2), static_cast<ssize_t>(f.size() / 2));
  close(fd);
  EXPECT_TRUE(Echo("end").ok());
}

TEST_F(NetTest, AnswersToTheFramesOfOneReadLeaveInOneWrite) {
  // Ten requests in one TCP segment are read at once; their inline handlers' answers are held until all ten
  // are handled and then written together, so they arrive in one segment and the first read gets them all.
  int fd = RawConnect();
  std::string requests;
  for (int i = 0; i < 10; ++i) {
    RemotingCommand req = RemotingCommand::Request(kEchoInline, 100 + i);
    req.body = "b" + std::to_string(i);
    requests += protocol::EncodeFrame(req);
  }
  ASSERT_EQ(write(fd, requests.data(), requests.size()), static_cast<ssize_t>(requests.size()));
  std::vector<char> buf(1 << 16);
  const ssize_t n = read(fd, buf.data(), buf.size());
  ASSERT_GT(n, 0);
  protocol::FrameDecoder decoder;
  decoder.Append(AsBytes(std::string_view(buf.data(), static_cast<size_t>(n))));
  for (int i = 0; i < 10; ++i) {
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok() && next->has_value()) << "answer " << i << " was not in the first read";
    EXPECT_EQ((*next)->opaque, 100 + i);
    EXPECT_EQ((*next)->body, "b" + std::to_string(i));
  }
  close(fd);
}

TEST_F(NetTest, AnIdleConnectionIsClosedByTheServer) {
  RemotingServer server{ServerConfig{
      .host = "127.0.0.1", .port = 0, .io_threads = 1, .idle_timeout = std::chrono::milliseconds(300)}};
  ASSERT_TRUE(server.Start().ok());
  int fd = RawConnect(server.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadUntilClosed(fd), "");  // the 300 ms idle timeout ends it; the read returns at EOF
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5)) << "the read timed out (10 s): the server never closed";
  close(fd);
  server.Stop();
}

TEST_F(NetTest, AnInvokeWithoutAnswerTimesOut) {
  auto r = client_.InvokeSync(addr_, RemotingCommand::Request(kSlow, 0), std::chrono::milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(NetTest, AShorterTimeoutFiresWhileAnEarlierLongerOneStillWaits) {
  // Neither request is ever answered; the second one's deadline is earlier than the first one's, so the
  // connection's response timer must be moved forward for it.
  std::promise<Status> first, second;
  client_.InvokeAsync(addr_, RemotingCommand::Request(kNoAnswer, 0), kTimeout,
                      [&](Result<RemotingCommand> r) { first.set_value(r.status()); });
  client_.InvokeAsync(addr_, RemotingCommand::Request(kNoAnswer, 0), std::chrono::milliseconds(100),
                      [&](Result<RemotingCommand> r) { second.set_value(r.status()); });
  EXPECT_EQ(second.get_future().get().code(), StatusCode::kDeadlineExceeded);
  auto first_done = first.get_future();
  EXPECT_EQ(first_done.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  client_.Stop();  // the first one is answered by the close, before Stop returns
  ASSERT_EQ(first_done.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(first_done.get().code(), StatusCode::kUnavailable);
}

TEST_F(NetTest, ManyPipelinedInvokesOnOneConnectionAreAllAnswered) {
  // Requests queued while a write is under way go out together in one gather write; each still gets its
  // own answer.
  constexpr int kCount = 2000;
  Mutex mu;
  CondVar cv(&mu);
  int done = 0, wrong = 0;
  for (int i = 0; i < kCount; ++i) {
    RemotingCommand req = RemotingCommand::Request(kEchoInline, 0);
    req.body = std::to_string(i);
    client_.InvokeAsync(addr_, req, kTimeout, [&, i](Result<RemotingCommand> r) {
      MutexLock lock(&mu);
      if (!r.ok() || r->body != std::to_string(i)) ++wrong;
      ++done;
      cv.SignalAll();
    });
  }
  MutexLock lock(&mu);
  while (done < kCount) cv.Wait();
  EXPECT_EQ(wrong, 0);
}

TEST_F(NetTest, LargeFramesFromManyThreadsOnOneConnectionArriveWhole) {
  // Frames larger than the socket buffers: a direct write stops when the socket is full and the strand
  // writes the rest while other threads' frames queue behind it; no frame may interleave with another.
  std::vector<std::future<std::string>> all;
  for (int t = 0; t < 4; ++t) {
    all.push_back(std::async(std::launch::async, [this, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < 4; ++i) {
        // One byte value per request, so a piece of another frame inside it would show.
        RemotingCommand req = RemotingCommand::Request(kEchoInline, 0);
        // The first is larger than the loopback socket buffers (4 MiB), so its write is always partial.
        const size_t size = i == 0 ? (10 << 20) : 1 + rng() % (2 << 20);
        req.body.assign(size, static_cast<char>('A' + t * 4 + i));
        auto r = client_.InvokeSync(addr_, req, kTimeout);
        if (!r.ok()) return "request " + std::to_string(i) + ": " + r.status().ToString();
        if (r->body != req.body) return "request " + std::to_string(i) + ": the echo differs";
      }
      return std::string();
    }));
  }
  for (auto& f : all) EXPECT_EQ(f.get(), "");
}

TEST_F(NetTest, ClientsSharingAnIoThreadPoolKeepTheirOwnConnectionsAndStopAlone) {
  IoThreadPool pool(1, "shared-io");
  ASSERT_TRUE(pool.Start().ok());
  RemotingClient a(ClientConfig{.io_pool = &pool});
  RemotingClient b(ClientConfig{.io_pool = &pool});
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  RemotingCommand req = RemotingCommand::Request(kEcho, 0);
  req.body = "hi";
  ASSERT_TRUE(a.InvokeSync(addr_, req, kTimeout).ok());
  ASSERT_TRUE(b.InvokeSync(addr_, req, kTimeout).ok());
  EXPECT_EQ(server_.connection_count(), 2u) << "a and b each have a connection";
  // A request left waiting when its client stops is answered (Unavailable) before Stop returns.
  std::promise<Status> waiting;
  a.InvokeAsync(addr_, RemotingCommand::Request(kSlow, 0), kTimeout,
                [&](Result<RemotingCommand> r) { waiting.set_value(r.status()); });
  a.Stop();
  auto answered = waiting.get_future();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(answered.get().code(), StatusCode::kUnavailable);
  auto r = b.InvokeSync(addr_, req, kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hi");
  b.Stop();
  pool.Stop();
}

TEST(NetStartTest, AClientOnAPoolThatIsNotRunningDoesNotStart) {
  IoThreadPool pool(1);
  RemotingClient client(ClientConfig{.io_pool = &pool});
  EXPECT_EQ(client.Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(NetTest, TheServerCanAskTheClientOverTheSameConnection) {
  client_.SetRequestHandler([](RemotingCommand req, Responder r) {
    RemotingCommand resp;
    resp.code = rc::kSuccess;
    resp.body = "status of " + std::to_string(req.code);
    r.Send(std::move(resp));
  });
  auto r = client_.InvokeSync(addr_, RemotingCommand::Request(kAskClient, 0), kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, rc::kSuccess);
  EXPECT_EQ(r->body, "status of 221");
}

TEST(NetStartTest, APortInUseIsAClearError) {
  RemotingServer first(ServerConfig{.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(first.Start().ok());
  RemotingServer second(ServerConfig{.host = "127.0.0.1", .port = first.port()});
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("already in use"), std::string_view::npos) << s;
  first.Stop();
}

TEST(NetStartTest, ConnectingToNothingFailsWithUnavailable) {
  RemotingClient client(ClientConfig{.connect_timeout = std::chrono::seconds(3)});
  ASSERT_TRUE(client.Start().ok());
  RemotingServer probe(ServerConfig{.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(probe.Start().ok());
  const int port = probe.port();
  probe.Stop();  // nothing listens there any more
  auto r = client.InvokeSync("127.0.0.1:" + std::to_string(port), RemotingCommand::Request(1, 0),
                             std::chrono::seconds(1));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
  client.Stop();
}

TEST(BoundedExecutorTest, HeadWaitIsTheAgeOfTheOldestQueuedTask) {
  BoundedExecutor ex("headwait", 1, 8);
  ASSERT_TRUE(ex.Start().ok());
  EXPECT_EQ(ex.head_wait_ms(), 0);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> running;
  ASSERT_TRUE(ex.TrySubmit([&running, released] {
    running.set_value();
    released.wait();
  }));
  running.get_future().wait();  // the only thread is busy: what comes next waits in the queue
  ASSERT_TRUE(ex.TrySubmit([] {}));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_GE(ex.head_wait_ms(), 50);
  EXPECT_EQ(ex.queued(), 1u);
  EXPECT_EQ(ex.capacity(), 8u);
  release.set_value();
  ex.Stop();
  EXPECT_EQ(ex.head_wait_ms(), 0);
}

}  // namespace
}  // namespace fmq::net
