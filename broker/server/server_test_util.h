#pragma once

// Shared by the server module's tests: a small store configuration and a client call helper.

#include <gtest/gtest.h>

#include "broker/model/message.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/headers.h"
#include "broker/server/broker_config.h"
#include "broker/store/store_config.h"

namespace fmq::server::testing {

inline store::MessageStoreConfig TestStoreConfig(const std::string& cluster, const std::string& broker) {
  store::MessageStoreConfig sc;
  sc.store_path_root_dir = "/store";
  sc.cluster_name = cluster;
  sc.broker_name = broker;
  sc.mapped_file_size_commit_log = 1 << 20;
  sc.mapped_file_size_consume_queue = 20 * 1000;
  sc.max_message_size = 64 * 1024;
  sc.max_hash_slot_num = 100;
  sc.max_index_num = 400;
  return sc;
}

// A broker on 127.0.0.1 (any free port) of cluster C1 named b1, registering with `namesrv_addr`.
inline BrokerConfig TestBrokerConfig(const std::string& namesrv_addr) {
  BrokerConfig bc;
  bc.broker_ip1 = "127.0.0.1";
  bc.listen_host = "127.0.0.1";
  bc.listen_port = 0;
  bc.namesrv_addr = namesrv_addr;
  bc.cluster_name = "C1";
  bc.broker_name = "b1";
  return bc;
}

// A SEND_MESSAGE header as the Java client fills it: producer group "pg", TBW102 as the template topic.
inline protocol::SendMessageRequestHeader SendHeader(const std::string& topic, int queue,
                                                     const std::map<std::string, std::string>& props) {
  protocol::SendMessageRequestHeader h;
  h.producer_group = "pg";
  h.topic = topic;
  h.default_topic = "TBW102";
  h.default_topic_queue_nums = 4;
  h.queue_id = queue;
  h.born_timestamp = 1700000000000;
  h.properties = model::EncodeProperties(props);
  return h;
}

inline protocol::RemotingCommand Call(net::RemotingClient& client, const std::string& addr, int32_t code,
                                      std::map<std::string, std::string> ext, std::string body = "") {
  protocol::RemotingCommand req = protocol::RemotingCommand::Request(code, 0);
  req.ext_fields = std::move(ext);
  req.body = std::move(body);
  auto r = client.InvokeSync(addr, req, std::chrono::seconds(10));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : protocol::RemotingCommand{};
}

}  // namespace fmq::server::testing
