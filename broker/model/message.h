#pragma once

// Messages as the broker stores and serves them, and their encodings:
//  * StoredMessage: every field of a V1 commit-log record (RocketMQ's MessageExt / MessageExtBrokerInner).
//  * EncodeStoredMessage / DecodeStoredMessage: the record layout byte for byte (protocol reference 4.1).
//  * Properties text (4.5), offset message ids (5.1), batch bodies (4.4), tag hash codes (6.5).
//
// Decoders take untrusted bytes and return errors, never crash. Thread-safety: pure functions and values.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/ids.h"
#include "broker/base/status.h"
#include "broker/model/message_format.h"

namespace fmq::model {

// An IPv4 or IPv6 socket address as RocketMQ stores it (address bytes + int32 port).
struct HostAddress {
  std::array<uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  bool v6 = false;
  int32_t port = 0;

  static HostAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int32_t port);
  // Parses "10.0.0.1:10911" or "[::1]:10911". InvalidArgument on anything else.
  static Result<HostAddress> Parse(std::string_view host_port);
  size_t EncodedLength() const { return v6 ? kHostV6Length : kHostV4Length; }
  // "10.0.0.1:10911" / "[::1]:10911"
  std::string ToString() const;
  friend bool operator==(const HostAddress&, const HostAddress&) = default;
};

// One stored message record. With Str = std::string (StoredMessage) it owns its bytes; with
// Str = std::string_view (StoredMessageView) body, topic and properties point into the decoded buffer, which
// must outlive the view (the store decodes views straight from mapped segments on its hot paths).
template <typename Str>
struct BasicStoredMessage {
  int32_t body_crc = 0;  // RocketMqCrc32(body); EncodeStoredMessage computes it when compute_crc is set
  QueueId queue_id{0};
  int32_t flag = 0;
  QueueOffset queue_offset{0};
  PhysicalOffset physical_offset{0};
  int32_t sys_flag = 0;  // host v6 bits are derived from born_host / store_host when encoding
  int64_t born_timestamp = 0;
  HostAddress born_host;
  int64_t store_timestamp = 0;
  HostAddress store_host;
  int32_t reconsume_times = 0;
  PhysicalOffset prepared_transaction_offset{0};
  Str body;
  Str topic;
  Str properties;  // encoded properties text (EncodeProperties)

  // TOTALSIZE of the encoded record.
  size_t EncodedSize() const;
  // Position of STORETIMESTAMP in the encoded record (depends on the born host length).
  size_t StoreTimestampPos() const { return kBornHostPos + born_host.EncodedLength(); }
};

using StoredMessage = BasicStoredMessage<std::string>;
using StoredMessageView = BasicStoredMessage<std::string_view>;

// A copy of `view` that owns its bytes.
StoredMessage ToOwned(const StoredMessageView& view);

// TOTALSIZE of a record with these lengths.
size_t StoredMessageSize(size_t body_len, size_t topic_len, size_t properties_len, bool born_v6,
                         bool store_v6);

template <typename Str>
size_t BasicStoredMessage<Str>::EncodedSize() const {
  return StoredMessageSize(body.size(), topic.size(), properties.size(), born_host.v6, store_host.v6);
}

// Checks the limits a record must respect to be encodable: topic 1..127 bytes, properties <= 32767 bytes.
Status ValidateForStore(const StoredMessage& msg);

// Appends the V1 record of `msg` to `out`. Sets the host v6 sysflag bits from the addresses. When
// `compute_crc` is true the BODYCRC field is RocketMqCrc32(body), else msg.body_crc. REQUIRES:
// ValidateForStore(msg).ok().
void EncodeStoredMessage(const StoredMessage& msg, bool compute_crc, std::string* out);

// Decodes one record at the start of `bytes` (which may hold more after it). Corruption if the magic, sizes
// or (when `check_crc`) the body CRC do not match; a truncated record is Corruption too.
Result<StoredMessage> DecodeStoredMessage(std::span<const uint8_t> bytes, bool check_crc);
// The same checks, without copying: the view points into `bytes`.
Result<StoredMessageView> DecodeStoredMessageView(std::span<const uint8_t> bytes, bool check_crc);

// Properties text: name 0x01 value 0x02 ... (no trailing separator, as Java >= 4.9.1 writes).
std::string EncodeProperties(const std::map<std::string, std::string>& props);
// Tolerant reader as Java's: splits on 0x02, skips empty names or values and segments without 0x01.
std::map<std::string, std::string> DecodeProperties(std::string_view text);
// Value of one property without building a map; nullopt if absent or empty.
std::optional<std::string_view> FindProperty(std::string_view text, std::string_view name);
// `text` with every `name` property removed and, unless `value` is nullopt, `name`=`value` appended (the
// broker's edits of a stored message's properties: REAL_TOPIC, RETRY_TOPIC, DELAY, ...). The other properties
// keep their order and bytes.
std::string WithProperty(std::string_view text, std::string_view name, std::optional<std::string_view> value);

// Offset message id: uppercase hex of store host ip ‖ port ‖ commit-log offset (32 hex chars for IPv4).
std::string CreateOffsetMessageId(const HostAddress& store_host, PhysicalOffset offset);
struct OffsetMessageId {
  HostAddress store_host;
  PhysicalOffset offset;
};
Result<OffsetMessageId> DecodeOffsetMessageId(std::string_view id);

// Tag hash code stored in consume-queue entries: Java hashCode of the tag, sign-extended; 0 for no tag.
int64_t TagsHashCode(std::string_view tags);

// One entry of a batch body (SEND_BATCH_MESSAGE).
struct BatchEntry {
  int32_t flag = 0;
  std::string body;
  std::string properties;
};
// Decodes a batch body (protocol reference 4.4). InvalidArgument on any malformed entry.
Result<std::vector<BatchEntry>> DecodeBatchBody(std::span<const uint8_t> body);
// Encodes a batch body (what producers send).
std::string EncodeBatchBody(const std::vector<BatchEntry>& entries);

}  // namespace fmq::model
