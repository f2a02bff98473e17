// The Engine: the one composition root that builds every module for a config and wires them together.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "matthan/app/config.hpp"
#include "matthan/core/result.hpp"

namespace matthan {

class Engine {
 public:
  // Called for every published message (after it went to ZeroMQ and the index); used by the console.
  using Listener = std::function<void(const std::string& topic, const std::string& payload)>;

  // Opens the index, binds the event socket and prepares every camera; nothing streams yet.
  static Result<std::unique_ptr<Engine>> create(Config config, Listener listener = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Graceful: cameras stop, open incidents end, clips in progress are finished, the index is flushed.
  void stop();

  std::string events_endpoint() const;
  std::string review_url() const;  // the web page's URL; empty without a `review:` block
  const Config& config() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
