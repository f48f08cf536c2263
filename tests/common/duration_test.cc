#include "common/duration.h"

#include <gtest/gtest.h>

namespace dse {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsPrometheusUnits) {
  EXPECT_EQ(ParseDuration("500ms").value(), 500ms);
  EXPECT_EQ(ParseDuration("30s").value(), 30s);
  EXPECT_EQ(ParseDuration("5m").value(), 5min);
  EXPECT_EQ(ParseDuration("1h30m").value(), 90min);
  EXPECT_EQ(ParseDuration("1d").value(), 24h);
  EXPECT_EQ(ParseDuration("0").value(), 0ms);
}

TEST(ParseDuration, RejectsWithSyntaxHint) {
  for (const char* bad :
       {"", "10", "s", "1.5s", "-1s", "1s1m", "1m1m", "1sec", " 1s", "99999999999999999999y"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), std::string("invalid duration \"") + bad +
                             "\": want a number and unit such as 500ms, 30s, 5m, 1h (units ms s m h d w y)");
  }
}

TEST(FormatDuration, Shortest) {
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(1500ms), "1s500ms");
  EXPECT_EQ(FormatDuration(0ms), "0s");
}

}  // namespace
}  // namespace dse
