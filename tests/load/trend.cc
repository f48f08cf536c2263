#include "trend.h"

#include <algorithm>
#include <cmath>

namespace dse::testing::load {
namespace {

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

std::vector<Point> WindowFloors(const std::vector<Point>& samples, double width) {
  std::vector<Point> floors;
  if (samples.empty() || width <= 0) return floors;
  const double x0 = samples.front().x;
  long current = -1;
  for (const Point& s : samples) {
    const long k = static_cast<long>(std::floor((s.x - x0) / width));
    if (k != current) {
      floors.push_back({x0 + (static_cast<double>(k) + 0.5) * width, s.y});
      current = k;
    } else {
      floors.back().y = std::min(floors.back().y, s.y);
    }
  }
  return floors;
}

double TheilSenSlope(const std::vector<Point>& points) {
  std::vector<double> slopes;
  slopes.reserve(points.size() * points.size() / 2);
  for (size_t i = 0; i < points.size(); ++i) {
    for (size_t j = i + 1; j < points.size(); ++j) {
      const double dx = points[j].x - points[i].x;
      if (dx != 0) slopes.push_back((points[j].y - points[i].y) / dx);
    }
  }
  return MedianOf(std::move(slopes));
}

Thirds MedianThirds(const std::vector<Point>& points) {
  const size_t third = points.size() / 3;
  if (third == 0) return {};
  std::vector<double> first;
  std::vector<double> last;
  for (size_t i = 0; i < third; ++i) {
    first.push_back(points[i].y);
    last.push_back(points[points.size() - third + i].y);
  }
  return {MedianOf(std::move(first)), MedianOf(std::move(last))};
}

}  // namespace dse::testing::load
