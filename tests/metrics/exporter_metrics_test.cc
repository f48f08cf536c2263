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
  const std::string t = m.RenderText();
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
  const std::string t = m.RenderText();
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
  for (int i = 0; i < 3; ++i) m.Http().CountResponse("metrics", 200);
  const std::string t = m.RenderText();
  EXPECT_EQ(t.find("account=\"a\""), std::string::npos);
  EXPECT_TRUE(Has(t, R"(dashscope_api_errors_total{account="b",code="Throttling"} 1)"));
  EXPECT_TRUE(Has(t, R"(dashscope_exporter_http_requests_total{code="200",handler="metrics"} 3)"));
}

TEST(ExporterMetrics, HttpConnectionStats) {
  ExporterMetrics m("v", "r");
  EXPECT_EQ(m.RenderText().find("dashscope_exporter_http_open_connections"), std::string::npos);
  HttpMetrics& h = m.Http();
  h.Serving();
  for (int i = 0; i < 7; ++i) h.ConnectionOpened();
  for (int i = 0; i < 2; ++i) h.CountClose(CloseReason::kCap);
  for (int i = 0; i < 5; ++i) h.CountClose(CloseReason::kIdle);
  for (int i = 0; i < 3; ++i) h.CountAuthRejection(AuthRejection::kBadCredentials);
  h.CountAuthRejection(AuthRejection::kBusy);
  const std::string t = m.RenderText();
  EXPECT_TRUE(Has(
      t,
      "# TYPE dashscope_exporter_http_open_connections gauge\ndashscope_exporter_http_open_connections 7"));
  // Every reason is listed, in name order, counted or not.
  EXPECT_TRUE(Has(t,
                  "# TYPE dashscope_exporter_http_connections_closed_total counter\n"
                  "dashscope_exporter_http_connections_closed_total{reason=\"bad_request\"} 0\n"
                  "dashscope_exporter_http_connections_closed_total{reason=\"body_refused\"} 0\n"
                  "dashscope_exporter_http_connections_closed_total{reason=\"cap\"} 2"));
  EXPECT_TRUE(Has(t, "dashscope_exporter_http_connections_closed_total{reason=\"idle\"} 5"));
  EXPECT_TRUE(Has(t,
                  "dashscope_exporter_http_auth_rejections_total{reason=\"bad_credentials\"} 3\n"
                  "dashscope_exporter_http_auth_rejections_total{reason=\"busy\"} 1\n"
                  "dashscope_exporter_http_auth_rejections_total{reason=\"missing\"} 0"));
}

// Every self-metric family after a busy life, byte for byte up to the
// process_* families (which read /proc): the format of each value, label
// and HELP line, and the order of families and, within one, of series by
// their labels, as scrapers and the alert rules see them.
TEST(ExporterMetrics, SelfMetricsExactly) {
  ExporterMetrics m("1.2.3", "abc");
  m.SetConfigReload(true, 1750320000);
  auto& a = m.ForAccount("intl");
  a.PollStarted();
  a.ApiRequest(0.02);
  a.ApiRequest(3);
  a.ApiError("Throttling");
  a.ApiError("timeout");
  a.RecordProblems("wrong_type", 2);
  a.DuplicatesDropped(1);
  a.SetDeployments(12);
  a.SetThrottledUntil(1750320060);
  a.PollFinished(true, 0.25, 1750320001.5);
  auto& b = m.ForAccount("cn \"beijing\"");
  b.PollStarted();
  b.PollFinished(false, 10, 1750320002);
  b.SetStaleDataDropped(true);
  std::string t = m.RenderText();
  t.resize(t.find("# HELP process_cpu_seconds_total"));
  EXPECT_EQ(t, R"(# HELP dashscope_polls_total Background polls of the account started.
# TYPE dashscope_polls_total counter
dashscope_polls_total{account="cn \"beijing\""} 1
dashscope_polls_total{account="intl"} 1
# HELP dashscope_poll_failures_total Background polls of the account that failed.
# TYPE dashscope_poll_failures_total counter
dashscope_poll_failures_total{account="cn \"beijing\""} 1
dashscope_poll_failures_total{account="intl"} 0
# HELP dashscope_api_requests_total HTTP requests sent to the DashScope API, retries included.
# TYPE dashscope_api_requests_total counter
dashscope_api_requests_total{account="cn \"beijing\""} 0
dashscope_api_requests_total{account="intl"} 2
# HELP dashscope_api_errors_total Failed DashScope API requests by error code (the API's code, or timeout, connection, tls, invalid_response, http_<status>; other past 32 codes).
# TYPE dashscope_api_errors_total counter
dashscope_api_errors_total{account="intl",code="Throttling"} 1
dashscope_api_errors_total{account="intl",code="timeout"} 1
# HELP dashscope_record_problems_total Deployment records skipped or fields left out because the API sent them malformed, by problem.
# TYPE dashscope_record_problems_total counter
dashscope_record_problems_total{account="intl",problem="wrong_type"} 2
# HELP dashscope_duplicate_deployments_total Deployments listed more than once in one poll (the list changed between pages); exported once.
# TYPE dashscope_duplicate_deployments_total counter
dashscope_duplicate_deployments_total{account="cn \"beijing\""} 0
dashscope_duplicate_deployments_total{account="intl"} 1
# HELP dashscope_up 1 if the last background poll of the account succeeded, else 0.
# TYPE dashscope_up gauge
dashscope_up{account="cn \"beijing\""} 0
dashscope_up{account="intl"} 1
# HELP dashscope_last_successful_poll_timestamp_seconds Unix time at which the last successful background poll ended.
# TYPE dashscope_last_successful_poll_timestamp_seconds gauge
dashscope_last_successful_poll_timestamp_seconds{account="intl"} 1750320001.5
# HELP dashscope_poll_duration_seconds Duration of the last background poll of the account, all pages.
# TYPE dashscope_poll_duration_seconds gauge
dashscope_poll_duration_seconds{account="cn \"beijing\""} 10
dashscope_poll_duration_seconds{account="intl"} 0.25
# HELP dashscope_deployments Deployments exported for the account, from the last background poll.
# TYPE dashscope_deployments gauge
dashscope_deployments{account="cn \"beijing\""} 0
dashscope_deployments{account="intl"} 12
# HELP dashscope_api_throttled_until_timestamp_seconds Unix time before which no request is sent to the account because the API asked to wait (Retry-After); 0 when none.
# TYPE dashscope_api_throttled_until_timestamp_seconds gauge
dashscope_api_throttled_until_timestamp_seconds{account="cn \"beijing\""} 0
dashscope_api_throttled_until_timestamp_seconds{account="intl"} 1750320060
# HELP dashscope_stale_data_dropped 1 when the account's last good data was older than max_staleness and is no longer exported.
# TYPE dashscope_stale_data_dropped gauge
dashscope_stale_data_dropped{account="cn \"beijing\""} 1
dashscope_stale_data_dropped{account="intl"} 0
# HELP dashscope_exporter_build_info Version and revision of dashscope_exporter (always 1).
# TYPE dashscope_exporter_build_info gauge
dashscope_exporter_build_info{revision="abc",version="1.2.3"} 1
# HELP dashscope_exporter_config_last_reload_successful 1 if the last configuration load succeeded, else 0.
# TYPE dashscope_exporter_config_last_reload_successful gauge
dashscope_exporter_config_last_reload_successful 1
# HELP dashscope_exporter_config_last_reload_success_timestamp_seconds Unix time of the last successful configuration load.
# TYPE dashscope_exporter_config_last_reload_success_timestamp_seconds gauge
dashscope_exporter_config_last_reload_success_timestamp_seconds 1750320000
# HELP dashscope_api_request_duration_seconds Latency of each DashScope API request.
# TYPE dashscope_api_request_duration_seconds histogram
dashscope_api_request_duration_seconds_count{account="cn \"beijing\""} 0
dashscope_api_request_duration_seconds_sum{account="cn \"beijing\""} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.005"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.01"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.025"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.05"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.1"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.25"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="0.5"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="1"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="2.5"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="5"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="10"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="30"} 0
dashscope_api_request_duration_seconds_bucket{account="cn \"beijing\"",le="+Inf"} 0
dashscope_api_request_duration_seconds_count{account="intl"} 2
dashscope_api_request_duration_seconds_sum{account="intl"} 3.02
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.005"} 0
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.01"} 0
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.025"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.05"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.1"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.25"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="0.5"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="1"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="2.5"} 1
dashscope_api_request_duration_seconds_bucket{account="intl",le="5"} 2
dashscope_api_request_duration_seconds_bucket{account="intl",le="10"} 2
dashscope_api_request_duration_seconds_bucket{account="intl",le="30"} 2
dashscope_api_request_duration_seconds_bucket{account="intl",le="+Inf"} 2
)");
}

// The text is cached between changes; every kind of change shows at once.
TEST(ExporterMetrics, TextFollowsEveryChange) {
  ExporterMetrics m("v", "r");
  auto& a = m.ForAccount("a");
  a.PollStarted();
  EXPECT_TRUE(Has(m.RenderText(), R"(dashscope_polls_total{account="a"} 1)"));
  a.PollStarted();
  EXPECT_TRUE(Has(m.RenderText(), R"(dashscope_polls_total{account="a"} 2)"));
  a.SetDeployments(3);
  EXPECT_TRUE(Has(m.RenderText(), R"(dashscope_deployments{account="a"} 3)"));
  a.ApiRequest(0.5);
  EXPECT_TRUE(Has(m.RenderText(), R"(dashscope_api_request_duration_seconds_count{account="a"} 1)"));
  a.ApiError("Throttling");
  EXPECT_TRUE(Has(m.RenderText(), R"(dashscope_api_errors_total{account="a",code="Throttling"} 1)"));
  m.SetConfigReload(false, 5);
  EXPECT_TRUE(Has(m.RenderText(), "dashscope_exporter_config_last_reload_successful 0"));
  m.RetainAccounts({});
  EXPECT_EQ(m.RenderText().find("account=\"a\""), std::string::npos);
}

}  // namespace
}  // namespace dse::metrics
