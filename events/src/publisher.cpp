// EventPublisher: a PUB socket owned by one thread, fed by a bounded queue that drops and counts.
#include "matthan/events/publisher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <zmq.hpp>

namespace matthan {
namespace {

// How long closing may wait for queued messages to leave; bounded so shutdown cannot hang on a
// subscriber that stopped reading.
constexpr int kLingerMs = 1000;
constexpr auto kPollInterval = std::chrono::milliseconds(200);

}  // namespace

// Everything that touches ZeroMQ; runs on the publisher's thread only.
struct EventPublisher::Worker {
  EventPublisher& owner;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pub};
  bool warned = false;

  Result<std::string> bind(const std::string& endpoint) {
    try {
      socket.set(zmq::sockopt::linger, kLingerMs);
      socket.bind(endpoint);
      return socket.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return make_error(fmt::format("cannot bind the event publisher to '{}': {}", endpoint, e.what()));
    }
  }

  void send(const PublishedMessage& m) {
    try {
      // PUB never blocks on a slow subscriber (it drops at the high-water mark); dontwait makes sure.
      const auto first = socket.send(zmq::buffer(m.topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      const auto second = first ? socket.send(zmq::buffer(m.payload), zmq::send_flags::dontwait) : first;
      if (second) {
        owner.sent_.fetch_add(1);
        return;
      }
    } catch (const zmq::error_t& e) {
      if (!warned) spdlog::warn("event publisher: sending on {} failed: {}", owner.endpoint_, e.what());
      warned = true;
    }
    owner.send_failures_.fetch_add(1);
  }

  // Until stop(): send each posted message; after it, drain what is left and return.
  void run() {
    for (;;) {
      std::optional<PublishedMessage> m = owner.queue_.pop_for(kPollInterval);
      if (m) {
        if (owner.stage_) owner.stage_(*m);
        send(*m);
      } else if (owner.queue_.closed()) {
        return;
      }
    }
  }
};

EventPublisher::EventPublisher(std::size_t queue_capacity, Stage stage)
    : queue_(queue_capacity), stage_(std::move(stage)) {}

Result<std::unique_ptr<EventPublisher>> EventPublisher::bind(const std::string& endpoint, std::size_t queue_capacity) {
  return bind(endpoint, queue_capacity, nullptr);
}

Result<std::unique_ptr<EventPublisher>> EventPublisher::bind(const std::string& endpoint, std::size_t queue_capacity,
                                                             Stage stage) {
  std::unique_ptr<EventPublisher> pub(new EventPublisher(queue_capacity, std::move(stage)));
  std::promise<Result<std::string>> bound_promise;
  std::future<Result<std::string>> bound = bound_promise.get_future();
  EventPublisher* self = pub.get();
  pub->thread_ = std::thread([self, endpoint, promise = std::move(bound_promise)]() mutable {
    Worker worker{*self};
    Result<std::string> r = worker.bind(endpoint);
    const bool ok = r.ok();
    if (ok) self->endpoint_ = r.value();  // written before the promise is fulfilled, read after
    promise.set_value(std::move(r));
    if (ok) worker.run();
  });
  Result<std::string> result = bound.get();
  if (!result) {
    pub->stop();
    return result.error();
  }
  return pub;
}

EventPublisher::~EventPublisher() {
  stop();
}

bool EventPublisher::post(PublishedMessage m) {
  return queue_.push(std::move(m));
}

void EventPublisher::stop() {
  std::lock_guard lock(stop_mu_);
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

}  // namespace matthan
