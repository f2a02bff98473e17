// The ZeroMQ PUB side of the event bus: one thread owns the socket, every other thread posts to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/result.hpp"

namespace matthan {

struct PublishedMessage {
  PublishedMessage() = default;
  PublishedMessage(std::string t, std::string p) : topic(std::move(t)), payload(std::move(p)) {}

  std::string topic;    // first frame, what subscribers filter on
  std::string payload;  // second frame (JSON)
  // When set, the payload is made on the publisher's thread by its Stage (the event bus: it gives the seq).
  std::function<std::string(std::uint64_t seq)> make;
};

class EventPublisher {
 public:
  // Binds a PUB socket (e.g. "tcp://127.0.0.1:5560", "tcp://127.0.0.1:*", "ipc:///run/matthan.sock")
  // on the publisher's own thread. Bind errors (address in use, bad endpoint) come back here.
  static Result<std::unique_ptr<EventPublisher>> bind(const std::string& endpoint, std::size_t queue_capacity = 4096);
  // Runs on the publisher's thread for each message, in queue order, just before it is sent (EventBus: seq,
  // payload, journal, subscribers). Set before the first post.
  using Stage = std::function<void(PublishedMessage&)>;
  static Result<std::unique_ptr<EventPublisher>> bind(const std::string& endpoint, std::size_t queue_capacity,
                                                      Stage stage);

  ~EventPublisher();
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Never blocks. When the queue is full the oldest queued message is dropped to make room (the newest
  // news matters most; seq lets subscribers see the gap), and false is returned. After stop(): false.
  bool post(PublishedMessage m);
  // Sends what is queued (bounded linger, about 1 s), closes the socket, joins the thread. Idempotent.
  void stop();

  std::uint64_t sent() const { return sent_.load(); }
  std::uint64_t dropped() const { return queue_.dropped() + send_failures_.load(); }
  std::string endpoint() const { return endpoint_; }  // the bound endpoint, with a wildcard port resolved

 private:
  struct Worker;
  EventPublisher(std::size_t queue_capacity, Stage stage);

  BoundedQueue<PublishedMessage> queue_;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> send_failures_{0};
  std::string endpoint_;  // written once before bind() returns, read-only after
  const Stage stage_;     // called on the publisher's thread only
  std::mutex stop_mu_;    // guards thread_ (joining)
  std::thread thread_;
};

}  // namespace matthan
