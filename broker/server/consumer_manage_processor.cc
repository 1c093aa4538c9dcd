#include "broker/server/consumer_manage_processor.h"

#include <unistd.h>

#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::server {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

namespace {
RemotingCommand Answer(const char* field, int64_t value) {
  RemotingCommand r;
  r.code = rc::kSuccess;
  r.ext_fields[field] = std::to_string(value);
  return r;
}
}  // namespace

int64_t ConsumerManageProcessor::DefaultMemoryWindow() {
  const int64_t pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? pages * page / 100 * 40 : int64_t{1} << 30;
}

ConsumerManageProcessor::ConsumerManageProcessor(store::MessageStore& store, ConsumerOffsetManager& offsets,
                                                 int64_t memory_window_bytes)
    : store_(store), offsets_(offsets), memory_window_(memory_window_bytes) {}

RemotingCommand ConsumerManageProcessor::QueryConsumerOffset(const RemotingCommand& req) {
  protocol::ConsumerQueueHeader h;
  if (Status s = protocol::ConsumerQueueHeader::Spec().Decode(req.ext_fields, &h); !s.ok()) {
    return RemotingCommand::Answer(rc::kSystemError, std::string(s.message()));
  }
  if (auto offset = offsets_.Query(h.consumer_group, h.topic, h.queue_id)) return Answer("offset", *offset);
  const QueueId qid(h.queue_id);
  if (store_.MinOffsetInQueue(h.topic, qid).value() <= 0) {
    if (store_.MaxOffsetInQueue(h.topic, qid).value() == 0) return Answer("offset", 0);
    auto first = store_.CommitLogOffsetInQueue(h.topic, qid, QueueOffset(0));
    if (first.ok() && store_.MaxPhyOffset().value() - first->value() < memory_window_)
      return Answer("offset", 0);
  }
  return RemotingCommand::Answer(rc::kQueryNotFound,
                                 "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
}

void ConsumerManageProcessor::Handle(RemotingCommand req, net::Responder responder) {
  if (req.code == rq::kQueryConsumerOffset) return responder.Send(QueryConsumerOffset(req));
  if (req.code == rq::kUpdateConsumerOffset) {
    protocol::ConsumerQueueHeader h;
    Status s = protocol::ConsumerQueueHeader::Spec().Decode(req.ext_fields, &h);
    if (s.ok() && !h.commit_offset) s = Status::InvalidArgument("the custom field <commitOffset> is null");
    if (!s.ok()) return responder.Send(RemotingCommand::Answer(rc::kSystemError, std::string(s.message())));
    offsets_.Commit(h.consumer_group, h.topic, h.queue_id, *h.commit_offset);
    RemotingCommand ok;
    ok.code = rc::kSuccess;
    return responder.Send(std::move(ok));
  }
  protocol::QueueHeader h;
  if (Status s = protocol::QueueHeader::Spec().Decode(req.ext_fields, &h); !s.ok()) {
    return responder.Send(RemotingCommand::Answer(rc::kSystemError, std::string(s.message())));
  }
  const QueueId qid(h.queue_id);
  switch (req.code) {
    case rq::kGetMaxOffset:
      return responder.Send(Answer("offset", store_.MaxOffsetInQueue(h.topic, qid).value()));
    case rq::kGetMinOffset:
      return responder.Send(Answer("offset", store_.MinOffsetInQueue(h.topic, qid).value()));
    case rq::kSearchOffsetByTimestamp:
      if (!h.timestamp)
        return responder.Send(
            RemotingCommand::Answer(rc::kSystemError, "the custom field <timestamp> is null"));
      return responder.Send(Answer("offset", store_.OffsetInQueueByTime(h.topic, qid, *h.timestamp).value()));
    case rq::kGetEarliestMsgStoreTime: {
      auto ts = store_.MessageStoreTimestamp(h.topic, qid, store_.MinOffsetInQueue(h.topic, qid));
      return responder.Send(Answer("timestamp", ts.ok() ? *ts : -1));
    }
    default:
      return responder.Send(RemotingCommand::Answer(
          rc::kRequestCodeNotSupported, " request type " + std::to_string(req.code) + " not supported"));
  }
}

}  // namespace fmq::server
