#include "common/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace dse {
namespace {

TEST(ParseDecimal, TheWholeTextOrNothing) {
  EXPECT_EQ(ParseDecimal<int64_t>("42"), 42);
  EXPECT_EQ(ParseDecimal<int64_t>("-7"), -7);
  EXPECT_EQ(ParseDecimal<int64_t>("0"), 0);
  EXPECT_EQ(ParseDecimal<int64_t>(""), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>(" 1"), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>("1 "), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>("+1"), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>("1.5"), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>("0x10"), std::nullopt);
  EXPECT_EQ(ParseDecimal<int64_t>("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseDecimal<int64_t>("9223372036854775808"), std::nullopt);
}

TEST(ParseDecimal, UnsignedTakesNoSign) {
  EXPECT_EQ(ParseDecimal<uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseDecimal<uint64_t>("-1"), std::nullopt);
}

}  // namespace
}  // namespace dse
