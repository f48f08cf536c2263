#include "trend.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dse::testing::load {
namespace {

// A sawtooth like a heap under polls: 4 MiB of buffers come and go within
// each 0.1 s cycle over a floor that rises by `leak_per_s`.
std::vector<Point> Sawtooth(double seconds, double leak_per_s) {
  std::vector<Point> v;
  for (double t = 0; t < seconds; t += 0.02) {
    const double phase = std::fmod(t, 0.1) / 0.1;
    v.push_back({t, 20000 + leak_per_s * t + 4096 * phase});
  }
  return v;
}

TEST(Trend, FloorsFollowTheLowPointOfEachWindow) {
  const auto floors = WindowFloors({{0, 5}, {0.4, 3}, {0.9, 7}, {1.2, 9}, {3.5, 1}}, 1.0);
  ASSERT_EQ(floors.size(), 3u);
  EXPECT_DOUBLE_EQ(floors[0].x, 0.5);
  EXPECT_DOUBLE_EQ(floors[0].y, 3);
  EXPECT_DOUBLE_EQ(floors[1].x, 1.5);
  EXPECT_DOUBLE_EQ(floors[1].y, 9);
  EXPECT_DOUBLE_EQ(floors[2].x, 3.5);  // the empty window 2 is left out
  EXPECT_DOUBLE_EQ(floors[2].y, 1);
}

TEST(Trend, FlatSawtoothHasNoSlopeAndALeakShowsItsRate) {
  EXPECT_NEAR(TheilSenSlope(WindowFloors(Sawtooth(40, 0), 1.0)), 0, 1);
  EXPECT_NEAR(TheilSenSlope(WindowFloors(Sawtooth(40, 80), 1.0)), 80, 2);
}

TEST(Trend, OutliersDoNotMoveTheSlope) {
  std::vector<Point> v;
  for (int i = 0; i < 30; ++i) v.push_back({static_cast<double>(i), 100.0 + 2 * i});
  v[5].y = 1e6;
  v[20].y = -1e6;
  v[27].y = 5e5;
  EXPECT_DOUBLE_EQ(TheilSenSlope(v), 2);
}

TEST(Trend, MedianThirds) {
  std::vector<Point> v;
  for (int i = 0; i < 9; ++i) v.push_back({static_cast<double>(i), static_cast<double>(i * 10)});
  const Thirds t = MedianThirds(v);
  EXPECT_DOUBLE_EQ(t.first, 10);
  EXPECT_DOUBLE_EQ(t.last, 70);
  EXPECT_DOUBLE_EQ(MedianThirds({{0, 1}, {1, 2}}).first, 0);  // too few points
  EXPECT_DOUBLE_EQ(TheilSenSlope({{1, 1}}), 0);
}

}  // namespace
}  // namespace dse::testing::load
