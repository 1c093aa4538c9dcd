#pragma once

// Probe: the RocketMQ console's dial test. For every broker group of a topic's route it sends `count`
// messages of `size` bytes straight to that group's queues (no retry on another group: a group that cannot
// take writes must show), and reads them back from the queues' ends, measuring the send time and the time
// until each came back. With `orderly`, a group's messages all go to one queue and must come back in the
// order sent.
//
// Used by `ferryctl probe` (a one-off) and the operator's canary (Cluster.spec.probe). Messages carry the key
// "ferrymq-probe-<run>-<group>-<i>", so concurrent probes and other traffic on the topic do not mix; nothing
// is committed (a probe has no consumer group state).
//
// Thread-safety: RunProbe may be called from any thread; it blocks up to `timeout` plus one send timeout.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/client_core.h"

namespace fmq::client {

struct ProbeOptions {
  std::string topic;
  int count = 10;  // per broker group
  int size = 128;  // body bytes
  bool orderly = false;
  // The whole probe, sends and reads back; a message not back by then is lost for the probe.
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds send_timeout{3'000};
  // Broker groups that must be in the route (a group gone from it fails the probe); empty: whatever it holds.
  std::vector<std::string> expect_groups;
};

struct GroupProbe {
  std::string group;  // brokerName
  int sent = 0;       // acknowledged SEND_OK
  int send_failed = 0;
  int received = 0;  // of the acknowledged ones, read back
  int duplicated = 0;
  bool in_order = true;         // orderly only
  std::vector<double> send_ms;  // per acknowledged send
  std::vector<double> e2e_ms;   // send start to read back, per message read back
  std::string error;            // the first failure, if any
  bool ok() const;
  // "lost N", "send failed: ...", ...; empty when ok().
  std::string Problem() const;
};

struct ProbeResult {
  std::vector<GroupProbe> groups;  // by name
  bool ok() const;
};

// The `q` quantile (0..1) of `v` (nearest rank); 0 when empty.
double Quantile(std::vector<double> v, double q);

// Fails (without group results) only when the topic has no route at all; a group's failures are in its row.
Result<ProbeResult> RunProbe(const ClientOptions& client, const ProbeOptions& options);

}  // namespace fmq::client
