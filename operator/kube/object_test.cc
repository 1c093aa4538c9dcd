#include "operator/kube/object.h"

#include <gtest/gtest.h>

namespace fmq::op::kube {
namespace {

TEST(ObjectTest, ReadsMetadataSafely) {
  Json obj = {{"metadata",
               {{"name", "n"},
                {"namespace", "ns"},
                {"uid", "u"},
                {"resourceVersion", "9"},
                {"generation", 3},
                {"labels", {{"app", "x"}}},
                {"annotations", {{"ferrymq.io/force-delete", "true"}}},
                {"deletionTimestamp", "2024-01-01T00:00:00Z"}}}};
  EXPECT_EQ(Name(obj), "n");
  EXPECT_EQ(Namespace(obj), "ns");
  EXPECT_EQ(Uid(obj), "u");
  EXPECT_EQ(ResourceVersion(obj), "9");
  EXPECT_EQ(Generation(obj), 3);
  EXPECT_EQ(Label(obj, "app"), "x");
  EXPECT_EQ(Annotation(obj, "ferrymq.io/force-delete"), "true");
  EXPECT_TRUE(IsBeingDeleted(obj));
  EXPECT_EQ(ObjectKey(obj), "ns/n");

  Json odd = {{"metadata", {{"name", 5}, {"labels", "not-a-map"}}}};
  EXPECT_EQ(Name(odd), "");
  EXPECT_EQ(Label(odd, "app"), "");
  EXPECT_EQ(Name(Json::array()), "");
  EXPECT_FALSE(IsBeingDeleted(Json()));
}

TEST(ObjectTest, KeysSplitAndJoin) {
  EXPECT_EQ(MakeKey("ns", "n"), "ns/n");
  EXPECT_EQ(MakeKey("", "node1"), "node1");
  EXPECT_EQ(SplitKey("ns/n"), std::make_pair(std::string("ns"), std::string("n")));
  EXPECT_EQ(SplitKey("node1"), std::make_pair(std::string(""), std::string("node1")));
}

TEST(ObjectTest, FormatsAndParsesApiTimes) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1714557600123), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatMicroTime(1714557600123456), "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(*ParseTimeMicros("2024-05-01T10:00:00.123456Z"), 1714557600123456);
  EXPECT_EQ(*ParseTimeMicros("2024-05-01T10:00:00Z"), 1714557600000000);
  EXPECT_EQ(*ParseTimeMicros("2024-05-01T12:00:00.5+02:00"), 1714557600500000);
  EXPECT_EQ(*ParseTimeMicros("2024-02-29T00:00:00Z"), 1709164800000000);
  EXPECT_FALSE(ParseTimeMicros("2024-05-01 10:00:00Z").ok());
  EXPECT_FALSE(ParseTimeMicros("2024-05-01T10:00:00").ok());
  EXPECT_FALSE(ParseTimeMicros("").ok());
  EXPECT_EQ(*ParseTimeMicros(FormatMicroTime(1700000000654321)), 1700000000654321);
}

}  // namespace
}  // namespace fmq::op::kube
