#include "operator/model/failover.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

using Kind = FailoverDecision::Kind;
constexpr const char* kNow = "2026-12-05T10:00:00Z";

MemberView Master(const std::string& pod, int32_t epoch, int64_t end, std::vector<std::string> in_sync) {
  MemberView m;
  m.pod = pod;
  m.pod_ready = true;
  m.reachable = true;
  m.role = "SYNC_MASTER";
  m.epoch = epoch;
  m.writable = true;
  m.log_end = end;
  m.in_sync_slaves = std::move(in_sync);
  return m;
}

MemberView Slave(const std::string& pod, int32_t epoch, int64_t end) {
  MemberView m;
  m.pod = pod;
  m.pod_ready = true;
  m.reachable = true;
  m.role = "SLAVE";
  m.epoch = epoch;
  m.log_end = end;
  return m;
}

MemberView Gone(const std::string& pod) {
  MemberView m;
  m.pod = pod;
  return m;
}

HaRecord Serving(const std::string& master, int32_t epoch, std::vector<std::string> in_sync) {
  HaRecord r;
  r.epoch = epoch;
  r.master = master;
  r.in_sync = std::move(in_sync);
  return r;
}

// Probes of the master failing every second since t=0 until `now_ms`.
ProbeState FailingSince(int64_t now_ms) {
  ProbeState p;
  for (int64_t t = 0; t <= now_ms; t += 1000) p = AfterProbe(p, false, t, "connect: Connection refused");
  return p;
}

TEST(FailoverTest, RecordRoundTripsAndRefusesWhatTheOperatorDidNotWrite) {
  HaRecord r = Serving("prod-broker-0-1", 4, {"prod-broker-0-1", "prod-broker-0-2"});
  r.log_ends = {{"prod-broker-0-1", 1 << 20}, {"prod-broker-0-2", 1 << 20}};
  r.last_failover = kNow;
  r.master_since = kNow;
  r.failovers = 3;
  r.pending_epoch = 5;
  r.pending_master = "prod-broker-0-2";
  auto back = DecodeHaRecord(EncodeHaRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(*DecodeHaRecord("{}"), HaRecord{});

  auto refused = [](const std::string& text) {
    auto d = DecodeHaRecord(text);
    EXPECT_FALSE(d.ok()) << text;
    return d.ok() ? "" : std::string(d.status().message());
  };
  EXPECT_EQ(refused("[1]"), "HA record: not a JSON object");
  EXPECT_EQ(refused("{\"epoch\": -1}"), "HA record: epoch must be a non-negative 32-bit integer, got -1");
  EXPECT_EQ(refused("{\"epoch\": 1.5}"), "HA record: epoch must be a non-negative 32-bit integer, got 1.5");
  EXPECT_EQ(refused("{\"epoch\": 4294967296}"),
            "HA record: epoch must be a non-negative 32-bit integer, got 4294967296");
  EXPECT_EQ(refused("{\"master\": 3}"), "HA record: master must be a string, got 3");
  EXPECT_EQ(refused("{\"inSync\": \"a\"}"), "HA record: inSync must be a list of pod names");
  EXPECT_EQ(refused("{\"inSync\": [1]}"), "HA record: inSync must be a list of pod names, got 1");
  EXPECT_EQ(refused("{\"logEnds\": {\"a\": -4}}"),
            "HA record: logEnds.a must be a non-negative offset, got -4");
  EXPECT_EQ(refused("{\"pending\": {\"epoch\": 2}}"),
            "HA record: pending needs a positive epoch and a master pod");
  EXPECT_EQ(refused("{\"failovers\": \"x\"}"),
            "HA record: failovers must be a non-negative count, got \"x\"");
  EXPECT_EQ(refused("{\"epoch\": "), "HA record: not a JSON object");
}

TEST(FailoverTest, AMasterFailsOnlyAfterRepeatedProbesOverTheWindowWithItsPodNotReady) {
  const Detection d;  // 3 probes over 10 s
  ProbeState p;
  p = AfterProbe(p, false, 1000, "timeout");
  p = AfterProbe(p, false, 1500, "timeout");
  p = AfterProbe(p, false, 2000, "timeout");
  EXPECT_EQ(p.consecutive_failures, 3);
  EXPECT_EQ(p.first_failure_ms, 1000);
  EXPECT_EQ(p.last_error, "timeout");
  EXPECT_FALSE(MasterFailed(p, /*master_pod_ready=*/false, d, 2000));  // three quick failures: not the window
  EXPECT_FALSE(MasterFailed(p, false, d, 10'999));
  EXPECT_TRUE(MasterFailed(p, false, d, 11'000));
  EXPECT_FALSE(MasterFailed(p, /*master_pod_ready=*/true, d, 60'000));  // its pod is Ready: never

  ProbeState two;
  two = AfterProbe(two, false, 0, "x");
  two = AfterProbe(two, false, 30'000, "x");
  EXPECT_FALSE(MasterFailed(two, false, d, 60'000));  // a long time but only two failures

  EXPECT_EQ(AfterProbe(p, true, 12'000).consecutive_failures, 0);  // one answer clears the run
  EXPECT_FALSE(MasterFailed(AfterProbe(p, true, 12'000), false, d, 60'000));
}

TEST(FailoverTest, ANewGroupWaitsThenRecordsItsFirstMasterThenWritesNothingWhileConverged) {
  FailoverPolicy policy;
  HaRecord empty;
  auto waiting = DecideFailover(empty, {Slave("g-0", 0, 0), Gone("g-1")}, {}, policy, 0, kNow);
  EXPECT_EQ(waiting.kind, Kind::kWaiting);
  EXPECT_FALSE(waiting.write_record);

  std::vector<MemberView> up = {Master("g-0", 1, 4096, {"g-1"}), Slave("g-1", 1, 4096), Slave("g-2", 1, 0)};
  auto first = DecideFailover(empty, up, {}, policy, 0, kNow);
  EXPECT_EQ(first.kind, Kind::kHealthy);
  EXPECT_EQ(first.reason, "MasterServing");
  ASSERT_TRUE(first.write_record);
  EXPECT_EQ(first.record.epoch, 1);
  EXPECT_EQ(first.record.master, "g-0");
  EXPECT_EQ(first.record.in_sync, (std::vector<std::string>{"g-0", "g-1"}));
  EXPECT_EQ(first.record.log_ends,
            (std::map<std::string, int64_t>{{"g-0", 4096}, {"g-1", 4096}, {"g-2", 0}}));
  EXPECT_EQ(first.record.failovers, 0);  // the first master is not a failover
  EXPECT_EQ(first.record.last_failover, "");
  EXPECT_EQ(first.record.master_since, kNow);

  // Traffic moves the log ends; the record does not follow them (a converged operator writes nothing).
  up[0].log_end = up[1].log_end = 1 << 20;
  auto again = DecideFailover(first.record, up, {}, policy, 5000, kNow);
  EXPECT_EQ(again.kind, Kind::kHealthy);
  EXPECT_FALSE(again.write_record);
  EXPECT_EQ(again.message, "g-0 is master of epoch 1; in sync: g-0, g-1");

  // The in-sync set changes: recorded.
  up[0].in_sync_slaves = {"g-1", "g-2"};
  auto widened = DecideFailover(first.record, up, {}, policy, 5000, kNow);
  EXPECT_TRUE(widened.write_record);
  EXPECT_EQ(widened.record.in_sync, (std::vector<std::string>{"g-0", "g-1", "g-2"}));
}

TEST(FailoverTest, AnUnansweredMasterIsOnlySuspectUntilDetectionSaysFailed) {
  FailoverPolicy policy;
  HaRecord r = Serving("g-0", 1, {"g-0", "g-1"});
  MemberView dead = Gone("g-0");
  auto one =
      DecideFailover(r, {dead, Slave("g-1", 1, 100)}, AfterProbe({}, false, 0, "timeout"), policy, 0, kNow);
  EXPECT_EQ(one.kind, Kind::kSuspect);
  EXPECT_FALSE(one.write_record);
  EXPECT_EQ(
      one.message,
      "g-0 has not answered 1 probe(s) over 0.0 s (timeout); it fails over after 3 probes over 10.0 s while "
      "its pod is not Ready");

  // Failing for long, but its pod is Ready (the operator's path to it may be what is broken).
  MemberView unreachable_but_ready = Gone("g-0");
  unreachable_but_ready.pod_ready = true;
  auto ready = DecideFailover(r, {unreachable_but_ready, Slave("g-1", 1, 100)}, FailingSince(30'000), policy,
                              30'000, kNow);
  EXPECT_EQ(ready.kind, Kind::kSuspect);
  EXPECT_NE(ready.message.find("its pod is Ready, so it is not failed over"), std::string::npos)
      << ready.message;

  // Answering but not writable (fenced, disk full): a probe that succeeds, so never a failover.
  MemberView fenced = Master("g-0", 1, 100, {});
  fenced.writable = false;
  auto f = DecideFailover(r, {fenced, Slave("g-1", 1, 100)}, {}, policy, 30'000, kNow);
  EXPECT_EQ(f.kind, Kind::kSuspect);
  EXPECT_EQ(f.message,
            "g-0 answers but takes no writes (role SYNC_MASTER, epoch 1): not a failure, no failover");
}

TEST(FailoverTest, AFailedMasterIsReplacedByTheMostCaughtUpInSyncSlaveUnderAClaimedEpoch) {
  FailoverPolicy policy;
  HaRecord r = Serving("g-0", 3, {"g-0", "g-1", "g-2"});
  std::vector<MemberView> members = {Gone("g-0"), Slave("g-1", 3, 900), Slave("g-2", 3, 1000)};
  auto d = DecideFailover(r, members, FailingSince(12'000), policy, 12'000, kNow);
  ASSERT_EQ(d.kind, Kind::kPromote);
  EXPECT_EQ(d.target, "g-2");
  EXPECT_EQ(d.epoch, 4);
  ASSERT_TRUE(d.write_record);  // the claim is written (CAS) before any broker is touched
  EXPECT_EQ(d.record.pending_epoch, 4);
  EXPECT_EQ(d.record.pending_master, "g-2");
  EXPECT_EQ(d.record.epoch, 3);  // still the old term until the new master is seen
  EXPECT_EQ(d.message,
            "master g-0 failed (13 failed probes over 12.0 s: connect: Connection refused; pod not Ready): "
            "promoting g-2 (log end 1000, in sync) at epoch 4");

  // An epoch some member already knows is never reused.
  members[1].epoch = 7;
  EXPECT_EQ(DecideFailover(r, members, FailingSince(12'000), policy, 12'000, kNow).epoch, 8);
}

TEST(FailoverTest, AClaimIsFinishedNotRepeatedSoOnlyOnePromotionHappens) {
  FailoverPolicy policy;
  HaRecord claimed = Serving("g-0", 3, {"g-0", "g-1", "g-2"});
  claimed.pending_epoch = 4;
  claimed.pending_master = "g-2";
  std::vector<MemberView> members = {Gone("g-0"), Slave("g-1", 4, 900), Slave("g-2", 4, 1000)};
  // A new leader (no probe history) finds the claim: it finishes it with the same epoch and target, and
  // writes nothing first.
  auto d = DecideFailover(claimed, members, {}, policy, 0, kNow);
  ASSERT_EQ(d.kind, Kind::kPromote);
  EXPECT_EQ(d.target, "g-2");
  EXPECT_EQ(d.epoch, 4);
  EXPECT_FALSE(d.write_record);
  EXPECT_EQ(d.message, "finishing the failover claimed at epoch 4: promoting g-2 (log end 1000)");

  // The promotion had already happened: adopted, the claim cleared, counted once.
  members[2] = Master("g-2", 4, 1000, {"g-1"});
  auto done = DecideFailover(claimed, members, {}, policy, 0, kNow);
  EXPECT_EQ(done.kind, Kind::kHealthy);
  EXPECT_EQ(done.reason, "MasterChanged");
  ASSERT_TRUE(done.write_record);
  EXPECT_EQ(done.record.epoch, 4);
  EXPECT_EQ(done.record.master, "g-2");
  EXPECT_EQ(done.record.pending_epoch, 0);
  EXPECT_EQ(done.record.pending_master, "");
  EXPECT_EQ(done.record.failovers, 1);
  EXPECT_EQ(done.record.last_failover, kNow);
  EXPECT_EQ(done.record.in_sync, (std::vector<std::string>{"g-1", "g-2"}));
  EXPECT_EQ(done.record.log_ends, (std::map<std::string, int64_t>{{"g-1", 900}, {"g-2", 1000}}));
  EXPECT_FALSE(DecideFailover(done.record, members, {}, policy, 0, kNow).write_record);

  // The claimed target vanished before it was promoted: a new claim, one epoch higher, for another slave.
  members = {Gone("g-0"), Slave("g-1", 4, 900), Gone("g-2")};
  auto moved = DecideFailover(claimed, members, {}, policy, 0, kNow);
  ASSERT_EQ(moved.kind, Kind::kPromote);
  EXPECT_EQ(moved.target, "g-1");
  EXPECT_EQ(moved.epoch, 5);
  EXPECT_TRUE(moved.write_record);
  EXPECT_EQ(moved.record.pending_epoch, 5);
}

TEST(FailoverTest, AClaimIsDroppedWhenTheOldMasterServesAgainBeforeAnyBrokerWasFenced) {
  FailoverPolicy policy;
  HaRecord claimed = Serving("g-0", 3, {"g-0", "g-1", "g-2"});
  claimed.pending_epoch = 4;
  claimed.pending_master = "g-2";
  // The failover failed before fencing anyone (say, too few members answered), then g-0 came back.
  std::vector<MemberView> members = {Master("g-0", 3, 1000, {"g-1", "g-2"}), Slave("g-1", 3, 1000),
                                     Slave("g-2", 3, 1000)};
  auto d = DecideFailover(claimed, members, {}, policy, 0, kNow);
  ASSERT_EQ(d.kind, Kind::kHealthy);
  EXPECT_EQ(d.reason, "FailoverAbandoned");
  EXPECT_TRUE(d.restore_write_perm);
  ASSERT_TRUE(d.write_record);
  EXPECT_EQ(d.record.pending_epoch, 0);
  EXPECT_EQ(d.record.pending_master, "");
  EXPECT_EQ(d.record.master, "g-0");
  EXPECT_EQ(d.record.epoch, 3);
  EXPECT_EQ(d.record.failovers, 0) << "nothing was promoted";
  EXPECT_EQ(
      d.message,
      "g-0 serves epoch 3 again before the failover claimed at epoch 4 (to g-2) touched any broker: the "
      "claim is dropped and the group's write permission restored on the name servers");
  auto next = DecideFailover(d.record, members, {}, policy, 0, kNow);
  EXPECT_EQ(next.reason, "MasterServing");
  EXPECT_FALSE(next.write_record);
  EXPECT_FALSE(next.restore_write_perm);

  // A member was fenced at the claimed epoch: the failover had begun, and the old master, although it says
  // it is writable, can no longer gather acknowledgements. The claim is finished, not dropped.
  members[2] = Slave("g-2", 4, 1000);
  auto finish = DecideFailover(claimed, members, {}, policy, 0, kNow);
  ASSERT_EQ(finish.kind, Kind::kPromote);
  EXPECT_EQ(finish.target, "g-2");
  EXPECT_EQ(finish.epoch, 4);
  EXPECT_FALSE(finish.write_record);
  EXPECT_FALSE(finish.restore_write_perm);
}

TEST(FailoverTest, WithoutAnInSyncSlaveTheGroupStaysUnwritableUnlessUncleanFailoverIsAllowed) {
  FailoverPolicy policy;
  HaRecord r = Serving("g-0", 2, {"g-0", "g-1"});
  std::vector<MemberView> members = {Gone("g-0"), Gone("g-1"), Slave("g-2", 2, 500)};
  auto d = DecideFailover(r, members, FailingSince(20'000), policy, 20'000, kNow);
  EXPECT_EQ(d.kind, Kind::kNoCandidate);
  EXPECT_EQ(d.reason, "NoInSyncSlave");
  EXPECT_FALSE(d.write_record);
  EXPECT_EQ(
      d.message,
      "master g-0 failed and no in-sync slave can be promoted (in sync at the last look: g-1; unreachable: "
      "g-1); the group takes no writes until its master returns or one of them does "
      "(spec.brokers.replication.uncleanFailover: true promotes the longest log of any member and may lose "
      "acknowledged messages)");

  policy.unclean = true;
  auto u = DecideFailover(r, members, FailingSince(20'000), policy, 20'000, kNow);
  ASSERT_EQ(u.kind, Kind::kPromote);
  EXPECT_EQ(u.target, "g-2");
  EXPECT_NE(u.message.find("NOT in sync: unclean failover"), std::string::npos) << u.message;
}

TEST(FailoverTest, AReturningOldMasterFollowsTheNewOneAndAHandPromotionIsAdopted) {
  FailoverPolicy policy;
  HaRecord r = Serving("g-2", 4, {"g-1", "g-2"});
  // g-0 comes back still thinking it is master of epoch 3.
  std::vector<MemberView> members = {Master("g-0", 3, 1200, {}), Slave("g-1", 4, 1000),
                                     Master("g-2", 4, 1000, {"g-1"})};
  auto d = DecideFailover(r, members, {}, policy, 0, kNow);
  ASSERT_EQ(d.kind, Kind::kDemote);
  EXPECT_EQ(d.target, "g-0");
  EXPECT_EQ(d.master, "g-2");
  EXPECT_EQ(d.epoch, 4);
  EXPECT_EQ(d.reason, "StaleMaster");
  EXPECT_EQ(d.message,
            "g-0 takes writes as master of epoch 3, below the group's epoch 4: making it follow g-2");

  // The new master is down too: the stale one still follows the recorded master, never serves epoch 3.
  auto alone = DecideFailover(r, {Master("g-0", 3, 1200, {}), Slave("g-1", 4, 1000), Gone("g-2")}, {}, policy,
                              0, kNow);
  ASSERT_EQ(alone.kind, Kind::kDemote);
  EXPECT_EQ(alone.master, "g-2");

  // Someone ran `ferryctl ha switchover` to g-1 (epoch 5): the record follows.
  auto hand = DecideFailover(
      r, {Slave("g-0", 5, 1000), Master("g-1", 5, 1000, {"g-0", "g-2"}), Slave("g-2", 5, 1000)}, {}, policy,
      0, kNow);
  EXPECT_EQ(hand.kind, Kind::kHealthy);
  EXPECT_EQ(hand.reason, "MasterChanged");
  EXPECT_EQ(hand.message, "g-1 is master of epoch 5 (was g-2 of epoch 4)");
  EXPECT_EQ(hand.record.master, "g-1");
  EXPECT_EQ(hand.record.failovers, 0) << "a switchover moves the master; it is not a failover";
  EXPECT_EQ(hand.record.last_failover, "");
  EXPECT_EQ(hand.record.master_since, kNow) << "when the master moved: a rolling update waits on it";
}

}  // namespace
}  // namespace fmq::op::model
