#include "server/request_routing.h"

#include <gtest/gtest.h>

#include <string>

namespace dse::server {
namespace {

TEST(RequestRoutingTest, PathsAndAliases) {
  EXPECT_EQ(ClassifyPath(TargetPath("/metrics?x=1"), "/metrics"), Route::kMetrics);
  EXPECT_EQ(ClassifyPath(TargetPath("/-/healthy"), "/metrics"), Route::kHealthz);
  EXPECT_EQ(ClassifyPath(TargetPath("/-/ready"), "/metrics"), Route::kReadyz);
  EXPECT_EQ(ClassifyPath(TargetPath("/"), "/metrics"), Route::kLanding);
  EXPECT_EQ(ClassifyPath(TargetPath("/metric%73"), "/metrics"), Route::kOther);
  EXPECT_EQ(ClassifyPath(TargetPath("http://x/metrics"), "/metrics"), Route::kOther);
  EXPECT_EQ(ClassifyPath(TargetPath("*"), "/metrics"), Route::kOther);
  EXPECT_STREQ(RouteName(Route::kReadyz), "readyz");
}

TEST(RequestRoutingTest, BodiesRefusedBeforeReading) {
  EXPECT_EQ(BodyRefusalStatus(true, std::nullopt), 411);
  EXPECT_EQ(BodyRefusalStatus(false, uint64_t{4097}), 413);
  EXPECT_EQ(BodyRefusalStatus(false, uint64_t{4096}), 0);
  EXPECT_EQ(BodyRefusalStatus(false, std::nullopt), 0);
}

TEST(RequestRoutingTest, HeadOutcomes) {
  auto ok = EvaluateRequestHead(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\nAccept-Encoding: gzip\r\n\r\n", "/metrics");
  EXPECT_TRUE(ok.complete);
  EXPECT_EQ(ok.status, 0);
  EXPECT_EQ(ok.route, Route::kMetrics);
  EXPECT_TRUE(ok.gzip);
  EXPECT_TRUE(ok.get_or_head);

  EXPECT_FALSE(EvaluateRequestHead("GET /metrics HTTP/1.1\r\nHost: x\r\n", "/metrics").complete);
  EXPECT_EQ(EvaluateRequestHead("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), "/metrics").status, 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 300; ++i) many += "X-" + std::to_string(i) + ": " + std::string(8192, 'v') + "\r\n";
  EXPECT_EQ(EvaluateRequestHead(many + "\r\n", "/metrics").status, 431);
  EXPECT_EQ(EvaluateRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "/metrics").status,
            411);
  EXPECT_EQ(EvaluateRequestHead("POST / HTTP/1.1\r\nContent-Length: 268435456\r\n\r\n", "/metrics").status,
            413);
  EXPECT_EQ(EvaluateRequestHead("NOT HTTP\r\n\r\n", "/metrics").status, 400);
  auto head = EvaluateRequestHead("HEAD /-/ready HTTP/1.0\r\nAuthorization: Basic YTpi\r\n\r\n", "/metrics");
  EXPECT_TRUE(head.head_method);
  EXPECT_TRUE(head.basic_credentials);
  EXPECT_EQ(head.route, Route::kReadyz);
}

}  // namespace
}  // namespace dse::server
