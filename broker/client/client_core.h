#pragma once

// ClientOptions and ClientCore: what every client object (Producer, PullConsumer, PushConsumer, Admin)
// shares. ClientCore holds the remoting client (its own, or a caller's shared one), the name-server client
// with failover, the route cache and the client id (`ip@instanceName`, instance name DEFAULT → the pid, as
// Java).
//
// Created and owned by one client object, started by its Start() and stopped by its Stop(). Thread-safety:
// accessors may be used from any thread once started.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/name_server_client.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::client {

struct ClientOptions {
  // Name servers, "host:port" each; ParseNamesrvAddrs reads the "a:9876;b:9876" form of NAMESRV_ADDR.
  std::vector<std::string> namesrv_addrs = {"127.0.0.1:9876"};
  // Part of the client id; "DEFAULT" becomes the process id (Java's rule), so two processes on one host
  // differ. Give each client object in one process its own name when they join the same consumer group.
  std::string instance_name = "DEFAULT";
  // Timeout of name-server and admin requests (Java's mqClientApiTimeout).
  std::chrono::milliseconds rpc_timeout{3'000};
  // Route refresh period (pollNameServerInterval).
  std::chrono::milliseconds poll_name_server_interval{30'000};
  // Heartbeat period to brokers (heartbeatBrokerInterval).
  std::chrono::milliseconds heartbeat_interval{30'000};
  // Fall back to TBW102's route for a topic without a route (lets the broker auto-create it).
  bool use_default_topic = true;
  int32_t default_topic_queue_nums = 4;
  // Header encoding of produce and pull requests. JSON is what every broker reads; ROCKETMQ (binary) is
  // cheaper to encode and decode on both ends (Apache and FerryMQ brokers answer in the request's type).
  protocol::SerializeType request_serialize_type = protocol::SerializeType::kJson;
  // A remoting client shared with other client objects (one TCP connection per broker for all of them);
  // nullptr: the ClientCore creates its own. Not owned; must be started and outlive the client object.
  net::RemotingClient* shared_remoting = nullptr;
  // With an own remoting client: I/O threads shared with other client objects (each keeps its own
  // connections; a process with many producers needs a few I/O threads, not one each). nullptr: the remoting
  // client starts its own thread. Not owned; must be started before and stopped after the client object.
  net::IoThreadPool* io_pool = nullptr;
  // ACL credentials (RocketMQ ACL 1.0): with an access key, every request this client's own remoting client
  // sends is signed as the Java AclClientRPCHook signs (a shared remoting client signs with its own).
  std::string access_key;
  std::string secret_key;
  // TLS for the own remoting client's connections (net::TlsContextSource::Create(files, client=true)); null:
  // plaintext. A shared remoting client uses its own.
  std::shared_ptr<net::TlsContextSource> tls;

  // "a:1;b:2" (also ',' or spaces) → {"a:1", "b:2"}.
  static std::vector<std::string> ParseNamesrvAddrs(std::string_view text);
};

class ClientCore {
 public:
  explicit ClientCore(ClientOptions options);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Set before Start(): handles requests brokers send on this client's connections (only with an own
  // remoting client).
  void SetRequestHandler(net::Handler handler);
  Status Start();
  void Stop();

  const ClientOptions& options() const { return options_; }
  const std::string& client_id() const { return client_id_; }
  net::RemotingClient* remoting() { return remoting_; }
  NameServerClient& namesrv() { return namesrv_; }
  RouteCache& routes() { return routes_; }

 private:
  const ClientOptions options_;
  std::unique_ptr<net::RemotingClient> own_remoting_;
  net::RemotingClient* remoting_;  // own_remoting_ or options_.shared_remoting
  NameServerClient namesrv_;
  RouteCache routes_;
  std::string client_id_;
  bool started_ = false;
};

}  // namespace fmq::client
