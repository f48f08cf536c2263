// Trend statistics for soak tests: a process's resident memory swings by
// whole buffers within a poll cycle, so single readings say nothing about a
// leak. These reduce a run of readings to the floor of each window (the
// heap's low point, where the same phase of every cycle lands) and fit a
// slope to those floors that a few outliers cannot move.
#pragma once

#include <vector>

namespace dse::testing::load {

struct Point {
  double x = 0;
  double y = 0;
};

// The lowest y of each run of samples whose x falls in [x0 + k*width,
// x0 + (k+1)*width), at the window's middle; windows without samples are
// left out. `samples` must be ordered by x.
std::vector<Point> WindowFloors(const std::vector<Point>& samples, double width);

// The Theil-Sen estimator: the median of the slopes between every pair of
// points with distinct x. Up to ~29% of the points can be wild without
// moving it, unlike least squares. 0 for fewer than two points.
double TheilSenSlope(const std::vector<Point>& points);

// Medians of y over the first and the last third of the points.
struct Thirds {
  double first = 0;
  double last = 0;
};
Thirds MedianThirds(const std::vector<Point>& points);

}  // namespace dse::testing::load
