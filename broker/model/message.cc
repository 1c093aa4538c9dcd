#include "broker/model/message.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <limits>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/base/crc32.h"
#include "broker/base/java_hash.h"

namespace fmq::model {
namespace {

constexpr size_t kIpV4Bytes = 4;
constexpr size_t kIpV6Bytes = 16;
constexpr int32_t kMessageMagicV2 = static_cast<int32_t>(0xDAA320AB);  // RocketMQ 5.x, 2-byte topic length

// Batch entry: TOTALSIZE, MAGICCODE, BODYCRC, FLAG, BODYLENGTH (5 x int32) then PROPERTIESLENGTH (int16).
constexpr size_t kBatchEntryFixedSize = 20 + 2;

size_t IpLength(bool v6) { return v6 ? kIpV6Bytes : kIpV4Bytes; }

std::string Hex32(int32_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4)
    s.push_back(kDigits[(static_cast<uint32_t>(v) >> shift) & 0xF]);
  return s;
}

Status Corrupt(std::string what) { return Status::Corruption("stored message: " + what); }

// A fixed-size field that does not fit in the TOTALSIZE bytes of the record.
Status FieldPastEnd(std::string_view field, size_t total_size) {
  return Corrupt(std::string(field) + " extends past record size " + std::to_string(total_size));
}

Status ReadHost(ByteReader* r, bool v6, std::string_view field, size_t total_size, HostAddress* host) {
  std::string_view ip;
  if (!r->ReadBytes(IpLength(v6), &ip) || !r->ReadI32(&host->port)) return FieldPastEnd(field, total_size);
  host->v6 = v6;
  std::memcpy(host->ip.data(), ip.data(), ip.size());
  return Status::Ok();
}

void WriteHost(ByteWriter* w, const HostAddress& host) {
  w->PutBytes(std::span<const uint8_t>(host.ip.data(), IpLength(host.v6)));
  w->PutI32(host.port);
}

// Calls f(name, value) for every property Java's MessageDecoder.string2messageProperties (4.9.1+) keeps, in
// text order (a later duplicate replaces an earlier one in Java's map). Java's rule: split on 0x02; skip
// segments shorter than 3 chars; split at the first 0x01 of the segment; keep only non-empty name and value.
// The length test is implied by the other two (name >= 1 + separator + value >= 1), so Java's UTF-16 lengths
// and our byte lengths cannot disagree; 0x01 and 0x02 bytes only ever occur in UTF-8 as those characters.
template <typename F>
void ForEachProperty(std::string_view text, F&& f) {
  size_t index = 0;
  while (index < text.size()) {
    size_t end = text.find(prop::kPropertySeparator, index);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(index, end - index);
    size_t sep = segment.find(prop::kNameValueSeparator);
    if (sep != std::string_view::npos && sep > 0 && sep + 1 < segment.size()) {
      f(segment.substr(0, sep), segment.substr(sep + 1));
    }
    index = end + 1;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// HostAddress

HostAddress HostAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int32_t port) {
  HostAddress h;
  h.ip[0] = a;
  h.ip[1] = b;
  h.ip[2] = c;
  h.ip[3] = d;
  h.port = port;
  return h;
}

Result<HostAddress> HostAddress::Parse(std::string_view host_port) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("host address \"" + std::string(host_port) + "\": " + std::string(why));
  };
  HostAddress h;
  std::string_view host;
  std::string_view port;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after IPv6 address");
    if (close + 1 >= host_port.size() || host_port[close + 1] != ':')
      return bad("expected ':port' after ']'");
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
    h.v6 = true;
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) return bad("expected ip:port");
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("IPv6 addresses must be written as [ip]:port");
  }

  if (port.empty() || port.size() > 5) return bad("port must be 1 to 5 decimal digits");
  int32_t port_value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port must be decimal digits");
    port_value = port_value * 10 + (c - '0');
  }
  if (port_value > 65535) return bad("port exceeds 65535");
  h.port = port_value;

  char buf[64];  // longer than any textual IPv4/IPv6 address (INET6_ADDRSTRLEN = 46)
  if (host.empty() || host.size() >= sizeof(buf)) return bad("bad IP address");
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  if (inet_pton(h.v6 ? AF_INET6 : AF_INET, buf, h.ip.data()) != 1) {
    return bad(h.v6 ? "bad IPv6 address" : "bad IPv4 address");
  }
  return h;
}

std::string HostAddress::ToString() const {
  if (v6) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf)) == nullptr) return "[?]:" + std::to_string(port);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]) + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------------------------------------------
// Stored message record

size_t StoredMessageSize(size_t body_len, size_t topic_len, size_t properties_len, bool born_v6,
                         bool store_v6) {
  return 4                                             // TOTALSIZE
         + 4                                           // MAGICCODE
         + 4                                           // BODYCRC
         + 4                                           // QUEUEID
         + 4                                           // FLAG
         + 8                                           // QUEUEOFFSET
         + 8                                           // PHYSICALOFFSET
         + 4                                           // SYSFLAG
         + 8                                           // BORNTIMESTAMP
         + (born_v6 ? kHostV6Length : kHostV4Length)   // BORNHOST
         + 8                                           // STORETIMESTAMP
         + (store_v6 ? kHostV6Length : kHostV4Length)  // STOREHOSTADDRESS
         + 4                                           // RECONSUMETIMES
         + 8                                           // PREPARED TRANSACTION OFFSET
         + 4 + body_len                                // BODYLENGTH + BODY
         + 1 + topic_len                               // TOPICLENGTH + TOPIC
         + 2 + properties_len;                         // PROPERTIESLENGTH + PROPERTIES
}

Status ValidateForStore(const StoredMessage& msg) {
  if (msg.topic.empty()) return Status::InvalidArgument("message topic is empty");
  if (msg.topic.size() > kMaxTopicLength) {
    return Status::InvalidArgument("message topic is " + std::to_string(msg.topic.size()) +
                                   " bytes, the limit is " + std::to_string(kMaxTopicLength));
  }
  if (msg.properties.size() > kMaxPropertiesLength) {
    return Status::InvalidArgument("message properties are " + std::to_string(msg.properties.size()) +
                                   " bytes, the limit is " + std::to_string(kMaxPropertiesLength));
  }
  // Only reachable with a body near 2 GiB; the broker's maxMessageSize rejects such bodies long before.
  constexpr size_t kMaxRecord = static_cast<size_t>(std::numeric_limits<int32_t>::max());
  if (msg.EncodedSize() > kMaxRecord) {
    return Status::InvalidArgument("message record would be " + std::to_string(msg.EncodedSize()) +
                                   " bytes, the limit is " + std::to_string(kMaxRecord));
  }
  return Status::Ok();
}

void EncodeStoredMessage(const StoredMessage& msg, bool compute_crc, std::string* out) {
  // Cheap guards against writing a record no reader could parse (callers validate first).
  FMQ_CHECK(!msg.topic.empty() && msg.topic.size() <= kMaxTopicLength);
  FMQ_CHECK(msg.properties.size() <= kMaxPropertiesLength);
  const size_t total_size = msg.EncodedSize();
  FMQ_CHECK(total_size <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));

  int32_t sys_flag = msg.sys_flag & ~(sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  if (msg.born_host.v6) sys_flag |= sysflag::kBornHostV6;
  if (msg.store_host.v6) sys_flag |= sysflag::kStoreHostV6;

  out->reserve(out->size() + total_size);
  ByteWriter w(out);
  w.PutI32(static_cast<int32_t>(total_size));                      // 1 TOTALSIZE
  w.PutI32(kMessageMagicV1);                                       // 2 MAGICCODE
  w.PutI32(compute_crc ? RocketMqCrc32(msg.body) : msg.body_crc);  // 3 BODYCRC
  w.PutI32(msg.queue_id.value());                                  // 4 QUEUEID
  w.PutI32(msg.flag);                                              // 5 FLAG
  w.PutI64(msg.queue_offset.value());                              // 6 QUEUEOFFSET
  w.PutI64(msg.physical_offset.value());                           // 7 PHYSICALOFFSET
  w.PutI32(sys_flag);                                              // 8 SYSFLAG
  w.PutI64(msg.born_timestamp);                                    // 9 BORNTIMESTAMP
  WriteHost(&w, msg.born_host);                                    // 10 BORNHOST
  w.PutI64(msg.store_timestamp);                                   // 11 STORETIMESTAMP
  WriteHost(&w, msg.store_host);                                   // 12 STOREHOSTADDRESS
  w.PutI32(msg.reconsume_times);                                   // 13 RECONSUMETIMES
  w.PutI64(msg.prepared_transaction_offset.value());               // 14 PREPARED TRANSACTION OFFSET
  w.PutI32(static_cast<int32_t>(msg.body.size()));                 // 15 BODYLENGTH
  w.PutBytes(msg.body);                                            //    BODY
  w.PutU8(static_cast<uint8_t>(msg.topic.size()));                 // 16 TOPICLENGTH (signed byte)
  w.PutBytes(msg.topic);                                           //    TOPIC
  w.PutI16(static_cast<int16_t>(msg.properties.size()));           // 17 PROPERTIESLENGTH
  w.PutBytes(msg.properties);                                      //    PROPERTIES
}

Result<StoredMessageView> DecodeStoredMessageView(std::span<const uint8_t> bytes, bool check_crc) {
  if (bytes.size() < kEndFileMinBlankLength) {
    return Corrupt("truncated: " + std::to_string(bytes.size()) +
                   " bytes, need at least 8 for TOTALSIZE and MAGICCODE");
  }
  const int32_t total_size_field = DecodeI32(bytes.data() + kTotalSizePos);
  const int32_t magic = DecodeI32(bytes.data() + kMagicPos);
  if (magic == kBlankMagic) return Corrupt("end-of-file blank marker (magic 0xCBD43194), not a message");
  if (magic == kMessageMagicV2) return Corrupt("V2 record (magic 0xDAA320AB) is not supported");
  if (magic != kMessageMagicV1) return Corrupt("bad magic " + Hex32(magic) + ", expected 0xDAA320A7");

  const size_t min_size = StoredMessageSize(0, 1, 0, false, false);
  if (total_size_field < 0 || static_cast<size_t>(total_size_field) < min_size) {
    return Corrupt("total size " + std::to_string(total_size_field) + " is below the minimum " +
                   std::to_string(min_size));
  }
  const size_t total_size = static_cast<size_t>(total_size_field);
  if (total_size > bytes.size()) {
    return Corrupt("total size " + std::to_string(total_size) + " exceeds the " +
                   std::to_string(bytes.size()) + " bytes available (truncated record)");
  }

  // Every read below stays within the TOTALSIZE bytes of this record. The fixed fields up to BORNHOST fit in
  // the minimum size checked above; the rest is checked field by field.
  ByteReader r(bytes.first(total_size));
  StoredMessageView m;
  int32_t i32 = 0;
  int64_t i64 = 0;
  (void)r.Skip(kBodyCrcPos);
  (void)r.ReadI32(&m.body_crc);
  (void)r.ReadI32(&i32);
  m.queue_id = QueueId(i32);
  (void)r.ReadI32(&m.flag);
  (void)r.ReadI64(&i64);
  m.queue_offset = QueueOffset(i64);
  (void)r.ReadI64(&i64);
  m.physical_offset = PhysicalOffset(i64);
  (void)r.ReadI32(&m.sys_flag);
  (void)r.ReadI64(&m.born_timestamp);

  FMQ_RETURN_IF_ERROR(
      ReadHost(&r, (m.sys_flag & sysflag::kBornHostV6) != 0, "born host", total_size, &m.born_host));
  if (!r.ReadI64(&m.store_timestamp)) return FieldPastEnd("store timestamp", total_size);
  FMQ_RETURN_IF_ERROR(
      ReadHost(&r, (m.sys_flag & sysflag::kStoreHostV6) != 0, "store host", total_size, &m.store_host));
  if (!r.ReadI32(&m.reconsume_times)) return FieldPastEnd("reconsume times", total_size);
  if (!r.ReadI64(&i64)) return FieldPastEnd("prepared transaction offset", total_size);
  m.prepared_transaction_offset = PhysicalOffset(i64);

  int32_t body_len = 0;
  if (!r.ReadI32(&body_len)) return FieldPastEnd("body length", total_size);
  if (body_len < 0) return Corrupt("negative body length " + std::to_string(body_len));
  std::string_view body;
  if (!r.ReadBytes(static_cast<size_t>(body_len), &body)) {
    return Corrupt("body length " + std::to_string(body_len) + " exceeds record size " +
                   std::to_string(total_size));
  }

  int8_t topic_len = 0;
  if (!r.ReadI8(&topic_len)) return FieldPastEnd("topic length", total_size);
  if (topic_len <= 0) {
    return Corrupt("topic length " + std::to_string(topic_len) + " is not in 1.." +
                   std::to_string(kMaxTopicLength));
  }
  std::string_view topic;
  if (!r.ReadBytes(static_cast<size_t>(topic_len), &topic)) {
    return Corrupt("topic length " + std::to_string(topic_len) + " exceeds record size " +
                   std::to_string(total_size));
  }

  int16_t properties_len = 0;
  if (!r.ReadI16(&properties_len)) return FieldPastEnd("properties length", total_size);
  if (properties_len < 0) return Corrupt("negative properties length " + std::to_string(properties_len));
  std::string_view properties;
  if (!r.ReadBytes(static_cast<size_t>(properties_len), &properties)) {
    return Corrupt("properties length " + std::to_string(properties_len) + " exceeds record size " +
                   std::to_string(total_size));
  }

  if (r.remaining() != 0) {
    return Corrupt("fields end at byte " + std::to_string(r.position()) + " but total size is " +
                   std::to_string(total_size));
  }

  // As CommitLog.checkMessageAndReturnSize: the CRC is checked only for a non-empty body.
  if (check_crc && !body.empty()) {
    const int32_t crc = RocketMqCrc32(body);
    if (crc != m.body_crc) {
      return Corrupt("body CRC " + Hex32(m.body_crc) + " does not match computed " + Hex32(crc));
    }
  }

  m.body = body;
  m.topic = topic;
  m.properties = properties;
  return m;
}

StoredMessage ToOwned(const StoredMessageView& v) {
  StoredMessage m;
  m.body_crc = v.body_crc;
  m.queue_id = v.queue_id;
  m.flag = v.flag;
  m.queue_offset = v.queue_offset;
  m.physical_offset = v.physical_offset;
  m.sys_flag = v.sys_flag;
  m.born_timestamp = v.born_timestamp;
  m.born_host = v.born_host;
  m.store_timestamp = v.store_timestamp;
  m.store_host = v.store_host;
  m.reconsume_times = v.reconsume_times;
  m.prepared_transaction_offset = v.prepared_transaction_offset;
  m.body.assign(v.body);
  m.topic.assign(v.topic);
  m.properties.assign(v.properties);
  return m;
}

Result<StoredMessage> DecodeStoredMessage(std::span<const uint8_t> bytes, bool check_crc) {
  FMQ_ASSIGN_OR_RETURN(StoredMessageView view, DecodeStoredMessageView(bytes, check_crc));
  return ToOwned(view);
}

// ---------------------------------------------------------------------------------------------------------------
// Properties

std::string EncodeProperties(const std::map<std::string, std::string>& props) {
  size_t len = 0;
  for (const auto& [name, value] : props) len += name.size() + value.size() + 2;
  std::string text;
  text.reserve(len);
  bool first = true;
  for (const auto& [name, value] : props) {
    if (!first) text.push_back(prop::kPropertySeparator);
    first = false;
    text.append(name);
    text.push_back(prop::kNameValueSeparator);
    text.append(value);
  }
  return text;
}

std::map<std::string, std::string> DecodeProperties(std::string_view text) {
  std::map<std::string, std::string> props;
  ForEachProperty(text, [&](std::string_view name, std::string_view value) {
    props.insert_or_assign(std::string(name), std::string(value));  // last one wins, as in Java's HashMap
  });
  return props;
}

std::optional<std::string_view> FindProperty(std::string_view text, std::string_view name) {
  std::optional<std::string_view> found;
  ForEachProperty(text, [&](std::string_view n, std::string_view value) {
    if (n == name) found = value;  // keep scanning: a later duplicate wins
  });
  return found;
}

std::string WithProperty(std::string_view text, std::string_view name,
                         std::optional<std::string_view> value) {
  std::string out;
  out.reserve(text.size() + name.size() + (value ? value->size() : 0) + 2);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(prop::kPropertySeparator, pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(pos, end - pos);
    const size_t eq = segment.find(prop::kNameValueSeparator);
    const bool drop = segment.empty() || (eq != std::string_view::npos && segment.substr(0, eq) == name);
    if (!drop) {
      if (!out.empty()) out.push_back(prop::kPropertySeparator);
      out.append(segment);
    }
    pos = end + 1;
  }
  if (value) {
    if (!out.empty()) out.push_back(prop::kPropertySeparator);
    out.append(name);
    out.push_back(prop::kNameValueSeparator);
    out.append(*value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Offset message id

std::string CreateOffsetMessageId(const HostAddress& store_host, PhysicalOffset offset) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  uint8_t buf[kIpV6Bytes + 4 + 8];
  const size_t ip_len = IpLength(store_host.v6);
  std::memcpy(buf, store_host.ip.data(), ip_len);
  EncodeI32(buf + ip_len, store_host.port);
  EncodeI64(buf + ip_len + 4, offset.value());
  const size_t n = ip_len + 4 + 8;
  std::string id(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    id[2 * i] = kDigits[buf[i] >> 4];
    id[2 * i + 1] = kDigits[buf[i] & 0xF];
  }
  return id;
}

Result<OffsetMessageId> DecodeOffsetMessageId(std::string_view id) {
  constexpr size_t kV4Chars = (kIpV4Bytes + 4 + 8) * 2;
  constexpr size_t kV6Chars = (kIpV6Bytes + 4 + 8) * 2;
  if (id.size() != kV4Chars && id.size() != kV6Chars) {
    return Status::InvalidArgument("offset message id \"" + std::string(id) + "\" has " +
                                   std::to_string(id.size()) + " characters, expected 32 or 56");
  }
  uint8_t buf[kV6Chars / 2];
  for (size_t i = 0; i < id.size() / 2; ++i) {
    const int hi = HexValue(id[2 * i]);
    const int lo = HexValue(id[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("offset message id \"" + std::string(id) + "\" is not hexadecimal");
    }
    buf[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  OffsetMessageId result;
  result.store_host.v6 = id.size() == kV6Chars;
  const size_t ip_len = IpLength(result.store_host.v6);
  std::memcpy(result.store_host.ip.data(), buf, ip_len);
  result.store_host.port = DecodeI32(buf + ip_len);
  result.offset = PhysicalOffset(DecodeI64(buf + ip_len + 4));
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Tags

int64_t TagsHashCode(std::string_view tags) {
  if (tags.empty()) return 0;
  return static_cast<int64_t>(JavaStringHashCode(tags));
}

// ---------------------------------------------------------------------------------------------------------------
// Batch body

Result<std::vector<BatchEntry>> DecodeBatchBody(std::span<const uint8_t> body) {
  if (body.empty()) return Status::InvalidArgument("batch body: empty batch");
  std::vector<BatchEntry> entries;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t index = entries.size();
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("batch entry " + std::to_string(index) + " at byte " +
                                     std::to_string(pos) + ": " + why);
    };
    const size_t left = body.size() - pos;
    if (left < 4) return bad("truncated total size (" + std::to_string(left) + " bytes left)");
    const int32_t total_size = DecodeI32(body.data() + pos);
    if (total_size < 0 || static_cast<size_t>(total_size) < kBatchEntryFixedSize) {
      return bad("total size " + std::to_string(total_size) + " is below the minimum " +
                 std::to_string(kBatchEntryFixedSize));
    }
    if (static_cast<size_t>(total_size) > left) {
      return bad("total size " + std::to_string(total_size) + " exceeds the " + std::to_string(left) +
                 " bytes left");
    }

    // All reads stay within this entry's TOTALSIZE bytes. MAGICCODE and BODYCRC are ignored, as the Java
    // broker does (clients write 0).
    ByteReader r(body.subspan(pos, static_cast<size_t>(total_size)));
    BatchEntry e;
    int32_t body_len = 0;
    (void)r.Skip(12);  // TOTALSIZE, MAGICCODE, BODYCRC
    (void)r.ReadI32(&e.flag);
    (void)r.ReadI32(&body_len);
    if (body_len < 0) return bad("negative body length " + std::to_string(body_len));
    std::string_view entry_body;
    if (!r.ReadBytes(static_cast<size_t>(body_len), &entry_body) || r.remaining() < 2) {
      return bad("body length " + std::to_string(body_len) + " exceeds total size " +
                 std::to_string(total_size));
    }
    int16_t properties_len = 0;
    (void)r.ReadI16(&properties_len);
    if (properties_len < 0) return bad("negative properties length " + std::to_string(properties_len));
    std::string_view properties;
    if (!r.ReadBytes(static_cast<size_t>(properties_len), &properties)) {
      return bad("properties length " + std::to_string(properties_len) + " exceeds total size " +
                 std::to_string(total_size));
    }
    if (r.remaining() != 0) {
      return bad("fields end at byte " + std::to_string(r.position()) + " of the entry but total size is " +
                 std::to_string(total_size));
    }
    e.body.assign(entry_body);
    e.properties.assign(properties);
    entries.push_back(std::move(e));
    pos += static_cast<size_t>(total_size);
  }
  return entries;
}

std::string EncodeBatchBody(const std::vector<BatchEntry>& entries) {
  size_t len = 0;
  for (const BatchEntry& e : entries) len += kBatchEntryFixedSize + e.body.size() + e.properties.size();
  std::string out;
  out.reserve(len);
  ByteWriter w(&out);
  for (const BatchEntry& e : entries) {
    FMQ_CHECK(e.properties.size() <= kMaxPropertiesLength);
    const size_t total_size = kBatchEntryFixedSize + e.body.size() + e.properties.size();
    FMQ_CHECK(total_size <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
    w.PutI32(static_cast<int32_t>(total_size));  // TOTALSIZE
    w.PutI32(0);                                 // MAGICCODE
    w.PutI32(0);                                 // BODYCRC
    w.PutI32(e.flag);                            // FLAG
    w.PutI32(static_cast<int32_t>(e.body.size()));
    w.PutBytes(e.body);
    w.PutI16(static_cast<int16_t>(e.properties.size()));
    w.PutBytes(e.properties);
  }
  return out;
}

}  // namespace fmq::model
