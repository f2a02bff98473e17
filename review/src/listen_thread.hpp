// The accept loop of a bound cpp-httplib server on its own thread, and a stop without httplib's race:
// Server::stop() does nothing when called before the loop has begun, which would leave join() waiting
// for ever. stop() therefore waits for the loop to run (or to have ended) before stopping it.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace matthan::review_detail {

class ListenThread {
 public:
  ListenThread() = default;
  ListenThread(const ListenThread&) = delete;
  ListenThread& operator=(const ListenThread&) = delete;
  ~ListenThread() {
    if (thread_.joinable()) thread_.join();  // stop() was not called: only after the loop ended on its own
  }

  // `server` must be bound (bind_to_port / bind_to_any_port) and outlive stop().
  void start(httplib::Server& server) {
    thread_ = std::thread([this, &server] {
      server.listen_after_bind();
      finished_ = true;
    });
  }

  // Idempotent; returns once the loop has ended and the thread is joined.
  void stop(httplib::Server& server) {
    if (!thread_.joinable()) return;
    while (!server.is_running() && !finished_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server.stop();
    thread_.join();
  }

 private:
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

}  // namespace matthan::review_detail
