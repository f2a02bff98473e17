// ReviewServer: the officers' HTTP API and web page, served from inside the daemon (cpp-httplib).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "matthan/core/result.hpp"
#include "matthan/review/live.hpp"
#include "matthan/review/metrics.hpp"
#include "matthan/review/settings.hpp"

namespace matthan {

class Index;

struct ReviewDeps {
  Index* index = nullptr;              // read for incidents and events, written for reviews
  std::filesystem::path storage_root;  // clips and snapshots are served from here only
  const LiveStatus* live = nullptr;    // camera health; may be null (no cameras)
  EventFeed* feed = nullptr;           // live events for SSE; may be null
  std::string node;
  // What admins see at /api/admin/config (secrets already redacted), asked on every request so that it
  // follows config reloads; none = an empty object.
  std::function<std::string()> admin_config_json;
  const MetricsSource* metrics = nullptr;  // /metrics (Prometheus); none = no such route
};

class ReviewServer {
 public:
  // Binds the listen address and starts serving on its own threads.
  static Result<std::unique_ptr<ReviewServer>> start(const ReviewSettings& settings, ReviewDeps deps);
  ~ReviewServer();
  ReviewServer(const ReviewServer&) = delete;
  ReviewServer& operator=(const ReviewServer&) = delete;

  void stop();  // idempotent; ends SSE streams and joins the server threads
  int port() const;
  std::string url() const;  // e.g. http://127.0.0.1:8080/

  struct Impl;

 private:
  explicit ReviewServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
