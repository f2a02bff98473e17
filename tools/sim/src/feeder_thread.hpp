// The feeding thread shared by the simulator's feeders (StreamFeeder, OnsetFeeder): started by start(),
// stopped and joined by stop() (idempotent, safe from any thread but the feeding one), and a sleep that a
// stop request cuts short.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace matthan {

class FeederThread {
 public:
  FeederThread() = default;
  ~FeederThread() { stop(); }
  FeederThread(const FeederThread&) = delete;
  FeederThread& operator=(const FeederThread&) = delete;

  // Runs body(stop_token) on a new thread; call once.
  void start(std::function<void(std::stop_token)> body) {
    std::lock_guard life(life_mu_);
    thread_ = std::jthread(std::move(body));
  }

  void stop() {
    std::lock_guard life(life_mu_);
    if (!thread_.joinable()) return;
    thread_.request_stop();
    thread_.join();
    thread_ = std::jthread();
  }

  // Sleeps until t; false when a stop was requested (before or during the wait).
  bool wait_until(const std::stop_token& stop, std::chrono::steady_clock::time_point t) {
    std::unique_lock lock(wait_mu_);
    wait_cv_.wait_until(lock, stop, t, [] { return false; });
    return !stop.stop_requested();
  }

 private:
  std::mutex wait_mu_;  // guards nothing; pairs with wait_cv_
  std::condition_variable_any wait_cv_;
  std::mutex life_mu_;  // guards thread_
  std::jthread thread_;
};

}  // namespace matthan
