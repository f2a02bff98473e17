// One short `matthan run` on a generated config, with a real ZeroMQ subscriber on every topic: what the
// single-camera e2e suites (substream, MJPEG) share.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "event_collector.hpp"

namespace matthan::test {

struct EngineRun {
  std::filesystem::path root;        // storage.root of the run (clips and snapshots are under it)
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

}  // namespace matthan::test
