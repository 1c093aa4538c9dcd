#include "operator/kube/watch.h"

#include <gtest/gtest.h>

namespace fmq::op::kube {
namespace {

TEST(WatchDecoderTest, DecodesEveryTypeAcrossArbitraryCuts) {
  std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
      "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\r\n"
      "\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}\n"
      "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n";
  for (size_t cut = 1; cut < 40; ++cut) {
    WatchDecoder d;
    std::vector<WatchEvent> out;
    for (size_t i = 0; i < stream.size(); i += cut) ASSERT_TRUE(d.Feed(stream.substr(i, cut), &out).ok());
    ASSERT_EQ(out.size(), 5u) << "cut " << cut;
    EXPECT_EQ(out[0].type, WatchEventType::kAdded);
    EXPECT_EQ(out[1].type, WatchEventType::kModified);
    EXPECT_EQ(out[2].type, WatchEventType::kBookmark);
    EXPECT_EQ(out[2].object["metadata"]["resourceVersion"], "7");
    EXPECT_EQ(out[3].type, WatchEventType::kDeleted);
    EXPECT_EQ(out[4].type, WatchEventType::kError);
    EXPECT_FALSE(d.HasPartialLine());
  }
}

TEST(WatchDecoderTest, RejectsGarbageUnknownTypesAndHugeLines) {
  std::vector<WatchEvent> out;
  EXPECT_TRUE(WatchDecoder().Feed("nope\n", &out).IsCorruption());
  EXPECT_TRUE(WatchDecoder().Feed("{\"type\":\"WHAT\",\"object\":{}}\n", &out).IsCorruption());
  EXPECT_TRUE(WatchDecoder().Feed("{\"type\":\"ADDED\"}\n", &out).IsCorruption());
  WatchDecoder small(16);
  EXPECT_TRUE(small.Feed(std::string(32, 'x'), &out).IsCorruption());
  WatchDecoder partial;
  EXPECT_TRUE(partial.Feed("{\"type\":", &out).ok());
  EXPECT_TRUE(partial.HasPartialLine());
  EXPECT_EQ(WatchEventTypeName(WatchEventType::kBookmark), "BOOKMARK");
}

TEST(CancellationTest, HookRunsOnceAndLateHooksAreRefused) {
  Cancellation c;
  int calls = 0;
  EXPECT_TRUE(c.SetHook([&] { ++calls; }));
  c.Cancel();
  c.Cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(c.IsCancelled());
  EXPECT_FALSE(c.SetHook([&] { ++calls; }));
  c.Reset();
  EXPECT_FALSE(c.IsCancelled());
}

}  // namespace
}  // namespace fmq::op::kube
