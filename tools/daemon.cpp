// The daemon side of `matthan` (daemon.hpp): signals, run, reload, demo.
#include "daemon.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "matthan/app/config.hpp"
#include "matthan/app/console.hpp"
#include "matthan/app/control.hpp"
#include "matthan/app/engine.hpp"
#include "matthan/app/eval.hpp"
#include "matthan/app/evidence.hpp"
#include "matthan/app/net.hpp"
#include "matthan/app/probe.hpp"
#include "matthan/app/scan.hpp"
#include "matthan/app/tail.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/version.hpp"
#include "matthan/detect/opencv_threads.hpp"
#include "matthan/review/auth.hpp"
#include "matthan/sim/simulator.hpp"

namespace matthan::cli {

// Signals are blocked in every thread (set before any thread starts) and taken here synchronously,
// so no handler ever runs inside GStreamer or ZeroMQ code. SIGHUP is taken the same way by `run` only
// (its reload then runs as plain code); the other commands keep its default (end on a terminal hangup).
sigset_t blocked_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

sigset_t hangup_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits for SIGINT/SIGTERM, or until `seconds` pass (when set). Returns the signal name or "time".
// SIGHUP calls `on_hangup` (the engine's reload) when there is one; otherwise it is not waited for.
std::string wait_for_stop(std::optional<double> seconds, const std::function<void()>& on_hangup) {
  sigset_t set = blocked_signals();
  if (on_hangup) sigaddset(&set, SIGHUP);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(seconds.value_or(0) * 1000));
  while (true) {
    timespec ts{0, 200'000'000};
    if (seconds) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) return "time";
      const auto ns =
          std::min<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count(), 200'000'000);
      ts.tv_nsec = static_cast<long>(ns);
    }
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    if (sig == SIGHUP && on_hangup) on_hangup();
  }
}

namespace {

// SIGHUP and the control socket's `reload`: read the file again and let the engine apply the difference.
ReloadOutcome reload_from(Engine& engine, const std::filesystem::path& config_path, const char* via) {
  spdlog::info("reload requested ({}): reading {}", via, config_path.string());
  return engine.reload(load_config_file(config_path));
}

std::unique_ptr<ControlServer> start_control(Engine& engine, const std::filesystem::path& config_path) {
  const auto socket = engine.config().control.socket;
  auto server = ControlServer::start(socket, [&engine, config_path](const std::string& command) {
    if (command == "reload") return reload_from(engine, config_path, "control socket").answer();
    return fmt::format("error: unknown command '{}' (known: reload)\n", command);
  });
  if (!server.ok()) {
    spdlog::warn(
        "control socket not available ({}); `matthan reload` will not reach this engine, SIGHUP still "
        "reloads",
        server.error().message);
    return nullptr;
  }
  spdlog::info("control socket at {} (matthan reload)", socket.string());
  return std::move(server.value());
}

}  // namespace

// `config_path` is empty for the demo's embedded config (which cannot be reloaded).
int run_engine(Config config, std::optional<double> seconds, bool demo_login, const std::filesystem::path& config_path,
               EngineOptions options) {
  auto engine = Engine::create(std::move(config), print_incident_line, options);
  if (!engine.ok()) {
    fmt::print(stderr, "matthan: cannot start: {}\n", engine.error().message);
    return 1;
  }
  if (const std::string url = (*engine)->review_url(); !url.empty()) {
    fmt::print("review: web page at {}\n", url);
    if (demo_login) fmt::print("review: demo login (demo only): user '{}', password '{}'\n", kDemoUser, kDemoPassword);
    std::fflush(stdout);
  }
  Engine& eng = **engine;
  eng.start();
  std::unique_ptr<ControlServer> control;
  std::function<void()> on_hangup;
  if (!config_path.empty()) {
    control = start_control(eng, config_path);
    on_hangup = [&eng, &config_path] { reload_from(eng, config_path, "SIGHUP"); };
  }
  const std::string why = wait_for_stop(seconds, on_hangup);
  spdlog::info("stop requested ({})", why);
  if (control) control->stop();  // no reload may start while the engine stops
  eng.stop();
  return 0;
}

int cmd_run(const std::string& config_path, std::optional<double> seconds, const LogOptions& log_cli, bool log_cli_set,
            EngineOptions options) {
  ConfigLoad load = load_config_file(config_path);
  if (!load.ok()) {
    fmt::print(stderr, "matthan: invalid config ({} problem{}):\n{}", load.issues.size(),
               load.issues.size() == 1 ? "" : "s", load.error_text());
    return 2;
  }
  init_logging(log_cli_set ? log_cli : LogOptions{load.config.log.level, load.config.log.json, std::nullopt});
  return run_engine(std::move(load.config), seconds, false, std::filesystem::absolute(config_path), options);
}

// `matthan reload`: asks a running engine to re-read its config and prints what it did.
int cmd_reload(const std::string& config_path, const std::string& socket_path, double timeout_s) {
  std::filesystem::path socket = socket_path;
  if (socket.empty()) {
    ConfigLoad load = load_config_file(config_path);
    if (!load.ok()) {
      fmt::print(stderr, "matthan reload: {} is invalid, so the engine would reject it:\n{}", config_path,
                 load.error_text());
      return 2;
    }
    socket = load.config.control.socket;
  }
  auto answer = control_request(socket, "reload", timeout_s);
  if (!answer.ok()) {
    fmt::print(stderr, "matthan reload: {}\n", answer.error().message);
    return 1;
  }
  fmt::print("{}", answer.value());
  return answer.value().rfind("ok", 0) == 0 ? 0 : 1;
}

int cmd_demo(double seconds, const std::string& data_dir, int review_port_opt) {
  init_logging({});
  const std::filesystem::path clip = kDemoClip;
  if (!std::filesystem::exists(clip)) {
    fmt::print(stderr,
               "matthan demo: {} is missing; install Debian's opencv-doc package (scripts/install-deps.sh does)\n",
               clip.string());
    return 1;
  }
  const int rtsp_port = free_local_port();
  const int events_port = free_local_port();
  const int review_port = review_port_opt > 0 ? review_port_opt : free_local_port();
  SimOptions sim_opts;
  sim_opts.address = "127.0.0.1";
  sim_opts.port = rtsp_port;
  sim_opts.sources.push_back(SimSource{"vtest", clip.string()});
  fmt::print("demo: preparing the simulated camera (the first run transcodes {} to H.264 once)...\n",
             clip.filename().string());
  auto sim = Simulator::start(sim_opts);
  if (!sim.ok()) {
    fmt::print(stderr, "matthan demo: simulator: {}\n", sim.error().message);
    return 1;
  }
  const auto root = std::filesystem::absolute(data_dir).lexically_normal();
  auto demo_hash = hash_password(kDemoPassword);
  if (!demo_hash.ok()) {
    fmt::print(stderr, "matthan demo: {}\n", demo_hash.error().message);
    return 1;
  }
  const std::string yaml =
      demo_config_yaml(rtsp_port, events_port, root) + demo_review_yaml(review_port, demo_hash.value());
  ConfigLoad load = load_config_text(yaml, "<demo>", root);
  if (!load.ok()) {
    fmt::print(stderr, "matthan demo: internal config error:\n{}", load.error_text());
    return 1;
  }
  fmt::print("demo: simulated camera at {}\n", (*sim)->urls().front());
  fmt::print("demo: events on tcp://127.0.0.1:{} (try: matthan tail --connect tcp://127.0.0.1:{})\n", events_port,
             events_port);
  fmt::print("demo: running for {:.0f} s (Ctrl-C stops earlier); incidents:\n", seconds);
  std::fflush(stdout);
  const int rc = run_engine(std::move(load.config), seconds, true);
  (*sim)->stop();
  if (rc == 0) print_storage_summary(root);
  return rc;
}

}  // namespace matthan::cli
