// libFuzzer target for request and response bodies a broker, name server or client decodes: heartbeats,
// routes, cluster info, registration and topic tables, fastjson's non-standard maps, stats, locks, groups,
// batches, properties, delay-level tables, delay offset tables, reset offset bodies and message trace bodies.
// Nothing may crash or hang; normalized fastjson must be valid JSON that normalizes to itself.

#include <cstdint>
#include <string>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/model/admin_body.h"
#include "broker/model/delay.h"
#include "broker/model/heartbeat.h"
#include "broker/model/message.h"
#include "broker/model/route.h"
#include "broker/model/trace.h"

using namespace fmq;
using namespace fmq::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto hb = DecodeHeartbeat(text); hb.ok()) {
    auto again = DecodeHeartbeat(EncodeHeartbeat(*hb));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(again->client_id == hb->client_id && again->consumers.size() == hb->consumers.size());
  }
  (void)DecodeTopicRouteData(text);
  (void)DecodeTraceBody(text);
  (void)DecodeResetOffsetBody(text);
  (void)DecodeClusterInfo(text);
  (void)DecodeRegisterBrokerBody(text);
  (void)DecodeTopicConfigWrapper(text);
  (void)DecodeTopicList(text);
  if (auto version = DecodeDataVersion(text); version.ok()) {
    auto again = DecodeDataVersion(EncodeDataVersion(*version));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(*again == *version);
  }
  if (auto n = NormalizeFastjson(text); n.ok()) {
    auto twice = NormalizeFastjson(*n);
    FMQ_CHECK(twice.ok());
    FMQ_CHECK(*twice == *n);
  }
  (void)DecodeConsumeStats(text);
  (void)DecodeConsumerRunningInfo(text);
  (void)DecodeTopicStatsTable(text);
  (void)DecodeLockBatchRequest(text);
  (void)DecodeLockBatchResponse(text);
  (void)DecodeSubscriptionGroupConfig(text);
  (void)DecodeSubscriptionGroupWrapper(text);
  (void)DecodeConsumerIdList(text);
  (void)DecodeKvTable(text);
  (void)DecodeConsumerConnection(text);
  (void)DecodeProducerConnection(text);
  (void)DecodeProperties(text);
  if (auto levels = DelayLevels::Parse(text); levels.ok()) {
    auto again = DelayLevels::Parse(levels->ToString());
    FMQ_CHECK(again.ok() && again->max_level() == levels->max_level());
  }
  (void)ParseDelayLevelProperty(text);
  if (auto delays = DecodeDelayOffsetTable(text); delays.ok()) {
    auto again = DecodeDelayOffsetTable(EncodeDelayOffsetTable(*delays));
    FMQ_CHECK(again.ok() && *again == *delays);
  }
  (void)WithProperty(text, "DELAY", "3");
  if (auto batch = DecodeBatchBody(AsBytes(text)); batch.ok()) {
    auto again = DecodeBatchBody(AsBytes(EncodeBatchBody(*batch)));
    FMQ_CHECK(again.ok() && again->size() == batch->size());
  }
  return 0;
}
