#include "broker/base/properties.h"

#include <gtest/gtest.h>

namespace fmq {
namespace {

TEST(PropertiesTest, ReadsRocketMqStyleConfigFiles) {
  auto p = ParseProperties(
      "# broker.conf\nbrokerClusterName = DefaultCluster\r\nbrokerName=broker-a\n! comment\n\nlistenPort: "
      "10911\n"
      "storePathRootDir=/data/store\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("brokerClusterName"), "DefaultCluster");
  EXPECT_EQ(p->at("brokerName"), "broker-a");
  EXPECT_EQ(p->at("listenPort"), "10911");
  EXPECT_EQ(p->at("storePathRootDir"), "/data/store");
}

TEST(PropertiesTest, AMalformedLineIsAnErrorNamingIt) {
  auto p = ParseProperties("a=1\njust words\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "line 2 is not key=value: 'just words'");
}

}  // namespace
}  // namespace fmq
