// spdlog set-up: plain or JSON lines on stderr, and one cached logger per camera.
#include "matthan/core/logging.hpp"

#include <mutex>
#include <unordered_map>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace matthan {
namespace {

std::mutex g_mu;
std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> g_cameras;  // guarded by g_mu
std::string g_pattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v";                    // guarded by g_mu

}  // namespace

void init_logging(const LogOptions& options) {
  std::lock_guard lock(g_mu);
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("matthan", sink);
  g_pattern = options.json
                  ? R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n","msg":"%v"})"
                  : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v";
  logger->set_pattern(g_pattern);
  logger->set_level(spdlog::level::from_str(options.level));
  spdlog::set_default_logger(logger);
  g_cameras.clear();
}

std::shared_ptr<spdlog::logger> camera_logger(const std::string& camera) {
  std::lock_guard lock(g_mu);
  auto it = g_cameras.find(camera);
  if (it != g_cameras.end()) return it->second;
  auto base = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(camera, base->sinks().begin(), base->sinks().end());
  logger->set_level(base->level());
  std::string pattern = g_pattern;
  const auto pos = pattern.find("%v");
  if (pos != std::string::npos) pattern.replace(pos, 2, "[%n] %v");
  logger->set_pattern(pattern);
  g_cameras.emplace(camera, logger);
  return logger;
}

}  // namespace matthan
