// Logging set-up (spdlog). Log lines name their camera: use camera_logger(id).
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace spdlog {
class logger;
}

namespace matthan {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error
  bool json = false;           // one JSON object per line
  // Under systemd: no timestamps or colours (the journal adds its own), and a "<N>" syslog priority
  // prefix on each line so `journalctl -p` works. nullopt: detect it (journal_stream_is_stderr()).
  std::optional<bool> journal;
};

// True when JOURNAL_STREAM names the file stderr is connected to, i.e. systemd passed our stderr to the
// journal (a child that inherited the variable but has its own stderr does not match).
bool journal_stream_is_stderr();

void init_logging(const LogOptions& options);

// A logger whose lines carry "[camera-id]"; created once per camera and cached.
std::shared_ptr<spdlog::logger> camera_logger(const std::string& camera);

}  // namespace matthan
