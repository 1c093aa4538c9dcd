#pragma once

// HaClient: the slave side of the replication port (RocketMQ's HAClient). It connects to the master's
// replication address and copies its commit log byte for byte into this broker's store, reporting what it
// holds after every append and every report interval.
//
// With a FerryMQ master (found by a hello, docs/formats/replication.md) the copy is checked and cut before it
// resumes: the master's epoch history gives the consistent point (store/epoch_history.h), the log is
// truncated there if it runs beyond it, the master re-sends one overlap window below the log end that must
// match byte for byte, and the master's confirm offset bounds what this slave's consumers can read. A master
// whose epoch is below one this broker promised to follow (HaService::KnownEpoch) is refused. With a RocketMQ
// master (it answers the hello with a plain heartbeat) the client falls back to the classic protocol: no
// epochs, no truncation, and reads are not bounded.
//
// A refused or diverged copy is retried every few seconds with the reason in Snapshot() and the log; it never
// deletes data on its own.
//
// Created by HaService on its io_context (one thread). Start/Stop from any thread but that one; Stop()
// returns once the copy loop has ended (no append happens after it), so a promotion can take over the log.

#include <cstdint>
#include <memory>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/status.h"
#include "broker/ha/ha_protocol.h"
#include "broker/net/io_thread_pool.h"
#include "broker/net/tls.h"
#include "broker/store/message_store.h"

namespace fmq::ha {

struct HaClientConfig {
  std::string cluster;
  std::string broker_name;
  int64_t broker_id = 1;
  std::string self_address;                    // this broker's remoting address (status on the master)
  int64_t report_interval_ms = 1'000;          // to a FerryMQ master
  int64_t classic_report_interval_ms = 5'000;  // to a RocketMQ master (haSendHeartbeatInterval)
  int64_t housekeeping_ms = 20'000;            // a master silent this long is dropped
  int max_frame_bytes = 64 * 1024 * 1024;
  bool sync_flush = false;  // SYNC_FLUSH: report only what is flushed
  // TLS to the master's replication port (tls.enable and tls.client.*); null: plaintext.
  std::shared_ptr<net::TlsContextSource> tls{};
};

enum class CopyState { kStopped, kConnecting, kHandshake, kCopying, kRefused, kDiverged };
std::string_view CopyStateName(CopyState s);

struct CopySnapshot {
  CopyState state = CopyState::kStopped;
  std::string master_ha_address;
  bool ferry = false;           // the master speaks the FerryMQ extension
  int32_t master_epoch = 0;     // from the master's hello
  int64_t master_max = 0;       // the master's log end as last seen (hello, or the newest frame's end)
  int64_t master_confirm = -1;  // the newest confirm offset received (-1: none)
  std::string last_error;
  int64_t bytes_copied = 0;
  int64_t last_frame_ms = 0;
  MasterHello hello;  // the last accepted hello (the master's replication settings)
};

class HaClient {
 public:
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // The highest epoch this broker knows or promised to follow: a master below it is refused.
    virtual int32_t KnownEpoch() const = 0;
    // Called with an accepted hello before anything is cut or copied; an error refuses the master.
    virtual Status OnMasterAccepted(const MasterHello& hello) = 0;
  };

  // `io` runs the copy (HaService's one-thread pool); it, the store and the delegate outlive the client.
  HaClient(HaClientConfig config, net::IoThreadPool& io, store::MessageStore& store, Delegate& delegate,
           const Clock& clock);
  ~HaClient();
  HaClient(const HaClient&) = delete;
  HaClient& operator=(const HaClient&) = delete;

  // Starts copying from `master_ha_address` ("host:port"). REQUIRES: not running.
  void Start(std::string master_ha_address);
  // Ends the copy loop and waits for it. Idempotent.
  void Stop();
  bool running() const;
  CopySnapshot Snapshot() const;

 private:
  struct Impl;  // the Asio side (ha_client.cc)
  std::unique_ptr<Impl> impl_;
};

}  // namespace fmq::ha
