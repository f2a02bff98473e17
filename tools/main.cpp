// `matthan`: the daemon and its subcommands (run, demo, sim, tail, check). Only this file decides to exit.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "matthan/app/config.hpp"
#include "matthan/app/console.hpp"
#include "matthan/app/engine.hpp"
#include "matthan/app/eval.hpp"
#include "matthan/app/net.hpp"
#include "matthan/app/tail.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/version.hpp"
#include "matthan/sim/simulator.hpp"

namespace {

using namespace matthan;

// Signals are blocked in every thread (set before any thread starts) and taken here synchronously,
// so no handler ever runs inside GStreamer or ZeroMQ code.
sigset_t blocked_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Waits for SIGINT/SIGTERM, or until `seconds` pass (when set). Returns the signal name or "time".
std::string wait_for_stop(std::optional<double> seconds) {
  const sigset_t set = blocked_signals();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long long>(seconds.value_or(0) * 1000));
  while (true) {
    timespec ts{0, 200'000'000};
    if (seconds) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) return "time";
      const auto ns = std::min<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count(), 200'000'000);
      ts.tv_nsec = static_cast<long>(ns);
    }
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
  }
}

int run_engine(Config config, std::optional<double> seconds) {
  auto engine = Engine::create(std::move(config), print_incident_line);
  if (!engine.ok()) {
    fmt::print(stderr, "matthan: cannot start: {}\n", engine.error().message);
    return 1;
  }
  (*engine)->start();
  const std::string why = wait_for_stop(seconds);
  spdlog::info("stop requested ({})", why);
  (*engine)->stop();
  return 0;
}

int cmd_run(const std::string& config_path, std::optional<double> seconds, const LogOptions& log_cli, bool log_cli_set) {
  ConfigLoad load = load_config_file(config_path);
  if (!load.ok()) {
    fmt::print(stderr, "matthan: invalid config ({} problem{}):\n{}", load.issues.size(),
               load.issues.size() == 1 ? "" : "s", load.error_text());
    return 2;
  }
  init_logging(log_cli_set ? log_cli : LogOptions{load.config.log.level, load.config.log.json});
  return run_engine(std::move(load.config), seconds);
}

int cmd_check(const std::string& config_path) {
  ConfigLoad load = load_config_file(config_path);
  if (!load.ok()) {
    fmt::print(stderr, "{}", load.error_text());
    return 2;
  }
  fmt::print("{}: OK, {} camera(s), storage at {}\n", config_path, load.config.cameras.size(),
             load.config.storage_root.string());
  return 0;
}

int cmd_sim(const std::string& listen, const std::vector<std::string>& sources, const std::string& cache) {
  init_logging({});
  auto addr = parse_listen_address(listen);
  if (!addr.ok()) {
    fmt::print(stderr, "matthan sim: --listen {}: {}\n", listen, addr.error().message);
    return 2;
  }
  SimOptions opts;
  opts.address = addr->host;
  opts.port = addr->port;
  if (!cache.empty()) opts.cache_dir = cache;
  for (const auto& s : sources) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      fmt::print(stderr, "matthan sim: --source '{}' must be NAME=PATH (or NAME=test:ball)\n", s);
      return 2;
    }
    opts.sources.push_back(SimSource{s.substr(0, eq), s.substr(eq + 1)});
  }
  auto sim = Simulator::start(std::move(opts));
  if (!sim.ok()) {
    fmt::print(stderr, "matthan sim: {}\n", sim.error().message);
    return 1;
  }
  for (const auto& url : (*sim)->urls()) fmt::print("{}\n", url);
  std::fflush(stdout);
  wait_for_stop(std::nullopt);
  (*sim)->stop();
  return 0;
}

int cmd_demo(double seconds, const std::string& data_dir) {
  init_logging({});
  const std::filesystem::path clip = kDemoClip;
  if (!std::filesystem::exists(clip)) {
    fmt::print(stderr, "matthan demo: {} is missing; install Debian's opencv-doc package (scripts/install-deps.sh does)\n",
               clip.string());
    return 1;
  }
  const int rtsp_port = free_local_port();
  const int events_port = free_local_port();
  SimOptions sim_opts;
  sim_opts.address = "127.0.0.1";
  sim_opts.port = rtsp_port;
  sim_opts.sources.push_back(SimSource{"vtest", clip.string()});
  fmt::print("demo: preparing the simulated camera (the first run transcodes {} to H.264 once)...\n", clip.filename().string());
  auto sim = Simulator::start(sim_opts);
  if (!sim.ok()) {
    fmt::print(stderr, "matthan demo: simulator: {}\n", sim.error().message);
    return 1;
  }
  const auto root = std::filesystem::absolute(data_dir).lexically_normal();
  ConfigLoad load = load_config_text(demo_config_yaml(rtsp_port, events_port, root), "<demo>", root);
  if (!load.ok()) {
    fmt::print(stderr, "matthan demo: internal config error:\n{}", load.error_text());
    return 1;
  }
  fmt::print("demo: simulated camera at {}\n", (*sim)->urls().front());
  fmt::print("demo: events on tcp://127.0.0.1:{} (try: matthan tail --connect tcp://127.0.0.1:{})\n", events_port,
             events_port);
  fmt::print("demo: running for {:.0f} s (Ctrl-C stops earlier); incidents:\n", seconds);
  std::fflush(stdout);
  const int rc = run_engine(std::move(load.config), seconds);
  (*sim)->stop();
  if (rc == 0) print_storage_summary(root);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask.
  const sigset_t set = blocked_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{"Matthan: video-surveillance ingest and event-detection engine"};
  app.set_version_flag("--version", std::string("matthan ") + MATTHAN_VERSION);
  app.require_subcommand(1);

  std::string config_path;
  std::optional<double> run_for;
  LogOptions log_cli;
  auto* run = app.add_subcommand("run", "Run the engine on a config until SIGINT/SIGTERM (or for --for seconds)");
  run->add_option("--config", config_path, "YAML config file")->required()->check(CLI::ExistingFile);
  run->add_option("--for", run_for, "Stop by itself after this many seconds")->check(CLI::PositiveNumber);
  auto* lvl = run->add_option("--log-level", log_cli.level, "trace|debug|info|warn|error (overrides the config)")
                  ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  auto* ljson = run->add_flag("--log-json", log_cli.json, "Log one JSON object per line (overrides the config)");

  std::string check_path;
  auto* check = app.add_subcommand("check", "Validate a config file and report every problem with file:line");
  check->add_option("--config", check_path, "YAML config file")->required();

  std::string listen = "127.0.0.1:8554";
  std::vector<std::string> sources;
  std::string cache;
  auto* sim = app.add_subcommand("sim", "Serve video files (looped for ever) or test:ball as RTSP cameras");
  sim->add_option("--listen", listen, "HOST:PORT to serve on")->capture_default_str();
  sim->add_option("--source", sources, "NAME=PATH (repeatable); PATH may be test:ball")->required();
  sim->add_option("--cache", cache, "Folder for transcoded copies (default ~/.cache/matthan/sim)");

  std::string endpoint;
  std::string topic;
  std::optional<int> count;
  auto* tail = app.add_subcommand("tail", "Subscribe to an engine's events and print each as one JSON line");
  tail->add_option("--connect", endpoint, "ZeroMQ endpoint, e.g. tcp://127.0.0.1:5560")->required();
  tail->add_option("--topic", topic, "Topic prefix, e.g. incident.gate-1.");
  tail->add_option("--count", count, "Exit after this many events")->check(CLI::PositiveNumber);

  double demo_for = 60;
  std::string demo_data = "./demo-data";
  auto* demo = app.add_subcommand("demo", "Serve Debian's vtest.avi as a simulated camera and run the engine on it");
  demo->add_option("--for", demo_for, "Seconds to run")->check(CLI::PositiveNumber)->capture_default_str();
  demo->add_option("--data", demo_data, "Where clips, snapshots and the index go")->capture_default_str();

  EvalOptions eval_opts;
  auto* eval = app.add_subcommand("eval", "Run a camera's analysis offline over a clip and score it against ground truth");
  eval->add_option("--clip", eval_opts.clip, "Video file")->required()->check(CLI::ExistingFile);
  eval->add_option("--config", eval_opts.config, "Config whose camera settings to use (default: motion only)")
      ->check(CLI::ExistingFile);
  eval->add_option("--camera", eval_opts.camera, "Camera id in the config (default: the first)");
  eval->add_option("--gt-masks", eval_opts.gt_masks, "Folder of gtNNNNNN.png masks (CDnet values)");
  eval->add_option("--gt-boxes", eval_opts.gt_boxes, "gt_summary.csv with x:y:w:h boxes per frame")
      ->check(CLI::ExistingFile);
  eval->add_option("--gt-offset", eval_opts.gt_offset, "Ground-truth number = decoded frame index + N")->capture_default_str();
  eval->add_option("--min-box-area", eval_opts.min_box_area, "Ground-truth blobs below this share of the frame are not counted")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  eval->add_flag("--json", eval_opts.json, "Print one JSON object");

  CLI11_PARSE(app, argc, argv);

  if (*run) return cmd_run(config_path, run_for, log_cli, lvl->count() > 0 || ljson->count() > 0);
  if (*check) return cmd_check(check_path);
  if (*sim) return cmd_sim(listen, sources, cache);
  if (*tail) return run_tail(endpoint, topic, count, [] { return false; });
  if (*demo) return cmd_demo(demo_for, demo_data);
  if (*eval) return run_eval(eval_opts);
  return 0;
}
