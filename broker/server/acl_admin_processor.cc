#include "broker/server/acl_admin_processor.h"

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::server {

namespace rc = protocol::response_code;
namespace code = protocol::request_code;
using protocol::RemotingCommand;

namespace {
nlohmann::json VersionJson(const acl::AclDataVersion& v) {
  return {{"counter", v.counter}, {"stateVersion", 0}, {"timestamp", v.timestamp}};
}
}  // namespace

AclAdminProcessor::AclAdminProcessor(const BrokerConfig& broker, std::string broker_addr,
                                     acl::PlainAclStore* store)
    : broker_(broker), broker_addr_(std::move(broker_addr)), store_(store) {}

void AclAdminProcessor::Handle(RemotingCommand request, net::Responder responder) {
  responder.Send(Process(request));
}

RemotingCommand AclAdminProcessor::Process(const RemotingCommand& req) {
  if (store_ == nullptr) {
    const int32_t failed = req.code == code::kUpdateAndCreateAclConfig ? rc::kUpdateAndCreateAclConfigFailed
                           : req.code == code::kDeleteAclConfig        ? rc::kDeleteAclConfigFailed
                           : req.code == code::kUpdateGlobalWhiteAddrsConfig
                               ? rc::kUpdateGlobalWhiteAddrsConfigFailed
                               : rc::kSystemError;
    return RemotingCommand::Answer(failed, "ACL is off on broker[" + broker_.broker_name +
                                               "]: set aclEnable=true in its broker.conf to manage accounts");
  }
  switch (req.code) {
    case code::kUpdateAndCreateAclConfig:
      return UpdateAccount(req);
    case code::kDeleteAclConfig:
      return DeleteAccount(req);
    case code::kGetBrokerClusterAclInfo:
      return Info();
    case code::kUpdateGlobalWhiteAddrsConfig:
      return UpdateGlobalWhiteAddrs(req);
    case code::kGetBrokerClusterAclConfig:
      return AllConfig();
    default:
      return RemotingCommand::Answer(rc::kRequestCodeNotSupported,
                                     " request type " + std::to_string(req.code) + " not supported");
  }
}

RemotingCommand AclAdminProcessor::UpdateAccount(const Cmd& req) {
  auto h = protocol::CreateAccessConfigHeader::Spec().Decode(req.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kUpdateAndCreateAclConfigFailed, h.status().ToString());
  acl::AccountUpdate u;
  u.access_key = h->access_key;
  u.secret_key = h->secret_key.value_or("");
  u.white_remote_address = h->white_remote_address;
  u.admin = h->admin;
  u.default_topic_perm = h->default_topic_perm;
  u.default_group_perm = h->default_group_perm;
  if (h->topic_perms) u.topic_perms = acl::SplitList(*h->topic_perms);
  if (h->group_perms) u.group_perms = acl::SplitList(*h->group_perms);
  if (Status s = store_->UpdateAccount(u); !s.ok()) {
    return RemotingCommand::Answer(
        rc::kUpdateAndCreateAclConfigFailed,
        "The accesskey[" + h->access_key + "] was not updated: " + std::string(s.message()));
  }
  GetLogger("acl")->info("account updated accessKey={} admin={}", h->access_key, h->admin.value_or(false));
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand AclAdminProcessor::DeleteAccount(const Cmd& req) {
  auto h = protocol::AccessKeyHeader::Spec().Decode(req.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kDeleteAclConfigFailed, h.status().ToString());
  if (Status s = store_->DeleteAccount(h->access_key); !s.ok()) {
    return RemotingCommand::Answer(
        rc::kDeleteAclConfigFailed,
        "The accesskey[" + h->access_key + "] was not deleted: " + std::string(s.message()));
  }
  GetLogger("acl")->info("account deleted accessKey={}", h->access_key);
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand AclAdminProcessor::Info() {
  const acl::AclDataVersion v = store_->file().data_version;
  protocol::AclInfoResponseHeader h;
  h.version = VersionJson(v).dump();
  h.all_acl_file_version = nlohmann::json{{store_->path(), VersionJson(v)}}.dump();
  h.broker_name = broker_.broker_name;
  h.broker_addr = broker_addr_;
  h.cluster_name = broker_.cluster_name;
  RemotingCommand r = RemotingCommand::Answer(rc::kSuccess);
  protocol::AclInfoResponseHeader::Spec().Encode(h, &r.ext_fields);
  return r;
}

RemotingCommand AclAdminProcessor::UpdateGlobalWhiteAddrs(const Cmd& req) {
  auto h = protocol::GlobalWhiteAddrsHeader::Spec().Decode(req.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kUpdateGlobalWhiteAddrsConfigFailed, h.status().ToString());
  if (h->acl_file_full_path && !h->acl_file_full_path->empty() && *h->acl_file_full_path != store_->path()) {
    return RemotingCommand::Answer(rc::kUpdateGlobalWhiteAddrsConfigFailed,
                                   "broker[" + broker_.broker_name + "] keeps one ACL file, " +
                                       store_->path() + ", not " + *h->acl_file_full_path);
  }
  if (Status s = store_->UpdateGlobalWhiteAddresses(acl::SplitList(h->global_white_addrs)); !s.ok()) {
    return RemotingCommand::Answer(rc::kUpdateGlobalWhiteAddrsConfigFailed,
                                   "The globalWhiteAddresses[" + h->global_white_addrs +
                                       "] were not updated: " + std::string(s.message()));
  }
  GetLogger("acl")->info("globalWhiteRemoteAddresses updated to [{}]", h->global_white_addrs);
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand AclAdminProcessor::AllConfig() {
  const acl::PlainAclFile f = store_->file();
  nlohmann::json accounts = nlohmann::json::array();
  for (const acl::PlainAccessConfig& a : f.accounts) {  // fastjson's order: alphabetical
    nlohmann::json j = {{"accessKey", a.access_key}, {"admin", a.admin}};
    if (!a.default_group_perm.empty()) j["defaultGroupPerm"] = a.default_group_perm;
    if (!a.default_topic_perm.empty()) j["defaultTopicPerm"] = a.default_topic_perm;
    j["groupPerms"] = a.group_perms;
    j["secretKey"] = a.secret_key;
    j["topicPerms"] = a.topic_perms;
    if (!a.white_remote_address.empty()) j["whiteRemoteAddress"] = a.white_remote_address;
    accounts.push_back(std::move(j));
  }
  RemotingCommand r = RemotingCommand::Answer(rc::kSuccess);
  r.body =
      nlohmann::json{{"globalWhiteAddrs", f.global_white_remote_addresses}, {"plainAccessConfigs", accounts}}
          .dump();
  return r;
}

}  // namespace fmq::server
