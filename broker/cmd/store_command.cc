#include "broker/cmd/store_command.h"

#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "broker/io/file_system.h"
#include "broker/model/message.h"
#include "broker/store/store_inspector.h"

namespace fmq::cmd {
namespace {

constexpr const char* kUsage = R"(usage: ferrymq store <command> <store dir> [options]

Read-only tools for a store directory (storePathRootDir). They never modify the store: no recovery, no
truncation. Run them while the broker is stopped, or on a copy.

commands:
  verify <dir>   walk the commit log checking every record's CRC and layout, then check every consume-queue
                 entry against the record it points at; prints counts and the first bad offset.
                 Exit code 0: clean, 1: damage found.
  dump <dir>     print messages: --from <commit-log offset> --count <n> (default 20) --topic <name>
                 --format text|json (default text) --body-bytes <n> (default 64)
  stats <dir>    segments, offsets, checkpoint, queues and index files

common options:
  --commitlog <dir>   commit-log directory when not <dir>/commitlog (storePathCommitLog)
  --json              machine-readable output (verify, stats)
)";

struct Args {
  std::string command, dir;
  std::map<std::string, std::string> opts;
};

std::optional<Args> Parse(const std::vector<std::string>& argv, std::string* error) {
  Args a;
  std::vector<std::string> positional;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s == "--json") {
      a.opts["json"] = "1";
    } else if (s.rfind("--", 0) == 0) {
      if (i + 1 >= argv.size()) {
        *error = "option " + s + " needs a value";
        return std::nullopt;
      }
      a.opts[s.substr(2)] = argv[++i];
    } else {
      positional.push_back(s);
    }
  }
  if (positional.size() != 2) {
    *error = "expected a command and a store directory";
    return std::nullopt;
  }
  a.command = positional[0];
  a.dir = positional[1];
  return a;
}

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
  if (a.opts.count("json")) {
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
  int64_t from = -1, count = 20, body_bytes = 64;
  try {
    if (a.opts.count("from")) from = std::stoll(a.opts.at("from"));
    if (a.opts.count("count")) count = std::stoll(a.opts.at("count"));
    if (a.opts.count("body-bytes")) body_bytes = std::stoll(a.opts.at("body-bytes"));
  } catch (const std::exception&) {
    std::cerr << "dump: --from, --count and --body-bytes take numbers\n";
    return 2;
  }
  const std::string topic = a.opts.count("topic") ? a.opts.at("topic") : "";
  const bool json = a.opts.count("format") && a.opts.at("format") == "json";
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
  if (a.opts.count("json")) {
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

}  // namespace

int RunStoreCommand(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::cout << kUsage;
    return argv.empty() ? 2 : 0;
  }
  std::string error;
  auto a = Parse(argv, &error);
  if (!a) {
    std::cerr << "ferrymq store: " << error << "\n" << kUsage;
    return 2;
  }
  if (a->command != "verify" && a->command != "dump" && a->command != "stats") {
    std::cerr << "ferrymq store: unknown command '" << a->command << "'\n" << kUsage;
    return 2;
  }
  store::StoreInspector inspector(io::PosixFileSystem(), a->dir,
                                  a->opts.count("commitlog") ? a->opts.at("commitlog") : "");
  Status s = inspector.Load();
  if (!s.ok()) {
    std::cerr << "ferrymq store " << a->command << ": " << s << " (is " << a->dir << " a store directory?)\n";
    return 2;
  }
  if (a->command == "verify") return Verify(inspector, *a);
  if (a->command == "dump") return Dump(inspector, *a);
  return Stats(inspector, *a);
}

}  // namespace fmq::cmd
