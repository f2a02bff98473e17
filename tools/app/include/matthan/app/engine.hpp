// The Engine: the one composition root that builds every module for a config and wires them together.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "matthan/app/config.hpp"
#include "matthan/app/config_diff.hpp"
#include "matthan/core/result.hpp"

namespace matthan {

// What a reload did: applied (the diff), or rejected as a whole (the errors; the running config stays).
struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> errors;  // "FILE:LINE:COL: KEY: MESSAGE", or why a camera could not be built
  ConfigDiff diff;
  std::string answer() const;  // "ok" or "error", then one line per fact (the control socket's reply)
};

struct EngineOptions {
  // Log each incident's first-frame arrival beside its publication ("incident ID latency: ..."), for the
  // benchmark harness's latency phase (`matthan run --trace-latency`). Off: no arrival is kept per frame.
  bool trace_latency = false;
};

class Engine {
 public:
  // Called for every published message (after it went to ZeroMQ and the index); used by the console.
  using Listener = std::function<void(const std::string& topic, const std::string& payload)>;

  // Opens the index, binds the event socket and prepares every camera; nothing streams yet.
  static Result<std::unique_ptr<Engine>> create(Config config, Listener listener = {}, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Graceful: cameras stop, open incidents end, clips in progress are finished, the index is flushed.
  void stop();

  // Applies a newly read config while running (SIGHUP, `matthan reload`): added cameras start, removed
  // ones stop cleanly (open incidents end, clips finish, `end` published), changed ones restart alone, the
  // others are not touched. Node-level changes are reported as needing a restart, not applied. An invalid
  // `load` (or a camera that cannot be built) is rejected as a whole. Either way a `config` event goes out
  // and the heartbeat carries the outcome. One reload at a time; call only between start() and stop().
  ReloadOutcome reload(const ConfigLoad& load);

  std::string events_endpoint() const;
  std::string review_url() const;  // the web page's URL; empty without a `review:` block
  Config config() const;  // the config in force (after reloads: their cameras, the node-level settings of start)

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
