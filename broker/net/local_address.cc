#include "broker/net/local_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

namespace fmq::net {

std::array<uint8_t, 4> LocalIpV4() {
  std::array<uint8_t, 4> ip = {127, 0, 0, 1};
  struct ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) != 0) return ip;
  for (struct ifaddrs* a = addrs; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const struct sockaddr_in*>(a->ifa_addr);
    const uint32_t v = ntohl(sin->sin_addr.s_addr);
    if ((v >> 24) == 127) continue;
    ip = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
    break;
  }
  freeifaddrs(addrs);
  return ip;
}

std::string LocalIpV4String() {
  auto ip = LocalIpV4();
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]);
}

}  // namespace fmq::net
