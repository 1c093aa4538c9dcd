#include "operator/model/user_plan.h"

#include <gtest/gtest.h>

#include "broker/base/time_codec.h"

namespace fmq::op::model {
namespace {

using nlohmann::json;

api::User MakeUser(json spec, std::map<std::string, std::string> annotations = {}) {
  json obj = {{"metadata", {{"name", "orders-app"}, {"namespace", "apps"}, {"uid", "u-1"}}},
              {"spec", std::move(spec)}};
  for (const auto& [k, v] : annotations) obj["metadata"]["annotations"][k] = v;
  auto u = api::UserFromJson(obj);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  return *u;
}

const json kSpec = {{"clusterRef", {{"name", "prod"}, {"namespace", "mq"}}},
                    {"topics", json::array({{{"name", "orders"}, {"perm", "PUB|SUB"}},
                                            {{"name", "audit"}, {"perm", "DENY"}}})},
                    {"groups", json::array({{{"name", "orders-consumer"}, {"perm", "SUB"}}})}};

TEST(UserPlanTest, TheDesiredAccountCarriesEverySpecField) {
  api::User u = MakeUser(kSpec);
  UserAccount a = DesiredAccount(u, "orders-app", "s3cret-0123");
  EXPECT_EQ(a.access_key, "orders-app");
  EXPECT_EQ(a.default_topic_perm, "DENY");
  EXPECT_EQ(a.default_group_perm, "SUB");
  EXPECT_EQ(a.topic_perms, (std::vector<std::string>{"orders=PUB|SUB", "audit=DENY"}));
  EXPECT_EQ(a.group_perms, (std::vector<std::string>{"orders-consumer=SUB"}));
  EXPECT_FALSE(a.admin);
  EXPECT_EQ(u.spec.secret_name, "orders-app-ferrymq");
  EXPECT_TRUE(GeneratesCredentials(u));
}

TEST(UserPlanTest, RotationIsAskedOncePerAnnotationValueAndRetiresTheCurrentKey) {
  EXPECT_FALSE(RotationRequested(MakeUser(kSpec)));
  api::User u = MakeUser(kSpec, {{"ferrymq.io/rotate", "2026-12-06"}});
  ASSERT_TRUE(RotationRequested(u));
  const int64_t now = 1'765'000'000'000;
  api::UserStatus s = StartRotation(u, now);
  EXPECT_EQ(s.rotations, 1);
  EXPECT_EQ(s.retiring_access_key, "orders-app");
  EXPECT_EQ(s.retiring_until, FormatRfc3339(now + 3600'000));
  EXPECT_EQ(AccessKeyAfter(u, s.rotations), "orders-app-r1");
  u.status = s;
  EXPECT_FALSE(RotationRequested(u)) << "the same value again asks for nothing";
  EXPECT_EQ(RetiringState(s, now + 3599'000), Retiring::kValid);
  EXPECT_EQ(RetiringState(s, now + 3600'000), Retiring::kExpired);
  EXPECT_EQ(RetiringState(api::UserStatus{}, now), Retiring::kNone);

  u.metadata.annotations["ferrymq.io/rotate"] = "again";
  s = StartRotation(u, now);
  EXPECT_EQ(s.retiring_access_key, "orders-app-r1");
  EXPECT_EQ(AccessKeyAfter(u, s.rotations), "orders-app-r2");

  json with_ref = kSpec;
  with_ref["secretRef"] = {{"name", "orders-key"}};
  EXPECT_FALSE(RotationRequested(MakeUser(with_ref, {{"ferrymq.io/rotate", "x"}})))
      << "a referenced secret is rotated by changing that Secret";
}

TEST(UserPlanTest, TheSecretIsOwnedByTheUserAndHoldsWhatAnApplicationMounts) {
  api::User u = MakeUser(kSpec);
  json s = UserSecret(u, {"orders-app", "s3cret-0123", "", ""}, "prod-namesrv-0.prod-namesrv.mq.svc:9876");
  EXPECT_EQ(s["metadata"]["name"], "orders-app-ferrymq");
  EXPECT_EQ(s["metadata"]["namespace"], "apps");
  EXPECT_EQ(s["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(s["data"], (json{{"accessKey", "orders-app"},
                             {"secretKey", "s3cret-0123"},
                             {"namesrvAddr", "prod-namesrv-0.prod-namesrv.mq.svc:9876"}}));
  s = UserSecret(u, {"orders-app-r1", "new-0123456", "orders-app", "s3cret-0123"}, "ns:9876");
  EXPECT_EQ(s["data"]["retiringAccessKey"], "orders-app");
}

TEST(UserPlanTest, TheReaderRefusesShortReservedAndDuplicateNames) {
  auto read = [](json spec, std::string name = "orders-app") {
    return api::UserFromJson({{"metadata", {{"name", name}, {"namespace", "apps"}}}, {"spec", spec}})
        .status();
  };
  EXPECT_NE(read(kSpec, "app").message().find("must be 7 to 64"), std::string::npos);
  json reserved = kSpec;
  reserved["accessKey"] = "ferrymq-operator";
  EXPECT_NE(read(reserved).message().find("the operator's own"), std::string::npos);
  json dup = kSpec;
  dup["topics"].push_back({{"name", "orders"}, {"perm", "SUB"}});
  EXPECT_EQ(read(dup).message(), "spec.topics names orders twice");
  json bad = kSpec;
  bad["topics"][0]["perm"] = "PUB_SUB";
  EXPECT_NE(read(bad).message().find("spec.topics[0].perm must be one of"), std::string::npos);
  json same = kSpec;
  same["secretRef"] = {{"name", "orders-app-ferrymq"}};
  EXPECT_NE(read(same).message().find("must differ"), std::string::npos);
}

}  // namespace
}  // namespace fmq::op::model
