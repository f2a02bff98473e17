// Logging set-up (spdlog). Log lines name their camera: use camera_logger(id).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace matthan {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error
  bool json = false;           // one JSON object per line
};

void init_logging(const LogOptions& options);

// A logger whose lines carry "[camera-id]"; created once per camera and cached.
std::shared_ptr<spdlog::logger> camera_logger(const std::string& camera);

}  // namespace matthan
