// Console output for people (the machine-readable feed is ZeroMQ and `matthan tail`).
#include "matthan/app/console.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace matthan {

void print_incident_line(const std::string& topic, const std::string& payload) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded()) return;
  const std::string phase = j.value("phase", "");
  if (phase != "start" && phase != "end") return;
  const auto& b = j["box"];
  const std::string box = b.is_array() && b.size() == 4
                              ? fmt::format("[{:.2f} {:.2f} {:.2f} {:.2f}]", b[0].get<double>(), b[1].get<double>(),
                                            b[2].get<double>(), b[3].get<double>())
                              : "[]";
  const std::string label = j["label"].is_string() ? j["label"].get<std::string>() : j.value("kind", "motion");
  if (phase == "start") {
    fmt::print("{}  START  {:<10} {:<8} box={} seq={} id={}\n", j.value("started_at", ""), j.value("camera", ""), label,
               box, j.value("seq", 0), j.value("id", ""));
  } else {
    std::string clip = "no clip";
    if (j["clip"].is_object())
      clip = fmt::format("clip={} ({:.1f} s)", j["clip"].value("path", ""), j["clip"].value("duration_s", 0.0));
    fmt::print("{}  END    {:<10} {:<8} box={} seq={} {}\n",
               j["ended_at"].is_string() ? j["ended_at"].get<std::string>() : "", j.value("camera", ""), label, box,
               j.value("seq", 0), clip);
  }
  (void)topic;
  std::fflush(stdout);
}

std::string demo_config_yaml(int rtsp_port, int events_port, const std::filesystem::path& storage_root) {
  return fmt::format(R"YAML(# Embedded demo config: one simulated camera serving Debian's vtest.avi.
node: demo
storage:
  root: "{root}"
events:
  bind: tcp://127.0.0.1:{events}
defaults:
  detect: {{fps: 5}}
  motion: {{min_area: 0.002, start_frames: 3, end_seconds: 3}}
  clip: {{pre_roll: 5, post_roll: 3, max_length: 20}}
cameras:
  - id: vtest
    name: "Sân trường (vtest.avi)"
    url: rtsp://127.0.0.1:{rtsp}/vtest
)YAML",
                     fmt::arg("root", storage_root.string()), fmt::arg("events", events_port),
                     fmt::arg("rtsp", rtsp_port));
}

std::string demo_review_yaml(int review_port, const std::string& password_hash) {
  return fmt::format(R"YAML(review:
  listen: 127.0.0.1:{port}
  users:
    - {{name: {user}, role: officer, password_hash: "{hash}"}}
)YAML",
                     fmt::arg("port", review_port), fmt::arg("user", kDemoUser), fmt::arg("hash", password_hash));
}

void print_storage_summary(const std::filesystem::path& root) {
  std::size_t clips = 0, snapshots = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    const auto ext = it->path().extension();
    if (ext == ".mp4") ++clips;
    if (ext == ".jpg") ++snapshots;
  }
  fmt::print(
      "\ndemo: data in {}\n  clips:     {} MP4 file(s) under {}/clips\n  snapshots: {} JPEG file(s) under "
      "{}/snapshots\n"
      "  index:     {}/index.db (SQLite)\n",
      root.string(), clips, root.string(), snapshots, root.string(), root.string());
  std::fflush(stdout);
}

}  // namespace matthan
