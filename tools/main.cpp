// `matthan`: the daemon and its subcommands (run, reload, demo, sim, tail, check, probe, export, verify,
// events, passwd, eval, scan). Only this file decides to exit.
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

#include "daemon.hpp"
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

namespace {

using namespace matthan;
using namespace matthan::cli;

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

// "NAME=VALUE" -> {NAME, VALUE}; nullopt when either side is empty.
std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) return std::nullopt;
  return std::pair{s.substr(0, eq), s.substr(eq + 1)};
}

int cmd_sim(const std::string& listen, const std::vector<std::string>& sources, const std::vector<std::string>& then,
            const std::string& codec, const std::string& cache, const std::string& onset_log, int onset_period) {
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
  if (!onset_log.empty()) opts.onset_log = onset_log;
  opts.onset_period_frames = onset_period;
  if (codec != "h264" && codec != "h265") {
    fmt::print(stderr, "matthan sim: --codec '{}': use h264 or h265\n", codec);
    return 2;
  }
  for (const auto& s : sources) {
    const auto kv = split_assignment(s);
    if (!kv) {
      fmt::print(stderr, "matthan sim: --source '{}' must be NAME=PATH (or NAME=test:ball, NAME=test:onsets)\n", s);
      return 2;
    }
    SimSource source{kv->first, kv->second};
    source.codec = codec == "h265" ? SimCodec::kH265 : SimCodec::kH264;
    opts.sources.push_back(std::move(source));
  }
  for (const auto& t : then) {
    const auto kv = split_assignment(t);
    auto it = kv ? std::find_if(opts.sources.begin(), opts.sources.end(),
                                [&](const SimSource& s) { return s.name == kv->first; })
                 : opts.sources.end();
    if (it == opts.sources.end()) {
      fmt::print(stderr, "matthan sim: --then '{}' must be NAME=PATH for a NAME given with --source\n", t);
      return 2;
    }
    it->then.push_back(kv->second);
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

// Reads a password without echo from a terminal, or one line from a pipe (for scripts).
std::optional<std::string> read_password(const char* prompt) {
  const bool tty = isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    fmt::print(stderr, "{}", prompt);
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fmt::print(stderr, "\n");
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// `matthan passwd`: prints an argon2id hash for review.users[].password_hash.
int cmd_passwd() {
  auto pw = read_password("password: ");
  if (!pw || pw->empty()) {
    fmt::print(stderr, "matthan passwd: no password given\n");
    return 2;
  }
  if (pw->size() < 8) {
    fmt::print(stderr, "matthan passwd: use at least 8 characters\n");
    return 2;
  }
  if (isatty(STDIN_FILENO)) {
    auto again = read_password("again: ");
    if (!again || *again != *pw) {
      fmt::print(stderr, "matthan passwd: the two passwords differ\n");
      return 2;
    }
  }
  auto hash = hash_password(*pw);
  if (!hash.ok()) {
    fmt::print(stderr, "matthan passwd: {}\n", hash.error().message);
    return 1;
  }
  fmt::print("{}\n", hash.value());
  return 0;
}

int cmd_probe(const ProbeRequest& request, bool json) {
  init_logging({"warn", false, std::nullopt});
  const ProbeReport report = probe_camera(request);
  fmt::print("{}", json ? format_probe_json(report) : format_probe_text(report));
  return report.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Reconnects start fresh GStreamer streaming threads; uncapped, glibc gives each its own malloc arena and
  // RSS creeps up by arenas (measured +15 % over 90 reconnect cycles). Two arenas keep it flat.
  mallopt(M_ARENA_MAX, 2);
  // Cameras run in parallel on the engine's analysis workers, so every OpenCV call runs on its caller's
  // thread. OpenCV's default pool (TBB) spun between calls: one busy 720p camera with objects on cost 0.237
  // CPU-s per second with it and 0.171 without, for the same forward calls (harness runs in
  // bench/journal/2026-12-07-forward-call-and-detection-budget.md; per call: BM_DnnForward).
  limit_opencv_threads(1);
  // Before any thread exists, so every thread inherits the mask.
  const sigset_t set = blocked_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const sigset_t hup = hangup_signal();

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
  EngineOptions engine_options;
  run->add_flag("--trace-latency", engine_options.trace_latency,
                "Log each incident's first-frame arrival beside its publication (the benchmark's latency phase)");

  std::string reload_config = "/etc/matthan/matthan.yaml", reload_socket;
  double reload_timeout = kReloadAnswerTimeout;
  auto* reload = app.add_subcommand(
      "reload", "Make a running engine re-read its config (as SIGHUP does) and print what changed, or the errors");
  auto* reload_cfg_opt =
      reload->add_option("--config", reload_config, "The engine's config file (finds control.socket)")
          ->capture_default_str();
  reload->add_option("--socket", reload_socket, "The control socket itself (instead of --config)")
      ->excludes(reload_cfg_opt);
  reload->add_option("--timeout", reload_timeout, "Seconds to wait for the answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  std::string check_path;
  auto* check = app.add_subcommand("check", "Validate a config file and report every problem with file:line");
  check->add_option("--config", check_path, "YAML config file")->required();
  auto* config_keys = app.add_subcommand(
      "config-keys", "Print docs/config.md's key tables (markdown), generated from the config's field tables");

  std::string listen = "127.0.0.1:8554";
  std::vector<std::string> sources;
  std::vector<std::string> sim_then;
  std::string sim_codec = "h264";
  std::string cache;
  std::string onset_log;
  int onset_period = 60;
  auto* sim = app.add_subcommand("sim", "Serve video files (looped for ever) or test patterns as RTSP cameras");
  sim->add_option("--listen", listen, "HOST:PORT to serve on")->capture_default_str();
  sim->add_option("--source", sources,
                  "NAME=PATH (repeatable); PATH may be test:ball or test:onsets "
                  "(a still 720p scene with a scripted motion onset every --onset-period frames)")
      ->required();
  sim->add_option("--then", sim_then,
                  "NAME=PATH (repeatable): play PATH after NAME's file, in order, then loop; a file of another "
                  "size changes the camera's resolution mid-stream");
  sim->add_option("--codec", sim_codec, "h264 or h265: what every mount sends (files are transcoded once)")
      ->capture_default_str();
  sim->add_option("--cache", cache, "Folder for transcoded copies (default ~/.cache/matthan/sim)");
  sim->add_option("--onset-log", onset_log,
                  "test:onsets: append one line per onset, \"WALL_MS MOUNT NUMBER FRAME\" (the Unix ms at which "
                  "the onset's first frame went to the encoder)");
  sim->add_option("--onset-period", onset_period,
                  "test:onsets: frames per cycle at 10 fps (half still, then the block for a third)")
      ->capture_default_str()
      ->check(CLI::Range(3, 100000));

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
  int demo_review_port = 0;
  demo->add_option("--review-port", demo_review_port, "Port of the review web page (default: a free one)")
      ->check(CLI::Range(0, 65535));

  auto* passwd = app.add_subcommand(
      "passwd", "Read a password (no echo; or one line from a pipe) and print its argon2id hash for review.users");

  std::string ev_config, ev_incident, ev_out, verify_dir;
  std::uint64_t ev_since = 0;
  std::optional<std::uint64_t> ev_until;
  auto* exp = app.add_subcommand("export", "Export an incident's clip, snapshot, JSON and a SHA-256 manifest");
  exp->add_option("--config", ev_config, "YAML config file (for storage.root, node, camera names)")->required();
  exp->add_option("--incident", ev_incident, "Incident id")->required();
  exp->add_option("--out", ev_out, "Folder to create (must be empty or absent)")->required();
  auto* verify = app.add_subcommand("verify", "Check every file of an export against its manifest.json");
  verify->add_option("DIR", verify_dir, "Export folder")->required();
  auto* events = app.add_subcommand("events", "Print stored events with seq > --since (replay after a gap)");
  events->add_option("--config", ev_config, "YAML config file")->required();
  events->add_option("--since", ev_since, "Print events after this seq")->required();
  events->add_option("--until", ev_until, "Last seq to print (default: the newest)");
  ProbeRequest probe_request;
  bool probe_json = false;
  auto* probe = app.add_subcommand("probe", "Connect to a camera as the engine would and report what it sends");
  probe->add_option("url", probe_request.url, "rtsp://[user:pass@]host[:port]/path, or http(s):// for an MJPEG camera")
      ->required();
  probe->add_option("--seconds", probe_request.seconds, "Seconds to measure after the first keyframe")
      ->check(CLI::Range(1.0, 300.0))
      ->capture_default_str();
  probe->add_option("--pre-roll", probe_request.pre_roll, "Clip pre-roll to judge the keyframe interval against")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  probe->add_option("--timeout", probe_request.timeout, "Seconds to wait for the connection and the first keyframe")
      ->check(CLI::Range(1.0, 120.0))
      ->capture_default_str();
  probe->add_flag("--json", probe_json, "Print one JSON object instead of text");

  EvalOptions eval_opts;
  auto* eval =
      app.add_subcommand("eval", "Run a camera's analysis offline over a clip and score it against ground truth");
  eval->add_option("--clip", eval_opts.clip, "Video file")->required()->check(CLI::ExistingFile);
  eval->add_option("--config", eval_opts.config, "Config whose camera settings to use (default: motion only)")
      ->check(CLI::ExistingFile);
  eval->add_option("--camera", eval_opts.camera, "Camera id in the config (default: the first)");
  eval->add_option("--gt-masks", eval_opts.gt_masks, "Folder of gtNNNNNN.png masks (CDnet values)");
  eval->add_option("--gt-boxes", eval_opts.gt_boxes, "gt_summary.csv with x:y:w:h boxes per frame")
      ->check(CLI::ExistingFile);
  eval->add_option("--mode", eval_opts.mode, "every_frame or keyframes (default: the camera's detect.mode)")
      ->check(CLI::IsMember({"every_frame", "keyframes"}));
  eval->add_option("--gop", eval_opts.gop_s,
                   "keyframes mode: analyse one frame every this many seconds (0: the clip's own keyframes)")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  eval->add_option("--gt-offset", eval_opts.gt_offset, "Ground-truth number = decoded frame index + N")
      ->capture_default_str();
  eval->add_option("--min-box-area", eval_opts.min_box_area,
                   "Ground-truth blobs below this share of the frame are not counted")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  eval->add_option("--dump-boxes", eval_opts.dump_boxes,
                   "Write every scored frame's predicted and ground-truth boxes to this CSV (for finding false alarms; "
                   "source pred, track for a track's predicted box where recheck_s spared the detector, or gt)");
  eval->add_flag("--json", eval_opts.json, "Print one JSON object");

  ScanOptions scan_opts;
  std::string scan_progress = "auto";
  auto* scan = app.add_subcommand(
      "scan", "Run a camera's detection and rules over recorded files; write incidents, clips, snapshots and a report");
  scan->add_option("inputs", scan_opts.inputs, "Video files, or folders searched for them")->required();
  scan->add_option("--config", scan_opts.config, "Config whose camera settings to use (default: motion only)")
      ->check(CLI::ExistingFile);
  scan->add_option("--camera-like", scan_opts.camera_like, "Camera id in the config (default: the first)");
  scan->add_option("--out", scan_opts.out, "Output folder (created; must not hold an earlier scan)")->required();
  scan->add_option("--progress", scan_progress, "auto (a bar on a terminal, lines otherwise), bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*exp) return run_export_command(ev_config, ev_incident, ev_out);
  if (*verify) return run_verify_command(verify_dir);
  if (*events) return run_events_command(ev_config, ev_since, ev_until);

  if (*run) {
    pthread_sigmask(SIG_BLOCK, &hup, nullptr);  // still before any thread: SIGHUP reloads
    return cmd_run(config_path, run_for, log_cli, lvl->count() > 0 || ljson->count() > 0, engine_options);
  }
  if (*check) return cmd_check(check_path);
  if (*config_keys) {
    for (const auto& [name, table] : matthan::config_key_tables())
      fmt::print("<!-- config-keys {} (generated: `matthan config-keys`) -->\n\n{}\n<!-- /config-keys -->\n\n", name,
                 table);
    return 0;
  }
  if (*reload) return cmd_reload(reload_config, reload_socket, reload_timeout);
  if (*sim) return cmd_sim(listen, sources, sim_then, sim_codec, cache, onset_log, onset_period);
  if (*tail) return run_tail(endpoint, topic, count, [] { return false; });
  if (*demo) return cmd_demo(demo_for, demo_data, demo_review_port);
  if (*passwd) return cmd_passwd();
  if (*probe) return cmd_probe(probe_request, probe_json);
  if (*eval) return run_eval(eval_opts);
  if (*scan) {
    scan_opts.progress = scan_progress == "bar"     ? ScanOptions::Progress::kBar
                         : scan_progress == "lines" ? ScanOptions::Progress::kLines
                         : scan_progress == "none"  ? ScanOptions::Progress::kNone
                                                    : ScanOptions::Progress::kAuto;
    return run_scan(scan_opts);
  }
  return 0;
}
