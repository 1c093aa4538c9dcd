#pragma once

// What a pull returns of a queue (RocketMQ's ExpressionMessageFilter): for a TAG subscription, entries whose
// tag hash code is subscribed, judged on the consume queue alone (the client re-checks the tag string); for
// an SQL92 subscription, every entry of the consume queue, then the message's properties against the
// selector. A selector that is not TRUE for a message (FALSE, unknown, or an evaluation error such as a
// non-numeric property compared with a number) skips it, as in RocketMQ.
//
// Sql92Cache compiles selectors once: heartbeats and pulls name the same few expressions over and over
// (Apache keeps a parse cache of 100 entries for the same reason).
//
// Thread-safety: SubscriptionFilter is immutable; Sql92Cache may be used from any thread.

#include <list>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/filter/sql92.h"
#include "broker/model/heartbeat.h"
#include "broker/store/message_store.h"

namespace fmq::server {

inline constexpr const char* kExpressionTypeTag = "TAG";
inline constexpr const char* kExpressionTypeSql92 = "SQL92";
// ExpressionType.isTagType: absent, empty or TAG.
inline bool IsTagType(std::string_view type) { return type.empty() || type == kExpressionTypeTag; }

class SubscriptionFilter : public store::MessageFilter {
 public:
  // A TAG subscription: "*" (or empty) matches everything, else its code set.
  explicit SubscriptionFilter(const model::SubscriptionData& tags);
  // An SQL92 subscription.
  explicit SubscriptionFilter(std::shared_ptr<const filter::Sql92Expression> selector);

  bool IsMatchedByConsumeQueue(int64_t tags_code) const override;
  bool IsMatchedByCommitLog(const model::StoredMessageView& message) const override;

 private:
  bool all_ = false;
  std::set<int32_t> codes_;
  std::shared_ptr<const filter::Sql92Expression> selector_;
};

class Sql92Cache {
 public:
  explicit Sql92Cache(size_t capacity = 256) : capacity_(capacity) {}
  // The compiled selector, or InvalidArgument with the message Apache's parser gives.
  Result<std::shared_ptr<const filter::Sql92Expression>> Compile(const std::string& sql) FMQ_EXCLUDES(mu_);

 private:
  struct Entry {
    Result<std::shared_ptr<const filter::Sql92Expression>> compiled;
    std::list<std::string>::iterator lru;
  };
  const size_t capacity_;
  Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ FMQ_GUARDED_BY(mu_);
  std::list<std::string> lru_ FMQ_GUARDED_BY(mu_);  // most recently used first
};

}  // namespace fmq::server
