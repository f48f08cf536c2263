#include "server/auth_pool.h"

#include <utility>

namespace dse::server {

AuthPool::AuthPool(int threads, size_t limit) : limit_(limit) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

AuthPool::~AuthPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool AuthPool::TrySubmit(std::function<bool()> check, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() + running_ >= limit_) return false;
    jobs_.push_back({std::move(check), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void AuthPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.unlock();
    const bool ok = job.check();
    lock.lock();
    --running_;
    lock.unlock();
    job.done(ok);
    job = {};  // releases what the job holds outside the lock
    lock.lock();
  }
}

}  // namespace dse::server
