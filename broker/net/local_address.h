#pragma once

// This host's address as peers should see it: the first non-loopback IPv4 address of its interfaces, else
// 127.0.0.1. Brokers announce it to name servers (unless brokerIP1 is set); clients put it in their client
// ids and message ids. Thread-safety: a pure function of the host's interfaces.

#include <array>
#include <cstdint>
#include <string>

namespace fmq::net {

std::array<uint8_t, 4> LocalIpV4();
std::string LocalIpV4String();  // dotted form

}  // namespace fmq::net
