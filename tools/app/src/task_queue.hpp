// An unbounded queue of posted tasks for one owning thread (Envoy's dispatcher post()): used where a
// message must never be dropped (incident ends, clip requests). Callers keep the rate bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace matthan {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  void post(Task t) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(t));
    }
    cv_.notify_one();
  }

  // Runs every task queued now, waiting up to `wait` for the first. Returns how many ran.
  template <class Rep, class Period>
  std::size_t run_pending(std::chrono::duration<Rep, Period> wait) {
    std::deque<Task> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [&] { return !tasks_.empty(); });
      batch.swap(tasks_);
    }
    for (auto& t : batch) t();
    return batch.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;  // guarded by mu_
};

}  // namespace matthan
