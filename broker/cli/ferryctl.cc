#include "broker/cli/ferryctl.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/base/mutex.h"
#include "broker/client/admin.h"
#include "broker/client/ha_ops.h"
#include "broker/client/producer.h"
#include "broker/client/pull_consumer.h"
#include "broker/client/push_consumer.h"
#include "broker/model/route.h"
#include "broker/model/trace.h"

namespace fmq::cli {

const char* const kFerryctlUsage =
    R"(usage: ferryctl [-n host:port[;host:port]] [-o text|json] <command> [args]

commands:
  cluster list                                     brokers of every cluster
  topic create <topic> [-c cluster] [-q queues]    create or update a topic on every master of a cluster
  topic list                                       topics known to the name server
  topic route <topic>                              brokers and queues of a topic
  topic stats <topic>                              min/max offsets of every queue
  topic delete <topic> [-c cluster]                delete a topic from the brokers and the name servers
  group list [-c cluster]                          subscription groups
  group progress <group>                           consumed vs stored offsets (lag) of a group
  send <topic> <body> [--tag T] [--key K] [--count N]
                                                   send messages; prints msgId, queue and offset
  consume <topic> [--group G] [--count N] [--timeout S] [--from-beginning] [--tag EXPR]
                                                   print messages; without --group nothing is committed
                                                   and reading starts at the end (or the beginning)
  message get <offsetMsgId>                        one message by its offset message id
  message trace <msgId> [--trace-topic T]          produce -> store -> consume timeline of a message sent
                                                   or consumed with enableMsgTrace (RMQ_SYS_TRACE_TOPIC)
  ha status [brokerName]                           replication of every member of a broker group (or all):
                                                   role, epoch, log end, confirm offset, in-sync slaves, copy state
  ha promote <brokerName> [--broker addr] [--member addr[,addr]] [--group-size N] [--role R] [--unclean]
                                                   failover: fence the reachable members at a new epoch, make
                                                   the one with the longest log (or --broker) master, the rest
                                                   follow it; refused without a quorum unless --unclean
  ha switchover <brokerName> --to addr [--timeout S]
                                                   planned handover to a slave, nothing lost: the master stops
                                                   writes, the slave catches up, takes over; the old master follows
  ha demote <addr> --master addr [--broker-id N]   make a broker follow the master at addr (a returning old
                                                   master, or a slave to re-point)

The name server comes from -n, else $NAMESRV_ADDR, else 127.0.0.1:9876.
Exit codes: 0 ok, 1 the operation failed, 2 usage error.
)";

namespace {

using nlohmann::json;

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> opts;
  std::set<std::string> flags;

  std::string Opt(const std::string& name, const std::string& fallback = "") const {
    auto it = opts.find(name);
    return it == opts.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return opts.count(name) > 0; }
};

struct UsageError {
  std::string message;
};

const std::map<std::string, std::string>& ValueOptions() {
  static const std::map<std::string, std::string> m = {
      {"-n", "namesrv"},
      {"--namesrv", "namesrv"},
      {"-o", "output"},
      {"--output", "output"},
      {"-c", "cluster"},
      {"--cluster", "cluster"},
      {"-q", "queues"},
      {"--queues", "queues"},
      {"--tag", "tag"},
      {"--key", "key"},
      {"--count", "count"},
      {"-g", "group"},
      {"--group", "group"},
      {"--timeout", "timeout"},
      {"--broker", "broker"},
      {"--member", "member"},
      {"--group-size", "group-size"},
      {"--role", "role"},
      {"--to", "to"},
      {"--master", "master"},
      {"--broker-id", "broker-id"},
      {"--trace-topic", "trace-topic"},
  };
  return m;
}

Args Parse(const std::vector<std::string>& raw) {
  Args a;
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string arg = raw[i];
    std::string value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
    }
    if (arg == "-h" || arg == "--help") {
      a.flags.insert("help");
      continue;
    }
    if (arg == "--from-beginning" || arg == "--unclean") {
      a.flags.insert(arg.substr(2));
      continue;
    }
    auto it = ValueOptions().find(arg);
    if (it != ValueOptions().end()) {
      if (!has_value) {
        if (i + 1 >= raw.size()) throw UsageError{"option " + arg + " needs a value"};
        value = raw[++i];
      }
      a.opts[it->second] = value;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9')) {
      throw UsageError{"unknown option " + arg};
    }
    a.positional.push_back(raw[i]);
  }
  return a;
}

int64_t PositiveInt(const Args& a, const std::string& name, int64_t fallback) {
  if (!a.Has(name)) return fallback;
  const std::string s = a.Opt(name);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    throw UsageError{"--" + name + " must be a positive integer, got '" + s + "'"};
  }
  return v;
}

std::string TimeText(int64_t millis) {
  if (millis <= 0) return "-";
  time_t secs = static_cast<time_t>(millis / 1000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03d", buf, static_cast<int>(millis % 1000));
  return out;
}

// Control characters and invalid bytes become \xNN so a binary body cannot garble the terminal.
std::string Printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

json MessageJson(const client::MessageExt& m) {
  return {{"topic", m.topic},
          {"brokerName", m.broker_name},
          {"queueId", m.queue_id},
          {"queueOffset", m.queue_offset},
          {"msgId", m.msg_id},
          {"offsetMsgId", m.offset_msg_id},
          {"tags", m.tags},
          {"keys", m.keys},
          {"bornTimestamp", m.born_timestamp},
          {"storeTimestamp", m.store_timestamp},
          {"bornHost", m.born_host},
          {"storeHost", m.store_host},
          {"reconsumeTimes", m.reconsume_times},
          {"properties", m.properties},
          {"body", m.body}};
}

std::string MessageLine(const client::MessageExt& m) {
  return "topic=" + m.topic + " queue=" + m.broker_name + ":" + std::to_string(m.queue_id) +
         " offset=" + std::to_string(m.queue_offset) + " msgId=" + m.msg_id +
         " offsetMsgId=" + m.offset_msg_id + " tags=" + m.tags + " keys=" + m.keys +
         " storeTime=" + TimeText(m.store_timestamp) + " body=" + Printable(m.body);
}

class Ferryctl {
 public:
  Ferryctl(Args args, std::string env_namesrv, std::ostream& out, std::ostream& err,
           const std::atomic<bool>* stop)
      : a_(std::move(args)), out_(out), err_(err), stop_(stop) {
    std::string ns = a_.Opt("namesrv");
    if (ns.empty()) ns = env_namesrv;
    if (ns.empty()) ns = "127.0.0.1:9876";
    options_.namesrv_addrs = client::ClientOptions::ParseNamesrvAddrs(ns);
    const std::string o = a_.Opt("output", "text");
    if (o != "text" && o != "json") throw UsageError{"-o must be text or json"};
    json_ = o == "json";
  }

  int Run() {
    const auto& p = a_.positional;
    if (p.empty()) throw UsageError{"no command given"};
    const std::string cmd = p[0];
    const std::string sub = p.size() > 1 ? p[1] : "";
    if (cmd == "cluster" && sub == "list") return Expect(2), ClusterList();
    if (cmd == "topic" && sub == "create") return Expect(3), TopicCreate(p[2]);
    if (cmd == "topic" && sub == "list") return Expect(2), TopicList();
    if (cmd == "topic" && sub == "route") return Expect(3), TopicRoute(p[2]);
    if (cmd == "topic" && sub == "stats") return Expect(3), TopicStats(p[2]);
    if (cmd == "topic" && sub == "delete") return Expect(3), TopicDelete(p[2]);
    if (cmd == "group" && sub == "list") return Expect(2), GroupList();
    if (cmd == "group" && sub == "progress") return Expect(3), GroupProgress(p[2]);
    if (cmd == "send") return Expect(3), Send(p[1], p[2]);
    if (cmd == "consume") return Expect(2), Consume(p[1]);
    if (cmd == "message" && sub == "get") return Expect(3), MessageGet(p[2]);
    if (cmd == "message" && sub == "trace") return Expect(3), MessageTrace(p[2]);
    if (cmd == "ha" && sub == "status") return HaStatus(p.size() > 2 ? p[2] : "");
    if (cmd == "ha" && sub == "promote") return Expect(3), HaPromote(p[2]);
    if (cmd == "ha" && sub == "switchover") return Expect(3), HaSwitchover(p[2]);
    if (cmd == "ha" && sub == "demote") return Expect(3), HaDemote(p[2]);
    throw UsageError{"unknown command '" + cmd + (sub.empty() ? "" : " " + sub) + "'"};
  }

 private:
  void Expect(size_t n) {
    if (a_.positional.size() != n) {
      throw UsageError{std::string(a_.positional.size() < n ? "missing" : "unexpected") +
                       " argument(s) for '" + a_.positional[0] +
                       (a_.positional.size() > 1 ? " " + a_.positional[1] : "") + "'"};
    }
  }

  int Fail(const Status& s) {
    err_ << "ferryctl: " << s.message() << "\n";
    return kExitFailed;
  }

  Result<std::unique_ptr<client::Admin>> StartAdmin() {
    auto admin = std::make_unique<client::Admin>(options_);
    FMQ_RETURN_IF_ERROR(admin->Start());
    return admin;
  }

  int ClusterList() {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto info = (*admin)->GetClusterInfo();
    if (!info.ok()) return Fail(info.status());
    json arr = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& [cluster, names] : info->cluster_addr_table) {
      for (const auto& name : names) {
        auto b = info->broker_addr_table.find(name);
        if (b == info->broker_addr_table.end()) continue;
        for (const auto& [id, addr] : b->second.broker_addrs) {
          std::string version = "-";
          auto rt = (*admin)->BrokerRuntimeInfo(addr);
          if (rt.ok() && rt->count("brokerVersionDesc")) version = rt->at("brokerVersionDesc");
          rows.push_back({cluster, name, std::to_string(id), addr, version});
          arr.push_back({{"cluster", cluster},
                         {"brokerName", name},
                         {"brokerId", id},
                         {"address", addr},
                         {"version", version}});
        }
      }
    }
    if (json_) {
      out_ << arr.dump() << "\n";
    } else {
      PrintTable(out_, {"CLUSTER", "BROKER", "ID", "ADDRESS", "VERSION"}, rows);
    }
    return kExitOk;
  }

  Result<std::string> DefaultCluster(client::Admin& admin) {
    if (a_.Has("cluster")) return a_.Opt("cluster");
    FMQ_ASSIGN_OR_RETURN(auto info, admin.GetClusterInfo());
    if (info.cluster_addr_table.size() == 1) return info.cluster_addr_table.begin()->first;
    if (info.cluster_addr_table.empty())
      return Status::NotFound("the name server knows no cluster (no broker registered)");
    return Status::InvalidArgument("several clusters exist; choose one with -c");
  }

  int TopicCreate(const std::string& topic) {
    const int64_t queues = PositiveInt(a_, "queues", 8);
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto cluster = DefaultCluster(**admin);
    if (!cluster.ok()) return Fail(cluster.status());
    client::CreateTopicOptions o;
    o.read_queue_nums = o.write_queue_nums = static_cast<int32_t>(queues);
    auto masters = (*admin)->CreateTopic(topic, *cluster, o);
    if (!masters.ok()) return Fail(masters.status());
    if (json_) {
      out_ << json{{"topic", topic}, {"cluster", *cluster}, {"queues", queues}, {"brokers", *masters}}.dump()
           << "\n";
    } else {
      out_ << "topic " << topic << " created with " << queues << " queues on " << masters->size()
           << " master(s) of cluster " << *cluster << ":";
      for (const auto& m : *masters) out_ << " " << m;
      out_ << "\n";
    }
    return kExitOk;
  }

  int TopicList() {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto topics = (*admin)->GetTopicList();
    if (!topics.ok()) return Fail(topics.status());
    if (json_) {
      out_ << json(*topics).dump() << "\n";
    } else {
      for (const auto& t : *topics) out_ << t << "\n";
    }
    return kExitOk;
  }

  int TopicRoute(const std::string& topic) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto route = (*admin)->GetTopicRoute(topic);
    if (!route.ok()) return Fail(route.status());
    if (json_) {
      out_ << model::EncodeTopicRouteData(*route) << "\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : route->broker_datas) {
      for (const auto& [id, addr] : b.broker_addrs)
        rows.push_back({b.cluster, b.broker_name, std::to_string(id), addr});
    }
    PrintTable(out_, {"CLUSTER", "BROKER", "ID", "ADDRESS"}, rows);
    out_ << "\n";
    rows.clear();
    for (const auto& q : route->queue_datas) {
      std::string perm =
          std::string(q.perm & model::perm::kRead ? "R" : "-") + (q.perm & model::perm::kWrite ? "W" : "-");
      rows.push_back(
          {q.broker_name, std::to_string(q.read_queue_nums), std::to_string(q.write_queue_nums), perm});
    }
    PrintTable(out_, {"BROKER", "READ_QUEUES", "WRITE_QUEUES", "PERM"}, rows);
    return kExitOk;
  }

  int TopicStats(const std::string& topic) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto stats = (*admin)->TopicStats(topic);
    if (!stats.ok()) return Fail(stats.status());
    json arr = json::array();
    std::vector<std::vector<std::string>> rows;
    int64_t total = 0;
    for (const auto& [mq, o] : *stats) {
      total += o.max_offset - o.min_offset;
      rows.push_back({mq.broker_name, std::to_string(mq.queue_id), std::to_string(o.min_offset),
                      std::to_string(o.max_offset), TimeText(o.last_update_timestamp)});
      arr.push_back({{"brokerName", mq.broker_name},
                     {"queueId", mq.queue_id},
                     {"minOffset", o.min_offset},
                     {"maxOffset", o.max_offset},
                     {"lastUpdateTimestamp", o.last_update_timestamp}});
    }
    if (json_) {
      out_ << arr.dump() << "\n";
    } else {
      PrintTable(out_, {"BROKER", "QUEUE", "MIN_OFFSET", "MAX_OFFSET", "LAST_UPDATE"}, rows);
      out_ << "messages held: " << total << "\n";
    }
    return kExitOk;
  }

  int TopicDelete(const std::string& topic) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    Status s = (*admin)->DeleteTopic(topic, a_.Opt("cluster"));
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << json{{"deleted", topic}}.dump() << "\n";
    } else {
      out_ << "topic " << topic << " deleted\n";
    }
    return kExitOk;
  }

  int GroupList() {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto groups = (*admin)->GetSubscriptionGroups(a_.Opt("cluster"));
    if (!groups.ok()) return Fail(groups.status());
    if (json_) {
      out_ << json(*groups).dump() << "\n";
    } else {
      for (const auto& g : *groups) out_ << g << "\n";
    }
    return kExitOk;
  }

  int GroupProgress(const std::string& group) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto stats = (*admin)->GetConsumeStats(group, "");
    if (!stats.ok()) return Fail(stats.status());
    auto conns = (*admin)->GetConsumerConnections(group);
    const size_t clients = conns.ok() ? conns->connection_set.size() : 0;
    json arr = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& [mq, o] : stats->offset_table) {
      rows.push_back({mq.topic, mq.broker_name, std::to_string(mq.queue_id), std::to_string(o.broker_offset),
                      std::to_string(o.consumer_offset), std::to_string(o.broker_offset - o.consumer_offset),
                      TimeText(o.last_timestamp)});
      arr.push_back({{"topic", mq.topic},
                     {"brokerName", mq.broker_name},
                     {"queueId", mq.queue_id},
                     {"brokerOffset", o.broker_offset},
                     {"consumerOffset", o.consumer_offset},
                     {"diff", o.broker_offset - o.consumer_offset},
                     {"lastTimestamp", o.last_timestamp}});
    }
    const int64_t diff = client::TotalDiff(*stats);
    if (json_) {
      out_ << json{{"group", group},
                   {"queues", arr},
                   {"diffTotal", diff},
                   {"consumeTps", stats->consume_tps},
                   {"clients", clients}}
                  .dump()
           << "\n";
    } else {
      PrintTable(out_,
                 {"TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", "DIFF", "LAST_CONSUMED"},
                 rows);
      out_ << "diff total: " << diff << "  consume TPS: " << stats->consume_tps
           << "  online clients: " << clients << "\n";
    }
    return kExitOk;
  }

  int Send(const std::string& topic, const std::string& body) {
    const int64_t count = PositiveInt(a_, "count", 1);
    client::ProducerConfig c;
    c.group = "ferryctl_producer";
    c.client = options_;
    c.heartbeat = false;
    client::Producer producer(c);
    Status s = producer.Start();
    if (!s.ok()) return Fail(s);
    int64_t not_acknowledged = 0;
    for (int64_t i = 0; i < count; ++i) {
      client::Message m;
      m.topic = topic;
      m.body = body;
      m.tags = a_.Opt("tag");
      m.keys = a_.Opt("key");
      auto r = producer.Send(m);
      if (!r.ok()) {
        producer.Stop();
        return Fail(r.status());
      }
      if (json_) {
        out_ << json{{"msgId", r->msg_id},
                     {"offsetMsgId", r->offset_msg_id},
                     {"topic", r->queue.topic},
                     {"brokerName", r->queue.broker_name},
                     {"queueId", r->queue.queue_id},
                     {"queueOffset", r->queue_offset},
                     {"status", client::SendStatusName(r->status)}}
                    .dump()
             << "\n";
      } else {
        out_ << "msgId=" << r->msg_id << " offsetMsgId=" << r->offset_msg_id
             << " queue=" << r->queue.broker_name << ":" << r->queue.queue_id << " offset=" << r->queue_offset
             << " status=" << client::SendStatusName(r->status) << "\n";
      }
      out_.flush();
      not_acknowledged += r->status != client::SendStatus::kSendOk;
    }
    producer.Stop();
    if (not_acknowledged > 0) {
      // Stored, perhaps, but not acknowledged as RocketMQ defines it (flush or slaves did not confirm).
      err_ << "ferryctl: " << not_acknowledged << " of " << count
           << " message(s) were not acknowledged SEND_OK\n";
      return kExitFailed;
    }
    return kExitOk;
  }

  // Prints one message unless `count` were printed already; true if printed.
  bool Emit(const client::MessageExt& m, int64_t count) {
    MutexLock lock(&print_mu_);
    if (count > 0 && printed_ >= count) return false;
    ++printed_;
    out_ << (json_ ? MessageJson(m).dump() : MessageLine(m)) << "\n";
    out_.flush();
    return true;
  }

  bool Done(int64_t count, std::chrono::steady_clock::time_point deadline) {
    if (stop_ != nullptr && stop_->load()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return true;
    MutexLock lock(&print_mu_);
    return count > 0 && printed_ >= count;
  }

  int Consume(const std::string& topic) {
    const int64_t count = PositiveInt(a_, "count", 0);
    const int64_t timeout = PositiveInt(a_, "timeout", 0);
    const auto deadline = timeout > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(timeout)
                                      : std::chrono::steady_clock::time_point::max();
    const std::string expr = a_.Opt("tag", "*");
    int rc = a_.Has("group") ? ConsumeInGroup(topic, expr, count, deadline)
                             : ConsumeAlone(topic, expr, count, deadline);
    if (rc != kExitOk) return rc;
    if (!json_) {
      MutexLock lock(&print_mu_);
      err_ << printed_ << " message(s)\n";
    }
    return kExitOk;
  }

  int ConsumeInGroup(const std::string& topic, const std::string& expr, int64_t count,
                     std::chrono::steady_clock::time_point deadline) {
    client::PushConsumerConfig c;
    c.group = a_.Opt("group");
    c.client = options_;
    c.client.instance_name = "ferryctl-" + std::to_string(getpid());
    c.consume_threads = 1;
    if (a_.flags.count("from-beginning")) c.consume_from_where = model::ConsumeFromWhere::kFirstOffset;
    client::PushConsumer consumer(c);
    consumer.Subscribe(topic, expr);
    consumer.SetListener([this, count, &consumer](const std::vector<client::MessageExt>& msgs) {
      for (const auto& m : msgs) {
        if (!Emit(m, count)) {
          // Beyond --count: hold it until the consumer stops, so it is neither committed nor sent back.
          while (consumer.IsRunning()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return client::ConsumeStatus::kReconsumeLater;
        }
      }
      return client::ConsumeStatus::kSuccess;
    });
    Status s = consumer.Start();
    if (!s.ok()) return Fail(s);
    while (!Done(count, deadline)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    consumer.Stop();
    return kExitOk;
  }

  // Every readable queue from its end (or start), one long-polling thread per queue; commits nothing.
  int ConsumeAlone(const std::string& topic, const std::string& expr, int64_t count,
                   std::chrono::steady_clock::time_point deadline) {
    client::PullConsumerConfig c;
    c.group = "ferryctl_consumer";
    c.client = options_;
    client::PullConsumer consumer(c);
    Status s = consumer.Start();
    if (!s.ok()) return Fail(s);
    auto queues = consumer.FetchSubscribeQueues(topic);
    if (!queues.ok()) return Fail(queues.status());
    const auto sub = client::Subscription::Parse(topic, expr);
    const bool from_beginning = a_.flags.count("from-beginning") > 0;
    std::vector<int64_t> start;
    for (const auto& mq : *queues) {
      auto off = from_beginning ? consumer.MinOffset(mq) : consumer.MaxOffset(mq);
      if (!off.ok()) return Fail(off.status());
      start.push_back(*off);
    }
    std::atomic<bool> failed{false};
    Status first_error;
    Mutex err_mu;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < queues->size(); ++i) {
      threads.emplace_back([&, i] {
        const client::MessageQueue mq = (*queues)[i];
        int64_t offset = start[i];
        while (!failed && !Done(count, deadline)) {
          auto r = consumer.Pull(mq, sub, offset, 32, std::chrono::milliseconds(1000));
          if (!r.ok()) {
            MutexLock lock(&err_mu);
            if (first_error.ok()) first_error = r.status();
            failed = true;
            return;
          }
          for (const auto& m : r->messages) {
            if (!Emit(m, count)) return;
          }
          offset = r->next_begin_offset;
        }
      });
    }
    for (auto& t : threads) t.join();
    consumer.Stop();
    if (failed) return Fail(first_error);
    return kExitOk;
  }

  int MessageGet(const std::string& id) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto m = (*admin)->ViewMessage(id);
    if (!m.ok()) return Fail(m.status());
    if (json_) {
      out_ << MessageJson(*m).dump() << "\n";
      return kExitOk;
    }
    out_ << "topic:          " << m->topic << "\n"
         << "msgId:          " << m->msg_id << "\n"
         << "offsetMsgId:    " << m->offset_msg_id << "\n"
         << "queue:          " << m->queue_id << "  offset " << m->queue_offset << "\n"
         << "commitLogOffset:" << m->commit_log_offset << "\n"
         << "tags:           " << m->tags << "\n"
         << "keys:           " << m->keys << "\n"
         << "bornTime:       " << TimeText(m->born_timestamp) << " from " << m->born_host << "\n"
         << "storeTime:      " << TimeText(m->store_timestamp) << " at " << m->store_host << "\n"
         << "reconsumeTimes: " << m->reconsume_times << "\n"
         << "properties:    ";
    for (const auto& [k, v] : m->properties) out_ << " " << k << "=" << Printable(v);
    out_ << "\n"
         << "body:           " << Printable(m->body) << "\n";
    return kExitOk;
  }

  // The produce -> store -> consume timeline of a message sent with enableMsgTrace, from the trace records
  // its clients wrote (model/trace.h), with the store time read from the message itself.
  int MessageTrace(const std::string& msg_id) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    const std::string topic = a_.Opt("trace-topic", model::kDefaultTraceTopic);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto msgs = (*admin)->QueryMessageByKey(topic, msg_id, 64, 0, now + 86'400'000);
    if (!msgs.ok()) return Fail(msgs.status());
    std::vector<model::TraceRecord> records;
    for (const auto& m : *msgs) {
      for (auto& r : model::DecodeTraceBody(m.body)) {
        if (r.msg_id == msg_id) records.push_back(std::move(r));
      }
    }
    if (records.empty()) {
      return Fail(
          Status::NotFound("no trace of message " + msg_id + " in " + topic +
                           " (was it sent or consumed with enableMsgTrace? traces arrive a few seconds "
                           "after the event)"));
    }
    // Pair each consumption's end with its start.
    std::map<std::string, const model::TraceRecord*> after;
    for (const auto& r : records) {
      if (r.type == "SubAfter") after[r.request_id] = &r;
    }
    const model::TraceRecord* pub = nullptr;
    for (const auto& r : records) {
      if (r.type == "Pub") pub = &r;
    }
    int64_t stored_at = 0;
    std::string store_host;
    if (pub && !pub->offset_msg_id.empty()) {
      if (auto m = (*admin)->ViewMessage(pub->offset_msg_id); m.ok()) {
        stored_at = m->store_timestamp;
        store_host = m->store_host;
      }
    }
    if (json_) {
      json events = json::array();
      for (const auto& r : records) {
        events.push_back({{"type", r.type},
                          {"timestamp", r.timestamp},
                          {"group", r.group},
                          {"topic", r.topic},
                          {"clientHost", r.client_host},
                          {"storeHost", r.store_host},
                          {"costMs", r.cost_ms},
                          {"retryTimes", r.retry_times},
                          {"success", r.success},
                          {"requestId", r.request_id}});
      }
      out_ << json{{"msgId", msg_id}, {"storeTimestamp", stored_at}, {"events", events}}.dump() << "\n";
      return kExitOk;
    }
    out_ << "message " << msg_id << (pub ? " (topic " + pub->topic + ")" : "") << "\n";
    if (pub) {
      out_ << "  " << TimeText(pub->timestamp) << "  sent by producer group " << pub->group
           << (pub->client_host.empty() ? "" : " from " + pub->client_host) << ", took " << pub->cost_ms
           << " ms, " << (pub->success ? "OK" : "FAILED") << "\n";
    }
    if (stored_at > 0) {
      out_ << "  " << TimeText(stored_at) << "  stored on " << store_host;
      if (pub) out_ << " (+" << stored_at - pub->timestamp << " ms after the send began)";
      out_ << "\n";
    }
    for (const auto& r : records) {
      if (r.type == "EndTransaction") {
        out_ << "  " << TimeText(r.timestamp) << "  transaction " << r.transaction_id << " ended "
             << r.transaction_state << " by " << r.group << "\n";
      }
      if (r.type != "SubBefore") continue;
      auto it = after.find(r.request_id);
      out_ << "  " << TimeText(r.timestamp) << "  consumed by " << r.group
           << (r.client_host.empty() ? "" : " on " + r.client_host);
      if (stored_at > 0) out_ << " (+" << r.timestamp - stored_at << " ms after stored)";
      out_ << ", attempt " << r.retry_times + 1;
      if (it != after.end()) {
        out_ << ", took " << it->second->cost_ms << " ms, " << (it->second->success ? "OK" : "FAILED");
      } else {
        out_ << ", no end recorded yet";
      }
      out_ << "\n";
    }
    return kExitOk;
  }

  static json HaStatusJson(const client::HaMember& m) {
    if (!m.reachable.ok()) return {{"address", m.address}, {"error", std::string(m.reachable.message())}};
    const auto& s = m.status;
    json slaves = json::array();
    for (const auto& sl : s.slaves) {
      slaves.push_back({{"address", sl.address},
                        {"brokerId", sl.broker_id},
                        {"ackOffset", sl.ack_offset},
                        {"lagBytes", sl.lag_bytes},
                        {"inSync", sl.in_sync},
                        {"ferrymq", sl.ferry}});
    }
    json epochs = json::array();
    for (const auto& e : s.epochs) epochs.push_back({{"epoch", e.epoch}, {"startOffset", e.start_offset}});
    return {{"address", s.address},
            {"haAddress", s.ha_address},
            {"brokerName", s.broker_name},
            {"role", s.role},
            {"brokerId", s.broker_id},
            {"epoch", s.epoch},
            {"promisedEpoch", s.promised_epoch},
            {"fenced", s.fenced},
            {"writable", s.writable},
            {"epochs", epochs},
            {"maxOffset", s.max_offset},
            {"confirmOffset", s.confirm_offset},
            {"minInSyncReplicas", s.min_in_sync_replicas},
            {"whenBelowMinInSync", s.when_below_min_in_sync},
            {"inSyncCopies", s.in_sync_copies},
            {"degraded", s.degraded},
            {"slaves", slaves},
            {"masterAddress", s.master_address},
            {"copyState", s.copy_state},
            {"copyError", s.copy_error},
            {"copyFerrymq", s.copy_ferry}};
  }

  static std::string OffsetText(int64_t v) { return v == INT64_MAX ? "unbounded" : std::to_string(v); }

  int HaStatus(const std::string& broker_name) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    std::vector<std::string> names;
    if (!broker_name.empty()) {
      names.push_back(broker_name);
    } else {
      auto info = (*admin)->GetClusterInfo();
      if (!info.ok()) return Fail(info.status());
      for (const auto& [name, data] : info->broker_addr_table) names.push_back(name);
    }
    json arr = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : names) {
      auto members = client::HaGroup(**admin, name, Members());
      if (!members.ok()) return Fail(members.status());
      for (const auto& m : *members) {
        arr.push_back(HaStatusJson(m));
        if (!m.reachable.ok()) {
          rows.push_back(
              {name, "?", m.address, "unreachable", "-", "-", "-", std::string(m.reachable.message())});
          continue;
        }
        const auto& s = m.status;
        std::string state;
        if (s.role == "SLAVE") {
          state =
              s.copy_state + " from " + (s.master_address.empty() ? s.master_ha_address : s.master_address);
          if (!s.copy_error.empty() && s.copy_state != "copying") state += ": " + s.copy_error;
        } else {
          // An ASYNC_MASTER acknowledges alone: only a SYNC_MASTER has a required number of copies.
          state = s.role == "SYNC_MASTER" ? std::to_string(s.in_sync_copies) + "/" +
                                                std::to_string(s.min_in_sync_replicas) + " in sync"
                                          : std::to_string(s.in_sync_copies - 1) + " slave(s) in sync";
          for (const auto& sl : s.slaves) {
            state += " " + sl.address + (sl.in_sync ? "(in sync" : "(behind") + ", lag " +
                     std::to_string(sl.lag_bytes) + ")";
          }
          if (s.degraded) state += " DEGRADED";
          if (s.fenced) state += " FENCED";
        }
        rows.push_back({name, std::to_string(s.broker_id), s.address, s.role, std::to_string(s.epoch),
                        std::to_string(s.max_offset), OffsetText(s.confirm_offset), state});
      }
    }
    if (json_) {
      out_ << arr.dump() << "\n";
    } else {
      PrintTable(out_, {"BROKER", "ID", "ADDRESS", "ROLE", "EPOCH", "MAX", "CONFIRM", "REPLICATION"}, rows);
    }
    return kExitOk;
  }

  std::vector<std::string> Members() const {
    std::vector<std::string> out;
    std::stringstream ss(a_.Opt("member"));
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }

  int HaReport(const client::HaOperationReport& r, const std::string& what) {
    if (json_) {
      out_ << json{{"epoch", r.epoch},
                   {"promoted", r.promoted},
                   {"promotedEnd", r.promoted_end},
                   {"fenced", r.fenced},
                   {"followers", r.followers},
                   {"unreachable", r.unreachable},
                   {"groupSize", r.group_size},
                   {"minInSyncReplicas", r.min_in_sync_replicas},
                   {"quorum", r.quorum},
                   {"millis", r.millis},
                   {"notes", r.notes},
                   {"complete", r.complete}}
                  .dump()
           << "\n";
      return r.complete ? kExitOk : kExitFailed;
    }
    out_ << what << ": " << r.promoted << " is master of epoch " << r.epoch << " from log offset "
         << r.promoted_end << " (" << r.millis << " ms)\n";
    out_ << "  fenced:      " << Join(r.fenced) << "\n";
    out_ << "  following:   " << Join(r.followers) << "\n";
    if (!r.unreachable.empty()) out_ << "  unreachable: " << Join(r.unreachable) << "\n";
    if (r.quorum > 0) {
      out_ << "  quorum:      " << r.fenced.size() << " fenced of " << r.group_size << " members, "
           << r.quorum << " needed with minInSyncReplicas=" << r.min_in_sync_replicas << "\n";
    }
    for (const auto& n : r.notes) out_ << "  note: " << n << "\n";
    if (!r.complete) {
      err_ << "ferryctl: " << what
           << " done, but not every member follows the new master (see the notes); run "
           << "`ferryctl ha demote` for them\n";
      return kExitFailed;
    }
    return kExitOk;
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out.empty() ? "-" : out;
  }

  int HaPromote(const std::string& broker_name) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    client::FailoverOptions o;
    o.target = a_.Opt("broker");
    o.group_size = static_cast<int>(PositiveInt(a_, "group-size", 0));
    o.unclean = a_.flags.count("unclean") > 0;
    o.role = a_.Opt("role");
    o.members = Members();
    auto r = client::Failover(**admin, broker_name, o);
    if (!r.ok()) return Fail(r.status());
    return HaReport(*r, "promoted");
  }

  int HaSwitchover(const std::string& broker_name) {
    if (!a_.Has("to")) throw UsageError{"ha switchover needs --to <address of the slave to hand over to>"};
    const int64_t timeout_s = PositiveInt(a_, "timeout", 30);
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto r = client::Switchover(**admin, broker_name, a_.Opt("to"), std::chrono::seconds(timeout_s));
    if (!r.ok()) return Fail(r.status());
    return HaReport(*r, "switched over");
  }

  int HaDemote(const std::string& addr) {
    if (!a_.Has("master")) throw UsageError{"ha demote needs --master <address of the master to follow>"};
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto master = (*admin)->HaStatus(a_.Opt("master"));
    if (!master.ok()) return Fail(master.status());
    if (master->role == "SLAVE" || master->fenced) {
      return Fail(Status::FailedPrecondition(a_.Opt("master") + " is not a writable master (" + master->role +
                                             (master->fenced ? ", fenced" : "") + ")"));
    }
    int64_t id = PositiveInt(a_, "broker-id", 0);
    if (id == 0) {
      // The lowest id no other member of the group uses.
      auto members = client::HaGroup(**admin, master->broker_name);
      std::set<int64_t> used = {0};
      if (members.ok()) {
        for (const auto& m : *members) {
          if (m.reachable.ok() && m.address != addr) used.insert(m.status.broker_id);
        }
      }
      id = 1;
      while (used.count(id)) ++id;
    }
    Status s = (*admin)->HaBecomeSlave(addr, master->address, master->ha_address, master->epoch, id);
    if (!s.ok()) return Fail(s);
    if (json_) {
      out_ << json{{"address", addr}, {"master", master->address}, {"epoch", master->epoch}, {"brokerId", id}}
                  .dump()
           << "\n";
    } else {
      out_ << addr << " follows " << master->address << " (epoch " << master->epoch << ") as broker id " << id
           << "\n";
    }
    return kExitOk;
  }

  const Args a_;
  std::ostream& out_;
  std::ostream& err_;
  const std::atomic<bool>* stop_;
  client::ClientOptions options_;
  bool json_ = false;
  Mutex print_mu_;
  int64_t printed_ FMQ_GUARDED_BY(print_mu_) = 0;
};

}  // namespace

int RunFerryctl(const std::vector<std::string>& args, const std::string& env_namesrv, std::ostream& out,
                std::ostream& err, const std::atomic<bool>* stop) {
  try {
    Args a = Parse(args);
    if (a.flags.count("help")) {
      out << kFerryctlUsage;
      return kExitOk;
    }
    Ferryctl ctl(std::move(a), env_namesrv, out, err, stop);
    return ctl.Run();
  } catch (const UsageError& e) {
    err << "ferryctl: " << e.message << "\n" << kFerryctlUsage;
    return kExitUsage;
  }
}

}  // namespace fmq::cli
