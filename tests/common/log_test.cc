#include "common/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dse::log {
namespace {

TEST(FormatLine, LogfmtQuotesOnlyWhenNeeded) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, Level::kWarn, "T", "poll failed",
                       {{"account", "intl"}, {"err", "HTTP 401: \"bad\""}}),
            "time=T level=warn msg=\"poll failed\" account=intl err=\"HTTP 401: \\\"bad\\\"\"\n");
}

TEST(FormatLine, Json) {
  EXPECT_EQ(FormatLine(Format::kJson, Level::kInfo, "T", "a\nb", {{"k", "v"}}),
            "{\"time\":\"T\",\"level\":\"info\",\"msg\":\"a\\nb\",\"k\":\"v\"}\n");
}

TEST(Write, RedactsSecretsAndFiltersLevel) {
  std::vector<std::string> lines;
  SetSink([&](std::string_view l) { lines.emplace_back(l); });
  Configure(Level::kInfo, Format::kLogfmt);
  AddSecret("sk-secret123");
  Debug("hidden");
  Info("got sk-secret123 back", {{"header", "Bearer sk-secret123"}});
  SetSink(nullptr);
  ClearSecrets();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("sk-secret123"), std::string::npos);
  EXPECT_NE(lines[0].find("msg=\"got <redacted> back\" header=\"Bearer <redacted>\""), std::string::npos)
      << lines[0];
}

}  // namespace
}  // namespace dse::log
