// ferrymq-bench: load generator for any RocketMQ-protocol cluster (FerryMQ or Apache RocketMQ).
//
// Options (CLI11; `ferrymq-bench <mode> --help`):
//   ferrymq-bench produce [-n ns] [-t topic] [-s size] [-c producers] [--threads N] [-d seconds]
//                         [--async] [--window W] [--tag T] [--property NAME=VALUE ...]
//                         [--serialize json|rocketmq] [--io-threads N]
//   ferrymq-bench consume [-n ns] [-t topic] [-g group] [-c consumers] [--threads N] [-d seconds]
//                         [--io-threads N]
//
// Prints one line per second (TPS, latency p50/p99/p999/max of that second) and a final JSON line:
// {"mode":..,"tps":..,"p50_ms":..,"p99_ms":..,"p999_ms":..,"max_ms":..,"sent":..,"errors":..}
// Produce latency is send → response; consume latency is born timestamp → delivery (end to end).
//
// Cost per message is kept low: the body is built once and shared, `--threads` producers (one TCP connection
// each) are shared by the `-c` sending threads and all their connections share `--io-threads` I/O threads,
// histograms record with one atomic add.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/loadgen/histogram.h"
#include "broker/base/logging.h"
#include "broker/client/producer.h"
#include "broker/client/push_consumer.h"
#include "broker/client/security_flags.h"

namespace {

using Clock = std::chrono::steady_clock;
using fmq::bench::ConcurrentHistogram;
using fmq::bench::Histogram;

std::atomic<bool> g_stop{false};

// The latest error text, shown with the interval line that counted it (errors are rare; a mutex is fine).
std::mutex g_error_mu;
std::string g_last_error;
void NoteError(const fmq::Status& s) {
  std::lock_guard<std::mutex> lock(g_error_mu);
  g_last_error = std::string(s.message());
}
void OnSignal(int) { g_stop.store(true); }

struct Config {
  std::string mode;
  std::string namesrv;
  std::string topic = "BenchmarkTest";
  int64_t size = 1024;
  int64_t concurrency = -1;
  int64_t threads = 4;
  int64_t duration = 30;
  bool async = false;
  int64_t window = 32;
  int64_t io_threads = 1;
  std::string tag;
  std::map<std::string, std::string> properties;  // --property, on every produced message
  std::string group = "benchmark_consumer";
  fmq::protocol::SerializeType serialize = fmq::protocol::SerializeType::kRocketMq;
  fmq::client::SecurityFlags security;  // ACL credentials and TLS
  fmq::client::ClientOptions base;      // the security flags applied (ParseArgs)
};

// Returns the exit code when the program should stop here (help: 0, usage error: 2).
std::optional<int> ParseArgs(int argc, char** argv, Config* c) {
  CLI::App app(
      "Load generator for any RocketMQ-protocol cluster (FerryMQ or Apache RocketMQ): one line per "
      "second (TPS, latency p50/p99/p999/max), then a JSON summary.",
      "ferrymq-bench");
  app.require_subcommand(1);
  app.fallthrough();
  const char* env = std::getenv("NAMESRV_ADDR");
  c->namesrv = env && *env ? env : "127.0.0.1:9876";
  auto positive = CLI::PositiveNumber;
  app.add_option("-n,--namesrv", c->namesrv, "name servers host:port[;host:port] (default $NAMESRV_ADDR)");
  fmq::client::AddSecurityFlags(app, &c->security);
  app.add_option("-t,--topic", c->topic, "topic")->capture_default_str();
  app.add_option("-d,--duration", c->duration, "seconds")->check(positive)->capture_default_str();
  app.add_option("--threads", c->threads,
                 "produce: producers = TCP connections shared by the senders; consume: consume threads per "
                 "consumer")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--tag", c->tag, "tag of produced messages / subscription expression of consumers");
  app.add_option(
         "--io-threads", c->io_threads,
         "I/O threads shared by all connections (one is the cheapest per message on 2 cores; raise it "
         "where the I/O thread saturates a core)")
      ->check(positive)
      ->capture_default_str();
  std::string serialize = "rocketmq";
  app.add_option("--serialize", serialize, "request header encoding (json is what every broker reads)")
      ->check(CLI::IsMember({"json", "rocketmq"}))
      ->capture_default_str();
  auto* produce = app.add_subcommand("produce", "send messages as fast as the senders can");
  produce->add_option("-s,--size", c->size, "message body bytes")->check(positive)->capture_default_str();
  produce->add_option("-c,--concurrency", c->concurrency, "concurrent senders (default 64)")->check(positive);
  produce->add_flag("--async", c->async, "asynchronous sends, up to --window in flight per sender");
  produce->add_option("--window", c->window, "in-flight sends per sender with --async")
      ->check(positive)
      ->capture_default_str();
  std::vector<std::string> properties;
  produce
      ->add_option(
          "--property", properties,
          "NAME=VALUE on every message, repeatable (DELAY=3 for delayed sends, TIMER_DELAY_SEC=3600 for "
          "timer messages)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* consume =
      app.add_subcommand("consume", "consume in a clustering group; latency is born -> delivered");
  consume->add_option("-c,--concurrency", c->concurrency, "consumers (default 1)")->check(positive);
  consume->add_option("-g,--group", c->group, "consumer group")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "ferrymq-bench: " << e.what() << "\n" << app.help();
    return 2;
  }
  c->mode = produce->parsed() ? "produce" : "consume";
  for (const auto& kv : properties) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "ferrymq-bench: --property takes NAME=VALUE, got '" << kv << "'\n";
      return 2;
    }
    c->properties[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  c->serialize =
      serialize == "json" ? fmq::protocol::SerializeType::kJson : fmq::protocol::SerializeType::kRocketMq;
  if (c->concurrency < 0) c->concurrency = c->mode == "produce" ? 64 : 1;
  if (fmq::Status s = fmq::client::ApplySecurityFlags(c->security, &c->base); !s.ok()) {
    std::cerr << "ferrymq-bench: " << s.message() << "\n";
    return 2;
  }
  return std::nullopt;
}

double Ms(int64_t micros) { return static_cast<double>(micros) / 1000.0; }

int64_t MicrosSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

// Prints a line per second and the final JSON; returns when the duration is over or on a signal.
class Reporter {
 public:
  Reporter(std::string mode, ConcurrentHistogram* hist, std::atomic<uint64_t>* errors)
      : mode_(std::move(mode)), hist_(hist), errors_(errors) {}

  void Run(int64_t duration_s) {
    start_ = Clock::now();
    auto next = start_;
    uint64_t last_errors = 0;
    for (int64_t sec = 1; sec <= duration_s && !g_stop.load(); ++sec) {
      next += std::chrono::seconds(1);
      while (Clock::now() < next && !g_stop.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Histogram interval;
      hist_->DrainInto(&interval);
      total_.Merge(interval);
      const uint64_t errs = errors_->load();
      std::printf("[%4llds] tps=%8llu p50=%7.2fms p99=%7.2fms p999=%7.2fms max=%8.2fms errors=%llu\n",
                  static_cast<long long>(sec), static_cast<unsigned long long>(interval.count()),
                  Ms(interval.Percentile(50)), Ms(interval.Percentile(99)), Ms(interval.Percentile(99.9)),
                  Ms(interval.max()), static_cast<unsigned long long>(errs - last_errors));
      if (errs != last_errors) {
        std::lock_guard<std::mutex> lock(g_error_mu);
        std::fprintf(stderr, "       last error: %s\n", g_last_error.c_str());
      }
      std::fflush(stdout);
      last_errors = errs;
    }
    elapsed_ = std::chrono::duration<double>(Clock::now() - start_).count();
  }

  // After the workers stopped: adds their last records and prints the JSON line.
  void Finish() {
    Histogram rest;
    hist_->DrainInto(&rest);
    total_.Merge(rest);
    const double tps = elapsed_ > 0 ? static_cast<double>(total_.count()) / elapsed_ : 0;
    std::printf(
        "{\"mode\":\"%s\",\"tps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
        "\"sent\":%llu,\"errors\":%llu}\n",
        mode_.c_str(), tps, Ms(total_.Percentile(50)), Ms(total_.Percentile(99)), Ms(total_.Percentile(99.9)),
        Ms(total_.max()), static_cast<unsigned long long>(total_.count()),
        static_cast<unsigned long long>(errors_->load()));
    std::fflush(stdout);
  }

 private:
  const std::string mode_;
  ConcurrentHistogram* hist_;
  std::atomic<uint64_t>* errors_;
  Histogram total_;
  Clock::time_point start_;
  double elapsed_ = 0;
};

// In-flight sends of one asynchronous sender, refilled when at most half of the window is in flight.
class Window {
 public:
  explicit Window(int64_t size) : size_(size) {}
  bool TryTake() {
    int64_t n = in_flight_.load(std::memory_order_relaxed);
    while (n < size_) {
      if (in_flight_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }
  void Give() {
    const int64_t before = in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    if (before - 1 == size_ / 2 || before - 1 == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }
  bool WaitForRoom(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return in_flight_.load() <= size_ / 2; });
  }
  void WaitForAll(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return in_flight_.load() == 0; });
  }

 private:
  const int64_t size_;
  std::atomic<int64_t> in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

fmq::client::ClientOptions Options(const Config& c, fmq::net::IoThreadPool* io) {
  fmq::client::ClientOptions o = c.base;
  o.namesrv_addrs = fmq::client::ClientOptions::ParseNamesrvAddrs(c.namesrv);
  o.request_serialize_type = c.serialize;
  o.io_pool = io;
  return o;
}

int Produce(const Config& c, fmq::net::IoThreadPool* io) {
  std::string body(static_cast<size_t>(c.size), 'x');
  std::mt19937 rng(42);
  for (auto& ch : body) ch = static_cast<char>('a' + rng() % 26);

  std::vector<std::unique_ptr<fmq::client::Producer>> producers;
  for (int64_t i = 0; i < c.threads; ++i) {
    fmq::client::ProducerConfig pc;
    pc.group = "benchmark_producer";
    pc.client = Options(c, io);
    pc.client.instance_name = "bench-" + std::to_string(getpid()) + "-" + std::to_string(i);
    pc.heartbeat = false;
    producers.push_back(std::make_unique<fmq::client::Producer>(pc));
    fmq::Status s = producers.back()->Start();
    if (!s.ok()) {
      std::cerr << "ferrymq-bench: " << s.message() << "\n";
      return 1;
    }
  }
  fmq::client::Message msg;
  msg.topic = c.topic;
  msg.tags = c.tag;
  msg.body = body;
  msg.properties = c.properties;
  // One synchronous send first: fetches the route and fails fast on a wrong topic or name server.
  for (auto& p : producers) {
    auto r = p->Send(msg);
    if (!r.ok()) {
      std::cerr << "ferrymq-bench: " << r.status().message() << "\n";
      return 1;
    }
  }

  ConcurrentHistogram hist;
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> running{true};
  std::vector<std::thread> senders;
  for (int64_t t = 0; t < c.concurrency; ++t) {
    senders.emplace_back([&, t] {
      fmq::client::Producer& producer = *producers[static_cast<size_t>(t) % producers.size()];
      if (!c.async) {
        while (running.load(std::memory_order_relaxed)) {
          const auto t0 = Clock::now();
          auto r = producer.Send(msg);
          if (r.ok()) {
            hist.Record(MicrosSince(t0));
          } else {
            errors.fetch_add(1, std::memory_order_relaxed);
            NoteError(r.status());
          }
        }
        return;
      }
      // Refill the window in bursts: the sender sleeps until half of it came back, so a completion wakes
      // it once per window/2 messages instead of once per message.
      Window window(c.window);
      while (running.load(std::memory_order_relaxed)) {
        if (!window.WaitForRoom(std::chrono::milliseconds(100))) continue;
        while (running.load(std::memory_order_relaxed) && window.TryTake()) {
          const auto t0 = Clock::now();
          producer.SendAsync(msg, [&hist, &errors, &window, t0](fmq::Result<fmq::client::SendResult> r) {
            if (r.ok()) {
              hist.Record(MicrosSince(t0));
            } else {
              errors.fetch_add(1, std::memory_order_relaxed);
              NoteError(r.status());
            }
            window.Give();
          });
        }
      }
      window.WaitForAll(std::chrono::seconds(10));  // sends in flight end by response or timeout
    });
  }
  Reporter reporter("produce", &hist, &errors);
  reporter.Run(c.duration);
  running = false;
  for (auto& s : senders) s.join();
  reporter.Finish();
  for (auto& p : producers) p->Stop();
  return 0;
}

int Consume(const Config& c, fmq::net::IoThreadPool* io) {
  ConcurrentHistogram hist;
  std::atomic<uint64_t> errors{0};
  std::vector<std::unique_ptr<fmq::client::PushConsumer>> consumers;
  for (int64_t i = 0; i < c.concurrency; ++i) {
    fmq::client::PushConsumerConfig pc;
    pc.group = c.group;
    pc.client = Options(c, io);
    pc.client.instance_name = "bench-" + std::to_string(getpid()) + "-" + std::to_string(i);
    pc.consume_threads = static_cast<int>(c.threads);
    pc.consume_batch_size = 32;
    auto consumer = std::make_unique<fmq::client::PushConsumer>(pc);
    consumer->Subscribe(c.topic, c.tag.empty() ? "*" : c.tag);
    consumer->SetListener([&hist](const std::vector<fmq::client::MessageExt>& msgs) {
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      for (const auto& m : msgs) hist.Record((now_ms - m.born_timestamp) * 1000);
      return fmq::client::ConsumeStatus::kSuccess;
    });
    fmq::Status s = consumer->Start();
    if (!s.ok()) {
      std::cerr << "ferrymq-bench: " << s.message() << "\n";
      return 1;
    }
    consumers.push_back(std::move(consumer));
  }
  Reporter reporter("consume", &hist, &errors);
  reporter.Run(c.duration);
  for (auto& consumer : consumers) consumer->Stop();
  reporter.Finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("FMQ_LOG_LEVEL") == nullptr) fmq::SetLogLevel("error");
  Config c;
  if (auto rc = ParseArgs(argc, argv, &c)) return *rc;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  // Declared before the client objects Produce/Consume create, so it outlives them.
  fmq::net::IoThreadPool io(static_cast<int>(c.io_threads), "bench-io");
  if (fmq::Status s = io.Start(); !s.ok()) {
    std::cerr << "ferrymq-bench: " << s.message() << "\n";
    return 1;
  }
  return c.mode == "produce" ? Produce(c, &io) : Consume(c, &io);
}
