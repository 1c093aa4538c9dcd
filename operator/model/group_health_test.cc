#include "operator/model/group_health.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

const api::Condition& Find(const std::vector<api::Condition>& cs, const std::string& type) {
  for (const auto& c : cs) {
    if (c.type == type) return c;
  }
  static const api::Condition none{};
  ADD_FAILURE() << "no condition " << type;
  return none;
}

ClientReport Client(std::string id, std::vector<std::string> subs) {
  ClientReport c;
  c.client_id = std::move(id);
  c.subscriptions = std::move(subs);
  return c;
}

TEST(GroupHealthTest, AHealthyGroupHasEverySixConditionFalse) {
  GroupHealthInput in;
  in.now_ms = kNow;
  in.queues = {{"orders", 100, 100, kNow - 1000}, {"%RETRY%billing", 3, 3, kNow - 5000}};
  in.counts = {{"orders", 0, 0, 0}};
  in.online_clients = 2;
  in.clients = {Client("a@1", {"orders=*"}), Client("b@2", {"orders=*"})};
  auto cs = GroupHealth({}, in);
  ASSERT_EQ(cs.size(), 6u);
  for (size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ(cs[i].type, kGroupHealthConditions[i]);
    EXPECT_EQ(cs[i].status, "False") << cs[i].type << ": " << cs[i].message;
  }
  EXPECT_EQ(Find(cs, "Lagging").reason, "CaughtUp");
  EXPECT_EQ(Find(cs, "ClientsBlocked").reason, "NotBlocked");
  EXPECT_EQ(Find(cs, "SubscriptionInconsistent").message, "every client subscribes orders=*");
}

TEST(GroupHealthTest, LaggingNeedsBothTheCountAndTheAgeLikeMqCloud) {
  api::GroupAlertingSpec t;  // 10,000 messages and 300 s
  GroupHealthInput in;
  in.now_ms = kNow;
  // 12,000 behind, last consumed 10 minutes ago: lagging.
  in.queues = {{"orders", 8000, 1000, kNow - 600'000}, {"orders", 6000, 1000, kNow - 20'000}};
  auto c = Find(GroupHealth(t, in), "Lagging");
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(c.reason, "BacklogTooLarge");
  EXPECT_EQ(c.message,
            "12000 messages not consumed (more than 10000: orders 12000) and the last consumed message on a "
            "lagging queue was stored 600 s ago (more than 300 s)");
  // Many but fresh (a burst being consumed): not lagging.
  in.queues = {{"orders", 50'000, 1000, kNow - 20'000}};
  c = Find(GroupHealth(t, in), "Lagging");
  EXPECT_EQ(c.status, "False");
  EXPECT_EQ(c.reason, "WithinThreshold");
  // Old but few: not lagging.
  in.queues = {{"orders", 200, 100, kNow - 3'600'000}};
  EXPECT_EQ(Find(GroupHealth(t, in), "Lagging").status, "False");
  // A group that never consumed: its age counts as old; dead letters do not count as lag.
  t.lag_messages = 50;
  in.queues = {{"orders", 200, 0, 0}, {"%DLQ%billing", 1000, 0, 0}};
  c = Find(GroupHealth(t, in), "Lagging");
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(
      c.message,
      "200 messages not consumed (more than 50: orders 200) and 1 lagging queue was never consumed from "
      "(more than 300 s)");
  // A broadcasting group commits nothing to the brokers: what they count is no lag.
  in.broadcast = true;
  c = Find(GroupHealth(t, in), "Lagging");
  EXPECT_EQ(c.status, "False");
  EXPECT_EQ(c.reason, "Broadcast");
}

TEST(GroupHealthTest, FailuresDeadLettersAndOffsetMovesOfTheLastHour) {
  api::GroupAlertingSpec t;  // more than 10 failures, more than 0 dead letters
  GroupHealthInput in;
  in.now_ms = kNow;
  in.counts = {{"orders", 8, 0, 0}, {"%RETRY%billing", 3, 0, 0}};
  auto cs = GroupHealth(t, in);
  EXPECT_EQ(Find(cs, "ConsumeFailing").status, "True");
  EXPECT_EQ(Find(cs, "ConsumeFailing").message,
            "11 failed consumptions in the last hour (more than 10), handed back for a retry: orders 8, "
            "%RETRY%billing 3");
  EXPECT_EQ(Find(cs, "DeadLetters").status, "False");
  EXPECT_EQ(Find(cs, "OffsetMoved").status, "False");
  // Orderly consumers retry in place: their own count is the larger one.
  in.counts = {{"orders", 0, 2, 1}};
  ClientReport orderly = Client("o@1", {"orders=*"});
  orderly.orderly = true;
  orderly.consume_failed_last_hour = 40;
  in.clients = {orderly};
  in.online_clients = 1;
  cs = GroupHealth(t, in);
  EXPECT_EQ(Find(cs, "ConsumeFailing").status, "True");
  EXPECT_EQ(Find(cs, "ConsumeFailing").message,
            "40 failed consumptions in the last hour (more than 10), reported by the clients: o@1 40");
  EXPECT_EQ(Find(cs, "DeadLetters").status, "True");
  EXPECT_EQ(Find(cs, "DeadLetters").message,
            "2 messages moved to the dead-letter queue in the last hour (more than 0): orders 2");
  EXPECT_EQ(Find(cs, "OffsetMoved").status, "True");
  EXPECT_EQ(Find(cs, "OffsetMoved").reason, "OffsetOutOfRange");
  // Per-group thresholds.
  t.consume_failures_per_hour = 100;
  t.dead_letters_per_hour = 5;
  cs = GroupHealth(t, in);
  EXPECT_EQ(Find(cs, "ConsumeFailing").status, "False");
  EXPECT_EQ(Find(cs, "ConsumeFailing").reason, "WithinThreshold");
  EXPECT_EQ(Find(cs, "DeadLetters").status, "False");
}

TEST(GroupHealthTest, BlockedPushConsumersButNotOrderlyOnesNorFreshQueues) {
  api::GroupAlertingSpec t;  // 100 messages held for 60 s
  GroupHealthInput in;
  in.now_ms = kNow;
  in.online_clients = 3;
  ClientReport stuck = Client("a@1", {"orders=*"});
  stuck.queues = {{"orders@b1#0", 150, kNow - 90'000, false},   // blocked
                  {"orders@b1#1", 150, kNow - 10'000, false},   // consuming
                  {"orders@b1#2", 50, kNow - 900'000, false},   // idle, holds little
                  {"orders@b1#3", 500, kNow - 900'000, true}};  // dropped (rebalanced away)
  ClientReport orderly = Client("b@2", {"orders=*"});
  orderly.orderly = true;
  orderly.queues = {{"orders@b2#0", 1000, kNow - 900'000, false}};
  ClientReport gone = Client("c@3", {});
  gone.error = "timeout";
  in.clients = {stuck, orderly, gone};
  auto c = Find(GroupHealth(t, in), "ClientsBlocked");
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(c.message,
            "1 queue is blocked: a@1 on orders@b1#0 (150 messages held, nothing consumed for 90 s)");
  // Nobody answered: unknown, naming who was asked.
  in.clients = {gone};
  c = Find(GroupHealth(t, in), "ClientsBlocked");
  EXPECT_EQ(c.status, "Unknown");
  EXPECT_EQ(c.message, "no online consumer answered GET_CONSUMER_RUNNING_INFO (c@3)");
  in.online_clients = 0;
  in.clients = {};
  EXPECT_EQ(Find(GroupHealth(t, in), "ClientsBlocked").reason, "NoClients");
}

TEST(GroupHealthTest, ClientsThatSubscribeDifferentlyAreNamed) {
  GroupHealthInput in;
  in.now_ms = kNow;
  in.online_clients = 3;
  in.clients = {Client("a@1", {"orders=*"}), Client("b@2", {"orders=TagA"}), Client("c@3", {"orders=*"})};
  auto c = Find(GroupHealth({}, in), "SubscriptionInconsistent");
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(c.reason, "SubscriptionsDiffer");
  EXPECT_NE(c.message.find("a@1, c@3: orders=*"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("b@2: orders=TagA"), std::string::npos) << c.message;
}

TEST(GroupHealthTest, ClientTotalsSumRatesAndTakeTheSlowestClient) {
  ClientReport a = Client("a@1", {"orders=*"});
  a.consume_ok_tps = 10.5;
  a.consume_failed_tps = 0.5;
  a.consume_rt_ms = 3;
  a.queues = {{"orders@b1#0", 7, kNow, false},
              {"orders@b1#1", 100, kNow, true}};  // a dropped queue holds none
  ClientReport b = Client("b@2", {"orders=*"});
  b.consume_ok_tps = 4.5;
  b.consume_rt_ms = 12;
  b.queues = {{"orders@b1#2", 3, kNow, false}};
  ClientReport gone = Client("c@3", {});
  gone.error = "timeout";
  gone.consume_ok_tps = 99;  // not known: it did not answer
  EXPECT_EQ(SumClients({a, b, gone}), (ClientTotals{2, 15.0, 0.5, 12, 10}));
  EXPECT_EQ(SumClients({}), ClientTotals{});
}

}  // namespace
}  // namespace fmq::op::model
