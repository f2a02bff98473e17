// The control socket: a Unix stream socket that takes one command line (`reload`) and answers with the
// result, and the client `matthan reload` uses. The server knows nothing of what a command does.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "matthan/core/result.hpp"

namespace matthan {

// Answers start with a line "ok" or "error"; the lines after it say what happened.
class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& command)>;

  // Binds `path` (mode 0660; a stale socket file nobody listens on is replaced; one with a live listener is
  // an error) and serves one connection at a time on a thread of its own.
  static Result<std::unique_ptr<ControlServer>> start(const std::filesystem::path& path, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  void stop();  // joins the thread and removes the socket file
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sends `command` and returns the whole answer. Error when nobody listens or no answer came in time.
Result<std::string> control_request(const std::filesystem::path& path, const std::string& command, double timeout_s);

}  // namespace matthan
