// A Clock whose time moves only when the test says so, or when the code
// under test waits: a wait passes at once, moves the clock by its length and
// is recorded. Single-threaded: the test and the code it drives share it.
#pragma once

#include <chrono>
#include <vector>

#include "common/clock.h"

namespace dse::testing {

class FakeClock : public Clock {
 public:
  // Far from the epochs, so that subtracting an interval never underflows.
  mutable std::chrono::steady_clock::time_point steady{std::chrono::steady_clock::time_point{} +
                                                       std::chrono::hours(1000)};
  mutable std::chrono::system_clock::time_point system{std::chrono::system_clock::from_time_t(1'800'000'000)};

  std::chrono::steady_clock::time_point SteadyNow() const override { return steady; }
  std::chrono::system_clock::time_point SystemNow() const override { return system; }
  mutable std::vector<std::chrono::steady_clock::duration> waits;  // each WaitFor, in order

  bool WaitFor(const StopSignal& stop, std::chrono::steady_clock::duration d) const override {
    if (stop.stopped()) return true;
    waits.push_back(d);
    Advance(d);
    return stop.stopped();
  }
  // Moves both clocks forward together.
  void Advance(std::chrono::steady_clock::duration d) const {
    steady += d;
    system += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
};

}  // namespace dse::testing
