// libFuzzer target for the decoders of stored data (untrusted when it comes from disk or a peer): the stored
// message record (owned and view forms, with and without CRC), the commit-log record check used by recovery,
// batch bodies, properties text and offset message ids. None may crash, hang or read out of bounds; decoded
// records must re-encode to the same bytes.

#include <cstdint>
#include <cstring>
#include <string>

#include "broker/base/check.h"
#include "broker/model/message.h"
#include "broker/store/commit_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fmq;
  std::span<const uint8_t> bytes(data, size);
  auto owned = model::DecodeStoredMessage(bytes, /*check_crc=*/false);
  auto view = model::DecodeStoredMessageView(bytes, /*check_crc=*/true);
  if (owned.ok()) {
    std::string again;
    model::EncodeStoredMessage(*owned, /*compute_crc=*/false, &again);
    FMQ_CHECK(again.size() <= size && std::memcmp(again.data(), data, again.size()) == 0);
  }
  (void)view;
  (void)store::CheckRecord(data, size, size, 0, /*check_crc=*/true);
  if (size >= 8) (void)store::CheckRecord(data, size - 3, size, 4096, /*check_crc=*/false);
  (void)model::DecodeBatchBody(bytes);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto props = model::DecodeProperties(text);
  for (const auto& [k, v] : props) FMQ_CHECK(model::FindProperty(text, k).has_value());
  (void)model::DecodeOffsetMessageId(text);
  return 0;
}
