#include "broker/client/allocate.h"

#include <algorithm>

namespace fmq::client {

std::vector<MessageQueue> AllocateAveragely(const std::string& client_id,
                                            const std::vector<MessageQueue>& all_queues,
                                            const std::vector<std::string>& all_client_ids) {
  std::vector<MessageQueue> result;
  auto it = std::find(all_client_ids.begin(), all_client_ids.end(), client_id);
  if (it == all_client_ids.end() || all_queues.empty()) return result;
  const int64_t index = it - all_client_ids.begin();
  const int64_t n = static_cast<int64_t>(all_queues.size());
  const int64_t c = static_cast<int64_t>(all_client_ids.size());
  const int64_t mod = n % c;
  const int64_t average = n <= c ? 1 : (mod > 0 && index < mod ? n / c + 1 : n / c);
  const int64_t start = (mod > 0 && index < mod) ? index * average : index * average + mod;
  const int64_t range = std::min(average, n - start);
  for (int64_t i = 0; i < range; ++i) result.push_back(all_queues[(start + i) % n]);
  return result;
}

}  // namespace fmq::client
