#include "server/accept_encoding.h"

#include <gtest/gtest.h>

namespace dse::server {
namespace {

TEST(AcceptsGzip, PlainListings) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br,gzip"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip(" deflate , gzip "));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
  EXPECT_FALSE(AcceptsGzip("x-gzip-not"));
}

TEST(AcceptsGzip, QValues) {
  EXPECT_TRUE(AcceptsGzip("gzip;q=1"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=1.0"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("gzip; q=0.001"));
  EXPECT_TRUE(AcceptsGzip("gzip;Q=0.8"));
  EXPECT_TRUE(AcceptsGzip("gzip ; q = 0.8"));  // tolerated whitespace
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("deflate, gzip;q=0, br"));
}

TEST(AcceptsGzip, MalformedQValueIsNotAcceptable) {
  EXPECT_FALSE(AcceptsGzip("gzip;q="));
  EXPECT_FALSE(AcceptsGzip("gzip;q=abc"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=2"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=1.5"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.0001"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=-1"));
}

TEST(AcceptsGzip, OtherParametersAreIgnored) {
  EXPECT_TRUE(AcceptsGzip("gzip;level=9"));
  EXPECT_FALSE(AcceptsGzip("gzip;level=9;q=0"));
}

TEST(AcceptsGzip, Wildcard) {
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("br, *;q=0.1"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  // An explicit gzip element wins over the wildcard, either way.
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));
  EXPECT_TRUE(AcceptsGzip("gzip, *;q=0"));
}

TEST(AcceptsGzip, JoinedHeaderLines) {
  EXPECT_TRUE(AcceptsGzip("br,gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=0,gzip"));  // any acceptable mention wins
  EXPECT_TRUE(AcceptsGzip(",,gzip,"));
}

}  // namespace
}  // namespace dse::server
