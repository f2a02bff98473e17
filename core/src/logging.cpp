// spdlog set-up: plain or JSON lines on stderr (journald-friendly under systemd), one cached logger per camera.
#include "matthan/core/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace matthan {
namespace {

std::mutex g_mu;
std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> g_cameras;  // guarded by g_mu
std::string g_pattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v";                    // guarded by g_mu

// "%*": the sd-daemon(3) priority prefix journald strips and turns into the entry's PRIORITY.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char* p = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        p = "<7>";
        break;
      case spdlog::level::info:
        p = "<6>";
        break;
      case spdlog::level::warn:
        p = "<4>";
        break;
      case spdlog::level::err:
        p = "<3>";
        break;
      case spdlog::level::critical:
        p = "<2>";
        break;
      default:
        break;
    }
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriorityFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<SyslogPriorityFlag>('*').set_pattern(pattern);
  return f;
}

std::string pattern_for(const LogOptions& options, bool journal) {
  if (options.json) {
    const std::string json = R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n","msg":"%v"})";
    return journal ? "%*" + json : json;
  }
  return journal ? "%*%l %v" : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v";
}

}  // namespace

bool journal_stream_is_stderr() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

void init_logging(const LogOptions& options) {
  std::lock_guard lock(g_mu);
  const bool journal = options.journal.value_or(journal_stream_is_stderr());
  spdlog::sink_ptr sink;
  if (journal)
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();  // never colours
  else
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("matthan", sink);
  g_pattern = pattern_for(options, journal);
  logger->set_formatter(make_formatter(g_pattern));
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
  logger->set_formatter(make_formatter(pattern));
  g_cameras.emplace(camera, logger);
  return logger;
}

}  // namespace matthan
