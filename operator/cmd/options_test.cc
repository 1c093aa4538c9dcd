#include "operator/cmd/options.h"

#include <gtest/gtest.h>

#include "broker/net/http_server.h"

namespace fmq::op::cmd {
namespace {

TEST(OptionsTest, ReadsTheChartsFlagsInBothForms) {
  auto o = ParseOptions({"--namespaces=a,b", "--leader-elect=true", "--lease-name", "x",
                         "--lease-namespace=ops", "--lease-duration=20s", "--renew-deadline=12s",
                         "--retry-period=500ms", "--metrics-bind-address=:9090",
                         "--health-probe-bind-address=127.0.0.1:9091", "--broker-image=ferrymq:9",
                         "--workers=4", "--topic-drift-check=1m", "--group-status-refresh=45s"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o->lease_name, "x");
  EXPECT_EQ(o->lease_namespace, "ops");
  EXPECT_EQ(o->lease_duration, std::chrono::seconds(20));
  EXPECT_EQ(o->retry_period, std::chrono::milliseconds(500));
  EXPECT_EQ(o->broker_image, "ferrymq:9");
  EXPECT_EQ(o->workers, 4);
  EXPECT_EQ(o->topic_drift_check, std::chrono::minutes(1));
  EXPECT_EQ(o->group_status_refresh, std::chrono::seconds(45));
  EXPECT_EQ(o->metrics_bind_address, ":9090");
  EXPECT_EQ(net::ParseBindAddress(o->health_probe_bind_address)->second, 9091);
  EXPECT_TRUE(o->leader_elect);
  EXPECT_FALSE(ParseOptions({"--leader-elect", "false"})->leader_elect);
  // The chart appends extraArgs after its own flags: the last value wins.
  EXPECT_EQ(ParseOptions({"--workers=2", "--workers=4"})->workers, 4);
}

TEST(OptionsTest, DefaultsMatchTheDocumentedOnes) {
  auto o = ParseOptions({});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->namespaces.empty());
  EXPECT_TRUE(o->leader_elect);
  EXPECT_EQ(o->lease_duration, std::chrono::seconds(15));
  EXPECT_EQ(o->renew_deadline, std::chrono::seconds(10));
  EXPECT_EQ(o->retry_period, std::chrono::seconds(2));
  EXPECT_EQ(o->workers, 2);
}

TEST(OptionsTest, BadFlagsNameTheFlag) {
  auto expect = [](std::vector<std::string> args, std::string_view needle) {
    auto o = ParseOptions(args);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.status().message().find(needle), std::string_view::npos) << o.status().message();
  };
  expect({"--nope=1"}, "--nope");
  expect({"--workers=0"}, "--workers");
  expect({"--lease-duration=soon"}, "--lease-duration: not a duration: 'soon'");
  expect({"--leader-elect=maybe"}, "--leader-elect");
  expect({"--metrics-bind-address=8080"}, "--metrics-bind-address");
  expect({"--lease-duration=5s"}, "--renew-deadline must be shorter");
  expect({"--kubeconfig"}, "--kubeconfig");
  expect({"stray"}, "stray");
  expect({"--fault=crash"}, "--fault");
  EXPECT_EQ(ParseOptions({"--fault=exit-after-failover-claim"})->fault, "exit-after-failover-claim");
  EXPECT_TRUE(ParseOptions({"--help"}).status().IsNotFound());
}

TEST(OptionsTest, TheUsageListsEveryFlagTheChartPasses) {
  const std::string usage = Usage();
  for (const char* flag :
       {"--namespaces", "--leader-elect", "--lease-name", "--lease-namespace", "--lease-duration",
        "--renew-deadline", "--retry-period", "--metrics-bind-address", "--health-probe-bind-address",
        "--broker-image", "--workers", "--topic-drift-check", "--group-status-refresh", "--fault"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace fmq::op::cmd
