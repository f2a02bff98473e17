// The daemon side of `matthan`: signals taken synchronously, `run` (with SIGHUP and the control socket reloading
// it), `reload`, and the `demo`. main.cpp parses the command line and calls these; only main decides to exit.
#pragma once

#include <signal.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "matthan/app/config.hpp"
#include "matthan/app/engine.hpp"
#include "matthan/core/logging.hpp"

namespace matthan::cli {

inline constexpr double kReloadAnswerTimeout = 120;  // a reload waits for retired cameras' clips to finish

// Signals are blocked in every thread (set before any thread starts) and taken synchronously, so no handler ever
// runs inside GStreamer or ZeroMQ code.
sigset_t blocked_signals();
sigset_t hangup_signal();
// Waits for SIGINT/SIGTERM (or `seconds`); SIGHUP calls on_hangup when given. Returns why it stopped.
std::string wait_for_stop(std::optional<double> seconds, const std::function<void()>& on_hangup = {});

// `config_path` is empty for the demo's embedded config (which cannot be reloaded).
int run_engine(Config config, std::optional<double> seconds, bool demo_login = false,
               const std::filesystem::path& config_path = {}, EngineOptions options = {});
int cmd_run(const std::string& config_path, std::optional<double> seconds, const LogOptions& log_cli, bool log_cli_set,
            EngineOptions options);
int cmd_reload(const std::string& config_path, const std::string& socket_path, double timeout_s);
int cmd_demo(double seconds, const std::string& data_dir, int review_port_opt);

}  // namespace matthan::cli
