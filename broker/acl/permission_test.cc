#include "broker/acl/permission.h"

#include <gtest/gtest.h>

namespace fmq::acl {
namespace {

TEST(PermissionTest, ParsesRocketMqNamesAndMapsAnythingElseToDeny) {
  EXPECT_EQ(ParsePerm("PUB"), kPub);
  EXPECT_EQ(ParsePerm(" SUB "), kSub);
  EXPECT_EQ(ParsePerm("PUB|SUB"), kPub | kSub);
  EXPECT_EQ(ParsePerm("SUB|PUB"), kPub | kSub);
  EXPECT_EQ(ParsePerm("DENY"), kDeny);
  EXPECT_EQ(ParsePerm("pub"), kDeny);
  EXPECT_EQ(ParsePerm(""), kDeny);
  EXPECT_FALSE(StrictParsePerm("pub").has_value());
  EXPECT_FALSE(StrictParsePerm("PUB|").has_value());
  EXPECT_EQ(PermName(kPub | kSub), "PUB|SUB");
  EXPECT_EQ(PermName(kDeny | kPub), "DENY");
}

TEST(PermissionTest, DenyBitRefusesEverythingAndAnyNeedsPubOrSub) {
  EXPECT_TRUE(CheckPermission(kPub, kPub | kSub));
  EXPECT_TRUE(CheckPermission(kSub, kSub));
  EXPECT_FALSE(CheckPermission(kPub, kSub));
  EXPECT_FALSE(CheckPermission(kSub, kPub));
  EXPECT_FALSE(CheckPermission(kSub, kDeny | kSub));
  EXPECT_TRUE(CheckPermission(kAny, kPub));
  EXPECT_TRUE(CheckPermission(kAny, kSub));
  EXPECT_FALSE(CheckPermission(kAny, kDeny));
}

}  // namespace
}  // namespace fmq::acl
