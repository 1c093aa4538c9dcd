// fmq-queue-check: the producing and draining side of the failure tests' total-queue accounting
// (tests/e2e/replication_partition_test.py). Every message body is a unique id; the caller compares what was
// acknowledged with what a fresh consumer group reads.
//
//   fmq-queue-check produce -n <namesrv> -t <topic> --prefix <p> --out <file> [--seconds S] [--threads N]
//       sends "<p>-<thread>-<n>" until SIGTERM/SIGINT or S seconds; one line per send to <file>:
//       "<id> <ok|failed> <unix ms when answered> <unix ms when sent> <status or error>" (only SEND_OK is
//       "ok"), flushed as it goes.
//   fmq-queue-check drain -n <namesrv> -t <topic> --out <file> [--group G]
//       reads every queue of the topic from its first offset with a new consumer group; one id per line.
//
// Exit codes: 0 ok, 1 failure, 2 usage.

#include <csignal>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "broker/client/producer.h"
#include "broker/client/pull_consumer.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Produce(const std::string& namesrv, const std::string& topic, const std::string& prefix,
            const std::string& out, int seconds, int threads) {
  std::ofstream file(out, std::ios::app);
  if (!file) {
    std::cerr << "cannot write " << out << "\n";
    return 1;
  }
  std::mutex mu;
  std::vector<std::thread> workers;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      fmq::client::ProducerConfig pc;
      pc.group = "QueueCheck";
      pc.client.namesrv_addrs = fmq::client::ClientOptions::ParseNamesrvAddrs(namesrv);
      pc.client.instance_name = prefix + "-" + std::to_string(t);
      pc.client.poll_name_server_interval = std::chrono::milliseconds(1'000);
      pc.send_timeout = std::chrono::milliseconds(3'000);
      fmq::client::Producer producer(pc);
      if (fmq::Status s = producer.Start(); !s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        std::cerr << "producer start: " << s.ToString() << "\n";
        return;
      }
      for (int64_t n = 0; !g_stop.load() && std::chrono::steady_clock::now() < deadline; ++n) {
        fmq::client::Message m;
        m.topic = topic;
        m.body = prefix + "-" + std::to_string(t) + "-" + std::to_string(n);
        const auto unix_ms = [] {
          return std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
              .count();
        };
        const int64_t sent = unix_ms();
        auto r = producer.Send(m);
        // When a send began tells whether it could have reached a replica before a partition; when it was
        // answered says whether the broker acknowledged it after one.
        const std::string times = std::to_string(unix_ms()) + " " + std::to_string(sent);
        std::string line = m.body;
        if (r.ok() && r->status == fmq::client::SendStatus::kSendOk) {
          line += " ok " + times + " SEND_OK";
        } else if (r.ok()) {
          line += " failed " + times + " " + fmq::client::SendStatusName(r->status);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pace a group that cannot acknowledge
        } else {
          std::string why(r.status().message());
          for (char& c : why) c = c == '\n' ? ' ' : c;
          line += " failed " + times + " " + why;
          // A broker that refuses at once would make this loop spin: pace the retries of a failing group.
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::lock_guard<std::mutex> lock(mu);
        file << line << "\n" << std::flush;
      }
      producer.Stop();
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}

int Drain(const std::string& namesrv, const std::string& topic, const std::string& out,
          const std::string& group) {
  fmq::client::PullConsumerConfig cc;
  cc.group = group;
  cc.client.namesrv_addrs = fmq::client::ClientOptions::ParseNamesrvAddrs(namesrv);
  cc.client.instance_name = group;
  fmq::client::PullConsumer c(cc);
  if (fmq::Status s = c.Start(); !s.ok()) {
    std::cerr << "consumer start: " << s.ToString() << "\n";
    return 1;
  }
  auto queues = c.FetchSubscribeQueues(topic);
  if (!queues.ok()) {
    std::cerr << "queues of " << topic << ": " << queues.status().ToString() << "\n";
    return 1;
  }
  std::ofstream file(out);
  fmq::client::Subscription sub;
  sub.topic = topic;
  sub.expression = "*";
  int64_t total = 0;
  for (const auto& q : *queues) {
    auto min = c.MinOffset(q);
    int64_t offset = min.ok() ? *min : 0;
    for (int misses = 0; misses < 3;) {
      auto r = c.Pull(q, sub, offset, 32, std::chrono::milliseconds(0));
      if (!r.ok()) {
        ++misses;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (r->status == fmq::client::PullStatus::kFound) {
        for (const auto& m : r->messages) file << m.body << "\n";
        total += static_cast<int64_t>(r->messages.size());
        misses = 0;
      } else {
        ++misses;
      }
      offset = r->next_begin_offset;
    }
  }
  c.Stop();
  std::cout << "drained " << total << " messages from " << queues->size() << " queues\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fmq-queue-check: produce unique ids and drain them back, for total-queue accounting"};
  app.require_subcommand(1);
  std::string namesrv, topic, prefix = "m", out, group = "QueueCheckDrain";
  int seconds = 3600, threads = 1;
  auto* produce = app.add_subcommand("produce", "send unique ids, one outcome line per send");
  produce->add_option("-n,--namesrv", namesrv)->required();
  produce->add_option("-t,--topic", topic)->required();
  produce->add_option("--prefix", prefix);
  produce->add_option("--out", out)->required();
  produce->add_option("--seconds", seconds);
  produce->add_option("--threads", threads)->check(CLI::Range(1, 64));
  auto* drain = app.add_subcommand("drain", "read every queue from its first offset, one id per line");
  drain->add_option("-n,--namesrv", namesrv)->required();
  drain->add_option("-t,--topic", topic)->required();
  drain->add_option("--out", out)->required();
  drain->add_option("--group", group);
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (produce->parsed()) return Produce(namesrv, topic, prefix, out, seconds, threads);
  return Drain(namesrv, topic, out, group);
}
