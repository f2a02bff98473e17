// Config reload: the difference between the running config and a newly read one.
#include "matthan/app/config_diff.hpp"

#include <algorithm>

namespace matthan {
namespace {

const CameraConfig* find_camera(const Config& c, const std::string& id) {
  auto it = std::find_if(c.cameras.begin(), c.cameras.end(), [&](const CameraConfig& cam) { return cam.id == id; });
  return it == c.cameras.end() ? nullptr : &*it;
}

}  // namespace

ConfigDiff diff_config(const Config& running, const Config& next) {
  ConfigDiff d;
  for (const CameraConfig& cam : next.cameras) {
    const CameraConfig* old = find_camera(running, cam.id);
    if (!old)
      d.added.push_back(cam);
    else if (!(*old == cam))
      d.changed.push_back(cam);
    else
      d.unchanged.push_back(cam.id);
  }
  for (const CameraConfig& cam : running.cameras)
    if (!find_camera(next, cam.id)) d.removed.push_back(cam.id);

  auto node = [&](bool same, const char* key) {
    if (!same) d.needs_restart.emplace_back(key);
  };
  node(running.node == next.node, "node");
  node(running.storage_root == next.storage_root, "storage.root");
  node(running.ring_max_bytes == next.ring_max_bytes, "storage.ring_max_bytes");
  node(running.retention == next.retention,
       "storage retention (max_age_days, max_bytes, min_free_bytes, retention_interval)");
  node(running.events_bind == next.events_bind, "events.bind");
  node(running.heartbeat_s == next.heartbeat_s, "health.heartbeat_s");
  node(running.log == next.log, "log");
  node(running.review == next.review, "review");
  node(running.metrics == next.metrics, "metrics.listen");
  node(running.control == next.control, "control.socket");
  node(running.ingest.max_connecting == next.ingest.max_connecting, "ingest.max_connecting");
  node(running.ingest.backoff_max_s == next.ingest.backoff_max_s, "ingest.backoff_max_s");
  return d;
}

}  // namespace matthan
