#pragma once

// Helpers for tests that run FerryMQ programs as real child processes: spawn with captured output, read
// until a line appears, wait for the exit code, and raw socket exchanges for bad-input tests.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace fmq::testing_process {

// Broker settings every test broker gets. These tests are about messaging, replication and durability, not
// retention: they share the build machine's disk, which may already be more than 85-90 % used (df's Use%)
// before a test starts. Left at the defaults, the broker would then delete the oldest segments regardless of
// age (cleanFileForciblyEnable) and refuse every write (diskSpaceWarningLevelRatio), as designed.
// Disk-pressure behaviour has its own tests on the io::FileSystem seam (RetentionTest). tests/compat/lib.sh,
// tests/e2e/lib/broker_conf.py and bench/lib.sh carry the same two lines.
inline constexpr const char* kHostDiskConf =
    "cleanFileForciblyEnable=false\ndiskSpaceWarningLevelRatio=0.999\n";

struct Child {
  pid_t pid = -1;
  int out = -1;  // stdout+stderr of the child
};

inline Child Spawn(const char* binary, const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary, argv.data());
    std::_Exit(127);
  }
  close(fds[1]);
  c.out = fds[0];
  return c;
}

// Reads the child's output until a line containing `needle` is complete or the output ends; returns
// everything read.
inline std::string ReadUntil(int fd, const std::string& needle) {
  std::string got;
  char buf[512];
  auto done = [&] {
    auto at = got.find(needle);
    return at != std::string::npos && got.find('\n', at + needle.size() - 1) != std::string::npos;
  };
  while (!done()) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Reads the ports from `ferrymq standalone`'s banner ("name server 127.0.0.1:N, broker 127.0.0.1:M"). (No
// std::regex: GCC 12 warns inside it under -O1 sanitizer builds.)
inline bool ParseStandaloneBanner(const std::string& out, int* namesrv_port, int* broker_port) {
  const std::string ns = "name server 127.0.0.1:", br = ", broker 127.0.0.1:";
  auto a = out.find(ns);
  if (a == std::string::npos) return false;
  auto b = out.find(br, a);
  if (b == std::string::npos) return false;
  try {
    *namesrv_port = std::stoi(out.substr(a + ns.size()));
    *broker_port = std::stoi(out.substr(b + br.size()));
  } catch (const std::exception&) {
    return false;
  }
  return *namesrv_port > 0 && *broker_port > 0;
}

inline int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads the child's output until it closes it, then waits for its exit code.
inline int RunToEnd(const Child& c, std::string* out) {
  char buf[4096];
  ssize_t n;
  while ((n = read(c.out, buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  close(c.out);
  return WaitExit(c.pid);
}

// Whether the process is still running (not exited, not killed).
// True once every thread of `pid` is stopped (state T or t in /proc/<pid>/task/*/stat). kill(SIGSTOP) returns
// before the target stops: a thread of a busy process on a loaded machine may run on for milliseconds.
inline bool AllThreadsStopped(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  bool any = false;
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(t.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');  // the state follows "(comm) "
    if (close == std::string::npos || close + 2 >= stat.size()) return false;
    const char state = stat[close + 2];
    if (state != 'T' && state != 't') return false;
    any = true;
  }
  return any && !ec;
}

// kill(SIGSTOP), then waits (up to 10 s) until the process has really stopped.
inline bool StopAndWait(pid_t pid) {
  if (kill(pid, SIGSTOP) != 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!AllThreadsStopped(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline bool Alive(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == 0;
}

// Connects to 127.0.0.1:port, writes `bytes`, optionally half-closes, and returns everything the server
// writes until it closes the connection (10 s limit).
inline std::string Exchange(int port, const std::string& bytes, bool half_close = false) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  if (half_close) shutdown(fd, SHUT_WR);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string got;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      EXPECT_EQ(n, 0) << "the server neither answered nor closed within 10 s";
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return got;
}

}  // namespace fmq::testing_process
