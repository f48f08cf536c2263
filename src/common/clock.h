// Time sources, injected so that tests need no sleeps: steady time for
// intervals and deadlines, system time only for *_timestamp_seconds.
#pragma once

#include <chrono>

namespace dse {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  virtual std::chrono::system_clock::time_point SystemNow() const = 0;
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
};

}  // namespace dse
