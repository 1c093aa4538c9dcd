#pragma once

// NameServerClient: the name-server requests a client makes (protocol reference 2.10): topic routes (105),
// cluster info (106), topic lists (206, 224) and topic deletion (216). With several name servers it sends to
// the one that last answered and, on a transport error (connect failure, closed connection, timeout), moves
// on to the next one, as Java's MQClientAPIImpl does; an error *response* is an answer and is not retried.
//
// RouteCache: routes of the topics a client uses, the queues derived from them (publish queues: writable
// queues of brokers with a master, sorted by broker name; subscribe queues: readable ones) and the broker
// address table merged from every route. RefreshAll() re-reads every known topic (the 30 s poll).
//
// Both are created by ClientCore and borrow its RemotingClient, which must outlive them. Thread-safety: all
// methods may be called from any thread.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/client/types.h"
#include "broker/model/route.h"
#include "broker/net/remoting_client.h"

namespace fmq::client {

class NameServerClient {
 public:
  NameServerClient(net::RemotingClient* remoting, std::vector<std::string> addrs,
                   std::chrono::milliseconds timeout);

  // NotFound (CODE 17) when the name server has no route for `topic`.
  Result<model::TopicRouteData> GetTopicRoute(const std::string& topic);
  Result<model::ClusterInfo> GetClusterInfo();
  Result<std::set<std::string>> GetAllTopicList();
  Result<std::set<std::string>> GetTopicsByCluster(const std::string& cluster);
  // DELETE_TOPIC_IN_NAMESRV on every name server (each keeps its own tables); the first failure is returned
  // after all were tried.
  Status DeleteTopic(const std::string& topic, const std::optional<std::string>& cluster);
  // WIPE_WRITE_PERM_OF_BROKER (writable false) or ADD_WRITE_PERM_OF_BROKER (true) on every name server;
  // the number of topics the first name server that answered changed. The first failure is returned after
  // all were tried.
  Result<int> SetWritePerm(const std::string& broker_name, bool writable);

  // Sends `request` to one name server with failover (see above).
  Result<protocol::RemotingCommand> Invoke(const protocol::RemotingCommand& request);

  const std::vector<std::string>& addrs() const { return addrs_; }

 private:
  net::RemotingClient* const remoting_;  // not owned
  const std::vector<std::string> addrs_;
  const std::chrono::milliseconds timeout_;
  std::atomic<size_t> current_{0};
};

// Queues a producer can send to, from one route.
struct TopicPublishInfo {
  std::vector<MessageQueue> queues;
  bool from_default_topic = false;  // built from TBW102's route (topic not created yet)
  mutable std::atomic<uint32_t> send_which_queue{0};

  // Round-robin over the queues; with `avoid_broker`, prefers a queue on another broker (Java's
  // selectOneMessageQueue(lastBrokerName)). REQUIRES: !queues.empty().
  const MessageQueue& SelectQueue(const std::string& avoid_broker) const;
};

std::vector<MessageQueue> PublishQueues(const std::string& topic, const model::TopicRouteData& route);
std::vector<MessageQueue> SubscribeQueues(const std::string& topic, const model::TopicRouteData& route);

class RouteCache {
 public:
  struct Options {
    // Fall back to TBW102's route when the topic has none (the broker then auto-creates the topic).
    bool use_default_topic = true;
    int32_t default_topic_queue_nums = 4;
  };
  RouteCache(NameServerClient* namesrv, Options options);

  // The topic's publish info, fetched on first use. Error "No route info of this topic: <t>" (NotFound)
  // when neither the topic nor (if enabled) the default topic has a writable queue.
  Result<std::shared_ptr<const TopicPublishInfo>> GetPublishInfo(const std::string& topic) FMQ_EXCLUDES(mu_);
  // Readable queues of the topic, fetched on first use; NotFound when there is no route.
  Result<std::vector<MessageQueue>> GetSubscribeQueues(const std::string& topic) FMQ_EXCLUDES(mu_);
  // Re-reads the route of `topic` from the name server.
  Status RefreshTopic(const std::string& topic) FMQ_EXCLUDES(mu_);
  // Re-reads every known topic's route; failures are logged and the old route kept.
  void RefreshAll() FMQ_EXCLUDES(mu_);

  std::optional<std::string> MasterAddr(const std::string& broker_name) const FMQ_EXCLUDES(mu_);
  // Address of `broker_id` of the broker group, else of its master, else any.
  std::optional<std::string> BrokerAddr(const std::string& broker_name, int64_t broker_id) const
      FMQ_EXCLUDES(mu_);
  // Where a consumer reads (Java's findBrokerAddressInSubscribe): `preferred_id` if the group has it, else
  // the master, else any member (a slave serves reads while its master is gone).
  std::optional<std::string> ReadAddr(const std::string& broker_name, int64_t preferred_id) const
      FMQ_EXCLUDES(mu_);
  // Every broker address known from routes (masters and slaves, or masters only).
  std::vector<std::string> AllBrokerAddrs(bool masters_only) const FMQ_EXCLUDES(mu_);
  // One broker address that hosts `topic` (for GET_CONSUMER_LIST_BY_GROUP), preferring masters.
  std::optional<std::string> AnyBrokerOfTopic(const std::string& topic) const FMQ_EXCLUDES(mu_);

 private:
  Status Update(const std::string& topic, const model::TopicRouteData& route) FMQ_EXCLUDES(mu_);

  NameServerClient* const namesrv_;  // not owned
  const Options options_;
  mutable Mutex mu_;
  std::map<std::string, model::TopicRouteData> routes_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const TopicPublishInfo>> publish_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::map<int64_t, std::string>> broker_addrs_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::client
