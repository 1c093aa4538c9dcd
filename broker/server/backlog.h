#pragma once

// Backlog: the messages a broker holds that nobody has consumed yet. A broker group leaving the cluster
// (the operator's scale-in, docs/kubernetes.md "Scaling in") is removed only once this is zero, so the count
// errs on the side of "not consumed":
//
// * a queue some consumer group has offsets for (consumerOffset.json, %RETRY% topics and the transaction
//   check's CID_SYS_RMQ_TRANS on the half topic included) counts from the lowest of those groups' offsets (a
//   group with offsets on the topic but none on this queue counts from the queue's minimum);
// * a queue no group has offsets for counts whole (min to max): messages no consumer group took yet, dead
//   letters (%DLQ%) too. Broadcast consumers keep their offsets on the clients, so their topics count whole;
// * SCHEDULE_TOPIC_XXXX counts from each delay level's delivery progress, the timer wheel its pending
// records;
// * topics no consumer reads by design count nothing: TBW102, SELF_TEST_TOPIC, OFFSET_MOVED_EVENT, the
//   cluster's and the broker's own topics, the reply topic, the transaction op and check-max topics and the
//   trace topic.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fmq::server {

struct QueueRange {
  int64_t min = 0;
  int64_t max = 0;  // next offset to be written
};

struct BacklogInput {
  std::map<std::string, std::vector<QueueRange>> queues;  // topic -> its queues by id
  // topic -> consumer group -> queue id -> next offset to consume
  std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> consumed;
  std::set<std::string> ignored;  // topics no consumer reads by design
  int64_t timer_pending = 0;      // timer records not delivered yet
};

struct Backlog {
  int64_t total = 0;
  std::vector<std::pair<std::string, int64_t>> by_topic;  // topics with a backlog, largest first
};

Backlog ComputeBacklog(const BacklogInput& in);

// "T1:120,T2:3" for the `limit` largest (runtime info's backlogTopics); empty without a backlog.
std::string DescribeBacklog(const Backlog& b, size_t limit = 5);

}  // namespace fmq::server
