#pragma once

// BrokerConfig: the broker's own settings (RocketMQ's BrokerConfig keys). The store has its own
// store::MessageStoreConfig; both load from the same broker.conf (ApplyBrokerProperty below, then the store's
// ApplyProperty).

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "broker/base/status.h"
#include "broker/ha/replication_config.h"
#include "broker/net/tls.h"
#include "broker/server/broker_metrics.h"

namespace fmq::server {

// brokerPermission: the one setting UPDATE_BROKER_CONFIG changes on a running broker (a broker group leaving
// the cluster turns read-only while its consumers drain it). Copyable like the rest of the config; reads and
// the store are atomic, so a const BrokerConfig shared by the processors still sees the change.
class LivePermission {
 public:
  LivePermission(int32_t v = 6) : v_(v) {}  // NOLINT(google-explicit-constructor): a config value
  LivePermission(const LivePermission& o) : v_(o.load()) {}
  LivePermission& operator=(const LivePermission& o) {
    store(o.load());
    return *this;
  }
  operator int32_t() const { return load(); }  // NOLINT(google-explicit-constructor)
  int32_t load() const { return v_.load(std::memory_order_acquire); }
  void store(int32_t v) const { v_.store(v, std::memory_order_release); }

 private:
  mutable std::atomic<int32_t> v_;
};

struct BrokerConfig {
  std::string cluster_name = "DefaultCluster";  // brokerClusterName
  std::string broker_name = "broker-a";         // brokerName
  // brokerId: 0 = master, 1+ = slave. The id of the first start: after a promotion or demotion the broker's
  // replication state (ha.json) decides (ha::HaService).
  int64_t broker_id = 0;
  // namesrvAddr: "host:port;host:port". Empty: the broker runs without name servers (clients cannot find it).
  std::string namesrv_addr;
  // brokerIP1: the address clients are told to use. Empty: the first non-loopback IPv4 address, else
  // 127.0.0.1.
  std::string broker_ip1;
  std::string listen_host = "0.0.0.0";  // FerryMQ: the address to bind
  int listen_port = 10911;              // listenPort
  // FerryMQ: the VIP ("fast") channel's port, which RocketMQ always opens at listenPort - 2 (RocketMQ slaves
  // fetch their master's topics there; Java clients up to 4.4 send there). -1: listenPort - 2 (none when
  // listenPort is 0, a test's ephemeral port); 0: no VIP channel.
  int fast_listen_port = -1;
  // autoCreateTopicEnable: sends to an unknown topic create it from TBW102 (convenient; off in production so
  // a typo does not create a topic).
  bool auto_create_topic_enable = true;
  // autoCreateSubscriptionGroup: an unknown consumer group is created on first use (same trade-off).
  bool auto_create_subscription_group = true;
  int32_t default_topic_queue_nums = 8;     // defaultTopicQueueNums: TBW102's queues
  LivePermission broker_permission = 6;     // brokerPermission: R|W (changeable while the broker runs)
  std::string region_id = "DefaultRegion";  // regionId, echoed as MSG_REGION in send responses
  bool trace_on = true;                     // traceOn, echoed as TRACE_ON
  // longPollingEnable: a pull that finds nothing waits up to the client's suspendTimeoutMillis for a message
  // (fewer requests, lower latency); off, it waits shortPollingTimeMills.
  bool long_polling_enable = true;
  int64_t short_polling_time_mills = 1000;
  // notifyConsumerIdsChangedEnable: tell a group's consumers to rebalance when a member joins or leaves.
  bool notify_consumer_ids_changed_enable = true;
  int64_t channel_expired_timeout_ms =
      120'000;  // channelExpiredTimeout: a client silent this long is dropped
  int64_t flush_consumer_offset_interval_ms = 5000;  // flushConsumerOffsetInterval
  // Transactions (RocketMQ's keys): a half message not ended within transactionTimeOut is checked back with
  // its producer group every transactionCheckInterval, at most transactionCheckMax times, then discarded to
  // TRANS_CHECK_MAX_TIME_TOPIC. rejectTransactionMessage refuses transactional sends.
  int64_t transaction_timeout_ms = 6000;           // transactionTimeOut
  int64_t transaction_check_interval_ms = 60'000;  // transactionCheckInterval
  int64_t transaction_check_max = 15;              // transactionCheckMax
  bool reject_transaction_message = false;         // rejectTransactionMessage
  // enablePropertyFilter: SQL92 subscriptions are evaluated on message properties. On by default in FerryMQ
  // (RocketMQ: off, and such consumers fail to start); off, they are refused with RocketMQ's message.
  bool enable_property_filter = true;
  // traceTopicEnable: create the message-trace topic (msgTraceTopicName, 1 queue) at start, where clients
  // with enableMsgTrace write their trace records (RocketMQ's default is off; with autoCreateTopicEnable the
  // first trace send creates it anyway).
  bool trace_topic_enable = false;
  std::string msg_trace_topic_name = "RMQ_SYS_TRACE_TOPIC";
  int64_t register_name_server_period_ms = 30'000;  // registerNameServerPeriod (used up to 60 s, as RocketMQ)
  // Request threads per family (sendMessageThreadPoolNums, pullMessageThreadPoolNums, ...) and their queue
  // limits (sendThreadPoolQueueCapacity, ...): a full queue answers SYSTEM_BUSY instead of piling up.
  // sendMessageThreadPoolNums: 0 (FerryMQ's default) runs sends on the I/O threads: an append is a copy into
  // a pre-faulted mapping under the put lock and a flush wait is a callback, so nothing blocks, and skipping
  // the hand-off to a pool halves the context switches per send. N > 0 uses a pool of N threads (RocketMQ:
  // 1).
  int send_threads = 0;
  int pull_threads = 4;
  int admin_threads = 2;
  int client_manage_threads = 2;
  int send_queue_capacity = 10000;
  int pull_queue_capacity = 100000;
  int io_threads = 2;                            // FerryMQ: Asio threads for the remoting port
  int64_t server_channel_max_idle_ms = 120'000;  // serverChannelMaxIdleTimeSeconds (in ms)

  // aclEnable: every request must be signed by an account of aclConfigFile (RocketMQ ACL 1.0;
  // docs/security.md). Off, anyone who reaches the port may do anything, admin requests included.
  bool acl_enable = false;
  // aclConfigFile: plain_acl.yml, watched and reloaded when it changes. Empty:
  // <storePathRootDir>/conf/plain_acl.yml.
  std::string acl_config_file;
  // innerAccessKey / innerSecretKey: the account this broker signs its own requests with (registration with
  // name servers that have aclEnable, a slave's metadata sync from its master). It needs admin: true where
  // name servers check ACL. The secret is never logged nor returned by GET_BROKER_CONFIG.
  std::string inner_access_key;
  std::string inner_secret_key;
  // aclSeedFile (FerryMQ): a plain_acl.yml (a Kubernetes Secret's file) whose accounts are written into
  // aclConfigFile at start, replacing accounts with the same accessKey and keeping the others. With
  // innerAccessKey set and innerSecretKey empty, the secret is the seed's account of that key: no secret in a
  // config file. The operator seeds its admin and the brokers' inner account this way.
  std::string acl_seed_file;

  // Prometheus metrics (broker_metrics.h): metricsExporterType, metricsPromExporterHost/Port, metricsLabel.
  // Off by default, as in Apache RocketMQ; the operator turns it on in its pods.
  MetricsConfig metrics;

  // TLS (RocketMQ's tls.* keys, net/tls.h): tls.server.mode for the client and VIP ports, tls.enable for what
  // the broker itself connects to (name servers, its master's metadata).
  net::TlsSettings tls;

  // brokerRole, haListenPort, haMasterAddress, minInSyncReplicas, ... (ha/replication_config.h).
  ha::ReplicationConfig replication;
};

// Applies one broker.conf key (replication keys included). NotFound when the key is not a broker key (the
// caller tries the store's keys);
// InvalidArgument for a value that does not parse or is out of range.
Status ApplyBrokerProperty(const std::string& key, const std::string& value, BrokerConfig* config);
// The broker's settings as RocketMQ's property keys and values (GET_BROKER_CONFIG, with the store's).
std::map<std::string, std::string> BrokerConfigProperties(const BrokerConfig& config);

}  // namespace fmq::server
