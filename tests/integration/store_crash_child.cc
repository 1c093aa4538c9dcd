// Child process of store_kill9_test: opens a store with SYNC_FLUSH on the real file system and appends
// messages from several threads until killed. After each acknowledged append it writes "<index> <offset>\n"
// to stdout, so the parent knows exactly what was acknowledged before its SIGKILL.
//
// Usage: store_crash_child <store dir> <first index> <threads>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/logging.h"
#include "broker/base/mutex.h"
#include "broker/io/file_system.h"
#include "broker/store/message_store.h"
#include "tests/integration/store_crash_common.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <store dir> <first index> <threads>\n", argv[0]);
    return 2;
  }
  fmq::SetLogLevel("warn");
  fmq::store::MessageStore store(fmq::crashtest::Config(argv[1]), fmq::io::PosixFileSystem(),
                                 fmq::SystemClock());
  fmq::Status s = store.Open();
  if (!s.ok()) {
    std::fprintf(stderr, "open failed: %s\n", s.ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> next{std::atoll(argv[2])};
  fmq::Mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::atoi(argv[3]); ++t) {
    threads.emplace_back([&] {
      while (true) {
        int64_t i = next.fetch_add(1);
        auto r = store.PutMessage(fmq::crashtest::MessageFor(i));
        if (!r.ok()) {
          std::fprintf(stderr, "put %lld failed: %s\n", static_cast<long long>(i),
                       r.status().ToString().c_str());
          std::_Exit(1);
        }
        std::string line = std::to_string(i) + " " + std::to_string(r->wrote_offset.value()) + "\n";
        fmq::MutexLock lock(&out_mu);
        if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
          std::_Exit(3);
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}
