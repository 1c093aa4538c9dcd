#include "broker/client/client_core.h"

#include "broker/acl/signature.h"

#include "broker/net/local_address.h"

#include <unistd.h>

#include "broker/client/unique_id.h"

namespace fmq::client {

std::vector<std::string> ClientOptions::ParseNamesrvAddrs(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ';' || c == ',' || c == ' ') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

namespace {
net::RemotingClient* PickRemoting(const ClientOptions& o, std::unique_ptr<net::RemotingClient>* own) {
  if (o.shared_remoting != nullptr) return o.shared_remoting;
  net::ClientConfig config;
  config.io_pool = o.io_pool;
  config.tls = o.tls;
  if (!o.access_key.empty()) {
    config.request_signer = [ak = o.access_key, sk = o.secret_key](protocol::RemotingCommand& req) {
      acl::SignRequest(req.ext_fields, req.body, ak, sk);
    };
  }
  *own = std::make_unique<net::RemotingClient>(config);
  return own->get();
}
}  // namespace

ClientCore::ClientCore(ClientOptions options)
    : options_(std::move(options)),
      remoting_(PickRemoting(options_, &own_remoting_)),
      namesrv_(remoting_, options_.namesrv_addrs, options_.rpc_timeout),
      routes_(&namesrv_, RouteCache::Options{options_.use_default_topic, options_.default_topic_queue_nums}) {
  const std::string instance =
      options_.instance_name == "DEFAULT" ? std::to_string(getpid()) : options_.instance_name;
  client_id_ = net::LocalIpV4String() + "@" + instance;
}

ClientCore::~ClientCore() { Stop(); }

void ClientCore::SetRequestHandler(net::Handler handler) {
  if (own_remoting_) own_remoting_->SetRequestHandler(std::move(handler));
}

Status ClientCore::Start() {
  if (started_) return Status::Ok();
  if (options_.namesrv_addrs.empty()) return Status::InvalidArgument("no name server address given");
  if (own_remoting_) FMQ_RETURN_IF_ERROR(own_remoting_->Start());
  started_ = true;
  return Status::Ok();
}

void ClientCore::Stop() {
  if (!started_) return;
  started_ = false;
  if (own_remoting_) own_remoting_->Stop();
}

}  // namespace fmq::client
