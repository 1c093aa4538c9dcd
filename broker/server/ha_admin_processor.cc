#include "broker/server/ha_admin_processor.h"

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::server {

namespace rc = protocol::response_code;
namespace code = protocol::request_code;
using protocol::RemotingCommand;

void HaAdminProcessor::Handle(RemotingCommand request, net::Responder responder) {
  auto answer = [&](Status s, std::string body = "") {
    RemotingCommand r = RemotingCommand::Answer(s.ok() ? rc::kSuccess : rc::kSystemError,
                                                s.ok() ? "" : std::string(s.message()));
    r.body = std::move(body);
    responder.Send(std::move(r));
  };
  auto log = GetLogger("server");
  switch (request.code) {
    case code::kHaStatus:
      return answer(Status::Ok(), model::EncodeHaStatus(ha_.StatusBody()));
    case code::kHaFence: {
      auto h = protocol::HaEpochHeader::Spec().Decode(request.ext_fields);
      if (!h.ok()) return answer(h.status());
      log->warn("admin request from {}: fence at epoch {}", responder.remote_address(), h->epoch);
      auto status = ha_.Fence(h->epoch);
      if (!status.ok()) return answer(status.status());
      return answer(Status::Ok(), model::EncodeHaStatus(*status));
    }
    case code::kHaPromote: {
      auto h = protocol::HaEpochHeader::Spec().Decode(request.ext_fields);
      if (!h.ok()) return answer(h.status());
      std::optional<ha::BrokerRole> role;
      if (h->broker_role && !h->broker_role->empty()) {
        auto parsed = ha::ParseBrokerRole(*h->broker_role);
        if (!parsed.ok()) return answer(parsed.status());
        role = *parsed;
      }
      log->warn("admin request from {}: promote at epoch {}", responder.remote_address(), h->epoch);
      return answer(ha_.Promote(h->epoch, role), model::EncodeHaStatus(ha_.StatusBody()));
    }
    case code::kHaBecomeSlave: {
      auto h = protocol::HaBecomeSlaveHeader::Spec().Decode(request.ext_fields);
      if (!h.ok()) return answer(h.status());
      log->warn("admin request from {}: follow master {} ({}) of epoch {} as broker id {}",
                responder.remote_address(), h->master_address, h->master_ha_address, h->epoch, h->broker_id);
      return answer(ha_.BecomeSlave(h->master_address, h->master_ha_address, h->epoch, h->broker_id),
                    model::EncodeHaStatus(ha_.StatusBody()));
    }
    default:
      return responder.Send(RemotingCommand::Answer(
          rc::kRequestCodeNotSupported, "request code " + std::to_string(request.code) + " not supported"));
  }
}

}  // namespace fmq::server
