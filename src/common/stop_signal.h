// A one-way "stop now" flag that sleepers can wait on, so that shutdown
// interrupts backoff and interval waits at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace dse {

class StopSignal {
 public:
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // Waits up to `d`; returns true when stopped (before or during the wait).
  template <typename Rep, typename Period>
  bool WaitFor(std::chrono::duration<Rep, Period> d) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_
};

}  // namespace dse
