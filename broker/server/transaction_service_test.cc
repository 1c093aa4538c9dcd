#include "broker/server/transaction_service.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

namespace rc = protocol::response_code;
using protocol::RemotingCommand;

class TransactionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<store::MessageStore>(
        testing::TestStoreConfig(broker_.cluster_name, broker_.broker_name), mem_, clock_,
        store::StoreOptions{.background_services = false});
    ASSERT_TRUE(store_->Open().ok());
    topics_ = std::make_unique<TopicConfigManager>(mem_, "/store/config/topics.json", broker_, clock_);
    ASSERT_TRUE(topics_->Load().ok());
    tx_ = std::make_unique<TransactionService>(
        TransactionService::Options{.timeout_ms = 6000, .check_max = 3}, *store_, offsets_, clients_,
        *topics_, clock_, [this] { return master_; }, [] {});
  }
  void TearDown() override { store_->Close(); }

  // A prepared send of `key` to T:1 by producer group pg, stored as the send processor stores it.
  model::StoredMessage Half(const std::string& key) {
    model::StoredMessage m;
    m.topic = "T";
    m.queue_id = QueueId(1);
    m.body = "body-" + key;
    m.born_timestamp = clock_.NowMillis();
    m.sys_flag = model::sysflag::kTransactionPrepared;
    m.properties =
        model::EncodeProperties({{"TRAN_MSG", "true"}, {"PGROUP", "pg"}, {"UNIQ_KEY", key}, {"TAGS", "tx"}});
    ToHalfMessage(&m);
    auto r = store_->PutMessage(m);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    return *store_->LookMessageByOffset(r->wrote_offset);
  }
  RemotingCommand End(const model::StoredMessage& half, int type, const std::string& group = "pg") {
    protocol::EndTransactionHeader h;
    h.producer_group = group;
    h.tran_state_table_offset = half.queue_offset.value();
    h.commit_log_offset = half.physical_offset.value();
    h.commit_or_rollback = type;
    h.msg_id = "id";
    RemotingCommand req = RemotingCommand::Request(protocol::request_code::kEndTransaction, 0);
    protocol::EndTransactionHeader::Spec().Encode(h, &req.ext_fields);
    auto answer = tx_->EndTransaction(req);
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    return answer;
  }
  std::vector<model::StoredMessage> Visible() {
    std::vector<model::StoredMessage> out;
    for (int64_t o = 0; o < store_->MaxOffsetInQueue("T", QueueId(1)).value(); ++o)
      out.push_back(
          *store_->LookMessageByOffset(*store_->CommitLogOffsetInQueue("T", QueueId(1), QueueOffset(o))));
    return out;
  }

  BrokerConfig broker_;
  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  std::unique_ptr<store::MessageStore> store_;
  std::unique_ptr<TopicConfigManager> topics_;
  ConsumerOffsetManager offsets_{mem_, "/store/config/consumerOffset.json"};
  ClientRegistry clients_{clock_};
  std::unique_ptr<TransactionService> tx_;
  bool master_ = true;
};

TEST_F(TransactionServiceTest, AHalfMessageIsInvisibleUntilCommittedThenDeliveredOnce) {
  auto half = Half("k1");
  EXPECT_EQ(half.topic, kTransHalfTopic);
  EXPECT_EQ(model::sysflag::TransactionType(half.sys_flag), 0);
  EXPECT_EQ(model::FindProperty(half.properties, "REAL_TOPIC"), "T");
  EXPECT_TRUE(Visible().empty());
  auto r = End(half, model::sysflag::kTransactionCommit);
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  auto got = Visible();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "body-k1");
  EXPECT_EQ(model::sysflag::TransactionType(got[0].sys_flag), model::sysflag::kTransactionCommit);
  EXPECT_EQ(got[0].prepared_transaction_offset, half.physical_offset);
  auto props = model::DecodeProperties(got[0].properties);
  EXPECT_EQ(props.count("TRAN_MSG") + props.count("REAL_TOPIC") + props.count("REAL_QID"), 0u);
  EXPECT_EQ(props.at("UNIQ_KEY"), "k1");
  EXPECT_EQ(props.at("PGROUP"), "pg");
  // Its op record ends it: a later check round asks nobody, and moves both progress offsets on.
  clock_.AdvanceMillis(60'000);
  auto round = tx_->CheckOnce();
  EXPECT_EQ(round.checked, 0);
  EXPECT_EQ(round.half_offset, 1);
  EXPECT_EQ(offsets_.Query(kTransCheckGroup, kTransOpHalfTopic, 0), 1);
}

TEST_F(TransactionServiceTest, ARolledBackHalfIsNeverDelivered) {
  auto half = Half("k2");
  ASSERT_EQ(End(half, model::sysflag::kTransactionRollback).code, rc::kSuccess);
  clock_.AdvanceMillis(60'000);
  EXPECT_EQ(tx_->CheckOnce().checked, 0);
  EXPECT_TRUE(Visible().empty());
}

TEST_F(TransactionServiceTest, AnUnendedHalfIsCheckedAfterTheTimeoutThenDiscardedAfterCheckMax) {
  auto half = Half("k3");
  ASSERT_EQ(End(half, 0).code, rc::kSuccess);  // unknown: nothing happens
  clock_.AdvanceMillis(5'000);
  EXPECT_EQ(tx_->CheckOnce().checked, 0) << "younger than transactionTimeOut";
  clock_.AdvanceMillis(1'001);
  auto round = tx_->CheckOnce();
  EXPECT_EQ(round.checked, 1);
  EXPECT_EQ(round.asked, 0) << "no producer of pg is connected";
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  // Renewed at the end of the half queue with one more check; the original is passed.
  EXPECT_EQ(store_->MaxOffsetInQueue(kTransHalfTopic, QueueId(0)).value(), 2);
  auto renewed = store_->LookMessageByOffset(
      *store_->CommitLogOffsetInQueue(kTransHalfTopic, QueueId(0), QueueOffset(1)));
  EXPECT_EQ(model::FindProperty(renewed->properties, "TRANSACTION_CHECK_TIMES"), "1");
  EXPECT_EQ(model::FindProperty(renewed->properties, "TRAN_PREPARED_QUEUE_OFFSET"), "0");
  // The producer's answer to a check names the renewed half: committed then.
  ASSERT_EQ(End(*renewed, model::sysflag::kTransactionCommit).code, rc::kSuccess);
  ASSERT_EQ(Visible().size(), 1u);

  // Another that is never answered: checked transactionCheckMax (3) times, then discarded.
  Half("k4");
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMillis(7'000);
    EXPECT_EQ(tx_->CheckOnce().checked, 1) << i;
    ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  }
  clock_.AdvanceMillis(7'000);
  auto last = tx_->CheckOnce();
  EXPECT_EQ(last.discarded, 1);
  EXPECT_EQ(tx_->discarded_total(), 1);
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  EXPECT_EQ(store_->MaxOffsetInQueue(kTransCheckMaxTimeTopic, QueueId(0)).value(), 1);
  EXPECT_TRUE(topics_->Find(kTransCheckMaxTimeTopic).has_value());
  EXPECT_EQ(Visible().size(), 1u) << "k4 was never committed";
}

TEST_F(TransactionServiceTest, BadEndTransactionsAreRefusedAndChangeNothing) {
  auto half = Half("k5");
  EXPECT_EQ(End(half, model::sysflag::kTransactionCommit, "other").remark, "The producer group wrong");
  auto wrong = half;
  wrong.queue_offset = QueueOffset(7);
  EXPECT_EQ(End(wrong, model::sysflag::kTransactionCommit).remark,
            "The transaction state table offset wrong");
  wrong = half;
  wrong.physical_offset = PhysicalOffset(123456);
  EXPECT_EQ(End(wrong, model::sysflag::kTransactionCommit).remark,
            "Find prepared transaction message failed");
  EXPECT_EQ(End(half, 5).code, rc::kSystemError);
  master_ = false;
  EXPECT_EQ(End(half, model::sysflag::kTransactionCommit).code, rc::kSlaveNotAvailable);
  master_ = true;
  EXPECT_TRUE(Visible().empty());
  // A plain message cannot be "committed".
  model::StoredMessage plain;
  plain.topic = "T";
  plain.queue_id = QueueId(1);
  plain.body = "x";
  plain.properties = model::EncodeProperties({{"PGROUP", "pg"}});
  auto r = store_->PutMessage(plain);
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  EXPECT_EQ(End(*store_->LookMessageByOffset(r->wrote_offset), model::sysflag::kTransactionCommit).remark,
            "Find prepared transaction message failed");
}

}  // namespace
}  // namespace fmq::server
