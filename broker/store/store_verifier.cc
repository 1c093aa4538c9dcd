#include "broker/store/store_verifier.h"

#include <map>
#include <set>

namespace fmq::store {

int64_t ForEachStoredMessage(
    const MessageStore& store,
    const std::function<void(const model::StoredMessageView&, PhysicalOffset, std::span<const uint8_t>)>& fn,
    bool check_crc, std::string* stop_reason) {
  auto& log = const_cast<MessageStore&>(store).TEST_commit_log();
  auto files = log.queue().Files();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    const size_t limit = f->WrotePosition();
    size_t pos = 0;
    while (true) {
      if (pos == limit && limit < f->size()) {
        // End of the written data of the newest segment.
        if (stop_reason) *stop_reason = "end of data";
        return f->base_offset() + static_cast<int64_t>(pos);
      }
      CheckedRecord r = CheckRecordAt(*f, pos, limit, check_crc);
      if (r.kind == RecordKind::kMessage) {
        fn(r.view, PhysicalOffset(f->base_offset() + static_cast<int64_t>(pos)), {f->data() + pos, r.size});
        pos += r.size;
        continue;
      }
      if (r.kind == RecordKind::kBlank) break;  // next segment
      if (stop_reason) *stop_reason = r.problem;
      return f->base_offset() + static_cast<int64_t>(pos);
    }
  }
  if (stop_reason) *stop_reason = "end of data";
  return files.empty() ? 0
                       : files.back()->base_offset() + static_cast<int64_t>(files.back()->WrotePosition());
}

VerifyReport VerifyStore(const MessageStore& store, const VerifyOptions& options) {
  VerifyReport rep;
  auto problem = [&](std::string p) {
    if (rep.problems.size() < 100) rep.problems.push_back(std::move(p));
    ++rep.problem_count;
  };
  auto& log = const_cast<MessageStore&>(store).TEST_commit_log();
  rep.commit_log_files = static_cast<int64_t>(log.queue().Files().size());

  // Queue -> (queue offset -> (phys, size, tag code)) as the commit log says they must be.
  struct Expected {
    int64_t phys;
    int32_t size;
    int64_t tags_code;
    bool must_be_dispatched;  // consume queues may lack entries beyond what dispatch reached
  };
  std::map<std::pair<std::string, int32_t>, std::map<int64_t, Expected>> expected;
  std::string reason;
  // Consume queues and the index cover what dispatch reached (the confirm offset bounds it on replicas).
  const int64_t dispatched = store.DispatchedOffset().value();
  const int64_t end = ForEachStoredMessage(
      store,
      [&](const model::StoredMessageView& m, PhysicalOffset phys, std::span<const uint8_t> bytes) {
        ++rep.messages;
        rep.bytes += static_cast<int64_t>(bytes.size());
        const bool covered = phys.value() + static_cast<int64_t>(bytes.size()) <= dispatched;
        if (options.check_consume_queues && model::sysflag::IsDispatchable(m.sys_flag)) {
          const int64_t tags =
              model::ConsumeQueueTagsCode(m.topic, m.properties, m.store_timestamp, store.delay_levels());
          expected[{std::string(m.topic), m.queue_id.value()}][m.queue_offset.value()] = {
              phys.value(), static_cast<int32_t>(bytes.size()), tags, covered};
        }
        if (covered && options.check_index && store.config().message_index_enable &&
            model::sysflag::TransactionType(m.sys_flag) != model::sysflag::kTransactionRollback) {
          std::vector<std::string> keys;
          if (auto u = model::FindProperty(m.properties, model::prop::kUniqKey)) keys.emplace_back(*u);
          if (auto k = model::FindProperty(m.properties, model::prop::kKeys)) {
            size_t s = 0;
            while (s < k->size()) {
              size_t sp = k->find(' ', s);
              if (sp == std::string_view::npos) sp = k->size();
              if (sp > s) keys.emplace_back(k->substr(s, sp - s));
              s = sp + 1;
            }
          }
          for (const auto& key : keys) {
            ++rep.index_keys_checked;
            // The index keeps whole seconds since its file began: an entry reads back up to 999 ms early.
            auto found =
                store.QueryMessage(m.topic, key, 1 << 16, m.store_timestamp - 999, m.store_timestamp);
            bool hit = false;
            for (const auto& b : found.messages) hit |= b.offset == phys;
            if (!hit) {
              problem("index: key '" + key + "' of topic " + std::string(m.topic) + " does not find offset " +
                      std::to_string(phys.value()));
            }
          }
        }
      },
      /*check_crc=*/true, &reason);
  // A slave's copy may end inside a record: the valid log ends at the last whole one.
  if (end != log.CompleteEnd().value()) {
    rep.first_bad_offset = end;
    rep.first_bad_reason = reason;
  }

  if (options.check_consume_queues) {
    for (const auto& q : store.ListQueues()) {
      auto& want = expected[{q.topic, q.queue_id.value()}];
      for (int64_t off = q.min_offset.value(); off < q.max_offset.value(); ++off) {
        auto got = store.ConsumeQueueEntry(q.topic, q.queue_id, QueueOffset(off));
        ++rep.consume_queue_entries;
        auto it = want.find(off);
        if (it == want.end()) {
          problem("consume queue " + q.topic + ":" + std::to_string(q.queue_id.value()) + " offset " +
                  std::to_string(off) + " has no message in the commit log");
          continue;
        }
        auto text = [](int64_t o, int64_t s, int64_t t) {
          return std::to_string(o) + "/" + std::to_string(s) + "/" + std::to_string(t);
        };
        if (!got.ok() || got->offset.value() != it->second.phys || got->size != it->second.size ||
            got->tags_code != it->second.tags_code) {
          problem("consume queue " + q.topic + ":" + std::to_string(q.queue_id.value()) + " offset " +
                  std::to_string(off) + " holds (offset/size/tag code) " +
                  (got.ok() ? text(got->offset.value(), got->size, got->tags_code) : "nothing") +
                  ", the commit log says " + text(it->second.phys, it->second.size, it->second.tags_code));
        }
        want.erase(it);
      }
    }
    const int64_t cl_min = store.MinPhyOffset().value();
    for (const auto& [queue, left] : expected) {
      for (const auto& [off, e] : left) {
        if (e.phys < cl_min || !e.must_be_dispatched) continue;
        problem("message at " + std::to_string(e.phys) + " (" + queue.first + ":" +
                std::to_string(queue.second) + " offset " + std::to_string(off) +
                ") is missing from its consume queue");
      }
    }
  }
  return rep;
}

}  // namespace fmq::store
