#include "broker/server/broker_config.h"

#include <functional>
#include <map>

#include "broker/base/properties.h"

namespace fmq::server {

Status ApplyBrokerProperty(const std::string& key, const std::string& value, BrokerConfig* c) {
  using Setter = std::function<Status()>;
  auto str = [&](std::string* f) -> Setter {
    return [f, &value] {
      *f = value;
      return Status::Ok();
    };
  };
  auto boolean = [&](bool* f) -> Setter {
    return [f, &key, &value] { return ParsePropertyBool(key, value, f); };
  };
  auto num = [&](auto* f, int64_t lo, int64_t hi) -> Setter {
    return [f, lo, hi, &key, &value] { return ParsePropertyNumberInRange(key, value, lo, hi, f); };
  };
  const std::map<std::string, Setter> setters = {
      {"brokerClusterName", str(&c->cluster_name)},
      {"brokerName", str(&c->broker_name)},
      {"brokerId", num(&c->broker_id, 0, 1024)},
      {"namesrvAddr", str(&c->namesrv_addr)},
      {"brokerIP1", str(&c->broker_ip1)},
      {"listenAddress", str(&c->listen_host)},
      {"listenPort", num(&c->listen_port, 0, 65535)},
      {"fastListenPort", num(&c->fast_listen_port, -1, 65535)},
      {"autoCreateTopicEnable", boolean(&c->auto_create_topic_enable)},
      {"autoCreateSubscriptionGroup", boolean(&c->auto_create_subscription_group)},
      {"defaultTopicQueueNums", num(&c->default_topic_queue_nums, 1, 1024)},
      {"brokerPermission",
       [&]() -> Status {
         int32_t v = 0;
         FMQ_RETURN_IF_ERROR(ParsePropertyNumberInRange(key, value, 0, 15, &v));
         c->broker_permission.store(v);
         return Status::Ok();
       }},
      {"regionId", str(&c->region_id)},
      {"traceOn", boolean(&c->trace_on)},
      {"longPollingEnable", boolean(&c->long_polling_enable)},
      {"shortPollingTimeMills", num(&c->short_polling_time_mills, 1, 60'000)},
      {"notifyConsumerIdsChangedEnable", boolean(&c->notify_consumer_ids_changed_enable)},
      {"channelExpiredTimeout", num(&c->channel_expired_timeout_ms, 1000, INT32_MAX)},
      {"flushConsumerOffsetInterval", num(&c->flush_consumer_offset_interval_ms, 100, INT32_MAX)},
      {"transactionTimeOut", num(&c->transaction_timeout_ms, 0, INT32_MAX)},
      {"transactionCheckInterval", num(&c->transaction_check_interval_ms, 100, INT32_MAX)},
      {"transactionCheckMax", num(&c->transaction_check_max, 1, 1000)},
      {"rejectTransactionMessage", boolean(&c->reject_transaction_message)},
      {"enablePropertyFilter", boolean(&c->enable_property_filter)},
      {"traceTopicEnable", boolean(&c->trace_topic_enable)},
      {"msgTraceTopicName", str(&c->msg_trace_topic_name)},
      {"registerNameServerPeriod", num(&c->register_name_server_period_ms, 1000, 600'000)},
      {"sendMessageThreadPoolNums", num(&c->send_threads, 0, 256)},
      {"pullMessageThreadPoolNums", num(&c->pull_threads, 1, 256)},
      {"adminBrokerThreadPoolNums", num(&c->admin_threads, 1, 256)},
      {"clientManageThreadPoolNums", num(&c->client_manage_threads, 1, 256)},
      {"sendThreadPoolQueueCapacity", num(&c->send_queue_capacity, 1, 10'000'000)},
      {"pullThreadPoolQueueCapacity", num(&c->pull_queue_capacity, 1, 10'000'000)},
      {"serverSelectorThreads", num(&c->io_threads, 1, 64)},
      {"aclEnable", boolean(&c->acl_enable)},
      {"aclConfigFile", str(&c->acl_config_file)},
      {"innerAccessKey", str(&c->inner_access_key)},
      {"innerSecretKey", str(&c->inner_secret_key)},
      {"aclSeedFile", str(&c->acl_seed_file)},
      {"metricsExporterType",
       [&]() -> Status {
         if (value != "PROM" && value != "DISABLE") {
           return Status::InvalidArgument(
               "config key metricsExporterType: FerryMQ serves PROM (Prometheus pulls "
               "/metrics on metricsPromExporterPort) or DISABLE, got '" +
               value + "'");
         }
         c->metrics.prometheus = value == "PROM";
         return Status::Ok();
       }},
      {"metricsPromExporterHost", str(&c->metrics.host)},
      {"metricsPromExporterPort", num(&c->metrics.port, 0, 65535)},
      {"metricsLabel",
       [&]() -> Status {
         FMQ_ASSIGN_OR_RETURN(c->metrics.labels, ParseMetricsLabel(value));
         return Status::Ok();
       }},
      {"serverChannelMaxIdleTimeSeconds",
       [&]() -> Status {
         int64_t v = 0;
         FMQ_RETURN_IF_ERROR(ParsePropertyNumber(key, value, &v));
         if (v < 1) return Status::InvalidArgument("config key " + key + " must be at least 1");
         c->server_channel_max_idle_ms = v * 1000;
         return Status::Ok();
       }},
  };
  auto it = setters.find(key);
  if (it == setters.end() && key.starts_with("tls.")) return net::ApplyTlsProperty(key, value, &c->tls);
  if (it == setters.end()) return ha::ApplyReplicationProperty(key, value, &c->replication);
  return it->second();
}

std::map<std::string, std::string> BrokerConfigProperties(const BrokerConfig& c) {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  auto n = [](int64_t v) { return std::to_string(v); };
  return {{"brokerClusterName", c.cluster_name},
          {"brokerName", c.broker_name},
          {"brokerId", n(c.broker_id)},
          {"namesrvAddr", c.namesrv_addr},
          {"brokerIP1", c.broker_ip1},
          {"listenPort", n(c.listen_port)},
          {"autoCreateTopicEnable", b(c.auto_create_topic_enable)},
          {"autoCreateSubscriptionGroup", b(c.auto_create_subscription_group)},
          {"defaultTopicQueueNums", n(c.default_topic_queue_nums)},
          {"brokerPermission", n(c.broker_permission.load())},
          {"regionId", c.region_id},
          {"traceOn", b(c.trace_on)},
          {"longPollingEnable", b(c.long_polling_enable)},
          {"shortPollingTimeMills", n(c.short_polling_time_mills)},
          {"notifyConsumerIdsChangedEnable", b(c.notify_consumer_ids_changed_enable)},
          {"channelExpiredTimeout", n(c.channel_expired_timeout_ms)},
          {"flushConsumerOffsetInterval", n(c.flush_consumer_offset_interval_ms)},
          {"transactionTimeOut", n(c.transaction_timeout_ms)},
          {"transactionCheckInterval", n(c.transaction_check_interval_ms)},
          {"transactionCheckMax", n(c.transaction_check_max)},
          {"rejectTransactionMessage", b(c.reject_transaction_message)},
          {"enablePropertyFilter", b(c.enable_property_filter)},
          {"traceTopicEnable", b(c.trace_topic_enable)},
          {"msgTraceTopicName", c.msg_trace_topic_name},
          {"registerNameServerPeriod", n(c.register_name_server_period_ms)},
          {"aclEnable", b(c.acl_enable)},
          {"aclConfigFile", c.acl_config_file},
          {"innerAccessKey", c.inner_access_key},  // never innerSecretKey
          {"aclSeedFile", c.acl_seed_file},
          {"metricsExporterType", c.metrics.prometheus ? "PROM" : "DISABLE"},
          {"metricsPromExporterPort", n(c.metrics.port)},
          {"tls.server.mode", std::string(net::TlsModeName(c.tls.server_mode))},
          {"tls.enable", b(c.tls.client_enable)}};
}

}  // namespace fmq::server
