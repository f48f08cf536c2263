#include "metrics/exporter_metrics.h"

#include <gtest/gtest.h>

namespace dse::metrics {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ExporterMetrics, AccountSeriesAndBuildInfo) {
  ExporterMetrics m("1.2.3", "abc");
  auto& a = m.ForAccount("intl");
  a.PollStarted();
  a.ApiRequest(0.02);
  a.ApiError("InvalidApiKey");
  a.PollFinished(false, 0.5, 1000);
  const std::string t = m.RenderText({});
  EXPECT_TRUE(Has(t, R"(dashscope_exporter_build_info{revision="abc",version="1.2.3"} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(dashscope_up{account="intl"} 0)"));
  EXPECT_TRUE(Has(t, R"(dashscope_polls_total{account="intl"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_poll_failures_total{account="intl"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_api_requests_total{account="intl"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="intl",code="InvalidApiKey"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_poll_duration_seconds{account="intl"} 0.5)"));
  EXPECT_TRUE(Has(t, R"(dashscope_api_request_duration_seconds_bucket{account="intl",le="0.025"} 1)"));
  // No successful poll yet: no timestamp series (a 0 would read as 1970).
  EXPECT_EQ(t.find("dashscope_last_successful_poll_timestamp_seconds{"), std::string::npos);
  EXPECT_NE(t.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(t.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_EQ(t.find(" # "), std::string::npos);
}

TEST(ExporterMetrics, ErrorCodesCappedPerAccount) {
  ExporterMetrics m("v", "r");
  auto& a = m.ForAccount("a");
  for (int i = 0; i < 40; ++i) a.ApiError("Code" + std::to_string(i));
  a.ApiError("Code0");
  const std::string t = m.RenderText({});
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="a",code="Code0"} 2)"));
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="a",code="Code31"} 1)"));
  EXPECT_EQ(t.find("code=\"Code32\""), std::string::npos);
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="a",code="other"} 8)"));
}

TEST(ExporterMetrics, RetainAccountsRemovesSeries) {
  ExporterMetrics m("v", "r");
  m.ForAccount("a").PollFinished(true, 1, 1700000000);
  m.ForAccount("b").ApiError("Throttling");
  m.RetainAccounts({"b"});
  const std::string t = m.RenderText({{"metrics", 200, 3}});
  EXPECT_EQ(t.find("account=\"a\""), std::string::npos);
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="b",code="Throttling"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_exporter_http_requests_total{code="200",handler="metrics"} 3)"));
}

TEST(ExporterMetrics, HttpConnectionStats) {
  ExporterMetrics m("v", "r");
  const ExporterMetrics::HttpConnectionStats c{
      7, {{"cap", 2}, {"idle", 5}}, {{"bad_credentials", 3}, {"busy", 1}}};
  const std::string t = m.RenderText({}, &c);
  EXPECT_TRUE(Has(
      t,
      "# TYPE dashscope_exporter_http_open_connections gauge\ndashscope_exporter_http_open_connections 7"));
  EXPECT_TRUE(Has(t,
                  "# TYPE dashscope_exporter_http_connections_closed_total counter\n"
                  "dashscope_exporter_http_connections_closed_total{reason=\"cap\"} 2\n"
                  "dashscope_exporter_http_connections_closed_total{reason=\"idle\"} 5"));
  EXPECT_TRUE(Has(t,
                  "dashscope_exporter_http_auth_rejections_total{reason=\"bad_credentials\"} 3\n"
                  "dashscope_exporter_http_auth_rejections_total{reason=\"busy\"} 1"));
  EXPECT_EQ(m.RenderText({}).find("dashscope_exporter_http_open_connections"), std::string::npos);
}

}  // namespace
}  // namespace dse::metrics
