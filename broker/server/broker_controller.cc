#include "broker/server/broker_controller.h"

#include <sstream>

#include "broker/acl/acl_guard.h"
#include "broker/acl/plain_acl.h"
#include "broker/acl/signature.h"
#include "broker/base/logging.h"
#include "broker/base/service_thread.h"
#include "broker/model/names.h"
#include "broker/net/executor.h"
#include "broker/net/http_server.h"
#include "broker/net/local_address.h"
#include "broker/net/remoting_client.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "broker/server/acl_admin_processor.h"
#include "broker/server/admin_processor.h"
#include "broker/server/broker_registrar.h"
#include "broker/server/broker_stats.h"
#include "broker/server/client_manage_processor.h"
#include "broker/server/client_registry.h"
#include "broker/server/consumer_manage_processor.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/server/exporter_metrics.h"
#include "broker/server/ha_admin_processor.h"
#include "broker/server/pull_message_processor.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/send_message_processor.h"
#include "broker/server/slave_synchronizer.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/timer_message_service.h"
#include "broker/server/topic_config_manager.h"
#include "broker/server/transaction_service.h"
#include "broker/store/message_store.h"

namespace fmq::server {

namespace code = protocol::request_code;
using protocol::RemotingCommand;

std::string AnnouncedIp(const std::string& configured) {
  return configured.empty() ? net::LocalIpV4String() : configured;
}

namespace {
std::vector<std::string> SplitAddrs(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ';')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}
}  // namespace

// Samples stats every second, flushes offsets every flushConsumerOffsetInterval and drops silent clients
// every 10 s.
class Housekeeping : public ServiceThread {
 public:
  explicit Housekeeping(BrokerController::Parts& p) : ServiceThread("broker-housekeeping"), p_(p) {}
  ~Housekeeping() override { Stop(); }

 protected:
  void Run() override;

 private:
  BrokerController::Parts& p_;
};

struct BrokerController::Parts {
  Parts(BrokerConfig b, store::MessageStoreConfig s, io::FileSystem& f, const Clock& c)
      : broker(std::move(b)), store_config(std::move(s)), fs(f), clock(c) {}

  BrokerConfig broker;
  store::MessageStoreConfig store_config;
  io::FileSystem& fs;
  const Clock& clock;
  int64_t boot_ms = 0;
  std::string address;

  // metricsExporterType=PROM only. Before the store: the store's flush thread observes into its histogram, so
  // it must go after the store.
  std::unique_ptr<BrokerMetrics> metrics;
  std::unique_ptr<store::MessageStore> store;
  std::unique_ptr<ha::HaService> ha;
  std::unique_ptr<HaAdminProcessor> ha_admin;
  std::unique_ptr<SlaveSynchronizer> slave_sync;
  std::unique_ptr<ScheduleMessageService> schedule;
  std::unique_ptr<TimerMessageService> timers;
  std::unique_ptr<TransactionService> transactions;
  std::unique_ptr<TopicConfigManager> topics;
  std::unique_ptr<SubscriptionGroupManager> groups;
  std::unique_ptr<ConsumerOffsetManager> offsets;
  std::unique_ptr<ClientRegistry> clients;
  std::unique_ptr<RebalanceLockManager> locks;
  std::unique_ptr<BrokerStats> stats;
  std::unique_ptr<net::HttpServer> metrics_http;  // its /metrics

  std::unique_ptr<net::BoundedExecutor> send_exec, pull_exec, admin_exec, client_exec;
  std::unique_ptr<SendMessageProcessor> send;
  std::unique_ptr<PullMessageProcessor> pull;
  std::unique_ptr<PullRequestHoldService> hold;
  std::unique_ptr<ConsumerManageProcessor> consumer_manage;
  std::unique_ptr<ClientManageProcessor> client_manage;
  std::unique_ptr<AdminProcessor> admin;
  std::unique_ptr<acl::AclGuard> acl;  // aclEnable only
  std::unique_ptr<AclAdminProcessor> acl_admin;
  std::unique_ptr<net::RemotingServer> server;
  // The VIP ("fast") channel on listenPort - 2: the same requests as the main port. RocketMQ's slaves fetch
  // their master's topics there, and Java clients up to 4.4 send there by default (protocol reference 1.9).
  std::unique_ptr<net::RemotingServer> fast_server;
  std::unique_ptr<net::RemotingClient> outbound;      // to name servers
  std::shared_ptr<net::TlsContextSource> tls_client;  // tls.enable: this broker's own connections
  std::unique_ptr<BrokerRegistrar> registrar;
  std::unique_ptr<Housekeeping> housekeeping;
  bool started = false;

  void TopicsChanged() {
    if (registrar) registrar->RegisterSoon();
  }
  // After a promotion or demotion: a new master makes sure every queue it holds messages for has a topic (its
  // copy of the old master's topics may be up to one metadata interval old), and the name servers learn the
  // new role at once.
  void RoleChanged() {
    if (ha && ha->is_master()) EnsureTopicsOfStoredQueues();
    if (slave_sync) slave_sync->Wakeup();
    if (schedule) schedule->Wakeup();
    if (timers) timers->Wakeup();
    TopicsChanged();
  }
  void EnsureTopicsOfStoredQueues();
  // The gauges' values now, and everything rendered (GET /metrics).
  std::string ScrapeMetrics();
  // The rocketmq-exporter family (GET /metrics/exporter).
  std::string ScrapeExporter();
  // What ComputeLag needs, read from the offset table and the store now (both scrapes).
  LagInput LagInputNow();
};

LagInput BrokerController::Parts::LagInputNow() {
  LagInput in;
  in.consumed = offsets->ByTopic();
  in.max_offset = [this](const std::string& t, int32_t q) {
    return store->MaxOffsetInQueue(t, QueueId(q)).value();
  };
  in.store_time = [this](const std::string& t, int32_t q, int64_t o) -> std::optional<int64_t> {
    auto ts = store->MessageStoreTimestamp(t, QueueId(q), QueueOffset(o));
    return ts.ok() ? std::optional<int64_t>(*ts) : std::nullopt;
  };
  in.now_ms = clock.NowMillis();
  return in;
}

std::string BrokerController::Parts::ScrapeExporter() {
  ExporterSnapshot s;
  s.cluster = broker.cluster_name;
  s.broker_name = broker.broker_name;
  s.broker_addr = address;
  s.runtime = admin->RuntimeTable();
  const store::StoreStats st = store->Stats();
  s.disk_capacity_bytes = st.disk_capacity_bytes;
  s.disk_free_bytes = st.disk_available_bytes;
  s.flush_behind_bytes = std::max<int64_t>(0, st.commit_log_max.value() - st.commit_log_flushed.value());
  std::tie(s.put_tps, s.get_tps) = stats->MinuteRates();

  std::map<std::string, ExporterSnapshot::Topic> topic_rows;
  std::map<std::string, int64_t> dead_letters;  // %DLQ% topic -> messages it holds
  for (const auto& [name, t] : topics->Snapshot().topic_config_table) {
    auto& row = topic_rows[name];
    row.topic = name;
    const int32_t n = std::max(t.read_queue_nums, t.write_queue_nums);
    const bool dlq = model::IsDlqTopic(name);
    for (int32_t q = 0; q < n; ++q) {
      const int64_t max = std::max<int64_t>(0, store->MaxOffsetInQueue(name, QueueId(q)).value());
      row.offset += max;
      if (dlq)
        dead_letters[name] +=
            max - std::clamp<int64_t>(store->MinOffsetInQueue(name, QueueId(q)).value(), 0, max);
    }
  }
  for (const auto& [topic, w] : stats->All(BrokerStats::kTopicPutNums)) {
    if (auto it = topic_rows.find(topic); it != topic_rows.end()) it->second.put_tps = w.minute.tps;
  }
  for (const auto& [topic, w] : stats->All(BrokerStats::kTopicPutSize)) {
    if (auto it = topic_rows.find(topic); it != topic_rows.end())
      it->second.put_bytes_per_second = w.minute.tps;
  }
  for (auto& [name, row] : topic_rows) s.topics.push_back(std::move(row));

  // (topic, group): committed offsets, and what the broker counted of the group on the topic.
  std::map<std::pair<std::string, std::string>, ExporterSnapshot::Group> group_rows;
  auto row = [&group_rows](const std::string& topic, const std::string& group) -> ExporterSnapshot::Group& {
    auto& g = group_rows[{topic, group}];
    g.topic = topic;
    g.group = group;
    return g;
  };
  LagInput lag = LagInputNow();
  for (const auto& [topic, groups] : lag.consumed) {
    for (const auto& [group, queues] : groups) {
      auto& g = row(topic, group);
      for (const auto& [q, offset] : queues) g.consumer_offset += std::max<int64_t>(0, offset);
    }
  }
  for (const LagRow& l : ComputeLag(lag)) {
    auto& g = row(l.topic, l.group);
    g.diff = l.messages;
    g.latency_ms = l.latency_ms;
  }
  auto split = [](const std::string& key) -> std::optional<std::pair<std::string, std::string>> {
    const size_t at = key.rfind('@');
    if (at == std::string::npos) return std::nullopt;
    return std::make_pair(key.substr(0, at), key.substr(at + 1));
  };
  for (const auto& [key, w] : stats->All(BrokerStats::kGroupGetNums)) {
    if (auto tg = split(key)) row(tg->first, tg->second).get_tps = w.minute.tps;
  }
  for (const auto& [key, w] : stats->All(BrokerStats::kGroupGetSize)) {
    if (auto tg = split(key)) row(tg->first, tg->second).get_bytes_per_second = w.minute.tps;
  }
  for (const auto& [key, w] : stats->All(BrokerStats::kSendBackNums)) {
    if (auto tg = split(key)) row(tg->first, tg->second).send_back = w.minute.sum;
  }
  // Dead letters: what waits in a group's %DLQ% topic, unless the group itself consumes it (then its lag is).
  for (const auto& [topic, count] : dead_letters) {
    const std::string group = topic.substr(model::kDlqTopicPrefix.size());
    if (!group_rows.count({topic, group})) row(topic, group).diff = count;
  }
  for (auto& [key, g] : group_rows) {
    if (auto c = clients->Consumer(g.group)) {
      g.online_consumers = static_cast<int>(c->channels.size());
      g.clustering = c->message_model == model::MessageModel::kClustering;
    }
    s.groups.push_back(std::move(g));
  }
  s.producers = clients->ProducerCounts();
  if (ha && ha->is_master()) {
    for (const auto& slave : ha->StatusBody().slaves) s.replica_lag[slave.address] = slave.lag_bytes;
  }
  return RenderExporterFamily(s);
}

std::string BrokerController::Parts::ScrapeMetrics() {
  MetricsSnapshot s;
  const store::StoreStats st = store->Stats();
  const int64_t now = clock.NowMillis();
  s.storage_size_bytes = st.commit_log_max.value() - st.commit_log_min.value();
  s.flush_behind_bytes = std::max<int64_t>(0, st.commit_log_max.value() - st.commit_log_flushed.value());
  s.dispatch_behind_bytes = st.dispatch_behind_bytes;
  if (auto earliest = store->EarliestMessageTime(); earliest.ok() && *earliest > 0) {
    s.reserve_time_ms = std::max<int64_t>(0, now - *earliest);
  }
  s.disk_used_ratio = st.disk_used_ratio;
  s.disk_clean_ratio = store_config.disk_space_clean_forcibly_ratio;
  s.disk_full_ratio = store_config.disk_space_warning_level_ratio;
  if (ha) {
    const model::HaStatusBody h = ha->StatusBody();
    ReplicationSnapshot r;
    r.is_master = ha->is_master();
    r.epoch = h.epoch;
    r.in_sync_copies = h.in_sync_copies;
    if (h.confirm_offset != INT64_MAX)
      r.unconfirmed_bytes = std::max<int64_t>(0, h.max_offset - h.confirm_offset);
    s.replication = r;
    if (r.is_master) {
      for (const auto& slave : h.slaves) s.replica_lag_bytes[slave.address] = slave.lag_bytes;
    }
  }
  if (registrar) s.name_servers = registrar->name_server_states();
  s.permission = broker.broker_permission.load();
  s.topics = static_cast<int64_t>(topics->Snapshot().topic_config_table.size());
  s.groups = static_cast<int64_t>(groups->Snapshot().subscription_group_table.size());
  s.lag = ComputeLag(LagInputNow());
  s.subscriptions_consistent = clients->SubscriptionConsistency();
  return metrics->Collect(s);
}

void BrokerController::Parts::EnsureTopicsOfStoredQueues() {
  std::map<std::string, int32_t> queues;
  for (const auto& q : store->ListQueues()) {
    auto& n = queues[q.topic];
    n = std::max(n, q.queue_id.value() + 1);
  }
  for (const auto& [topic, n] : queues) {
    if (topics->Find(topic) || !model::ValidateTopicName(topic).ok()) continue;
    model::TopicConfig c;
    c.topic_name = topic;
    c.read_queue_nums = c.write_queue_nums = std::max(n, 1);
    c.perm = 6;
    auto created = topics->CreateIfAbsent(c);
    if (created.ok() && *created) {
      GetLogger("server")->warn(
          "topic {} has messages here but no topic config (created on the old master after "
          "the last metadata copy): recreated with {} queues",
          topic, c.read_queue_nums);
    }
  }
}

void Housekeeping::Run() {
  int64_t last_flush = p_.clock.NowMillis();
  int64_t last_scan = last_flush;
  while (!IsStopped()) {
    WaitForRunning(std::chrono::milliseconds(1000));
    if (IsStopped()) break;
    const int64_t now = p_.clock.NowMillis();
    p_.stats->Sample(p_.store->Stats().puts_total);
    if (now - last_flush >= p_.broker.flush_consumer_offset_interval_ms) {
      last_flush = now;
      if (Status s = p_.offsets->Persist(); !s.ok())
        GetLogger("server")->error("consumer offsets not persisted: {}", s.ToString());
    }
    if (now - last_scan >= 10'000) {
      last_scan = now;
      p_.clients->ScanNotActive(p_.broker.channel_expired_timeout_ms);
    }
  }
}

BrokerController::BrokerController(BrokerConfig broker, store::MessageStoreConfig store, io::FileSystem& fs,
                                   const Clock& clock)
    : p_(std::make_unique<Parts>(std::move(broker), std::move(store), fs, clock)) {
  p_->store_config.cluster_name = p_->broker.cluster_name;
  p_->store_config.broker_name = p_->broker.broker_name;
}

BrokerController::~BrokerController() { Stop(); }

int BrokerController::port() const { return p_->server ? p_->server->port() : 0; }
std::string BrokerController::address() const { return p_->address; }
int BrokerController::ha_port() const { return p_->ha ? p_->ha->ha_port() : 0; }
int BrokerController::metrics_port() const { return p_->metrics_http ? p_->metrics_http->port() : 0; }
const BrokerConfig& BrokerController::config() const { return p_->broker; }

Status BrokerController::Start() {
  Parts& p = *p_;
  auto log = GetLogger("server");
  p.boot_ms = p.clock.NowMillis();
  const std::string config_dir = p.store_config.store_path_root_dir + "/config";
  // aclSeedFile: its accounts go into the ACL file below; the inner account's secret may come from it.
  std::optional<acl::PlainAclFile> seed;
  if (!p.broker.acl_seed_file.empty()) {
    auto text = io::ReadFileToString(p.fs, p.broker.acl_seed_file);
    if (!text.ok()) return text.status().WithContext("aclSeedFile");
    auto parsed = acl::ParsePlainAcl(*text);
    if (!parsed.ok()) {
      return Status::InvalidArgument("aclSeedFile " + p.broker.acl_seed_file + ": " +
                                     std::string(parsed.status().message()));
    }
    seed = std::move(*parsed);
    if (!p.broker.inner_access_key.empty() && p.broker.inner_secret_key.empty()) {
      for (const acl::PlainAccessConfig& a : seed->accounts) {
        if (a.access_key == p.broker.inner_access_key) p.broker.inner_secret_key = a.secret_key;
      }
      if (p.broker.inner_secret_key.empty()) {
        return Status::InvalidArgument("aclSeedFile " + p.broker.acl_seed_file +
                                       " has no account with accessKey " + p.broker.inner_access_key +
                                       " (innerAccessKey) to take innerSecretKey from");
      }
    }
  }
  if (p.broker.inner_access_key.empty() != p.broker.inner_secret_key.empty()) {
    return Status::InvalidArgument("innerAccessKey and innerSecretKey go together: set both or neither");
  }

  // Bind first: a port in use fails before a long store recovery, and message ids need the real port.
  net::ServerConfig sc;
  sc.host = p.broker.listen_host;
  sc.port = p.broker.listen_port;
  sc.io_threads = p.broker.io_threads;
  sc.idle_timeout = std::chrono::milliseconds(p.broker.server_channel_max_idle_ms);
  if (p.broker.tls.server_mode != net::TlsMode::kDisabled) {
    auto source = net::TlsContextSource::Create(p.broker.tls.server, /*client=*/false);
    if (!source.ok()) {
      return source.status().WithContext("tls.server.mode=" +
                                         std::string(net::TlsModeName(p.broker.tls.server_mode)));
    }
    sc.tls_mode = p.broker.tls.server_mode;
    sc.tls = *source;
  }
  p.server = std::make_unique<net::RemotingServer>(sc);
  FMQ_RETURN_IF_ERROR(p.server->Bind());
  if (p.broker.fast_listen_port > 0 || (p.broker.fast_listen_port < 0 && p.broker.listen_port > 2)) {
    net::ServerConfig fc = sc;
    fc.port = p.broker.fast_listen_port > 0 ? p.broker.fast_listen_port : p.broker.listen_port - 2;
    p.fast_server = std::make_unique<net::RemotingServer>(fc);
    if (Status s = p.fast_server->Bind(); !s.ok()) {
      return s.WithContext(
          "the VIP channel (listenPort - 2; fastListenPort to choose another, 0 to turn it off)");
    }
  }
  const std::string ip = AnnouncedIp(p.broker.broker_ip1);
  p.address = ip + ":" + std::to_string(p.server->port());
  auto host = model::HostAddress::Parse(p.address);
  if (!host.ok()) {
    return Status::InvalidArgument("brokerIP1 '" + ip +
                                   "' is not an IP address: " + std::string(host.status().message()));
  }
  p.store_config.store_host = *host;

  // The replication role decides whether consumers read only what replication confirmed.
  const std::string ha_state_path = p.store_config.store_path_root_dir + "/ha.json";
  FMQ_RETURN_IF_ERROR(p.fs.CreateDirs(p.store_config.store_path_root_dir));
  FMQ_ASSIGN_OR_RETURN(ha::HaState ha_state,
                       ha::LoadHaState(p.fs, ha_state_path, p.broker.replication, p.broker.broker_id));
  store::StoreOptions store_options;
  store_options.bounded_by_confirm_offset = ha::ReadsBoundedByConfirm(ha_state.role);
  p.store = std::make_unique<store::MessageStore>(p.store_config, p.fs, p.clock, store_options);
  FMQ_RETURN_IF_ERROR(p.store->Open());
  ha::HaIdentity identity;
  identity.cluster = p.broker.cluster_name;
  identity.broker_name = p.broker.broker_name;
  identity.broker_id = p.broker.broker_id;
  identity.address = p.address;
  identity.ha_listen_host = p.broker.listen_host;
  // haListenPort 0: listenPort + 1 (RocketMQ); a broker on an ephemeral port (tests) takes one for HA too.
  identity.ha_listen_port = p.broker.replication.ha_listen_port != 0 ? p.broker.replication.ha_listen_port
                            : p.broker.listen_port != 0              ? p.server->port() + 1
                                                                     : 0;
  p.ha = std::make_unique<ha::HaService>(p.broker.replication, identity, ha_state, *p.store, p.fs,
                                         ha_state_path, p.clock);
  if (p.broker.tls.client_enable) {
    auto source = net::TlsContextSource::Create(p.broker.tls.client, /*client=*/true);
    if (!source.ok()) return source.status().WithContext("tls.enable=true");
    p.tls_client = *source;
  }
  p.ha->SetTls(sc.tls_mode, sc.tls, p.tls_client);
  FMQ_RETURN_IF_ERROR(p.ha->Start());
  p.topics = std::make_unique<TopicConfigManager>(p.fs, config_dir + "/topics.json", p.broker, p.clock);
  FMQ_RETURN_IF_ERROR(p.topics->Load());
  p.groups = std::make_unique<SubscriptionGroupManager>(p.fs, config_dir + "/subscriptionGroup.json",
                                                        p.broker.auto_create_subscription_group, p.clock);
  FMQ_RETURN_IF_ERROR(p.groups->Load());
  p.offsets = std::make_unique<ConsumerOffsetManager>(p.fs, config_dir + "/consumerOffset.json");
  FMQ_RETURN_IF_ERROR(p.offsets->Load());
  ScheduleMessageService::Options so;
  so.offsets_path = config_dir + "/delayOffset.json";
  so.flush_interval = std::chrono::milliseconds(p.store_config.flush_delay_offset_interval_ms);
  p.schedule = std::make_unique<ScheduleMessageService>(so, *p.store, p.fs, p.clock, [&p] {
    std::string why;
    return p.ha->CheckWrite(&why) == ha::WriteGate::kOpen;
  });
  FMQ_RETURN_IF_ERROR(p.schedule->Load());
  TimerMessageService::Options timer_options;
  timer_options.dir = p.store_config.store_path_root_dir + "/timer";
  timer_options.precision_ms = p.store_config.timer_precision_ms;
  timer_options.slots = p.store_config.timer_roll_window_slot;
  timer_options.flush_interval_ms = p.store_config.timer_flush_interval_ms;
  p.timers = std::make_unique<TimerMessageService>(timer_options, *p.store, p.fs, p.clock, [&p] {
    std::string why;
    return p.ha->CheckWrite(&why) == ha::WriteGate::kOpen;
  });
  p.clients = std::make_unique<ClientRegistry>(p.clock);
  p.locks = std::make_unique<RebalanceLockManager>(p.clock);
  p.stats = std::make_unique<BrokerStats>(p.clock);

  TransactionService::Options to;
  to.timeout_ms = p.broker.transaction_timeout_ms;
  to.check_interval_ms = p.broker.transaction_check_interval_ms;
  to.check_max = p.broker.transaction_check_max;
  p.transactions = std::make_unique<TransactionService>(
      to, *p.store, *p.offsets, *p.clients, *p.topics, p.clock,
      [&p] {
        std::string why;
        return p.ha->CheckWrite(&why) == ha::WriteGate::kOpen;
      },
      [&p] { p.TopicsChanged(); });

  p.send_exec = std::make_unique<net::BoundedExecutor>("send", std::max(1, p.broker.send_threads),
                                                       static_cast<size_t>(p.broker.send_queue_capacity));
  p.pull_exec = std::make_unique<net::BoundedExecutor>("pull", p.broker.pull_threads,
                                                       static_cast<size_t>(p.broker.pull_queue_capacity));
  p.admin_exec = std::make_unique<net::BoundedExecutor>("admin", p.broker.admin_threads, 10'000);
  p.client_exec = std::make_unique<net::BoundedExecutor>("client", p.broker.client_manage_threads, 50'000);
  for (auto* e : {p.send_exec.get(), p.pull_exec.get(), p.admin_exec.get(), p.client_exec.get()})
    FMQ_RETURN_IF_ERROR(e->Start());

  p.send = std::make_unique<SendMessageProcessor>(
      p.broker, *p.store, *p.topics, *p.groups, [&p] { p.TopicsChanged(); }, p.ha.get());
  p.send->set_clock(&p.clock);
  p.send->set_stats(p.stats.get());
  p.pull = std::make_unique<PullMessageProcessor>(p.broker, *p.store, *p.topics, *p.groups, *p.clients,
                                                  *p.offsets, p.clock);
  p.hold = std::make_unique<PullRequestHoldService>(
      *p.store, p.clock, [&p](RemotingCommand req, net::Responder responder) {
        auto shared = std::make_shared<std::pair<RemotingCommand, net::Responder>>(std::move(req), responder);
        if (!p.pull_exec->TrySubmit([&p, shared] {
              p.pull->Process(std::move(shared->first), shared->second, /*allow_suspend=*/false);
            })) {
          shared->second.Send(RemotingCommand::Answer(protocol::response_code::kSystemBusy,
                                                      "[PCBUSY_CLEAN_QUEUE]broker busy, try later"));
        }
      });
  p.pull->set_hold_service(p.hold.get());
  p.pull->set_ha(p.ha.get());
  p.pull->set_stats(p.stats.get());
  if (p.broker.metrics.prometheus) {
    p.metrics =
        std::make_unique<BrokerMetrics>(p.broker.cluster_name, p.broker.broker_name, p.broker.metrics.labels);
    p.send->set_metrics(p.metrics.get());
    p.pull->set_metrics(p.metrics.get());
    p.store->SetFlushHistogram(&p.metrics->flush_latency());
  }
  p.store->SetMessageArrivingListener(
      [&p](std::string_view topic, QueueId queue, QueueOffset next, int64_t tags_code) {
        p.hold->NotifyMessageArriving(topic, queue.value(), next.value(), tags_code);
      });
  p.consumer_manage = std::make_unique<ConsumerManageProcessor>(
      *p.store, *p.offsets, ConsumerManageProcessor::DefaultMemoryWindow());
  p.client_manage = std::make_unique<ClientManageProcessor>(p.broker, *p.clients, *p.groups, *p.topics,
                                                            *p.locks, [&p] { p.TopicsChanged(); });
  AdminProcessor::Deps deps;
  deps.broker = &p.broker;
  deps.store = p.store.get();
  deps.topics = p.topics.get();
  deps.groups = p.groups.get();
  deps.offsets = p.offsets.get();
  deps.clients = p.clients.get();
  deps.stats = p.stats.get();
  deps.ha = p.ha.get();
  deps.schedule = p.schedule.get();
  deps.timer_pending = [&p] { return p.timers->pending(); };
  deps.on_topics_changed = [&p] { p.TopicsChanged(); };
  deps.extra_runtime_info = [&p] {
    std::map<std::string, std::string> kv;
    kv["sendThreadPoolQueueSize"] = std::to_string(p.send_exec->queued());
    kv["sendThreadPoolQueueCapacity"] = std::to_string(p.broker.send_queue_capacity);
    kv["pullThreadPoolQueueSize"] = std::to_string(p.pull_exec->queued());
    kv["pullThreadPoolQueueCapacity"] = std::to_string(p.broker.pull_queue_capacity);
    kv["queryThreadPoolQueueSize"] = std::to_string(p.admin_exec->queued());
    kv["queryThreadPoolQueueCapacity"] = std::to_string(p.admin_exec->capacity());
    kv["sendThreadPoolQueueHeadWaitTimeMills"] = std::to_string(p.send_exec->head_wait_ms());
    kv["pullThreadPoolQueueHeadWaitTimeMills"] = std::to_string(p.pull_exec->head_wait_ms());
    kv["queryThreadPoolQueueHeadWaitTimeMills"] = std::to_string(p.admin_exec->head_wait_ms());
    kv["bootTimestamp"] = std::to_string(p.boot_ms);
    const int64_t up = (p.clock.NowMillis() - p.boot_ms) / 1000;
    kv["runtime"] = "[ " + std::to_string(up / 86400) + " days, " + std::to_string(up / 3600 % 24) +
                    " hours, " + std::to_string(up / 60 % 60) + " minutes, " + std::to_string(up % 60) +
                    " seconds ]";
    kv["startAcceptSendRequestTimeStamp"] = std::to_string(p.boot_ms);
    kv["brokerActive"] = "true";
    kv["pullParkedRequests"] = std::to_string(p.hold->parked());
    const auto ha = p.ha->StatusBody();
    kv["brokerRole"] = ha.role;
    kv["haEpoch"] = std::to_string(ha.epoch);
    kv["haFenced"] = ha.fenced ? "true" : "false";
    kv["haConfirmOffset"] = std::to_string(ha.confirm_offset);
    kv["haInSyncCopies"] = std::to_string(ha.in_sync_copies);
    kv["haDegraded"] = ha.degraded ? "true" : "false";
    kv["haMasterAddress"] = ha.master_address;
    kv["haCopyState"] = ha.copy_state;
    for (auto& [k, v] : p.schedule->RuntimeStats()) kv[k] = std::move(v);
    for (auto& [k, v] : p.timers->RuntimeStats()) kv[k] = std::move(v);
    return kv;
  };
  p.admin = std::make_unique<AdminProcessor>(std::move(deps));
  p.ha_admin = std::make_unique<HaAdminProcessor>(*p.ha);

  auto on = [](auto* processor) {
    return [processor](RemotingCommand req, net::Responder r) {
      processor->Handle(std::move(req), std::move(r));
    };
  };
  if (p.broker.acl_enable) {
    acl::AclGuard::Options ao;
    ao.endpoint = acl::Endpoint::kBroker;
    ao.path = p.broker.acl_config_file.empty() ? p.store_config.store_path_root_dir + "/conf/plain_acl.yml"
                                               : p.broker.acl_config_file;
    p.acl = std::make_unique<acl::AclGuard>(p.fs, p.clock, ao);
    if (Status s = p.acl->Start(); !s.ok()) return s.WithContext("aclEnable=true");
    if (seed) {
      if (Status s = p.acl->store().Seed(*seed); !s.ok()) return s.WithContext("aclSeedFile");
      log->info("acl: seeded {} account(s) from {}", seed->accounts.size(), p.broker.acl_seed_file);
    }
  }
  p.acl_admin = std::make_unique<AclAdminProcessor>(p.broker, p.address, p.acl ? &p.acl->store() : nullptr);
  for (net::RemotingServer* server : {p.server.get(), p.fast_server.get()}) {
    if (!server) continue;
    if (p.acl) {
      server->SetRequestFilter([guard = p.acl.get()](const std::string& remote, const RemotingCommand& req) {
        return guard->Filter(remote, req);
      });
    }
    for (int32_t c : {code::kUpdateAndCreateAclConfig, code::kDeleteAclConfig, code::kGetBrokerClusterAclInfo,
                      code::kUpdateGlobalWhiteAddrsConfig, code::kGetBrokerClusterAclConfig})
      server->Register(c, on(p.acl_admin.get()), p.admin_exec.get());
    for (int32_t c :
         {code::kSendMessage, code::kSendMessageV2, code::kSendBatchMessage, code::kConsumerSendMsgBack})
      server->Register(c, on(p.send.get()), p.broker.send_threads > 0 ? p.send_exec.get() : nullptr);
    server->Register(code::kPullMessage, on(p.pull.get()), p.pull_exec.get());
    for (int32_t c : {code::kQueryConsumerOffset, code::kUpdateConsumerOffset, code::kGetMaxOffset,
                      code::kGetMinOffset, code::kSearchOffsetByTimestamp, code::kGetEarliestMsgStoreTime})
      server->Register(c, on(p.consumer_manage.get()), p.client_exec.get());
    for (int32_t c : {code::kHeartBeat, code::kUnregisterClient, code::kGetConsumerListByGroup,
                      code::kCheckClientConfig, code::kLockBatchMq, code::kUnlockBatchMq})
      server->Register(c, on(p.client_manage.get()), p.client_exec.get());
    for (int32_t c : {code::kUpdateAndCreateTopic,
                      code::kDeleteTopicInBroker,
                      code::kGetAllTopicConfig,
                      code::kUpdateAndCreateSubscriptionGroup,
                      code::kDeleteSubscriptionGroup,
                      code::kGetAllSubscriptionGroupConfig,
                      code::kGetBrokerRuntimeInfo,
                      code::kGetTopicStatsInfo,
                      code::kGetConsumeStats,
                      code::kGetConsumerConnectionList,
                      code::kGetProducerConnectionList,
                      code::kQueryTopicConsumeByWho,
                      code::kGetAllConsumerOffset,
                      code::kGetAllDelayOffset,
                      code::kViewMessageById,
                      code::kQueryMessage,
                      code::kInvokeBrokerToResetOffset,
                      code::kGetBrokerConfig,
                      code::kUpdateBrokerConfig,
                      code::kConsumeMessageDirectly,
                      code::kGetConsumerRunningInfo,
                      code::kViewBrokerStatsData,
                      code::kTopicProducers})
      server->Register(c, on(p.admin.get()), p.admin_exec.get());
    for (int32_t c : {code::kHaStatus, code::kHaFence, code::kHaPromote, code::kHaBecomeSlave})
      server->Register(c, on(p.ha_admin.get()), p.admin_exec.get());
    server->Register(
        code::kEndTransaction,
        [&p](RemotingCommand req, net::Responder r) {
          p.transactions->HandleEndTransaction(std::move(req), r);
        },
        p.client_exec.get());
    server->SetCloseListener([&p](net::Connection* c) { p.clients->OnConnectionClosed(c); });
    if (p.metrics) server->SetRpcObserver(p.metrics.get());
    FMQ_RETURN_IF_ERROR(server->Start());
  }
  FMQ_RETURN_IF_ERROR(p.hold->Start());
  if (p.metrics) {
    net::HttpServerConfig hc;
    hc.host = p.broker.metrics.host.empty() ? p.broker.listen_host : p.broker.metrics.host;
    hc.port = p.broker.metrics.port;
    hc.io_threads = 1;
    p.metrics_http = std::make_unique<net::HttpServer>(hc);
    p.metrics_http->Handle("/metrics", [&p](const net::HttpRequest&, std::shared_ptr<net::HttpResponder> r) {
      r->Send(200, std::string(MetricRegistry::kContentType), p.ScrapeMetrics());
    });
    p.metrics_http->Handle("/metrics/exporter",
                           [&p](const net::HttpRequest&, std::shared_ptr<net::HttpResponder> r) {
                             r->Send(200, std::string(MetricRegistry::kContentType), p.ScrapeExporter());
                           });
    if (Status s = p.metrics_http->Start(); !s.ok()) {
      return s.WithContext("metricsPromExporterPort=" + std::to_string(hc.port));
    }
    log->info("metrics: Prometheus /metrics on {}:{}", hc.host, p.metrics_http->port());
  }

  net::ClientConfig outbound_config;
  if (!p.broker.inner_access_key.empty()) {
    outbound_config.request_signer = [ak = p.broker.inner_access_key,
                                      sk = p.broker.inner_secret_key](RemotingCommand& req) {
      acl::SignRequest(req.ext_fields, req.body, ak, sk);
    };
  }
  outbound_config.tls = p.tls_client;
  p.outbound = std::make_unique<net::RemotingClient>(outbound_config);
  FMQ_RETURN_IF_ERROR(p.outbound->Start());
  RegistrarConfig rc;
  rc.name_servers = SplitAddrs(p.broker.namesrv_addr);
  rc.broker_addr = p.address;
  rc.ha_server_addr = ip + ":" + std::to_string(p.ha->ha_port());
  // At most 60 s, as RocketMQ clamps it: name servers close connections idle for 120 s and then drop the
  // broker's routes (onChannelDestroy), so a broker must register well within that.
  rc.period = std::chrono::milliseconds(std::min<int64_t>(p.broker.register_name_server_period_ms, 60'000));
  p.registrar = std::make_unique<BrokerRegistrar>(rc, p.broker, *p.topics, *p.outbound, p.ha.get());
  p.ha->SetRoleListener([&p] { p.RoleChanged(); });
  if (rc.name_servers.empty()) {
    log->warn("namesrvAddr is empty: clients cannot find this broker through a name server");
  } else if (Status s = p.registrar->RegisterNow(); !s.ok()) {
    log->warn("not registered with any name server yet ({}); retrying every {} ms", s.ToString(),
              rc.check_period.count());
  }
  FMQ_RETURN_IF_ERROR(p.registrar->Start());
  p.slave_sync = std::make_unique<SlaveSynchronizer>(
      std::chrono::milliseconds(p.broker.replication.slave_sync_metadata_interval_ms), *p.ha, *p.topics,
      *p.groups, *p.offsets, *p.schedule, *p.outbound);
  FMQ_RETURN_IF_ERROR(p.slave_sync->Start());
  FMQ_RETURN_IF_ERROR(p.schedule->Start());
  FMQ_RETURN_IF_ERROR(p.timers->Start());
  FMQ_RETURN_IF_ERROR(p.transactions->Start());
  p.housekeeping = std::make_unique<Housekeeping>(p);
  FMQ_RETURN_IF_ERROR(p.housekeeping->Start());
  p.started = true;
  log->info("broker started cluster={} broker={} role={} id={} addr={} ha_port={} store={} flush={}",
            p.broker.cluster_name, p.broker.broker_name, ha::BrokerRoleName(p.ha->role()), p.ha->broker_id(),
            p.address, p.ha->ha_port(), p.store_config.store_path_root_dir,
            p.store_config.flush_disk_type == store::FlushDiskType::kSync ? "SYNC_FLUSH" : "ASYNC_FLUSH");
  return Status::Ok();
}

void BrokerController::Stop() {
  Parts& p = *p_;
  if (p.housekeeping) p.housekeeping->Stop();
  if (p.slave_sync) p.slave_sync->Stop();
  if (p.schedule) p.schedule->Stop();  // writes delayOffset.json
  if (p.timers) p.timers->Stop();      // writes timer/checkpoint.json
  if (p.transactions) p.transactions->Stop();
  if (p.registrar) {
    p.registrar->Stop();
    if (p.started && !p.registrar->config_name_servers_empty()) p.registrar->UnregisterAll();
  }
  if (p.metrics_http) p.metrics_http->Stop();
  if (p.hold) p.hold->Stop();  // answers parked pulls through the pull executor
  if (p.server) p.server->Stop();
  if (p.fast_server) p.fast_server->Stop();
  for (auto* e : {p.send_exec.get(), p.pull_exec.get(), p.admin_exec.get(), p.client_exec.get()}) {
    if (e) e->Stop();
  }
  if (p.ha) p.ha->Stop();
  if (p.acl) p.acl->Stop();
  if (p.outbound) p.outbound->Stop();
  if (p.store) p.store->SetMessageArrivingListener(nullptr);
  if (p.offsets) {
    if (Status s = p.offsets->Persist(); !s.ok())
      GetLogger("server")->error("consumer offsets not persisted at stop: {}", s.ToString());
  }
  if (p.store) p.store->Close();
  p.started = false;
}

}  // namespace fmq::server
