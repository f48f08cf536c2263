// A Clock whose time moves only when the test says so.
#pragma once

#include <chrono>

#include "common/clock.h"

namespace dse::testing {

class FakeClock : public Clock {
 public:
  // Far from the epochs, so that subtracting an interval never underflows.
  std::chrono::steady_clock::time_point steady{std::chrono::steady_clock::time_point{} +
                                               std::chrono::hours(1000)};
  std::chrono::system_clock::time_point system{std::chrono::system_clock::from_time_t(1'800'000'000)};

  std::chrono::steady_clock::time_point SteadyNow() const override { return steady; }
  std::chrono::system_clock::time_point SystemNow() const override { return system; }
  // Moves both clocks forward together.
  void Advance(std::chrono::steady_clock::duration d) {
    steady += d;
    system += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
};

}  // namespace dse::testing
