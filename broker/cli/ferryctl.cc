#include "broker/cli/ferryctl.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "broker/acl/plain_acl.h"
#include "broker/base/clock.h"
#include "broker/base/logging.h"
#include "broker/base/mutex.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "broker/client/admin.h"
#include "broker/client/ha_ops.h"
#include "broker/client/overview.h"
#include "broker/client/probe.h"
#include "broker/client/producer.h"
#include "broker/client/pull_consumer.h"
#include "broker/client/push_consumer.h"
#include "broker/client/security_flags.h"
#include "broker/model/message_format.h"
#include "broker/model/names.h"
#include "broker/model/route.h"
#include "broker/model/trace.h"

namespace fmq::cli {

namespace {

using nlohmann::json;

// Every option of every command, filled by CLI11 (BuildApp); each command reads the ones it declared.
struct UsageError {
  std::string message;
};

struct Opts {
  std::string namesrv, output = "text";
  client::SecurityFlags security;  // ACL credentials and TLS
  std::string name;                // the first positional: topic, group, message id, broker name or address
  std::string body;
  std::string cluster, tag, key, group, broker, member, role, to, master, topic, id, to_topic;
  std::string trace_topic = model::kDefaultTraceTopic;
  int64_t queues = 8, count = 0, timeout = 0, group_size = 0, broker_id = 0, queue = -1, offset = -1;
  int64_t size = 128;
  int64_t interval = 0, limit = 20;
  bool from_beginning = false, unclean = false, force = false, remove_offsets = false, all = false;
  bool orderly = false;
  std::vector<std::string> msg_ids;
  model::SubscriptionGroupConfig group_config;
  acl::PlainAccessConfig account;  // acl set
};

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
  Ferryctl(Opts opts, const std::string& env_namesrv, std::ostream& out, std::ostream& err,
           const std::atomic<bool>* stop)
      : o_(std::move(opts)), out_(out), err_(err), stop_(stop) {
    std::string ns = o_.namesrv;
    if (ns.empty()) ns = env_namesrv;
    if (ns.empty()) ns = "127.0.0.1:9876";
    options_.namesrv_addrs = client::ClientOptions::ParseNamesrvAddrs(ns);
    security_ = client::ApplySecurityFlags(o_.security, &options_);
    json_ = o_.output == "json";
  }

  int Fail(const Status& s) {
    err_ << "ferryctl: " << s.message() << "\n";
    return kExitFailed;
  }

  const Status& security() const { return security_; }

  Result<std::unique_ptr<client::Admin>> StartAdmin() {
    auto admin = std::make_unique<client::Admin>(options_);
    FMQ_RETURN_IF_ERROR(admin->Start());
    return admin;
  }

  // Every broker of the cluster, masters and slaves (each keeps its own plain_acl.yml): (brokerName/id,
  // address).
  Result<std::vector<std::pair<std::string, std::string>>> AllBrokers(client::Admin& admin) {
    FMQ_ASSIGN_OR_RETURN(auto info, admin.GetClusterInfo());
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [cluster, names] : info.cluster_addr_table) {
      if (!o_.cluster.empty() && cluster != o_.cluster) continue;
      for (const auto& name : names) {
        auto b = info.broker_addr_table.find(name);
        if (b == info.broker_addr_table.end()) continue;
        for (const auto& [id, addr] : b->second.broker_addrs)
          out.emplace_back(name + "/" + std::to_string(id), addr);
      }
    }
    if (out.empty())
      return Status::NotFound("no broker is registered" +
                              (o_.cluster.empty() ? "" : " in cluster " + o_.cluster));
    return out;
  }

  // ACL accounts of every broker; never the secrets.
  int AclList() {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto brokers = AllBrokers(**admin);
    if (!brokers.ok()) return Fail(brokers.status());
    json arr = json::array();
    std::vector<std::vector<std::string>> rows;
    int failed = 0;
    for (const auto& [name, addr] : *brokers) {
      auto config = (*admin)->GetAclConfig(addr);
      if (!config.ok()) {
        err_ << "ferryctl: " << config.status().message() << "\n";
        ++failed;
        continue;
      }
      for (const acl::PlainAccessConfig& a : config->accounts) {
        rows.push_back({name, addr, a.access_key, a.admin ? "true" : "false", JoinStrings(a.topic_perms, ","),
                        JoinStrings(a.group_perms, ","), a.default_topic_perm + "/" + a.default_group_perm});
        arr.push_back({{"broker", name},
                       {"address", addr},
                       {"accessKey", a.access_key},
                       {"admin", a.admin},
                       {"topicPerms", a.topic_perms},
                       {"groupPerms", a.group_perms},
                       {"defaultTopicPerm", a.default_topic_perm},
                       {"defaultGroupPerm", a.default_group_perm},
                       {"whiteRemoteAddress", a.white_remote_address}});
      }
    }
    if (json_) {
      out_ << arr.dump() << "\n";
    } else {
      PrintTable(out_, {"BROKER", "ADDRESS", "ACCESS_KEY", "ADMIN", "TOPIC_PERMS", "GROUP_PERMS", "DEFAULTS"},
                 rows);
    }
    return failed == 0 ? kExitOk : kExitFailed;
  }

  // Creates or replaces an account on every broker.
  int AclSet(const std::string& access_key) {
    acl::PlainAccessConfig a = o_.account;
    a.access_key = access_key;
    if (const char* secret = std::getenv("FERRYMQ_ACL_SECRET_KEY");
        a.secret_key.empty() && secret && *secret) {
      a.secret_key = secret;
    }
    if (Status s = acl::ValidateAccount(a); !s.ok()) {
      err_ << "ferryctl: " << s.message() << "\n";
      return kExitUsage;
    }
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto brokers = AllBrokers(**admin);
    if (!brokers.ok()) return Fail(brokers.status());
    int failed = 0;
    for (const auto& [name, addr] : *brokers) {
      if (Status s = (*admin)->UpdateAclAccount(addr, a); !s.ok()) {
        err_ << "ferryctl: " << s.message() << "\n";
        ++failed;
      } else {
        out_ << "account " << access_key << " set on " << name << " (" << addr << ")\n";
      }
    }
    return failed == 0 ? kExitOk : kExitFailed;
  }

  // Removes an account from every broker (a broker without it is fine).
  int AclDelete(const std::string& access_key) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto brokers = AllBrokers(**admin);
    if (!brokers.ok()) return Fail(brokers.status());
    int failed = 0;
    for (const auto& [name, addr] : *brokers) {
      Status s = (*admin)->DeleteAclAccount(addr, access_key);
      if (s.ok() || s.code() == StatusCode::kNotFound) {
        out_ << "account " << access_key << (s.ok() ? " deleted on " : " was not on ") << name << " (" << addr
             << ")\n";
      } else {
        err_ << "ferryctl: " << s.message() << "\n";
        ++failed;
      }
    }
    return failed == 0 ? kExitOk : kExitFailed;
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
    if (!o_.cluster.empty()) return o_.cluster;
    FMQ_ASSIGN_OR_RETURN(auto info, admin.GetClusterInfo());
    if (info.cluster_addr_table.size() == 1) return info.cluster_addr_table.begin()->first;
    if (info.cluster_addr_table.empty())
      return Status::NotFound("the name server knows no cluster (no broker registered)");
    return Status::InvalidArgument("several clusters exist; choose one with -c");
  }

  int TopicCreate(const std::string& topic) {
    const int64_t queues = o_.queues;
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
      return kExitOk;
    }
    PrintTable(out_, {"BROKER", "QUEUE", "MIN_OFFSET", "MAX_OFFSET", "LAST_UPDATE"}, rows);
    out_ << "messages held: " << total << "\n";
    // Per broker group: what its queues hold, its newest message, and what was stored in the last minute.
    struct PerBroker {
      int64_t queues = 0, held = 0, newest = 0;
    };
    std::map<std::string, PerBroker> brokers;
    for (const auto& [mq, o] : *stats) {
      PerBroker& b = brokers[mq.broker_name];
      ++b.queues;
      b.held += o.max_offset - o.min_offset;
      b.newest = std::max(b.newest, o.last_update_timestamp);
    }
    auto masters = (*admin)->TopicMasters(topic);
    std::vector<std::vector<std::string>> per_broker;
    for (const auto& [name, b] : brokers) {
      std::string minute = "-";
      if (masters.ok() && masters->count(name)) {
        auto sums = (*admin)->BrokerStatsAt(masters->at(name), "TOPIC_PUT_NUMS", topic);
        if (sums.ok()) minute = std::to_string(sums->minute);
      }
      per_broker.push_back(
          {name, std::to_string(b.queues), std::to_string(b.held), TimeText(b.newest), minute});
    }
    out_ << "\n";
    PrintTable(out_, {"BROKER", "QUEUES", "MESSAGES", "LAST_UPDATE", "STORED_LAST_MINUTE"}, per_broker);
    return kExitOk;
  }

  int TopicDelete(const std::string& topic) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    if (!o_.force) {
      if (Status busy = TopicInUse(**admin, topic); !busy.ok()) return Fail(busy);
    }
    Status s = (*admin)->DeleteTopic(topic, o_.cluster);
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
    auto groups = (*admin)->GetSubscriptionGroups(o_.cluster);
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
    const int64_t count = o_.count > 0 ? o_.count : 1;
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
      m.tags = o_.tag;
      m.keys = o_.key;
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

  // The console's overview: messages in/out per second per topic, the groups furthest behind; once, or every
  // --interval seconds (--count times, or until interrupted).
  int Top() {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    const size_t limit = static_cast<size_t>(o_.limit > 0 ? o_.limit : 20);
    auto rate = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", v);
      return std::string(buf);
    };
    for (int64_t round = 0;; ++round) {
      auto ov = client::ReadOverview(**admin, o_.cluster, limit);
      if (!ov.ok()) return Fail(ov.status());
      if (json_) {
        json topics = json::array(), lags = json::array();
        for (const auto& t : ov->topics)
          topics.push_back({{"topic", t.topic}, {"inTps", t.in_tps}, {"outTps", t.out_tps}});
        for (const auto& g : ov->lags) {
          lags.push_back({{"group", g.group},
                          {"topic", g.topic},
                          {"lag", g.lag},
                          {"outTps", g.out_tps},
                          {"clients", g.clients}});
        }
        out_
            << json{{"inTps", ov->in_tps}, {"outTps", ov->out_tps}, {"topics", topics}, {"lags", lags}}.dump()
            << "\n";
      } else {
        std::vector<std::vector<std::string>> trows, lrows;
        for (const auto& t : ov->topics) trows.push_back({t.topic, rate(t.in_tps), rate(t.out_tps)});
        for (const auto& g : ov->lags) {
          lrows.push_back(
              {g.group, g.topic, std::to_string(g.lag), rate(g.out_tps), std::to_string(g.clients)});
        }
        out_ << TimeText(SystemClock().NowMillis()) << "  in " << rate(ov->in_tps) << " msg/s  out "
             << rate(ov->out_tps) << " msg/s (last minute)\n";
        PrintTable(out_, {"TOPIC", "IN/S", "OUT/S"}, trows);
        if (ov->topic_count > ov->topics.size())
          out_ << "(" << ov->topic_count - ov->topics.size() << " quieter topics not shown)\n";
        PrintTable(out_, {"GROUP", "TOPIC", "LAG", "OUT/S", "CLIENTS"}, lrows);
        if (ov->lag_rows > ov->lags.size())
          out_ << "(" << ov->lag_rows - ov->lags.size() << " smaller lags not shown)\n";
      }
      out_.flush();
      if (o_.interval <= 0 || (o_.count > 0 && round + 1 >= o_.count)) return kExitOk;
      std::this_thread::sleep_for(std::chrono::seconds(o_.interval));
      if (!json_) out_ << "\n";
    }
  }

  int Probe(const std::string& topic) {
    client::ProbeOptions po;
    po.topic = topic;
    po.count = static_cast<int>(o_.count > 0 ? o_.count : 10);
    po.size = static_cast<int>(o_.size);
    po.orderly = o_.orderly;
    po.timeout = std::chrono::seconds(o_.timeout > 0 ? o_.timeout : 10);
    auto r = client::RunProbe(options_, po);
    if (!r.ok()) return Fail(r.status());
    auto ms = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", v);
      return std::string(buf);
    };
    std::vector<std::vector<std::string>> rows;
    json arr = json::array();
    for (const auto& g : r->groups) {
      const std::string problem = g.Problem();
      arr.push_back(json{{"brokerName", g.group},
                         {"sent", g.sent},
                         {"received", g.received},
                         {"lost", g.sent - g.received},
                         {"duplicated", g.duplicated},
                         {"sendMsP50", client::Quantile(g.send_ms, 0.5)},
                         {"sendMsP99", client::Quantile(g.send_ms, 0.99)},
                         {"e2eMsP50", client::Quantile(g.e2e_ms, 0.5)},
                         {"e2eMsP99", client::Quantile(g.e2e_ms, 0.99)},
                         {"e2eMsMax", client::Quantile(g.e2e_ms, 1.0)},
                         {"ok", problem.empty()},
                         {"problem", problem}});
      rows.push_back({g.group, std::to_string(g.sent), std::to_string(g.received),
                      std::to_string(g.sent - g.received), std::to_string(g.duplicated),
                      ms(client::Quantile(g.send_ms, 0.5)), ms(client::Quantile(g.send_ms, 0.99)),
                      ms(client::Quantile(g.e2e_ms, 0.5)), ms(client::Quantile(g.e2e_ms, 0.99)),
                      problem.empty() ? "ok" : problem});
    }
    if (json_) {
      out_ << json{{"topic", topic}, {"ok", r->ok()}, {"groups", arr}}.dump() << "\n";
    } else {
      PrintTable(out_,
                 {"BROKER", "SENT", "RECEIVED", "LOST", "DUP", "SEND_P50_MS", "SEND_P99_MS", "E2E_P50_MS",
                  "E2E_P99_MS", "RESULT"},
                 rows);
    }
    if (!r->ok()) {
      err_ << "ferryctl: probe of " << topic << " failed\n";
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
    const int64_t count = o_.count;
    const int64_t timeout = o_.timeout;
    const auto deadline = timeout > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(timeout)
                                      : std::chrono::steady_clock::time_point::max();
    const std::string expr = o_.tag.empty() ? "*" : o_.tag;
    int rc = !o_.group.empty() ? ConsumeInGroup(topic, expr, count, deadline)
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
    c.group = o_.group;
    c.client = options_;
    c.client.instance_name = "ferryctl-" + std::to_string(getpid());
    c.consume_threads = 1;
    if (o_.from_beginning) c.consume_from_where = model::ConsumeFromWhere::kFirstOffset;
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
    const bool from_beginning = o_.from_beginning;
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
    const std::string topic = o_.trace_topic;
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

  // ---- topic delete's guard, groups, message queries, dead letters

  // Clients of `topic` online now: a consumer group subscribed to it with clients connected, or messages
  // stored into it during the last minute (producers do not say which topics they send to).
  Status TopicInUse(client::Admin& admin, const std::string& topic) {
    auto masters = admin.TopicMasters(topic);
    if (!masters.ok()) return Status::Ok();  // nothing routes to it; DeleteTopic reports what is left
    std::set<std::string> groups;
    for (const auto& [name, addr] : *masters) {
      auto g = admin.TopicConsumerGroups(addr, topic);
      if (g.ok()) groups.insert(g->begin(), g->end());
    }
    for (const auto& g : groups) {
      auto conns = admin.GetConsumerConnections(g);
      if (!conns.ok() || conns->connection_set.empty() || !conns->subscription_table.count(topic)) continue;
      std::string ids;
      for (const auto& c : conns->connection_set) ids += (ids.empty() ? "" : ", ") + c.client_id;
      return Status::FailedPrecondition("topic " + topic + " is consuming by consumer group " + g + " (" +
                                        std::to_string(conns->connection_set.size()) +
                                        " client(s) online: " + ids + "); stop them first or pass --force");
    }
    auto puts = admin.TopicPutsLastMinute(topic);
    if (puts.ok() && *puts > 0) {
      return Status::FailedPrecondition("topic " + topic + " is producing by online producers (" +
                                        std::to_string(*puts) +
                                        " message(s) stored in the last minute); stop them first or pass "
                                        "--force");
    }
    return Status::Ok();
  }

  size_t OnlineClients(client::Admin& admin, const std::string& group, std::string* ids = nullptr) {
    auto conns = admin.GetConsumerConnections(group);
    if (!conns.ok()) return 0;
    if (ids != nullptr) {
      for (const auto& c : conns->connection_set) *ids += (ids->empty() ? "" : ", ") + c.client_id;
    }
    return conns->connection_set.size();
  }

  int GroupCreate(const std::string& group) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    model::SubscriptionGroupConfig c = o_.group_config;
    c.group_name = group;
    auto masters = (*admin)->MasterAddrs(o_.cluster);
    if (!masters.ok()) return Fail(masters.status());
    if (Status s = (*admin)->CreateSubscriptionGroup(c, o_.cluster); !s.ok()) return Fail(s);
    if (json_) {
      out_ << json{{"group", group},
                   {"brokers", *masters},
                   {"consumeEnable", c.consume_enable},
                   {"consumeBroadcastEnable", c.consume_broadcast_enable},
                   {"consumeFromMinEnable", c.consume_from_min_enable},
                   {"retryMaxTimes", c.retry_max_times},
                   {"retryQueueNums", c.retry_queue_nums},
                   {"brokerId", c.broker_id},
                   {"whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly}}
                  .dump()
           << "\n";
    } else {
      out_ << "group " << group << " created or updated on " << masters->size() << " master(s):";
      for (const auto& m : *masters) out_ << " " << m;
      out_ << " (retryMaxTimes=" << c.retry_max_times << ", retryQueueNums=" << c.retry_queue_nums
           << ", consumeEnable=" << (c.consume_enable ? "true" : "false")
           << ", consumeBroadcastEnable=" << (c.consume_broadcast_enable ? "true" : "false") << ")\n";
    }
    return kExitOk;
  }

  int GroupDelete(const std::string& group) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    std::string ids;
    if (size_t n = OnlineClients(**admin, group, &ids); n > 0 && !o_.force) {
      return Fail(Status::FailedPrecondition("group " + group + " has " + std::to_string(n) +
                                             " consumer(s) online (" + ids +
                                             "); stop them first or pass --force"));
    }
    if (Status s = (*admin)->DeleteSubscriptionGroup(group, o_.cluster, o_.remove_offsets); !s.ok()) {
      return Fail(s);
    }
    if (json_) {
      out_ << json{{"deleted", group}, {"offsetsRemoved", o_.remove_offsets}}.dump() << "\n";
    } else {
      out_ << "group " << group << " deleted" << (o_.remove_offsets ? " with its offsets" : "") << "\n";
    }
    return kExitOk;
  }

  // --to: earliest, latest, now, an RFC 3339 time or Unix milliseconds; -1 is INVOKE_BROKER_TO_RESET_OFFSET's
  // "the end of every queue".
  static int64_t ResetTimestamp(const std::string& to) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto ts = client::ResetTimestampOf(to, now);
    if (!ts.ok()) throw UsageError{"--to: " + std::string(ts.status().message())};
    return *ts;
  }

  int GroupReset(const std::string& group) {
    const int64_t ts = ResetTimestamp(o_.to);
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    std::string ids;
    const size_t online = OnlineClients(**admin, group, &ids);
    auto table = (*admin)->ResetOffsetByTime(o_.topic, group, ts, true);
    if (!table.ok()) return Fail(table.status());
    if (json_) {
      json arr = json::array();
      for (const auto& [mq, off] : *table) {
        arr.push_back(
            {{"topic", mq.topic}, {"brokerName", mq.broker_name}, {"queueId", mq.queue_id}, {"offset", off}});
      }
      out_ << json{{"group", group},
                   {"topic", o_.topic},
                   {"timestamp", ts},
                   {"onlineClients", online},
                   {"queues", arr}}
                  .dump()
           << "\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [mq, off] : *table) {
      rows.push_back({mq.topic, mq.broker_name, std::to_string(mq.queue_id), std::to_string(off)});
    }
    PrintTable(out_, {"TOPIC", "BROKER", "QUEUE", "NEW_OFFSET"}, rows);
    out_ << "group " << group << " on " << o_.topic << " reset to " << o_.to << " ("
         << (online > 0 ? std::to_string(online) + " online client(s) told: " + ids
                        : std::string("no client online; the group resumes there when it starts"))
         << ")\n";
    return kExitOk;
  }

  // Where messages stand for `group`, with the names of Apache's TrackType (mqadmin queryMsgById -g):
  // CONSUMED, CONSUMED_BUT_FILTERED (consumed past it, but the group's subscription skips its tag),
  // NOT_CONSUME_YET, NOT_ONLINE (not consumed and no client online), CONSUME_BROADCASTING (each client keeps
  // its own offsets). The group's connections are read once, its consume stats once per topic.
  class ConsumeStates {
   public:
    ConsumeStates(client::Admin& admin, std::string group) : admin_(admin), group_(std::move(group)) {
      auto conns = admin_.GetConsumerConnections(group_);
      if (conns.ok() && !conns->connection_set.empty()) conns_ = std::move(*conns);
    }

    std::string Of(const client::MessageExt& m) {
      const bool online = conns_.has_value();
      if (online && conns_->message_model == model::MessageModel::kBroadcasting)
        return "CONSUME_BROADCASTING";
      auto stats = stats_.find(m.topic);
      if (stats == stats_.end())
        stats = stats_.emplace(m.topic, admin_.GetConsumeStats(group_, m.topic)).first;
      if (stats->second.ok()) {
        const auto& table = stats->second->offset_table;
        auto it = table.find({m.topic, m.broker_name, m.queue_id});
        if (it != table.end() && it->second.consumer_offset > m.queue_offset) {
          if (online) {
            auto sub = conns_->subscription_table.find(m.topic);
            if (sub != conns_->subscription_table.end() && sub->second.expression_type == "TAG" &&
                !client::Subscription::Parse(m.topic, sub->second.sub_string).Matches(m.tags)) {
              return "CONSUMED_BUT_FILTERED";
            }
          }
          return "CONSUMED";
        }
      }
      return online ? "NOT_CONSUME_YET" : "NOT_ONLINE";
    }

   private:
    client::Admin& admin_;
    const std::string group_;
    std::optional<model::ConsumerConnection> conns_;  // set while a client of the group is online
    std::map<std::string, Result<model::ConsumeStats>> stats_;
  };

  int MessageQuery() {
    const int modes = !o_.key.empty() + !o_.id.empty() + (o_.offset >= 0);
    if (modes != 1) throw UsageError{"message query needs exactly one of --key, --id or --offset"};
    if (!o_.key.empty() && o_.topic.empty()) throw UsageError{"message query --key needs -t <topic>"};
    if (o_.offset >= 0 && (o_.topic.empty() || o_.broker.empty() || o_.queue < 0)) {
      throw UsageError{"message query --offset needs -t <topic>, --broker <brokerName> and --queue <id>"};
    }
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    std::vector<client::MessageExt> found;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const int32_t max = static_cast<int32_t>(o_.count > 0 ? o_.count : 64);
    if (!o_.key.empty()) {
      auto msgs = (*admin)->QueryMessageByKey(o_.topic, o_.key, max, 0, now + 86'400'000);
      if (!msgs.ok()) return Fail(msgs.status());
      found = std::move(*msgs);
    } else if (!o_.id.empty()) {
      // A unique id (UNIQ_KEY) needs its topic; an offset id names its broker and position.
      if (!o_.topic.empty()) {
        auto msgs = (*admin)->QueryMessageByKey(o_.topic, o_.id, max, 0, now + 86'400'000);
        if (!msgs.ok()) return Fail(msgs.status());
        for (auto& m : *msgs) {
          if (m.msg_id == o_.id || m.offset_msg_id == o_.id) found.push_back(std::move(m));
        }
      }
      if (found.empty()) {
        auto m = (*admin)->ViewMessage(o_.id);
        if (m.ok()) {
          found.push_back(std::move(*m));
        } else if (o_.topic.empty()) {
          return Fail(Status::NotFound("no message with offset id " + o_.id + " (" +
                                       std::string(m.status().message()) +
                                       "); for a message id (UNIQ_KEY) give its topic with -t"));
        }
      }
    } else {
      client::PullConsumerConfig c;
      c.group = "ferryctl_tools";
      c.client = options_;
      client::PullConsumer consumer(c);
      if (Status s = consumer.Start(); !s.ok()) return Fail(s);
      const client::MessageQueue mq{o_.topic, o_.broker, static_cast<int32_t>(o_.queue)};
      auto r = consumer.Pull(mq, client::Subscription::Parse(o_.topic, "*"), o_.offset, 1,
                             std::chrono::milliseconds(0));
      consumer.Stop();
      if (!r.ok()) return Fail(r.status());
      for (auto& m : r->messages) {
        if (m.queue_offset == o_.offset) found.push_back(std::move(m));
      }
      if (found.empty()) {
        return Fail(Status::NotFound("no message at " + o_.topic + " " + o_.broker + ":" +
                                     std::to_string(o_.queue) + " offset " + std::to_string(o_.offset) +
                                     " (the queue holds offsets " + std::to_string(r->min_offset) + " to " +
                                     std::to_string(r->max_offset - 1) + ")"));
      }
    }
    if (found.empty()) return Fail(Status::NotFound("no message matches"));
    std::optional<ConsumeStates> states;
    if (!o_.group.empty()) states.emplace(**admin, o_.group);
    for (const auto& m : found) {
      const std::string state = states ? states->Of(m) : "";
      if (json_) {
        json j = MessageJson(m);
        if (!state.empty()) j["consumeState"] = {{"group", o_.group}, {"state", state}};
        out_ << j.dump() << "\n";
      } else {
        out_ << MessageLine(m) << (state.empty() ? "" : " group=" + o_.group + " state=" + state) << "\n";
      }
    }
    return kExitOk;
  }

  // Every message of %DLQ%<group>, oldest first, up to `limit` (0: all).
  Result<std::vector<client::MessageExt>> ReadDlq(const std::string& group, int64_t limit) {
    const std::string topic = std::string(model::kDlqTopicPrefix) + group;
    client::PullConsumerConfig c;
    c.group = "ferryctl_tools";
    c.client = options_;
    client::PullConsumer consumer(c);
    FMQ_RETURN_IF_ERROR(consumer.Start());
    std::vector<client::MessageExt> out;
    auto queues = consumer.FetchSubscribeQueues(topic);
    if (!queues.ok()) {
      consumer.Stop();
      if (queues.status().IsNotFound()) {
        return Status::NotFound("group " + group + " has no dead-letter queue (" + topic +
                                " does not exist: no message of the group used up its retries)");
      }
      return queues.status();
    }
    const auto sub = client::Subscription::Parse(topic, "*");
    for (const auto& mq : *queues) {
      auto min = consumer.MinOffset(mq);
      if (!min.ok()) return consumer.Stop(), min.status();
      int64_t offset = *min;
      while (limit == 0 || static_cast<int64_t>(out.size()) < limit) {
        auto r = consumer.Pull(mq, sub, offset, 32, std::chrono::milliseconds(0));
        if (!r.ok()) return consumer.Stop(), r.status();
        if (r->status != client::PullStatus::kFound || r->next_begin_offset <= offset) break;
        for (auto& m : r->messages) {
          if (limit == 0 || static_cast<int64_t>(out.size()) < limit) out.push_back(std::move(m));
        }
        offset = r->next_begin_offset;
      }
    }
    consumer.Stop();
    return out;
  }

  static std::string OriginalTopic(const client::MessageExt& m) {
    auto it = m.properties.find(model::prop::kRetryTopic);
    return it == m.properties.end() ? "" : it->second;
  }

  int DlqList(const std::string& group) {
    auto msgs = ReadDlq(group, o_.count > 0 ? o_.count : 0);
    if (!msgs.ok()) return Fail(msgs.status());
    if (json_) {
      json arr = json::array();
      for (const auto& m : *msgs) {
        json j = MessageJson(m);
        j["originalTopic"] = OriginalTopic(m);
        arr.push_back(std::move(j));
      }
      out_ << arr.dump() << "\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : *msgs) {
      std::string body = Printable(m.body);
      if (body.size() > 40) body = body.substr(0, 37) + "...";
      rows.push_back({std::to_string(m.queue_offset), m.msg_id, OriginalTopic(m),
                      std::to_string(m.reconsume_times), TimeText(m.store_timestamp), m.tags, m.keys, body});
    }
    PrintTable(out_, {"OFFSET", "MSG_ID", "ORIGINAL_TOPIC", "RECONSUMED", "STORED", "TAGS", "KEYS", "BODY"},
               rows);
    out_ << msgs->size() << " dead letter(s) of group " << group << "\n";
    return kExitOk;
  }

  // Sends dead letters again: by default to %RETRY%<group> with RETRY_TOPIC set, so only that group receives
  // them (its clients subscribe to their retry topic and restore the original topic), with a fresh retry
  // budget; with --to-topic to a topic every subscribed group reads. The dead letters stay where they are.
  int DlqResend(const std::string& group) {
    if (o_.all == !o_.msg_ids.empty()) throw UsageError{"dlq resend needs --msg-id ID (repeatable) or --all"};
    auto msgs = ReadDlq(group, 0);
    if (!msgs.ok()) return Fail(msgs.status());
    std::set<std::string> wanted(o_.msg_ids.begin(), o_.msg_ids.end());
    std::vector<const client::MessageExt*> chosen;
    for (const auto& m : *msgs) {
      if (o_.all || wanted.erase(m.msg_id) + wanted.erase(m.offset_msg_id) > 0) chosen.push_back(&m);
    }
    if (!wanted.empty()) {
      std::string missing;
      for (const auto& id : wanted) missing += (missing.empty() ? "" : ", ") + id;
      return Fail(Status::NotFound("not in the dead-letter queue of " + group + ": " + missing +
                                   " (see `ferryctl dlq list " + group + "`)"));
    }
    client::ProducerConfig c;
    c.group = "ferryctl_producer";
    c.client = options_;
    c.heartbeat = false;
    client::Producer producer(c);
    if (Status s = producer.Start(); !s.ok()) return Fail(s);
    int64_t sent = 0;
    for (const auto* m : chosen) {
      client::Message out;
      out.body = m->body;
      out.tags = m->tags;
      out.keys = m->keys;
      out.flag = m->flag;
      for (const auto& [k, v] : m->properties) {
        if (!model::prop::IsSystem(k)) out.properties[k] = v;
      }
      const std::string original = OriginalTopic(*m);
      if (!o_.to_topic.empty()) {
        out.topic = o_.to_topic;
      } else {
        if (original.empty()) {
          producer.Stop();
          return Fail(Status::FailedPrecondition("dead letter " + m->msg_id +
                                                 " does not name its original topic (RETRY_TOPIC); resend it "
                                                 "with --to-topic"));
        }
        out.topic = std::string(model::kRetryTopicPrefix) + group;
        out.properties[model::prop::kRetryTopic] = original;
      }
      auto r = producer.Send(out);
      if (!r.ok()) {
        producer.Stop();
        err_ << "ferryctl: " << sent << " of " << chosen.size() << " resent before the failure\n";
        return Fail(r.status());
      }
      ++sent;
      if (json_) {
        out_ << json{{"deadLetter", m->msg_id},
                     {"msgId", r->msg_id},
                     {"topic", out.topic},
                     {"originalTopic", original},
                     {"status", client::SendStatusName(r->status)}}
                    .dump()
             << "\n";
      } else {
        out_ << m->msg_id << " -> " << out.topic << (out.topic == original ? "" : " (for " + original + ")")
             << " msgId=" << r->msg_id << " status=" << client::SendStatusName(r->status) << "\n";
      }
    }
    producer.Stop();
    if (!json_) err_ << sent << " dead letter(s) resent\n";
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
    std::stringstream ss(o_.member);
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
    return v.empty() ? "-" : JoinStrings(v, ", ");
  }

  int HaPromote(const std::string& broker_name) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    client::FailoverOptions o;
    o.target = o_.broker;
    o.group_size = static_cast<int>(o_.group_size);
    o.unclean = o_.unclean;
    o.role = o_.role;
    o.members = Members();
    auto r = client::Failover(**admin, broker_name, o);
    if (!r.ok()) return Fail(r.status());
    return HaReport(*r, "promoted");
  }

  int HaSwitchover(const std::string& broker_name) {
    const int64_t timeout_s = o_.timeout > 0 ? o_.timeout : 30;
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto r = client::Switchover(**admin, broker_name, o_.to, std::chrono::seconds(timeout_s));
    if (!r.ok()) return Fail(r.status());
    return HaReport(*r, "switched over");
  }

  int HaDemote(const std::string& addr) {
    auto admin = StartAdmin();
    if (!admin.ok()) return Fail(admin.status());
    auto master = (*admin)->HaStatus(o_.master);
    if (!master.ok()) return Fail(master.status());
    if (master->role == "SLAVE" || master->fenced) {
      return Fail(Status::FailedPrecondition(o_.master + " is not a writable master (" + master->role +
                                             (master->fenced ? ", fenced" : "") + ")"));
    }
    int64_t id = o_.broker_id;
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

 private:
  const Opts o_;
  std::ostream& out_;
  std::ostream& err_;
  const std::atomic<bool>* stop_;
  client::ClientOptions options_;
  bool json_ = false;
  Status security_;  // credentials and TLS that cannot be used: a usage error before anything connects
  Mutex print_mu_;
  int64_t printed_ FMQ_GUARDED_BY(print_mu_) = 0;
};

}  // namespace

namespace {

using Action = std::function<int(Ferryctl&, const Opts&)>;

// The whole command line: one CLI11 app, one subcommand per command with only its own options; -n and -o
// are accepted anywhere (fallthrough to the root).
void BuildApp(CLI::App& app, Opts& o, Action& action) {
  app.description(
      "Admin and client command line for FerryMQ and any RocketMQ 4.x cluster.\n"
      "The name server comes from -n, else $NAMESRV_ADDR, else 127.0.0.1:9876.\n"
      "Exit codes: 0 ok, 1 the operation failed, 2 usage error.");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-n,--namesrv", o.namesrv, "name server(s), host:port[;host:port] (default $NAMESRV_ADDR)");
  app.add_option("-o,--output", o.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  client::AddSecurityFlags(app, &o.security);
  auto set = [&action](CLI::App* cmd, Action a) { cmd->callback([&action, a] { action = a; }); };
  auto positive = CLI::PositiveNumber;

  auto* cluster = app.add_subcommand("cluster", "brokers of every cluster")->require_subcommand(1);
  set(cluster->add_subcommand("list", "brokers of every cluster with their versions"),
      [](Ferryctl& c, const Opts&) { return c.ClusterList(); });

  auto* topic = app.add_subcommand("topic", "create, list, inspect and delete topics")->require_subcommand(1);
  auto* tc = topic->add_subcommand("create", "create or update a topic on every master of a cluster");
  tc->add_option("topic", o.name, "topic name")->required();
  tc->add_option("-c,--cluster", o.cluster, "cluster (default: the only one)");
  tc->add_option("-q,--queues", o.queues, "read and write queues per master")
      ->check(positive)
      ->capture_default_str();
  set(tc, [](Ferryctl& c, const Opts& x) { return c.TopicCreate(x.name); });
  set(topic->add_subcommand("list", "topics known to the name server"),
      [](Ferryctl& c, const Opts&) { return c.TopicList(); });
  auto* tr = topic->add_subcommand("route", "brokers and queues of a topic");
  tr->add_option("topic", o.name, "topic name")->required();
  set(tr, [](Ferryctl& c, const Opts& x) { return c.TopicRoute(x.name); });
  auto* ts = topic->add_subcommand("stats", "min/max offsets of every queue");
  ts->add_option("topic", o.name, "topic name")->required();
  set(ts, [](Ferryctl& c, const Opts& x) { return c.TopicStats(x.name); });
  auto* td = topic->add_subcommand(
      "delete",
      "delete a topic from the brokers and the name servers; refused while it has online consumers "
      "or received messages in the last minute, unless --force");
  td->add_option("topic", o.name, "topic name")->required();
  td->add_option("-c,--cluster", o.cluster, "only this cluster's brokers");
  td->add_flag("--force", o.force, "delete even while clients use it");
  set(td, [](Ferryctl& c, const Opts& x) { return c.TopicDelete(x.name); });

  auto* group = app.add_subcommand("group", "subscription groups (consumer groups)")->require_subcommand(1);
  auto* gl = group->add_subcommand("list", "subscription groups");
  gl->add_option("-c,--cluster", o.cluster, "only this cluster's brokers");
  set(gl, [](Ferryctl& c, const Opts&) { return c.GroupList(); });
  auto* gp = group->add_subcommand("progress", "consumed vs stored offsets (lag) of a group");
  gp->add_option("group", o.name, "consumer group")->required();
  set(gp, [](Ferryctl& c, const Opts& x) { return c.GroupProgress(x.name); });
  auto* gc = group->add_subcommand("create",
                                   "create or update a subscription group on every master (mqadmin "
                                   "updateSubGroup)");
  gc->add_option("group", o.name, "consumer group")->required();
  gc->add_option("-c,--cluster", o.cluster, "only this cluster's masters (default: every master)");
  gc->add_option("--retry-max-times", o.group_config.retry_max_times,
                 "deliveries before a message goes to %DLQ%<group>")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  gc->add_option("--retry-queues", o.group_config.retry_queue_nums, "queues of %RETRY%<group>")
      ->check(positive)
      ->capture_default_str();
  gc->add_option("--consume-enable", o.group_config.consume_enable, "false stops every consumer of the group")
      ->capture_default_str();
  gc->add_option("--broadcast-enable", o.group_config.consume_broadcast_enable,
                 "allow broadcasting consumers in the group")
      ->capture_default_str();
  gc->add_option("--from-min-enable", o.group_config.consume_from_min_enable,
                 "RocketMQ's consumeFromMinEnable flag, stored for tools (4.x brokers do not act on it)")
      ->capture_default_str();
  gc->add_option("--read-broker-id", o.group_config.broker_id, "broker id consumers read from")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  gc->add_option("--slow-read-broker-id", o.group_config.which_broker_when_consume_slowly,
                 "broker id consumers read from when they fall behind")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  set(gc, [](Ferryctl& c, const Opts& x) { return c.GroupCreate(x.name); });
  auto* gd = group->add_subcommand("delete",
                                   "delete a subscription group from every master; refused while "
                                   "consumers of it are online, unless --force");
  gd->add_option("group", o.name, "consumer group")->required();
  gd->add_option("-c,--cluster", o.cluster, "only this cluster's masters");
  gd->add_flag("--remove-offsets", o.remove_offsets, "also drop the group's committed offsets");
  gd->add_flag("--force", o.force, "delete even while consumers are online");
  set(gd, [](Ferryctl& c, const Opts& x) { return c.GroupDelete(x.name); });
  auto* gr = group->add_subcommand(
      "reset",
      "move a group's offsets on a topic to a time (mqadmin resetOffsetByTime); online clients are "
      "told, offline groups resume there");
  gr->add_option("group", o.name, "consumer group")->required();
  gr->add_option("-t,--topic", o.topic, "topic")->required();
  gr->add_option("--to", o.to,
                 "earliest, latest (skip the backlog), now, an RFC 3339 time (2026-12-04T10:00:00Z) or Unix "
                 "milliseconds: the first message stored at or after it is consumed next")
      ->required();
  set(gr, [](Ferryctl& c, const Opts& x) { return c.GroupReset(x.name); });

  auto* send = app.add_subcommand("send", "send messages; prints msgId, queue and offset");
  send->add_option("topic", o.name, "topic")->required();
  send->add_option("body", o.body, "message body")->required();
  send->add_option("--tag", o.tag, "tag");
  send->add_option("--key", o.key, "key(s), space separated");
  send->add_option("--count", o.count, "messages to send (default 1)")->check(positive);
  set(send, [](Ferryctl& c, const Opts& x) { return c.Send(x.name, x.body); });

  auto* consume = app.add_subcommand(
      "consume",
      "print messages; without --group nothing is committed and reading starts at the end (or the "
      "beginning)");
  consume->add_option("topic", o.name, "topic")->required();
  consume->add_option("-g,--group", o.group, "join this consumer group and commit what was printed");
  consume->add_option("--count", o.count, "stop after N messages")->check(positive);
  consume->add_option("--timeout", o.timeout, "stop after S seconds")->check(positive);
  consume->add_flag("--from-beginning", o.from_beginning, "start at the first offset (a new group only)");
  consume->add_option("--tag", o.tag, "tag expression (TagA || TagB)");
  set(consume, [](Ferryctl& c, const Opts& x) { return c.Consume(x.name); });

  auto* top = app.add_subcommand(
      "top", "messages in/out per second per topic and the consumer groups furthest behind (last minute)");
  top->add_option("-c,--cluster", o.cluster, "only this cluster");
  top->add_option("--interval", o.interval, "repeat every S seconds (default: once)")->check(positive);
  top->add_option("--count", o.count, "with --interval: stop after N rounds")->check(positive);
  top->add_option("--limit", o.limit, "rows per table (default 20)")->check(positive);
  set(top, [](Ferryctl& c, const Opts&) { return c.Top(); });

  auto* probe = app.add_subcommand(
      "probe",
      "dial test: send N messages of S bytes to every broker group of a topic and read them back; prints "
      "send and end-to-end latency per group; exit 1 if any group failed");
  probe->add_option("topic", o.name, "topic (must exist)")->required();
  probe->add_option("--count", o.count, "messages per broker group (default 10)")->check(positive);
  probe->add_option("--size", o.size, "body bytes (default 128)")
      ->check(CLI::Range(int64_t{0}, int64_t{4} << 20));
  probe->add_flag("--orderly", o.orderly, "one queue per group; the messages must come back in order");
  probe->add_option("--timeout", o.timeout, "seconds for the whole probe (default 10)")->check(positive);
  set(probe, [](Ferryctl& c, const Opts& x) { return c.Probe(x.name); });

  auto* message = app.add_subcommand("message", "look messages up")->require_subcommand(1);
  auto* mg = message->add_subcommand("get", "one message by its offset message id");
  mg->add_option("offsetMsgId", o.name, "offset message id")->required();
  set(mg, [](Ferryctl& c, const Opts& x) { return c.MessageGet(x.name); });
  auto* mq = message->add_subcommand(
      "query", "messages by key, by id or by queue offset, with their consume state for a group (-g)");
  mq->add_option("-t,--topic", o.topic, "topic (needed for --key, --offset and message ids)");
  mq->add_option("--key", o.key, "a key the producer set (KEYS)");
  mq->add_option("--id", o.id, "message id (UNIQ_KEY, with -t) or offset message id");
  mq->add_option("--broker", o.broker, "broker name, with --offset");
  mq->add_option("--queue", o.queue, "queue id, with --offset")->check(CLI::NonNegativeNumber);
  mq->add_option("--offset", o.offset, "queue offset")->check(CLI::NonNegativeNumber);
  mq->add_option("-g,--group", o.group,
                 "print the consume state for this group: CONSUMED, CONSUMED_BUT_FILTERED, NOT_CONSUME_YET, "
                 "NOT_ONLINE or CONSUME_BROADCASTING");
  mq->add_option("--count", o.count, "at most N messages per broker (default 64)")->check(positive);
  set(mq, [](Ferryctl& c, const Opts&) { return c.MessageQuery(); });
  auto* mt = message->add_subcommand("trace",
                                     "produce -> store -> consume timeline of a message sent or "
                                     "consumed with enableMsgTrace");
  mt->add_option("msgId", o.name, "message id")->required();
  mt->add_option("--trace-topic", o.trace_topic, "trace topic")->capture_default_str();
  set(mt, [](Ferryctl& c, const Opts& x) { return c.MessageTrace(x.name); });

  auto* dlq =
      app.add_subcommand("dlq", "dead letters of a consumer group (%DLQ%<group>)")->require_subcommand(1);
  auto* dl = dlq->add_subcommand("list", "dead letters, oldest first, with their original topic");
  dl->add_option("group", o.name, "consumer group")->required();
  dl->add_option("--count", o.count, "at most N")->check(positive);
  set(dl, [](Ferryctl& c, const Opts& x) { return c.DlqList(x.name); });
  auto* dr = dlq->add_subcommand(
      "resend",
      "send dead letters again, by default to the group's retry topic so only that group receives "
      "them (with a fresh retry budget); the dead letters stay");
  dr->add_option("group", o.name, "consumer group")->required();
  dr->add_option("--msg-id", o.msg_ids, "message id or offset message id (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  dr->add_flag("--all", o.all, "every dead letter of the group");
  dr->add_option("--to-topic", o.to_topic,
                 "send to this topic instead (every group subscribed to it reads it)");
  set(dr, [](Ferryctl& c, const Opts& x) { return c.DlqResend(x.name); });

  auto* aclc = app.add_subcommand("acl", "ACL accounts on every broker (RocketMQ ACL 1.0; sign as an admin)")
                   ->require_subcommand(1);
  auto* al = aclc->add_subcommand("list", "accounts of every broker, without their secrets");
  al->add_option("-c,--cluster", o.cluster, "cluster (default: every cluster)");
  set(al, [](Ferryctl& c, const Opts&) { return c.AclList(); });
  auto* as = aclc->add_subcommand("set", "create or replace an account on every broker");
  as->add_option("accessKey", o.name, "access key (7 characters or more)")->required();
  as->add_option("--account-secret", o.account.secret_key,
                 "its secret key (prefer $FERRYMQ_ACL_SECRET_KEY: a flag shows in the process list)");
  as->add_flag("--admin", o.account.admin, "an administrator (every topic, group and admin request)");
  as->add_option("--topic-perm", o.account.topic_perms, "topic=PUB|SUB|PUB|SUB|DENY, repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  as->add_option("--group-perm", o.account.group_perms, "group=SUB|DENY, repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  as->add_option("--default-topic-perm", o.account.default_topic_perm,
                 "for topics not listed (default DENY)");
  as->add_option("--default-group-perm", o.account.default_group_perm,
                 "for groups not listed (default DENY)");
  as->add_option("--white-address", o.account.white_remote_address,
                 "peers that skip the signature check (avoid: prefer signing)");
  as->add_option("-c,--cluster", o.cluster, "cluster (default: every cluster)");
  set(as, [](Ferryctl& c, const Opts& x) { return c.AclSet(x.name); });
  auto* ad = aclc->add_subcommand("delete", "remove an account from every broker");
  ad->add_option("accessKey", o.name, "access key")->required();
  ad->add_option("-c,--cluster", o.cluster, "cluster (default: every cluster)");
  set(ad, [](Ferryctl& c, const Opts& x) { return c.AclDelete(x.name); });

  auto* ha = app.add_subcommand("ha", "replication: status, failover, switchover")->require_subcommand(1);
  auto* hs = ha->add_subcommand("status",
                                "role, epoch, log end, confirm offset, in-sync slaves and copy state "
                                "of every member of a broker group (or all)");
  hs->add_option("brokerName", o.name, "broker group (default: every group)");
  hs->add_option("--member", o.member, "also ask these addresses (comma separated)");
  set(hs, [](Ferryctl& c, const Opts& x) { return c.HaStatus(x.name); });
  auto* hp = ha->add_subcommand(
      "promote",
      "failover: fence the reachable members at a new epoch, make the one with the longest log (or "
      "--broker) master, the rest follow it; refused without a quorum unless --unclean");
  hp->add_option("brokerName", o.name, "broker group")->required();
  hp->add_option("--broker", o.broker, "address of the member to promote");
  hp->add_option("--member", o.member, "member addresses the name server may not know (comma separated)");
  hp->add_option("--group-size", o.group_size, "members of the group, for the quorum")->check(positive);
  hp->add_option("--role", o.role, "SYNC_MASTER or ASYNC_MASTER (default: the old master's)")
      ->check(CLI::IsMember({"SYNC_MASTER", "ASYNC_MASTER"}));
  hp->add_flag("--unclean", o.unclean, "promote without a quorum (may lose acknowledged messages)");
  set(hp, [](Ferryctl& c, const Opts& x) { return c.HaPromote(x.name); });
  auto* hw = ha->add_subcommand("switchover",
                                "planned handover to a slave, nothing lost: the master stops "
                                "writes, the slave catches up, takes over; the old master follows");
  hw->add_option("brokerName", o.name, "broker group")->required();
  hw->add_option("--to", o.to, "address of the slave to hand over to")->required();
  hw->add_option("--timeout", o.timeout, "seconds to wait for the slave to catch up (default 30)")
      ->check(positive);
  set(hw, [](Ferryctl& c, const Opts& x) { return c.HaSwitchover(x.name); });
  auto* hd = ha->add_subcommand("demote",
                                "make a broker follow the master at --master (a returning old master, "
                                "or a slave to re-point)");
  hd->add_option("address", o.name, "broker address")->required();
  hd->add_option("--master", o.master, "address of the master to follow")->required();
  hd->add_option("--broker-id", o.broker_id, "broker id to take (default: the lowest free one)")
      ->check(positive);
  set(hd, [](Ferryctl& c, const Opts& x) { return c.HaDemote(x.name); });
}

}  // namespace

int RunFerryctl(const std::vector<std::string>& args, const std::string& env_namesrv, std::ostream& out,
                std::ostream& err, const std::atomic<bool>* stop) {
  CLI::App app("", "ferryctl");
  Opts o;
  Action action;
  BuildApp(app, o, action);
  try {
    std::vector<const char*> argv = {"ferryctl"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help: the help of the command it follows
      return kExitOk;
    }
    if (args.empty()) {
      err << app.help();
    } else {
      err << "ferryctl: " << e.what()
          << "\nRun `ferryctl --help` or `ferryctl <command> --help` for usage.\n";
    }
    return kExitUsage;
  }
  try {
    Ferryctl ctl(o, env_namesrv, out, err, stop);
    if (!ctl.security().ok()) {
      err << "ferryctl: " << ctl.security().message() << "\n";
      return kExitUsage;
    }
    return action(ctl, o);
  } catch (const UsageError& e) {
    err << "ferryctl: " << e.message << "\nRun `ferryctl --help` or `ferryctl <command> --help` for usage.\n";
    return kExitUsage;
  }
}

}  // namespace fmq::cli
