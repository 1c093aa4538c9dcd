#include <gtest/gtest.h>

#include <atomic>

#include "broker/client/allocate.h"
#include "broker/client/client_test_util.h"
#include "broker/client/pull_consumer.h"
#include "broker/client/push_consumer.h"
#include "broker/model/message.h"
#include "broker/model/route.h"
#include "broker/protocol/headers.h"

namespace fmq::client {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;
using testing::Reply;
using testing::ScriptedServer;

// ---- AllocateAveragely against results of Java's AllocateMessageQueueAveragely

std::vector<MessageQueue> Queues(int n) {
  std::vector<MessageQueue> out;
  for (int i = 0; i < n; ++i) out.push_back({"T", "b", i});
  return out;
}

std::vector<int> Ids(const std::vector<MessageQueue>& qs) {
  std::vector<int> out;
  for (const auto& q : qs) out.push_back(q.queue_id);
  return out;
}

TEST(AllocateAveragelyTest, MatchesJavaAllocation) {
  struct Case {
    int queues;
    int consumers;
    std::vector<std::vector<int>> expected;  // per consumer index
  };
  const std::vector<Case> cases = {
      {8, 3, {{0, 1, 2}, {3, 4, 5}, {6, 7}}},
      {5, 2, {{0, 1, 2}, {3, 4}}},
      {4, 4, {{0}, {1}, {2}, {3}}},
      {3, 5, {{0}, {1}, {2}, {}, {}}},
      {16, 3, {{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}}},
      {7, 1, {{0, 1, 2, 3, 4, 5, 6}}},
      {10, 4, {{0, 1, 2}, {3, 4, 5}, {6, 7}, {8, 9}}},
  };
  for (const auto& c : cases) {
    std::vector<std::string> cids;
    for (int i = 0; i < c.consumers; ++i) cids.push_back("10.0.0.1@" + std::to_string(100 + i));
    for (int i = 0; i < c.consumers; ++i) {
      EXPECT_EQ(Ids(AllocateAveragely(cids[i], Queues(c.queues), cids)), c.expected[i])
          << c.queues << " queues, " << c.consumers << " consumers, index " << i;
    }
  }
}

TEST(AllocateAveragelyTest, UnknownConsumerGetsNothing) {
  EXPECT_TRUE(AllocateAveragely("x@1", Queues(4), {"a@1", "b@1"}).empty());
  EXPECT_TRUE(AllocateAveragely("a@1", {}, {"a@1"}).empty());
}

// ---- pull

std::string Record(int64_t queue_offset, const std::string& tags, const std::string& body, int port) {
  model::StoredMessage m;
  m.topic = "T";
  m.queue_id = QueueId(1);
  m.queue_offset = QueueOffset(queue_offset);
  m.physical_offset = PhysicalOffset(1000 + queue_offset * 200);
  m.born_timestamp = 1'700'000'000'000;
  m.store_timestamp = 1'700'000'000'123;
  m.born_host = model::HostAddress::V4(10, 0, 0, 9, 5555);
  m.store_host = model::HostAddress::V4(127, 0, 0, 1, port);
  std::map<std::string, std::string> props = {{"KEYS", "key" + std::to_string(queue_offset)},
                                              {"UNIQ_KEY", "U" + std::to_string(queue_offset)}};
  if (!tags.empty()) props["TAGS"] = tags;
  m.properties = model::EncodeProperties(props);
  m.body = body;
  std::string out;
  model::EncodeStoredMessage(m, true, &out);
  return out;
}

std::string OneBrokerRoute(const std::string& addr, int queues) {
  model::TopicRouteData r;
  r.queue_datas = {{"broker-a", queues, queues, 6, 0}};
  r.broker_datas = {{"c1", "broker-a", {{0, addr}}}};
  return model::EncodeTopicRouteData(r);
}

std::map<std::string, std::string> PullHeader(int64_t next, int64_t min, int64_t max) {
  return {{"suggestWhichBrokerId", "0"},
          {"nextBeginOffset", std::to_string(next)},
          {"minOffset", std::to_string(min)},
          {"maxOffset", std::to_string(max)}};
}

class PullConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namesrv_.On(rq::kGetRouteInfoByTopic, [this](const RemotingCommand&) {
      return Reply(rc::kSuccess, OneBrokerRoute(broker_.addr(), 4));
    });
    PullConsumerConfig c;
    c.group = "cg";
    c.client.namesrv_addrs = {namesrv_.addr()};
    consumer_ = std::make_unique<PullConsumer>(c);
    ASSERT_TRUE(consumer_->Start().ok());
  }
  ScriptedServer namesrv_, broker_;
  std::unique_ptr<PullConsumer> consumer_;
};

TEST_F(PullConsumerTest, DecodesSeveralMessagesAndFiltersTagsOnTheClient) {
  const int port = broker_.port();
  broker_.On(rq::kPullMessage, [port](const RemotingCommand&) {
    return Reply(rc::kSuccess,
                 Record(5, "A", "m5", port) + Record(6, "B", "m6", port) + Record(7, "A", "m7", port),
                 PullHeader(8, 0, 8));
  });
  auto queues = consumer_->FetchSubscribeQueues("T");
  ASSERT_TRUE(queues.ok()) << queues.status();
  ASSERT_EQ(queues->size(), 4u);
  auto r = consumer_->Pull((*queues)[1], Subscription::Parse("T", "A || C"), 5, 32,
                           std::chrono::milliseconds(15000));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, PullStatus::kFound);
  EXPECT_EQ(r->next_begin_offset, 8);
  EXPECT_EQ(r->max_offset, 8);
  ASSERT_EQ(r->messages.size(), 2u);  // the "B" message is filtered out
  EXPECT_EQ(r->messages[0].body, "m5");
  EXPECT_EQ(r->messages[0].queue_offset, 5);
  EXPECT_EQ(r->messages[0].keys, "key5");
  EXPECT_EQ(r->messages[0].tags, "A");
  EXPECT_EQ(r->messages[0].msg_id, "U5");
  EXPECT_EQ(r->messages[0].broker_name, "broker-a");
  EXPECT_EQ(r->messages[0].offset_msg_id,
            model::CreateOffsetMessageId(model::HostAddress::V4(127, 0, 0, 1, port), PhysicalOffset(2000)));
  EXPECT_EQ(r->messages[0].properties.at("MAX_OFFSET"), "8");
  EXPECT_EQ(r->messages[1].body, "m7");

  auto reqs = broker_.Requests(rq::kPullMessage);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& h = reqs[0].ext_fields;
  EXPECT_EQ(h.at("consumerGroup"), "cg");
  EXPECT_EQ(h.at("topic"), "T");
  EXPECT_EQ(h.at("queueId"), "1");
  EXPECT_EQ(h.at("queueOffset"), "5");
  EXPECT_EQ(h.at("maxMsgNums"), "32");
  EXPECT_EQ(h.at("sysFlag"),
            std::to_string(protocol::pull_sys_flag::kSuspend | protocol::pull_sys_flag::kSubscription));
  EXPECT_EQ(h.at("suspendTimeoutMillis"), "15000");
  EXPECT_EQ(h.at("subscription"), "A || C");
  EXPECT_EQ(h.at("expressionType"), "TAG");
}

TEST_F(PullConsumerTest, MapsPullStatusCodes) {
  std::atomic<int> code{rc::kPullNotFound};
  broker_.On(rq::kPullMessage,
             [&code](const RemotingCommand&) { return Reply(code.load(), "", PullHeader(3, 0, 3)); });
  ASSERT_TRUE(consumer_->FetchSubscribeQueues("T").ok());
  const MessageQueue mq{"T", "broker-a", 0};
  const auto sub = Subscription::Parse("T", "*");
  auto r = consumer_->Pull(mq, sub, 3, 32, std::chrono::milliseconds(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, PullStatus::kNoNewMsg);
  EXPECT_EQ(broker_.Requests(rq::kPullMessage)[0].ext_fields.at("sysFlag"),
            std::to_string(protocol::pull_sys_flag::kSubscription));  // no suspend without a hold
  code = rc::kPullOffsetMoved;
  r = consumer_->Pull(mq, sub, 99, 32, std::chrono::milliseconds(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, PullStatus::kOffsetIllegal);
  EXPECT_EQ(r->next_begin_offset, 3);
  code = rc::kSubscriptionGroupNotExist;
  EXPECT_FALSE(consumer_->Pull(mq, sub, 3, 32, std::chrono::milliseconds(0)).ok());
}

TEST_F(PullConsumerTest, QueryNotFoundMeansNoCommittedOffset) {
  broker_.On(rq::kQueryConsumerOffset,
             [](const RemotingCommand&) { return Reply(rc::kQueryNotFound, "", {}, "Not found"); });
  ASSERT_TRUE(consumer_->FetchSubscribeQueues("T").ok());
  auto r = consumer_->FetchConsumeOffset({"T", "broker-a", 2});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
  broker_.On(rq::kQueryConsumerOffset, [](const RemotingCommand&) {
    return Reply(rc::kSuccess, "", {{"offset", "17"}});
  });
  r = consumer_->FetchConsumeOffset({"T", "broker-a", 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value_or(-1), 17);
  auto req = broker_.Requests(rq::kQueryConsumerOffset)[0];
  EXPECT_EQ(req.ext_fields.at("consumerGroup"), "cg");
  EXPECT_EQ(req.ext_fields.at("queueId"), "2");
}

// ---- push consumer

class PushConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namesrv_.On(rq::kGetRouteInfoByTopic, [this](const RemotingCommand& req) {
      if (req.ext_fields.at("topic") != "T") return Reply(rc::kTopicNotExist, "", {}, "no route");
      return Reply(rc::kSuccess, OneBrokerRoute(broker_.addr(), 4));
    });
    broker_.On(rq::kHeartBeat, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
    broker_.On(rq::kUnregisterClient, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
    broker_.On(rq::kUpdateConsumerOffset, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
    broker_.On(rq::kQueryConsumerOffset, [](const RemotingCommand&) { return Reply(rc::kQueryNotFound); });
    broker_.On(rq::kGetMaxOffset, [](const RemotingCommand&) {
      return Reply(rc::kSuccess, "", {{"offset", "5"}});
    });
    broker_.On(rq::kGetConsumerListByGroup, [this](const RemotingCommand&) {
      MutexLock lock(&mu_);
      std::string list;
      for (const auto& c : consumers_) list += (list.empty() ? "\"" : ",\"") + c + "\"";
      return Reply(rc::kSuccess, "{\"consumerIdList\":[" + list + "]}");
    });
    const int port = broker_.port();
    broker_.On(rq::kPullMessage, [port](const RemotingCommand& req) {
      const int64_t offset = std::stoll(req.ext_fields.at("queueOffset"));
      if (offset == 5) {
        std::string body = Record(5, "A", "q" + req.ext_fields.at("queueId") + "m5", port) +
                           Record(6, "B", "q" + req.ext_fields.at("queueId") + "m6", port);
        return Reply(rc::kSuccess, body, PullHeader(7, 0, 7));
      }
      return Reply(testing::kNoAnswer);  // held by the broker until the consumer goes away
    });
  }

  std::unique_ptr<PushConsumer> MakeConsumer(model::ConsumeFromWhere from) {
    PushConsumerConfig c;
    c.group = "cg";
    c.client.namesrv_addrs = {namesrv_.addr()};
    c.client.instance_name = "me";
    c.consume_from_where = from;
    c.suspend_timeout = std::chrono::milliseconds(50);
    auto consumer = std::make_unique<PushConsumer>(c);
    consumer->Subscribe("T", "A");
    consumer->SetListener([this](const std::vector<MessageExt>& msgs) {
      MutexLock lock(&mu_);
      for (const auto& m : msgs) consumed_.push_back(m.body);
      return ConsumeStatus::kSuccess;
    });
    return consumer;
  }

  ScriptedServer namesrv_, broker_;
  Mutex mu_;
  std::vector<std::string> consumers_ FMQ_GUARDED_BY(mu_);
  std::vector<std::string> consumed_ FMQ_GUARDED_BY(mu_);
};

TEST_F(PushConsumerTest, ConsumesAssignedHalfFromLastOffsetAndCommitsAtStop) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kLastOffset);
  const std::string me = consumer->client_id();
  {
    MutexLock lock(&mu_);
    consumers_ = {me, "zz-other@1"};  // sorted: me first -> queues 0 and 1
  }
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(testing::Eventually([&] {
    MutexLock lock(&mu_);
    return consumed_.size() == 2;
  }));
  {
    MutexLock lock(&mu_);
    std::vector<std::string> got = consumed_;
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"q0m5", "q1m5"}));  // tag B filtered out on the client
  }
  const auto assigned = consumer->AssignedQueues();
  ASSERT_EQ(assigned.size(), 2u);
  EXPECT_EQ(assigned[0].queue_id, 0);
  EXPECT_EQ(assigned[1].queue_id, 1);
  // 22 from QUERY_CONSUMER_OFFSET -> CONSUME_FROM_LAST_OFFSET -> GET_MAX_OFFSET (5).
  EXPECT_GE(broker_.Count(rq::kGetMaxOffset), 2u);
  ASSERT_TRUE(testing::Eventually([&] {
    auto offs = consumer->ConsumedOffsets();
    return offs.size() == 2 && offs.begin()->second == 7 && offs.rbegin()->second == 7;
  }));

  // The heartbeat carried the group, its subscription and the retry topic.
  auto hb = broker_.Requests(rq::kHeartBeat);
  ASSERT_FALSE(hb.empty());
  auto data = model::DecodeHeartbeat(hb[0].body);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->client_id, me);
  ASSERT_EQ(data->consumers.size(), 1u);
  EXPECT_EQ(data->consumers[0].group_name, "cg");
  EXPECT_EQ(data->consumers[0].message_model, model::MessageModel::kClustering);
  ASSERT_EQ(data->consumers[0].subscriptions.size(), 2u);
  EXPECT_EQ(data->consumers[0].subscriptions[0].topic, "T");
  EXPECT_EQ(data->consumers[0].subscriptions[0].sub_string, "A");
  EXPECT_EQ(data->consumers[0].subscriptions[1].topic, "%RETRY%cg");

  consumer->Stop();
  std::map<std::string, std::string> committed;
  for (const auto& r : broker_.Requests(rq::kUpdateConsumerOffset)) {
    EXPECT_EQ(r.ext_fields.at("consumerGroup"), "cg");
    committed[r.ext_fields.at("queueId")] = r.ext_fields.at("commitOffset");
  }
  EXPECT_EQ(committed, (std::map<std::string, std::string>{{"0", "7"}, {"1", "7"}}));
  auto unreg = broker_.Requests(rq::kUnregisterClient);
  ASSERT_EQ(unreg.size(), 1u);
  EXPECT_EQ(unreg[0].ext_fields.at("clientID"), me);
  EXPECT_EQ(unreg[0].ext_fields.at("consumerGroup"), "cg");
}

TEST_F(PushConsumerTest, FailedMessagesAreSentBackToTheBroker) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kLastOffset);
  std::atomic<int> deliveries{0};
  consumer->SetListener([&deliveries](const std::vector<MessageExt>&) {
    ++deliveries;
    return ConsumeStatus::kReconsumeLater;
  });
  {
    MutexLock lock(&mu_);
    consumers_ = {consumer->client_id(), "zz@1", "zz@2", "zz@3"};  // first of four: queue 0 only
  }
  broker_.On(rq::kConsumerSendMsgBack, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(broker_.WaitFor(rq::kConsumerSendMsgBack, 1));
  auto back = broker_.Requests(rq::kConsumerSendMsgBack)[0].ext_fields;
  EXPECT_EQ(back.at("offset"), "2000");  // commit-log offset of queue offset 5
  EXPECT_EQ(back.at("group"), "cg");
  EXPECT_EQ(back.at("delayLevel"), "0");
  EXPECT_EQ(back.at("originMsgId"), "U5");
  EXPECT_EQ(back.at("originTopic"), "T");
  EXPECT_EQ(back.at("maxReconsumeTimes"), "16");
  // Taken back by the broker: consumed as far as this queue is concerned.
  ASSERT_TRUE(testing::Eventually([&] {
    auto offs = consumer->ConsumedOffsets();
    return offs.count({"T", "broker-a", 0}) && offs[{"T", "broker-a", 0}] == 7;
  }));
  EXPECT_EQ(deliveries.load(), 1);
  // What it tells GET_CONSUMER_RUNNING_INFO: a push consumer, its queue, the failure of the last hour.
  auto info = model::DecodeConsumerRunningInfo(model::EncodeConsumerRunningInfo(consumer->RunningInfo()));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->push());
  EXPECT_FALSE(info->orderly());
  std::set<std::string> topics;
  for (const auto& sub : info->subscriptions) topics.insert(sub.topic + "=" + sub.sub_string);
  EXPECT_TRUE(topics.count("T=A")) << ::testing::PrintToString(topics);
  ASSERT_TRUE(info->mq_table.count({"T", "broker-a", 0}));
  const model::ProcessQueueInfo& q = info->mq_table.at({"T", "broker-a", 0});
  EXPECT_EQ(q.cached_msg_count, 0);
  EXPECT_GT(q.last_consume_timestamp, 0);
  EXPECT_GT(q.last_pull_timestamp, 0);
  EXPECT_EQ(info->status_table.at("T").consume_failed_msgs, 1);
  consumer->Stop();
}

TEST_F(PushConsumerTest, MessagesTheBrokerDoesNotTakeBackAreConsumedAgain) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kLastOffset);
  std::atomic<int> deliveries{0};
  consumer->SetListener([&deliveries](const std::vector<MessageExt>&) {
    return ++deliveries == 1 ? ConsumeStatus::kReconsumeLater : ConsumeStatus::kSuccess;
  });
  {
    MutexLock lock(&mu_);
    consumers_ = {consumer->client_id(), "zz@1", "zz@2", "zz@3"};
  }
  broker_.On(rq::kConsumerSendMsgBack,
             [](const RemotingCommand&) { return Reply(rc::kSystemError, "", {}, "no"); });
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(testing::Eventually([&] { return deliveries.load() >= 2; }));
  ASSERT_TRUE(testing::Eventually([&] {
    auto offs = consumer->ConsumedOffsets();
    return offs.count({"T", "broker-a", 0}) && offs[{"T", "broker-a", 0}] == 7;
  }));
  EXPECT_EQ(deliveries.load(), 2);
  consumer->Stop();
}

TEST_F(PushConsumerTest, FirstOffsetStartsAtZeroWhenTheGroupHasNoOffset) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kFirstOffset);
  {
    MutexLock lock(&mu_);
    consumers_ = {consumer->client_id()};
  }
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(broker_.WaitFor(rq::kPullMessage, 4));
  EXPECT_EQ(consumer->AssignedQueues().size(), 4u);
  for (const auto& r : broker_.Requests(rq::kPullMessage)) {
    EXPECT_EQ(r.ext_fields.at("queueOffset"), "0");
    break;
  }
  EXPECT_EQ(broker_.Count(rq::kGetMaxOffset), 0u);
  consumer->Stop();
}

TEST_F(PushConsumerTest, RebalancesWhenTheBrokerNotifiesConsumerIdsChanged) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kLastOffset);
  {
    MutexLock lock(&mu_);
    consumers_ = {consumer->client_id()};
  }
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(testing::Eventually([&] { return consumer->AssignedQueues().size() == 4; }));
  {
    MutexLock lock(&mu_);
    consumers_ = {"0-first@1", consumer->client_id()};  // now second of two -> queues 2 and 3
  }
  RemotingCommand notify = RemotingCommand::Request(rq::kNotifyConsumerIdsChanged, 0);
  notify.flag |= protocol::kFlagOneway;
  notify.ext_fields["consumerGroup"] = "cg";
  ASSERT_TRUE(broker_.SendToClient(notify));
  ASSERT_TRUE(testing::Eventually([&] { return consumer->AssignedQueues().size() == 2; }));
  auto assigned = consumer->AssignedQueues();
  EXPECT_EQ(assigned[0].queue_id, 2);
  EXPECT_EQ(assigned[1].queue_id, 3);
  consumer->Stop();
}

TEST_F(PushConsumerTest, ABrokerResetRewindsTheQueueAndConsumesAgain) {
  auto consumer = MakeConsumer(model::ConsumeFromWhere::kLastOffset);
  {
    MutexLock lock(&mu_);
    consumers_ = {consumer->client_id()};
  }
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(testing::Eventually([&] {
    MutexLock lock(&mu_);
    return consumed_.size() == 4;  // q0m5 .. q3m5 (m6 has tag B)
  }));
  // The broker moved queue 0 back to offset 5 (INVOKE_BROKER_TO_RESET_OFFSET) and tells its client.
  broker_.On(rq::kQueryConsumerOffset, [](const RemotingCommand& req) {
    if (req.ext_fields.at("queueId") == "0") return Reply(rc::kSuccess, "", {{"offset", "5"}});
    return Reply(rc::kQueryNotFound);
  });
  RemotingCommand reset = RemotingCommand::Request(rq::kResetConsumerClientOffset, 0);
  reset.flag |= protocol::kFlagOneway;
  reset.ext_fields = {{"topic", "T"}, {"group", "cg"}, {"timestamp", "0"}, {"isForce", "true"}};
  reset.body = model::EncodeResetOffsetBodyForC({{{"T", "broker-a", 0}, 5}});
  ASSERT_TRUE(broker_.SendToClient(reset));
  ASSERT_TRUE(testing::Eventually([&] {
    MutexLock lock(&mu_);
    return std::count(consumed_.begin(), consumed_.end(), "q0m5") == 2;
  }));
  bool committed_five = false;
  for (const auto& r : broker_.Requests(rq::kUpdateConsumerOffset)) {
    committed_five |= r.ext_fields.at("queueId") == "0" && r.ext_fields.at("commitOffset") == "5";
  }
  EXPECT_TRUE(committed_five);
  // A reset for another group is not ours.
  reset.ext_fields["group"] = "other";
  ASSERT_TRUE(broker_.SendToClient(reset));
  consumer->Stop();
  MutexLock lock(&mu_);
  EXPECT_EQ(std::count(consumed_.begin(), consumed_.end(), "q0m5"), 2);
  EXPECT_EQ(consumed_.size(), 5u);
}

}  // namespace
}  // namespace fmq::client
