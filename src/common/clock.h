// Time sources, injected so that tests need no sleeps: steady time for
// intervals and deadlines, system time only for *_timestamp_seconds, and
// every wait (retry backoff, Retry-After, the poll interval), so that a fake
// clock passes time without sleeping.
#pragma once

#include <chrono>

#include "common/stop_signal.h"

namespace dse {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  virtual std::chrono::system_clock::time_point SystemNow() const = 0;
  // Lets `d` of steady time pass unless `stop` is stopped first; true when
  // stopped (before or during the wait).
  virtual bool WaitFor(const StopSignal& stop, std::chrono::steady_clock::duration d) const = 0;
  double UnixNow() const { return std::chrono::duration<double>(SystemNow().time_since_epoch()).count(); }
};

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point SystemNow() const override {
    return std::chrono::system_clock::now();
  }
  bool WaitFor(const StopSignal& stop, std::chrono::steady_clock::duration d) const override {
    return stop.WaitFor(d);
  }
};

}  // namespace dse
