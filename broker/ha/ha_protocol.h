#pragma once

// The replication port's wire format (docs/formats/replication.md; protocol reference 9.2).
//
// Classic (RocketMQ 4.x HAService, what Apache slaves and masters speak): no handshake.
//   slave -> master  report: int64 max commit-log offset the slave holds (the first report picks where the
//                    master starts streaming; later ones acknowledge)
//   master -> slave  frame:  int64 offset of the first byte, int32 body size (0: heartbeat), body bytes
//                    copied from the commit log
//
// FerryMQ extension, chosen by the slave, which opens with the 8 bytes of kFerryHelloMagic alone (negative,
// so never an offset):
//   FerryMQ master: answers a greeting, header (offset = kFerryHelloMagic, size = n > 0) and n bytes of JSON;
//                   the slave then sends int32 length + a JSON SlaveHello, and the master answers the same
//                   kind of header + a JSON MasterHello (accepted, or refused with the reason).
//   RocketMQ master: takes the magic for a first report and, after its heartbeat interval, sends a heartbeat
//                   (offset = kFerryHelloMagic, size 0): the slave closes and reconnects with the classic
//                   protocol. Nothing but the magic reached it, so no report of it can be mistaken for an
//                   acknowledgement.
// After an accepted hello the slave reports as in the classic protocol and the master sends 20-byte headers
// that add its confirm offset:
//   master -> slave  frame:  int64 offset, int32 body size, int64 confirm offset, body bytes
// The slave may start one overlap window below its log end, so the first bytes prove that both logs agree.
//
// Pure: no sockets. The decoders take untrusted bytes (fuzzed by tests/fuzz/ha_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"
#include "broker/store/epoch_history.h"

namespace fmq::ha {

inline constexpr size_t kReportSize = 8;
inline constexpr size_t kClassicHeaderSize = 12;
inline constexpr size_t kFerryHeaderSize = 20;
// "\xFE" "FMQHA" "\x00\x01": negative as an int64, so never a commit-log offset.
inline constexpr int64_t kFerryHelloMagic = static_cast<int64_t>(0xFE464D5148410001ULL);
inline constexpr uint32_t kMaxHelloBytes = 1 << 20;
inline constexpr int32_t kFerryProtocolVersion = 1;
// Bytes a FerryMQ slave asks to receive again below its log end, to compare them with its own.
inline constexpr int64_t kOverlapBytes = 4096;

// Reasons a master refuses a FerryMQ slave's hello (MasterHello::error_code).
inline constexpr std::string_view kRefusedWrongCluster = "WRONG_CLUSTER";
inline constexpr std::string_view kRefusedWrongBroker = "WRONG_BROKER_NAME";
inline constexpr std::string_view kRefusedNotMaster = "NOT_MASTER";
inline constexpr std::string_view kRefusedStaleMaster = "STALE_MASTER";
inline constexpr std::string_view kRefusedBadHello = "BAD_HELLO";

struct SlaveHello {
  int32_t version = kFerryProtocolVersion;
  std::string cluster;
  std::string broker_name;
  int64_t broker_id = 0;
  std::string address;  // the slave's remoting address, for status and logs
  std::vector<store::EpochEntry> epochs;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int32_t known_epoch = 0;  // the highest epoch this slave has seen or promised to follow
};

struct MasterHello {
  bool ok = false;
  std::string error_code;  // one of kRefused* when !ok
  std::string error;       // what happened and what to do
  int32_t epoch = 0;       // the master's current epoch
  std::vector<store::EpochEntry> epochs;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t confirm_offset = 0;
  std::string role;  // SYNC_MASTER | ASYNC_MASTER (what a promoted slave becomes by default)
  int32_t min_in_sync_replicas = 0;
  std::string when_below_min_in_sync;
  std::string master_address;  // the master's remoting address
};

std::string EncodeSlaveHello(const SlaveHello& hello);
Result<SlaveHello> DecodeSlaveHello(std::string_view json);
std::string EncodeMasterHello(const MasterHello& hello);
Result<MasterHello> DecodeMasterHello(std::string_view json);

// The master's greeting to the magic: header (magic, length) and {"ferrymq":<version>}.
std::string EncodeGreeting();
// The slave's hello after the greeting: int32 length, JSON.
std::string EncodeHelloRequest(const SlaveHello& hello);
// The master's answer: header (magic, length) and JSON.
std::string EncodeHelloResponse(const MasterHello& hello);

void EncodeReport(int64_t offset, uint8_t out[kReportSize]);
void EncodeClassicHeader(int64_t offset, int32_t size, uint8_t out[kClassicHeaderSize]);
void EncodeFerryHeader(int64_t offset, int32_t size, int64_t confirm, uint8_t out[kFerryHeaderSize]);

struct FrameHeader {
  int64_t offset = 0;
  int32_t size = 0;
  int64_t confirm = -1;  // FerryMQ frames only
};
// Decodes a frame header and checks it: the offset is not negative (but for a hello answer, which callers
// recognise by the magic first), the size is within [0, max_body].
Result<FrameHeader> DecodeFrameHeader(const uint8_t* p, bool ferry, int32_t max_body);

}  // namespace fmq::ha
