#pragma once

// AclAdminProcessor: RocketMQ's ACL admin requests on a broker (Apache's AdminBrokerProcessor, codes 50-54),
// what `mqadmin updateAclConfig`, `deleteAclConfig`, `clusterAclConfigVersion`, `updateGlobalWhiteAddr` and
// `getAclConfig` send, and what the operator's User controller uses:
//
//   UPDATE_AND_CREATE_ACL_CONFIG (50)     create or update an account (fields not sent are kept)
//   DELETE_ACL_CONFIG (51)                remove an account
//   GET_BROKER_CLUSTER_ACL_INFO (52)      the file's data version, broker name, address and cluster
//   UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) replace globalWhiteRemoteAddresses
//   GET_BROKER_CLUSTER_ACL_CONFIG (54)    every account with its secret (admin accounts only, as the guard
//                                         decides) and the global white list
//
// Failures answer Apache's codes (UPDATE_AND_CREATE_ACL_CONFIG_FAILED 209, DELETE_ACL_CONFIG_FAILED 210,
// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED 211) with the reason; with aclEnable off every code answers that
// ACL is off and how to turn it on. Edits go through acl::PlainAclStore: validated, written atomically,
// applied at once. Thread-safety: Handle from any thread (the store serializes edits).

#include <string>

#include "broker/acl/plain_acl_store.h"
#include "broker/net/connection.h"
#include "broker/server/broker_config.h"

namespace fmq::server {

class AclAdminProcessor {
 public:
  // `store` is null when ACL is off. Everything given outlives the processor.
  AclAdminProcessor(const BrokerConfig& broker, std::string broker_addr, acl::PlainAclStore* store);

  void Handle(protocol::RemotingCommand request, net::Responder responder);
  protocol::RemotingCommand Process(const protocol::RemotingCommand& request);

 private:
  using Cmd = protocol::RemotingCommand;
  Cmd UpdateAccount(const Cmd& req);
  Cmd DeleteAccount(const Cmd& req);
  Cmd Info();
  Cmd UpdateGlobalWhiteAddrs(const Cmd& req);
  Cmd AllConfig();

  const BrokerConfig& broker_;
  const std::string broker_addr_;
  acl::PlainAclStore* const store_;
};

}  // namespace fmq::server
