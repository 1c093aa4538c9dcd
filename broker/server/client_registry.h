#pragma once

// ClientRegistry: the producers and consumers connected to this broker, by group (RocketMQ's ConsumerManager
// and ProducerManager; protocol reference 2.5, 2.6). Clients announce themselves with HEART_BEAT every 30 s;
// a channel whose last heartbeat is older than the expiry (120 s), or whose connection closes, is removed.
// A consumer group's membership or subscription change sends NOTIFY_CONSUMER_IDS_CHANGED to every member so
// they rebalance at once (when the group allows it).
//
// Channels are keyed by their connection; the registry holds connections weakly. Created by the broker's
// composition root. Thread-safety: every method is safe to call concurrently; notifications are sent outside
// the lock.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/model/heartbeat.h"
#include "broker/net/connection.h"

namespace fmq::server {

struct ClientChannel {
  std::weak_ptr<net::Connection> conn;
  std::string client_id;
  std::string remote_addr;
  protocol::LanguageCode language = protocol::LanguageCode::kJava;
  int32_t version = 0;
  int64_t last_update_ms = 0;
  // A consumer's subscriptions in its last heartbeat, "topic:type:expression" in topic order, joined by ';'.
  std::string subscriptions;
};

struct ConsumerGroupInfo {
  std::string group;
  std::vector<ClientChannel> channels;
  std::map<std::string, model::SubscriptionData> subscriptions;
  model::ConsumeType consume_type = model::ConsumeType::kPassively;
  model::MessageModel message_model = model::MessageModel::kClustering;
  model::ConsumeFromWhere consume_from_where = model::ConsumeFromWhere::kLastOffset;
  int64_t last_update_ms = 0;
};

class ClientRegistry {
 public:
  explicit ClientRegistry(const Clock& clock);

  // A consumer's heartbeat for one group. Returns true when the group's channels or subscriptions changed;
  // then, if `notify`, every member is sent NOTIFY_CONSUMER_IDS_CHANGED.
  bool RegisterConsumer(const model::ConsumerData& data, ClientChannel channel, bool notify)
      FMQ_EXCLUDES(mu_);
  void UnregisterConsumer(const std::string& group, const net::Connection* conn, bool notify)
      FMQ_EXCLUDES(mu_);
  void RegisterProducer(const std::string& group, ClientChannel channel) FMQ_EXCLUDES(mu_);
  void UnregisterProducer(const std::string& group, const net::Connection* conn) FMQ_EXCLUDES(mu_);

  // The connection closed: forget its channels everywhere, notifying the consumer groups it was in.
  void OnConnectionClosed(const net::Connection* conn) FMQ_EXCLUDES(mu_);
  // Removes (and closes) channels whose last heartbeat is older than `expiry_ms`. Returns how many.
  size_t ScanNotActive(int64_t expiry_ms) FMQ_EXCLUDES(mu_);

  std::vector<std::string> ConsumerIds(const std::string& group) const FMQ_EXCLUDES(mu_);
  std::optional<ConsumerGroupInfo> Consumer(const std::string& group) const FMQ_EXCLUDES(mu_);
  std::optional<model::SubscriptionData> FindSubscription(const std::string& group,
                                                          const std::string& topic) const FMQ_EXCLUDES(mu_);
  std::vector<ClientChannel> Producers(const std::string& group) const FMQ_EXCLUDES(mu_);
  std::set<std::string> ConsumerGroups() const FMQ_EXCLUDES(mu_);
  // Every consumer group with a member online: true when all its members sent the same subscriptions in their
  // last heartbeats (MQCloud's subscription check; the group's table holds the union, as RocketMQ's does).
  std::map<std::string, bool> SubscriptionConsistency() const FMQ_EXCLUDES(mu_);
  // Every producer group with its number of connected producers.
  std::map<std::string, size_t> ProducerCounts() const FMQ_EXCLUDES(mu_);
  // Consumer groups with a live member subscribed to `topic`.
  std::set<std::string> GroupsSubscribedTo(const std::string& topic) const FMQ_EXCLUDES(mu_);
  // A channel of `group` whose client id is `client_id` (to call a client back), if connected.
  std::shared_ptr<net::Connection> FindConsumerConnection(const std::string& group,
                                                          const std::string& client_id) const
      FMQ_EXCLUDES(mu_);

 private:
  struct Group {
    ConsumerGroupInfo info;
    std::map<const net::Connection*, ClientChannel> channels;
  };
  void Notify(const std::string& group, const std::vector<std::weak_ptr<net::Connection>>& members);
  static std::vector<std::weak_ptr<net::Connection>> Members(const Group& g);

  const Clock& clock_;
  mutable Mutex mu_;
  std::map<std::string, Group> consumers_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::map<const net::Connection*, ClientChannel>> producers_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, bool> notify_enabled_ FMQ_GUARDED_BY(mu_);  // per group, from its last heartbeat
};

}  // namespace fmq::server
