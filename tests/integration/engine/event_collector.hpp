// A real ZeroMQ subscriber on its own thread, collecting [topic, json] messages for assertions.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace matthan::test {

struct ReceivedEvent {
  std::string topic;
  std::string payload;
  nlohmann::json json;
};

class EventCollector {
 public:
  EventCollector(const std::string& endpoint, const std::string& prefix);
  ~EventCollector();
  std::vector<ReceivedEvent> events() const;
  // Waits until `pred` holds for the events so far, or the timeout passes.
  bool wait_for(const std::function<bool(const std::vector<ReceivedEvent>&)>& pred, std::chrono::milliseconds timeout);

 private:
  void loop(std::string endpoint, std::string prefix);
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<ReceivedEvent> events_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace matthan::test
