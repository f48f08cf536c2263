// The harness itself: what the fault, load and soak tests rely on.
#include "testing/harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <limits>
#include <optional>

namespace dse::testing {
namespace {

using ::testing::HasSubstr;

TEST(HarnessTest, ParseSamplesKeysSeriesAsWritten) {
  const std::string text =
      "# HELP a_metric help text\n"
      "# TYPE a_metric gauge\n"
      "a_metric 1\n"
      "b{x=\"1\",y=\"two words\"} 2.5\n"
      "c{x=\"brace } and \\\"quote\\\"\"} -3\n"
      "d{x=\"1\"} +Inf\n"
      "\n";
  const auto samples = ParseSamples(text);
  EXPECT_EQ(samples.size(), 4u);
  EXPECT_EQ(Sample(text, "a_metric"), 1.0);
  EXPECT_EQ(Sample(text, "b{x=\"1\",y=\"two words\"}"), 2.5);
  EXPECT_EQ(Sample(text, "c{x=\"brace } and \\\"quote\\\"\"}"), -3.0);
  EXPECT_EQ(Sample(text, "d{x=\"1\"}"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Sample(text, "missing"), std::nullopt);
}

TEST(HarnessTest, HasMetricLineMatchesWholeLinesWhenAValueIsGiven) {
  const std::string text = "x{a=\"1\"} 10\ny 1\n";
  EXPECT_TRUE(HasMetricLine(text, "x{a=\"1\"} 10"));
  EXPECT_FALSE(HasMetricLine(text, "x{a=\"1\"} 1"));
  EXPECT_TRUE(HasMetricLine(text, "x{a=\"1\"}"));
  EXPECT_TRUE(HasMetricLine(text, "x{"));
  EXPECT_TRUE(HasMetricLine(text, "y 1"));
  EXPECT_FALSE(HasMetricLine(text, "y 10"));
}

TEST(HarnessTest, ProcessReportsExitCodesSignalsAndOutput) {
  auto ok = Process::Start("/bin/sh", {"-c", "echo out; echo err >&2; echo \"$DSE_HARNESS_VAR\"; exit 3"},
                           {{"DSE_HARNESS_VAR", "from-env"}});
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->WaitExit(5000ms), 3);
  EXPECT_EQ(ok->Stdout(), "out\nfrom-env\n");
  EXPECT_EQ(ok->Stderr(), "err\n");
  EXPECT_FALSE(ok->Running());
  EXPECT_FALSE(ok->Signal(SIGTERM));

  auto sleeper = Process::Start("/bin/sleep", {"30"});
  ASSERT_NE(sleeper, nullptr);
  EXPECT_TRUE(sleeper->Running());
  EXPECT_EQ(sleeper->WaitExit(50ms), std::nullopt);
  EXPECT_TRUE(sleeper->Signal(SIGTERM));
  EXPECT_EQ(sleeper->WaitExit(5000ms), 128 + SIGTERM);
}

TEST(HarnessTest, GunzipMembersRefusesGarbage) {
  EXPECT_EQ(GunzipMembers("not gzip"), std::nullopt);
  EXPECT_EQ(GunzipMembers(""), std::nullopt);
}

TEST(HarnessTest, ExporterStartsWithJsonLogs) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock), {"--log.format=json"});
  ASSERT_NE(exporter, nullptr);
  EXPECT_TRUE(exporter->WaitForMetric("dashscope_up{account=\"mock\"} 1", 5000ms));
}

TEST(HarnessTest, ExporterWithACustomTelemetryPath) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock), {"--web.telemetry-path=/custom"});
  ASSERT_NE(exporter, nullptr);
  EXPECT_TRUE(exporter->WaitForMetric("dashscope_up{account=\"mock\"} 1", 5000ms));
  EXPECT_EQ(exporter->Get("/metrics").status, 404);
}

TEST(HarnessTest, MockConfigLetsTestsOverrideTimings) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  const std::string yaml = MockConfig(*mock, "poll_interval: 5s\n");
  EXPECT_THAT(yaml, HasSubstr("poll_interval: 5s\n"));
  EXPECT_THAT(yaml, ::testing::Not(HasSubstr("poll_interval: 1s")));
  EXPECT_THAT(yaml, HasSubstr("base_url: " + mock->base_url() + "\n"));
  EXPECT_EQ(mock->List(1, 5).status, 200);
  EXPECT_EQ(HttpGet(mock->port(), "/api/v1/deployments").status, 401);
}

}  // namespace
}  // namespace dse::testing
