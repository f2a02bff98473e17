// The subscriber thread behind EventCollector.
#include "event_collector.hpp"

#include <zmq.hpp>

namespace matthan::test {

EventCollector::EventCollector(const std::string& endpoint, const std::string& prefix)
    : thread_([this, endpoint, prefix] { loop(endpoint, prefix); }) {}

EventCollector::~EventCollector() {
  stop_ = true;
  thread_.join();
}

void EventCollector::loop(std::string endpoint, std::string prefix) {
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, prefix);
  sub.connect(endpoint);  // connects (and reconnects) whether or not the engine is up yet
  while (!stop_) {
    zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    zmq::message_t topic, payload;
    if (!sub.recv(topic) || !topic.more() || !sub.recv(payload)) continue;
    ReceivedEvent e{topic.to_string(), payload.to_string(), nlohmann::json::parse(payload.to_string(), nullptr, false)};
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
}

std::vector<ReceivedEvent> EventCollector::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

bool EventCollector::wait_for(const std::function<bool(const std::vector<ReceivedEvent>&)>& pred,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(events())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred(events());
}

}  // namespace matthan::test
