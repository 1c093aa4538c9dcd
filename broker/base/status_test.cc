#include "broker/base/status.h"

#include <gtest/gtest.h>

namespace fmq {
namespace {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  FMQ_ASSIGN_OR_RETURN(int h, Half(v));
  FMQ_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  FMQ_RETURN_IF_ERROR(Half(v).status());
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessageAndPrintsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeMessageAndContext) {
  Status s = Status::Corruption("bad crc at 42").WithContext("commitlog 00000000000000000000");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.ToString(), "Corruption: commitlog 00000000000000000000: bad crc at 42");
}

TEST(StatusTest, ApiCodesHaveNamesAndPredicates) {
  EXPECT_EQ(Status::PermissionDenied("x").ToString(), "PermissionDenied: x");
  EXPECT_EQ(Status::Unauthenticated("x").ToString(), "Unauthenticated: x");
  EXPECT_TRUE(Status::Aborted("conflict").IsAborted());
  EXPECT_TRUE(Status::OutOfRange("gone").IsOutOfRange());
  EXPECT_TRUE(Status::AlreadyExists("x").IsAlreadyExists());
  EXPECT_FALSE(Status::Aborted("x").IsOutOfRange());
}

TEST(StatusTest, MacrosPropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).message(), "odd");
}

TEST(StatusDeathTest, ValueOfErrorResultAborts) {
  Result<int> r = Status::NotFound("x");
  EXPECT_DEATH((void)r.value(), "value\\(\\) of a Result holding an error");
}

}  // namespace
}  // namespace fmq
