#include "operator/kube/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace fmq::op::kube {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fmq-kubeconfig-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(ConfigTest, InlineDataAndTokenOfTheCurrentContext) {
  std::string yaml = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: )" +
                     Base64Encode("CA-PEM") + R"(
    tls-server-name: kubernetes
users:
- name: u1
  user:
    token: secret-token
    client-certificate-data: )" +
                     Base64Encode("CERT-PEM") + R"(
    client-key-data: )" +
                     Base64Encode("KEY-PEM") + R"(
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
- name: other
  context: {cluster: c1, user: u1}
)";
  auto c = LoadKubeconfigFromString(yaml, dir_.string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT-PEM");
  EXPECT_EQ(c->client_key_pem, "KEY-PEM");
  EXPECT_EQ(c->token, "secret-token");
  EXPECT_EQ(c->tls_server_name, "kubernetes");
  EXPECT_EQ(c->default_namespace, "team-a");
  EXPECT_FALSE(c->insecure_skip_tls_verify);

  auto other = LoadKubeconfigFromString(yaml, dir_.string(), "other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->default_namespace, "default");
  auto missing = LoadKubeconfigFromString(yaml, dir_.string(), "prod");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("context 'prod' not found"), std::string::npos);
}

TEST_F(ConfigTest, FilesResolveRelativeToTheKubeconfigAndTokenFileIsKept) {
  Write("pki/ca.crt", "CA-FROM-FILE");
  Write("pki/client.crt", "CERT-FROM-FILE");
  Write("pki/client.key", "KEY-FROM-FILE");
  Write("token", "tok\n");
  std::string path = Write("config", R"(
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: pki/ca.crt, insecure-skip-tls-verify: true}
users:
- name: u
  user: {client-certificate: pki/client.crt, client-key: pki/client.key, tokenFile: token}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ca_pem, "CA-FROM-FILE");
  EXPECT_EQ(c->client_cert_pem, "CERT-FROM-FILE");
  EXPECT_EQ(c->client_key_pem, "KEY-FROM-FILE");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_NE(c->source.find(path), std::string::npos);
}

TEST_F(ConfigTest, ClearErrorsForBrokenConfigs) {
  auto missing_file = LoadKubeconfig((dir_ / "absent").string());
  EXPECT_TRUE(missing_file.status().IsNotFound());
  EXPECT_FALSE(LoadKubeconfigFromString("clusters: [", dir_.string()).ok());
  auto no_ctx = LoadKubeconfigFromString("clusters: []\n", dir_.string());
  EXPECT_NE(no_ctx.status().message().find("no current-context"), std::string::npos);
  auto exec = LoadKubeconfigFromString(R"(
clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)",
                                       dir_.string());
  EXPECT_NE(exec.status().message().find("exec or auth-provider"), std::string::npos) << exec.status();
  auto bad_b64 = LoadKubeconfigFromString(R"(
clusters: [{name: c, cluster: {server: "https://x", certificate-authority-data: "!!!"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
)",
                                          dir_.string());
  EXPECT_FALSE(bad_b64.ok());
  auto half_cert = LoadKubeconfigFromString(R"(
clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {client-certificate-data: QUJD}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)",
                                            dir_.string());
  EXPECT_NE(half_cert.status().message().find("without a key"), std::string::npos);
  auto missing_token_file = LoadKubeconfigFromString(R"(
clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {tokenFile: /nonexistent/token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)",
                                                     dir_.string());
  EXPECT_TRUE(missing_token_file.status().IsNotFound());
}

TEST_F(ConfigTest, KubeconfigListMergesWithFirstFileWinning) {
  std::string a = Write("a", R"(
current-context: from-a
clusters: [{name: c, cluster: {server: "https://a:1"}}]
contexts: [{name: from-a, context: {cluster: c}}]
)");
  std::string b = Write("b", R"(
current-context: from-b
clusters: [{name: c, cluster: {server: "https://b:1"}}, {name: d, cluster: {server: "https://d:1"}}]
contexts: [{name: from-b, context: {cluster: d}}]
)");
  auto merged = LoadKubeconfigList(a + ":" + (dir_ / "missing").string() + ":" + b);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->server, "https://a:1");
  auto other = LoadKubeconfigList(a + ":" + b, "from-b");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->server, "https://d:1");
  EXPECT_TRUE(LoadKubeconfigList((dir_ / "none").string()).status().IsNotFound());
}

TEST_F(ConfigTest, InClusterReadsTheServiceAccountAndEnvironment) {
  Write("sa/token", "sa-token\n");
  Write("sa/ca.crt", "SA-CA");
  Write("sa/namespace", "ferrymq-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = InClusterConfig({.service_account_dir = (dir_ / "sa").string()});
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->ca_pem, "SA-CA");
  EXPECT_EQ(c->token_file, (dir_ / "sa/token").string());
  EXPECT_EQ(c->default_namespace, "ferrymq-system");
  EXPECT_EQ(InClusterConfig().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ConfigTest, DefaultConfigPrefersTheFlagThenKubeconfigEnv) {
  std::string a = Write("a", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://from-flag:1"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  std::string b = Write("b", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://from-env:1"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  ::setenv("KUBECONFIG", b.c_str(), 1);
  auto flag = DefaultConfig(a);
  auto env = DefaultConfig();
  ::unsetenv("KUBECONFIG");
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->server, "https://from-flag:1");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->server, "https://from-env:1");
}

TEST(Base64Test, RoundTripsAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10 binary"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(*Base64Decode("aGVs\nbG8="), "hello");
  EXPECT_FALSE(Base64Decode("a").ok());
  EXPECT_FALSE(Base64Decode("aGVs*bG8=").ok());
  EXPECT_FALSE(Base64Decode("aA==aA==").ok());
}

}  // namespace
}  // namespace fmq::op::kube
