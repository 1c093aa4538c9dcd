#include "operator/kube/errors.h"

#include <gtest/gtest.h>

namespace fmq::op::kube {
namespace {

std::string ApiStatus(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                        {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

TEST(ErrorsTest, MapsHttpCodesToCanonicalCodes) {
  struct Case {
    int http;
    std::string reason;
    StatusCode want;
  } cases[] = {
      {400, "BadRequest", StatusCode::kInvalidArgument},
      {401, "Unauthorized", StatusCode::kUnauthenticated},
      {403, "Forbidden", StatusCode::kPermissionDenied},
      {404, "NotFound", StatusCode::kNotFound},
      {409, "AlreadyExists", StatusCode::kAlreadyExists},
      {409, "Conflict", StatusCode::kAborted},
      {410, "Expired", StatusCode::kOutOfRange},
      {410, "Gone", StatusCode::kOutOfRange},
      {415, "UnsupportedMediaType", StatusCode::kInvalidArgument},
      {422, "Invalid", StatusCode::kInvalidArgument},
      {429, "TooManyRequests", StatusCode::kResourceExhausted},
      {500, "InternalError", StatusCode::kInternal},
      {503, "ServiceUnavailable", StatusCode::kUnavailable},
      {502, "", StatusCode::kUnavailable},
      {504, "Timeout", StatusCode::kDeadlineExceeded},
  };
  for (const auto& c : cases) {
    Status s = StatusFromHttp("GET", "/p", c.http, ApiStatus(c.http, c.reason, "m"));
    EXPECT_EQ(s.code(), c.want) << c.http << " " << c.reason << " -> " << s;
  }
}

TEST(ErrorsTest, MessagesCarryVerbPathCodeReasonAndApiserverText) {
  Status s =
      StatusFromHttp("PATCH", "/apis/apps/v1/namespaces/a/statefulsets/x", 403,
                     ApiStatus(403, "Forbidden",
                               "statefulsets.apps \"x\" is forbidden: User \"bob\" cannot patch resource"));
  EXPECT_TRUE(IsForbidden(s));
  EXPECT_EQ(s.ToString(),
            "PermissionDenied: PATCH /apis/apps/v1/namespaces/a/statefulsets/x: 403 Forbidden: "
            "statefulsets.apps \"x\" "
            "is forbidden: User \"bob\" cannot patch resource");

  Status u = StatusFromHttp("GET", "/api/v1/pods", 401, ApiStatus(401, "Unauthorized", "Unauthorized"));
  EXPECT_TRUE(IsUnauthorized(u));
  EXPECT_EQ(u.message(), "GET /api/v1/pods: 401 Unauthorized: Unauthorized");
}

TEST(ErrorsTest, InvalidListsItsCauses) {
  nlohmann::json body = {
      {"kind", "Status"},
      {"code", 422},
      {"reason", "Invalid"},
      {"message", "ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\""},
      {"details",
       {{"causes",
         {{{"reason", "FieldValueInvalid"},
           {"message", "Invalid value: \"Bad\""},
           {"field", "metadata.name"}},
          {{"reason", "FieldValueRequired"}, {"message", "Required value"}, {"field", "data.x"}}}}}}};
  Status s = StatusFromHttp("POST", "/api/v1/namespaces/a/configmaps", 422, body.dump());
  EXPECT_TRUE(IsInvalid(s));
  // The first cause is already in the message; the second is added.
  EXPECT_EQ(s.message(),
            "POST /api/v1/namespaces/a/configmaps: 422 Invalid: ConfigMap \"Bad\" is invalid: metadata.name: "
            "Invalid "
            "value: \"Bad\" (causes: data.x: Required value)");
}

TEST(ErrorsTest, NonStatusBodiesAreQuotedShortly) {
  Status s = StatusFromHttp("GET", "/x", 502, std::string(500, 'z'));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().substr(0, 18), "GET /x: 502 Error:");
  EXPECT_LT(s.message().size(), 340u);
  Status e = StatusFromHttp("GET", "/x", 404, "");
  EXPECT_EQ(e.message(), "GET /x: 404 NotFound");
}

TEST(ErrorsTest, WatchErrorEventStatusMapsLikeAnAnswer) {
  Status s = StatusFromApiStatus(
      "GET", "/api/v1/configmaps (watch)",
      nlohmann::json::parse(ApiStatus(410, "Expired", "too old resource version: 1 (9)")));
  EXPECT_TRUE(IsGone(s));
  EXPECT_EQ(s.message(), "GET /api/v1/configmaps (watch): 410 Expired: too old resource version: 1 (9)");
  EXPECT_TRUE(IsConflict(Status::Aborted("x")));
  EXPECT_FALSE(IsConflict(Status::AlreadyExists("x")));
  EXPECT_TRUE(IsAlreadyExists(Status::AlreadyExists("x")));
}

}  // namespace
}  // namespace fmq::op::kube
