#include "broker/cmd/store_command.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "broker/io/file_system.h"
#include "broker/model/message.h"
#include "broker/store/store_inspector.h"

namespace fmq::cmd {
namespace {

struct Args {
  std::string command, dir, commitlog, topic, format = "text";
  bool json = false;
  int64_t from = -1, count = 20, body_bytes = 64;
};

std::string Printable(std::string_view body, size_t max) {
  std::string out;
  for (size_t i = 0; i < body.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char b[5];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    }
  }
  if (body.size() > max) out += "...";
  return out;
}

std::string PropsText(std::string_view props) {
  std::string out;
  for (const auto& [k, v] : model::DecodeProperties(props)) {
    if (!out.empty()) out += ' ';
    out += k + "=" + v;
  }
  return out;
}

int Verify(store::StoreInspector& inspector, const Args& a) {
  auto scan = inspector.ScanCommitLog(-1, nullptr);
  if (!scan.ok()) {
    std::cerr << "verify: " << scan.status() << "\n";
    return 2;
  }
  auto queues = inspector.CheckConsumeQueues(scan->min_offset);
  if (!queues.ok()) {
    std::cerr << "verify: " << queues.status() << "\n";
    return 2;
  }
  const bool clean = scan->first_bad_offset < 0 && queues->problem_count == 0;
  if (a.json) {
    nlohmann::json j = {{"clean", clean},
                        {"segments", scan->segments},
                        {"segmentSize", scan->segment_size},
                        {"minOffset", scan->min_offset},
                        {"endOffset", scan->end_offset},
                        {"messages", scan->messages},
                        {"bytes", scan->bytes},
                        {"firstBadOffset", scan->first_bad_offset},
                        {"firstBadReason", scan->first_bad_reason},
                        {"consumeQueues", queues->queues.size()},
                        {"consumeQueueProblems", queues->problem_count},
                        {"problems", queues->problems}};
    std::cout << j.dump() << "\n";
  } else {
    std::printf(
        "commit log: %lld segments of %lld bytes, offsets %lld..%lld, %lld messages (%lld bytes), CRC "
        "checked\n",
        (long long)scan->segments, (long long)scan->segment_size, (long long)scan->min_offset,
        (long long)scan->end_offset, (long long)scan->messages, (long long)scan->bytes);
    if (scan->first_bad_offset >= 0) {
      std::printf("first bad offset: %lld (%s)\n  the broker's recovery will cut the log there\n",
                  (long long)scan->first_bad_offset, scan->first_bad_reason.c_str());
    } else {
      std::printf("first bad offset: none\n");
    }
    int64_t entries = 0;
    for (const auto& q : queues->queues) entries += q.entries;
    std::printf("consume queues: %zu queues, %lld entries, %lld problems\n", queues->queues.size(),
                (long long)entries, (long long)queues->problem_count);
    for (const auto& p : queues->problems) std::printf("  %s\n", p.c_str());
    std::printf("%s\n", clean ? "OK" : "DAMAGED");
  }
  return clean ? 0 : 1;
}

int Dump(store::StoreInspector& inspector, const Args& a) {
  const int64_t from = a.from, count = a.count, body_bytes = a.body_bytes;
  const std::string& topic = a.topic;
  const bool json = a.format == "json";
  int64_t printed = 0;
  auto scan = inspector.ScanCommitLog(from, [&](const model::StoredMessageView& m, int64_t phys) {
    if (!topic.empty() && m.topic != topic) return true;
    if (json) {
      nlohmann::json j = {{"offset", phys},
                          {"msgId", model::CreateOffsetMessageId(m.store_host, PhysicalOffset(phys))},
                          {"topic", std::string(m.topic)},
                          {"queueId", m.queue_id.value()},
                          {"queueOffset", m.queue_offset.value()},
                          {"storeTimestamp", m.store_timestamp},
                          {"bornTimestamp", m.born_timestamp},
                          {"bornHost", m.born_host.ToString()},
                          {"storeHost", m.store_host.ToString()},
                          {"sysFlag", m.sys_flag},
                          {"flag", m.flag},
                          {"reconsumeTimes", m.reconsume_times},
                          {"properties", model::DecodeProperties(m.properties)},
                          {"bodySize", m.body.size()},
                          {"body", Printable(m.body, static_cast<size_t>(body_bytes))}};
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "offset=%lld topic=%.*s queue=%d queueOffset=%lld storeTime=%lld born=%s props=[%s] body(%zu)=%s\n",
          (long long)phys, (int)m.topic.size(), m.topic.data(), m.queue_id.value(),
          (long long)m.queue_offset.value(), (long long)m.store_timestamp, m.born_host.ToString().c_str(),
          PropsText(m.properties).c_str(), m.body.size(),
          Printable(m.body, static_cast<size_t>(body_bytes)).c_str());
    }
    return ++printed < count;
  });
  if (!scan.ok()) {
    std::cerr << "dump: " << scan.status() << "\n";
    return 2;
  }
  if (scan->first_bad_offset >= 0) {
    std::cerr << "dump: stopped at damaged record at offset " << scan->first_bad_offset << ": "
              << scan->first_bad_reason << "\n";
  }
  return 0;
}

int Stats(store::StoreInspector& inspector, const Args& a) {
  auto s = inspector.Summarize();
  if (!s.ok()) {
    std::cerr << "stats: " << s.status() << "\n";
    return 2;
  }
  if (a.json) {
    nlohmann::json queues = nlohmann::json::array();
    for (const auto& q : s->queues) {
      queues.push_back({{"topic", q.topic},
                        {"queueId", q.queue_id},
                        {"minOffset", q.min_offset},
                        {"maxOffset", q.max_offset}});
    }
    nlohmann::json index = nlohmann::json::array();
    for (const auto& f : s->index_files) {
      index.push_back({{"name", f.name},
                       {"beginTimestamp", f.begin_timestamp},
                       {"endTimestamp", f.end_timestamp},
                       {"endPhyOffset", f.end_phy_offset},
                       {"indexCount", f.index_count}});
    }
    nlohmann::json j = {{"root", s->root},
                        {"identity", s->identity},
                        {"abortMarker", s->abort_marker},
                        {"checkpoint",
                         {{"physicMsgTimestamp", s->checkpoint_physic},
                          {"logicsMsgTimestamp", s->checkpoint_logics},
                          {"indexMsgTimestamp", s->checkpoint_index}}},
                        {"commitLog",
                         {{"segments", s->commit_log.segments},
                          {"segmentSize", s->commit_log.segment_size},
                          {"minOffset", s->commit_log.min_offset},
                          {"endOffset", s->commit_log.end_offset},
                          {"lastStoreTimestamp", s->commit_log.last_store_timestamp}}},
                        {"queues", queues},
                        {"indexFiles", index}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("store %s\n", s->root.c_str());
  std::printf("identity: %s\n", s->identity.empty()
                                    ? "(none)"
                                    : nlohmann::json::parse(s->identity, nullptr, false).dump().c_str());
  std::printf("abort marker: %s\n",
              s->abort_marker ? "present (running, or not shut down cleanly)" : "absent (clean shutdown)");
  std::printf("checkpoint: physic=%lld logics=%lld index=%lld\n", (long long)s->checkpoint_physic,
              (long long)s->checkpoint_logics, (long long)s->checkpoint_index);
  std::printf(
      "commit log: %lld segments of %lld bytes, min offset %lld, end offset %lld, last store time %lld\n",
      (long long)s->commit_log.segments, (long long)s->commit_log.segment_size,
      (long long)s->commit_log.min_offset, (long long)s->commit_log.end_offset,
      (long long)s->commit_log.last_store_timestamp);
  std::printf("consume queues: %zu\n", s->queues.size());
  for (const auto& q : s->queues) {
    std::printf("  %s:%d min=%lld max=%lld\n", q.topic.c_str(), q.queue_id, (long long)q.min_offset,
                (long long)q.max_offset);
  }
  std::printf("index files: %zu\n", s->index_files.size());
  for (const auto& f : s->index_files) {
    std::printf("  %s entries=%d time=%lld..%lld endPhyOffset=%lld\n", f.name.c_str(), f.index_count - 1,
                (long long)f.begin_timestamp, (long long)f.end_timestamp, (long long)f.end_phy_offset);
  }
  return 0;
}

int RunStore(const Args& a) {
  store::StoreInspector inspector(io::PosixFileSystem(), a.dir, a.commitlog);
  Status s = inspector.Load();
  if (!s.ok()) {
    std::cerr << "ferrymq store " << a.command << ": " << s << " (is " << a.dir << " a store directory?)\n";
    return 2;
  }
  if (a.command == "verify") return Verify(inspector, a);
  if (a.command == "dump") return Dump(inspector, a);
  return Stats(inspector, a);
}

}  // namespace

void AddStoreCommand(CLI::App& app, std::function<int()>& action) {
  auto* store = app.add_subcommand(
      "store",
      "read-only tools for a store directory (storePathRootDir): no recovery, no truncation; run them "
      "while the broker is stopped, or on a copy");
  store->require_subcommand(1);
  auto a = std::make_shared<Args>();
  auto add = [&](const char* name, const char* what) {
    auto* cmd = store->add_subcommand(name, what);
    cmd->add_option("dir", a->dir, "store directory")->required();
    cmd->add_option("--commitlog", a->commitlog, "commit-log directory when not <dir>/commitlog");
    cmd->callback([&action, a, name] {
      a->command = name;
      action = [a] { return RunStore(*a); };
    });
    return cmd;
  };
  add("verify",
      "walk the commit log checking every record's CRC and layout, then every consume-queue entry against "
      "the "
      "record it points at; prints counts and the first bad offset. Exit code 0: clean, 1: damage found")
      ->add_flag("--json", a->json, "machine-readable output");
  auto* dump = add("dump", "print messages");
  dump->add_option("--from", a->from, "first commit-log offset (default: the start)");
  dump->add_option("--count", a->count, "messages to print")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  dump->add_option("--topic", a->topic, "only this topic");
  dump->add_option("--format", a->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  dump->add_option("--body-bytes", a->body_bytes, "body bytes to print")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add("stats", "segments, offsets, checkpoint, queues and index files")
      ->add_flag("--json", a->json, "machine-readable output");
}

}  // namespace fmq::cmd
