// What the command line prints for people: incident lines, the demo's config and its closing summary.
#pragma once

#include <filesystem>
#include <string>

namespace matthan {

inline constexpr const char* kDemoClip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

// One human line per incident start and end (camera, local time, box); updates are not printed.
void print_incident_line(const std::string& topic, const std::string& payload);

// The embedded demo config: one simulated camera on 127.0.0.1:rtsp_port.
std::string demo_config_yaml(int rtsp_port, int events_port, const std::filesystem::path& storage_root);

// The demo's `review:` block (appended to demo_config_yaml): a web page on 127.0.0.1:review_port with
// one fixed demo officer whose password hash is made at start-up. A demo login, never for real use.
inline constexpr const char* kDemoUser = "demo";
inline constexpr const char* kDemoPassword = "matthan-demo";
std::string demo_review_yaml(int review_port, const std::string& password_hash);

// Where the clips, snapshots and index are, with counts.
void print_storage_summary(const std::filesystem::path& storage_root);

}  // namespace matthan
