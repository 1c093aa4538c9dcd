// libFuzzer target for what the replication port decodes from its peer (broker/ha/ha_protocol.h) and the HA
// status body clients decode (model/ha_body.h): slave and master hellos, frame headers, epoch histories and
// the consistent point computed from them. Nothing may crash or hang; what decodes re-encodes to something
// that decodes to the same; a consistent point never lies outside the follower's log.

#include <cstdint>
#include <string>

#include "broker/base/check.h"
#include "broker/ha/ha_protocol.h"
#include "broker/model/ha_body.h"
#include "broker/store/epoch_history.h"

using namespace fmq;
using namespace fmq::ha;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto h = DecodeSlaveHello(text); h.ok()) {
    auto again = DecodeSlaveHello(EncodeSlaveHello(*h));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(again->epochs == h->epochs && again->max_offset == h->max_offset &&
              again->cluster == h->cluster);
    // The consistent point of the decoded history against itself and against a shorter copy of it.
    auto self =
        store::FindConsistentPoint(h->epochs, PhysicalOffset(h->min_offset), PhysicalOffset(h->max_offset),
                                   h->epochs, PhysicalOffset(h->max_offset));
    if (self.ok()) FMQ_CHECK(self->value() <= h->max_offset);
    if (!h->epochs.empty()) {
      std::vector<store::EpochEntry> shorter(h->epochs.begin(), h->epochs.end() - 1);
      auto p =
          store::FindConsistentPoint(h->epochs, PhysicalOffset(h->min_offset), PhysicalOffset(h->max_offset),
                                     shorter, PhysicalOffset(h->min_offset));
      if (p.ok()) FMQ_CHECK(p->value() <= h->max_offset);
    }
  }
  if (auto m = DecodeMasterHello(text); m.ok()) {
    auto again = DecodeMasterHello(EncodeMasterHello(*m));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(again->ok == m->ok && again->confirm_offset == m->confirm_offset && again->epochs == m->epochs);
  }
  if (auto b = model::DecodeHaStatus(text); b.ok()) {
    auto again = model::DecodeHaStatus(model::EncodeHaStatus(*b));
    FMQ_CHECK(again.ok());
    FMQ_CHECK(again->epochs == b->epochs && again->slaves.size() == b->slaves.size());
  }
  if (size >= kFerryHeaderSize) {
    for (bool ferry : {false, true}) {
      auto f = DecodeFrameHeader(data, ferry, 4 << 20);
      if (f.ok()) FMQ_CHECK(f->offset >= 0 && f->size >= 0 && f->size <= (4 << 20));
    }
  }
  return 0;
}
