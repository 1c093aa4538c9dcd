#pragma once

// HaServer: the master side of the replication port (RocketMQ's HAService acceptor + HAConnection). Every
// broker listens on haListenPort; only a master serves slaves. Per slave connection two coroutines run on the
// HA I/O thread: the reader takes the slave's reports (the first picks where streaming starts, the later ones
// acknowledge), the writer streams commit-log bytes from there, in frames of at most haTransferBatchSize
// (32 KiB, for RocketMQ slaves) or haFerryTransferBatchSize (FerryMQ slaves, whose frames also carry the
// confirm offset), and sends an empty frame when idle for the heartbeat interval. Wire format:
// docs/formats/replication.md.
//
// Bad input closes only its connection: a report that is negative or beyond the log end (an HTTP request or
// random bytes read as an offset are), a hello that does not decode, a connection silent for
// haHousekeepingInterval.
//
// Created and owned by HaService on its io_context (one thread); the store and the delegate outlive it.
// Thread-safety: Wake() and CloseAll() from any thread; the rest from the owner.

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

struct HaServerConfig {
  std::string host = "0.0.0.0";
  int port = 10912;  // 0: any free port (tests)
  int classic_batch_bytes = 32 * 1024;
  int ferry_batch_bytes = 1024 * 1024;
  int64_t classic_heartbeat_ms = 5'000;
  // FerryMQ slaves also get an empty frame whenever the confirm offset moved, at most this often when idle.
  int64_t ferry_heartbeat_ms = 1'000;
  int64_t housekeeping_ms = 20'000;
  // TLS on the replication port, as on the remoting ports (tls.server.mode and its files).
  net::TlsMode tls_mode = net::TlsMode::kDisabled;
  std::shared_ptr<net::TlsContextSource> tls{};
};

class HaServer {
 public:
  // What the server asks its owner; called on the HA I/O thread.
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // Answers a FerryMQ slave's hello: accepted (ok) or refused (error_code, error).
    virtual MasterHello OnHello(const SlaveHello& hello, const std::string& peer) = 0;
    // Whether this broker serves slaves now (a master).
    virtual bool ServesSlaves() const = 0;
    virtual void OnSlaveConnected(uint64_t id, const std::string& address, int64_t broker_id, bool ferry) = 0;
    virtual void OnSlaveReport(uint64_t id, int64_t ack) = 0;
    virtual void OnSlaveClosed(uint64_t id) = 0;
    virtual int64_t ConfirmOffset() const = 0;
  };

  // `io` runs the connections (HaService's one-thread pool); it, the store and the delegate outlive the
  // server.
  HaServer(HaServerConfig config, net::IoThreadPool& io, store::MessageStore& store, Delegate& delegate,
           const Clock& clock);
  ~HaServer();
  HaServer(const HaServer&) = delete;
  HaServer& operator=(const HaServer&) = delete;

  // Binds the port (FailedPrecondition with the port and what to do when it is in use).
  Status Bind();
  // Starts accepting. REQUIRES: Bind() succeeded.
  void Start();
  // Closes the listener and every connection (their coroutines end on the I/O thread).
  void Stop();
  int port() const;

  // New commit-log bytes or a new confirm offset: wakes writers that wait for data.
  void Wake();
  // Closes every slave connection (this broker stopped being a master).
  void CloseAll();

 private:
  struct Impl;  // the Asio side (ha_server.cc)
  std::unique_ptr<Impl> impl_;
};

}  // namespace fmq::ha
