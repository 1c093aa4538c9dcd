#pragma once

// HaAdminProcessor: FerryMQ's replication admin commands (private codes 9100-9103, docs/replication.md), as
// `ferryctl ha` and the operator use them:
//   FERRYMQ_HA_STATUS (9100)        body: the broker's replication state (model::HaStatusBody JSON)
//   FERRYMQ_HA_FENCE (9101)         header epoch; body: the state after fencing (its log end is final)
//   FERRYMQ_HA_PROMOTE (9102)       header epoch, optional brokerRole
//   FERRYMQ_HA_BECOME_SLAVE (9103)  header masterAddress, masterHaAddress, epoch, brokerId
// A refused operation answers SYSTEM_ERROR with the reason.
//
// Thread-safety: Handle() may run on many executor threads at once (HaService serialises role changes).

#include "broker/ha/ha_service.h"
#include "broker/net/connection.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::server {

class HaAdminProcessor {
 public:
  // `ha` is owned by the composition root and outlives the processor.
  explicit HaAdminProcessor(ha::HaService& ha) : ha_(ha) {}

  void Handle(protocol::RemotingCommand request, net::Responder responder);

 private:
  ha::HaService& ha_;
};

}  // namespace fmq::server
