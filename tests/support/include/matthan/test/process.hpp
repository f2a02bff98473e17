// A child process for integration tests: real binaries, stdout captured line by line, signals, timeouts.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace matthan::test {

class Process {
 public:
  // Starts argv[0] with the arguments; stdout is captured, stderr goes to `stderr_path` (or is inherited when empty).
  explicit Process(std::vector<std::string> argv, std::string stderr_path = {});
  ~Process();  // SIGKILLs and reaps a child that is still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Reads one line from the child's stdout, waiting up to `timeout`; nullopt on timeout or EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Everything printed so far (lines already read included).
  const std::string& output() const { return all_output_; }
  void signal(int sig);
  // Waits for exit; returns the exit status (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  void drain_stdout();
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::string all_output_;
  std::optional<int> status_;
};

// Runs a command to completion and returns {exit status, stdout+stderr}.
std::pair<int, std::string> run_command(const std::vector<std::string>& argv);

}  // namespace matthan::test
