// One short `matthan run` on a generated config, with a real ZeroMQ subscriber on every topic: what the
// single-camera e2e suites (substream, MJPEG) share.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "event_collector.hpp"

namespace matthan::test {

struct EngineRun {
  std::filesystem::path root;         // storage.root of the run (clips and snapshots are under it)
  std::vector<ReceivedEvent> events;  // every message published, in order
  std::string output;                 // the engine's stdout and its log (for failure messages)
};

// Writes `<dir>/<name>.yaml`: node, storage root `<dir>/<name>`, events on a free 127.0.0.1 port, heartbeat
// every 2 s, then `body` (defaults: and cameras:, as YAML at the top level). Runs the engine with
// `--for seconds`, expects exit 0 (a gtest failure otherwise), and returns what was received.
// The `defaults:` block these runs share: analysis at 5 fps, motion that starts within a second of a person
// walking in and ends 2 s after, clips with 2 s pre-roll and 1 s post-roll. `extra` is appended inside the
// block (lines indented by two spaces, each ending in a newline).
std::string short_run_defaults(const std::string& extra = {});

EngineRun run_engine_for(const std::filesystem::path& dir, const std::string& name, const std::string& body,
                         int seconds);

// For a fixture that runs the engine once per test: `run_engine` keeps the run's storage root and output in
// root_ and output_ (for the test's assertions and failure messages) and returns its events.
class LastEngineRun {
 protected:
  std::vector<ReceivedEvent> run_engine(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& body, int seconds) {
    EngineRun r = run_engine_for(dir, name, body, seconds);
    root_ = std::move(r.root);
    output_ = std::move(r.output);
    return std::move(r.events);
  }

  std::filesystem::path root_;
  std::string output_;
};

}  // namespace matthan::test
