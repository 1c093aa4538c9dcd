#include "broker/acl/address_pattern.h"

#include <gtest/gtest.h>

namespace fmq::acl {
namespace {

AddressPattern P(std::string_view text) {
  auto p = AddressPattern::Parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? *p : AddressPattern();
}

TEST(AddressPatternTest, BlankMatchesNothingAndStarsMatchEverything) {
  EXPECT_FALSE(P("").Matches("10.0.0.1"));
  EXPECT_FALSE(P("  ").Matches("10.0.0.1"));
  for (const char* all : {"*", "*.*.*.*", "*:*:*:*:*:*:*:*"}) {
    EXPECT_TRUE(P(all).Matches("10.0.0.1")) << all;
    EXPECT_TRUE(P(all).Matches("fe80::1")) << all;
  }
}

TEST(AddressPatternTest, OneAddressListsAndBraces) {
  EXPECT_TRUE(P("10.0.0.1").Matches("10.0.0.1"));
  EXPECT_FALSE(P("10.0.0.1").Matches("10.0.0.2"));
  EXPECT_TRUE(P("fe80::1").Matches("FE80:0:0:0:0:0:0:1"));
  EXPECT_TRUE(P("10.0.0.1, 10.0.0.2").Matches("10.0.0.2"));
  EXPECT_FALSE(P("10.0.0.1,10.0.0.2").Matches("10.0.0.3"));
  EXPECT_TRUE(P("192.168.1.{1,2,3}").Matches("192.168.1.3"));
  EXPECT_FALSE(P("192.168.1.{1,2,3}").Matches("192.168.1.4"));
  EXPECT_TRUE(P("10.0.0.1").Matches("::ffff:10.0.0.1")) << "an IPv4-mapped peer is its IPv4 address";
}

TEST(AddressPatternTest, WildcardsAndRangesPerSegment) {
  EXPECT_TRUE(P("192.168.*.*").Matches("192.168.7.9"));
  EXPECT_FALSE(P("192.168.*.*").Matches("192.169.7.9"));
  EXPECT_TRUE(P("192.168.1.1-100").Matches("192.168.1.100"));
  EXPECT_FALSE(P("192.168.1.1-100").Matches("192.168.1.101"));
  EXPECT_TRUE(P("10.1-2.*.*").Matches("10.2.255.0"));
  EXPECT_FALSE(P("10.1-2.*.*").Matches("10.3.0.0"));
  EXPECT_TRUE(P("1050:0:0:0:5:600:300c:*").Matches("1050::5:600:300c:ff"));
  EXPECT_TRUE(P("1050:0:0:0:5:*").Matches("1050::5:1:2:3"));
  EXPECT_FALSE(P("192.168.*.*").Matches("fe80::1"));
  EXPECT_FALSE(P("192.168.*.*").Matches("not-an-ip"));
}

TEST(AddressPatternTest, RefusesWhatApacheRefusesNamingThePattern) {
  for (const char* bad : {"10.0.0", "10.0.0.256", "10.*.0.1", "10.0.0.5-1", "10.0.0.-5", "host.example",
                          "10.0.0.1,nope", "192.168.{1,2}.1", "1050::5:*", "10.0.0.{1,x}"}) {
    auto p = AddressPattern::Parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.status().message().find(bad), std::string::npos) << p.status().ToString();
  }
}

}  // namespace
}  // namespace fmq::acl
