#pragma once

// BrokerConfig: the broker's own settings (RocketMQ's BrokerConfig keys). The store has its own
// store::MessageStoreConfig; both load from the same broker.conf.

#include <cstdint>
#include <string>

namespace fmq::server {

struct BrokerConfig {
  std::string cluster_name = "DefaultCluster";  // brokerClusterName
  std::string broker_name = "broker-a";         // brokerName
  int64_t broker_id = 0;                        // brokerId: 0 = master
  // autoCreateTopicEnable: sends to an unknown topic create it from TBW102 (convenient; off in production so
  // a typo does not create a topic).
  bool auto_create_topic_enable = true;
  int32_t default_topic_queue_nums = 8;     // defaultTopicQueueNums: TBW102's queues
  int32_t broker_permission = 6;            // brokerPermission: R|W
  std::string region_id = "DefaultRegion";  // regionId, echoed as MSG_REGION in send responses
  bool trace_on = true;                     // traceOn, echoed as TRACE_ON
};

}  // namespace fmq::server
