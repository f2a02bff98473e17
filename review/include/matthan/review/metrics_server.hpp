// MetricsServer: a listener of its own that serves only GET /metrics (config `metrics.listen`), for nodes
// without a review server or where Prometheus scrapes a management network. No authentication: bind it to
// loopback or a network only the scraper reaches (docs/operations.md).
#pragma once

#include <memory>
#include <string>

#include "matthan/core/result.hpp"
#include "matthan/review/metrics.hpp"

namespace matthan {

class MetricsServer {
 public:
  // Binds HOST:PORT (port 0 = any free port) and serves on its own thread. `source` must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen, const MetricsSource& source);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void stop();  // idempotent
  int port() const;
  std::string url() const;  // http://HOST:PORT/metrics

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
