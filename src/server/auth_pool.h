// A small, bounded pool of threads for bcrypt checks, off the I/O threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dse::server {

// At most `limit` checks wait or run; the rest are refused at once, so a
// flood of guesses costs a bounded queue and answers 503 instead of making
// every request wait behind it.
class AuthPool {
 public:
  AuthPool(int threads, size_t limit);
  // Jobs still queued are dropped unanswered: the server is stopping.
  ~AuthPool();
  AuthPool(const AuthPool&) = delete;
  AuthPool& operator=(const AuthPool&) = delete;

  // Runs `check` on a pool thread, frees its slot, then calls `done` with
  // the result there: the slot is free by the time anyone hears the answer.
  // False, and neither is called, when `limit` checks already wait or run.
  bool TrySubmit(std::function<bool()> check, std::function<void(bool)> done);

 private:
  void Work();

  struct Job {
    std::function<bool()> check;
    std::function<void(bool)> done;
  };

  const size_t limit_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // guarded by mu_
  size_t running_ = 0;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace dse::server
