#include "broker/server/subscription_filter.h"

#include "broker/model/message.h"

namespace fmq::server {

namespace {
// A message's properties as the selector reads them (absent and empty values are both null, as Java's
// property decoder drops empty values).
class StoredProperties : public filter::PropertySource {
 public:
  explicit StoredProperties(std::string_view text) : text_(text) {}
  std::optional<std::string_view> Get(std::string_view name) const override {
    return model::FindProperty(text_, name);
  }

 private:
  std::string_view text_;
};
}  // namespace

SubscriptionFilter::SubscriptionFilter(const model::SubscriptionData& tags)
    : all_(tags.class_filter_mode || tags.sub_string.empty() || tags.sub_string == "*"),
      codes_(tags.code_set) {}

SubscriptionFilter::SubscriptionFilter(std::shared_ptr<const filter::Sql92Expression> selector)
    : all_(true), selector_(std::move(selector)) {}

bool SubscriptionFilter::IsMatchedByConsumeQueue(int64_t tags_code) const {
  return all_ || codes_.count(static_cast<int32_t>(tags_code)) > 0;
}

bool SubscriptionFilter::IsMatchedByCommitLog(const model::StoredMessageView& message) const {
  return !selector_ || selector_->Matches(StoredProperties(message.properties));
}

Result<std::shared_ptr<const filter::Sql92Expression>> Sql92Cache::Compile(const std::string& sql) {
  {
    MutexLock lock(&mu_);
    if (auto it = entries_.find(sql); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.compiled;
    }
  }
  auto compiled = filter::Sql92Expression::Compile(sql);  // outside the lock: input may be long
  MutexLock lock(&mu_);
  if (entries_.count(sql) == 0) {
    lru_.push_front(sql);
    entries_.emplace(sql, Entry{compiled, lru_.begin()});
    if (entries_.size() > capacity_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
  }
  return compiled;
}

}  // namespace fmq::server
