// `matthan scan`: the live cameras' detection and rules, run offline over recorded footage (files handed
// in on USB sticks: MP4, AVI, MKV, MOV, 3GP, TS and what else FFmpeg reads), as fast as the CPU allows.
// Writes incidents, clips cut from the originals without re-encoding, snapshots, and a report an officer
// can open (docs/scan.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace matthan {

struct ScanOptions {
  std::vector<std::filesystem::path> inputs;  // files, or folders searched recursively for video files
  std::filesystem::path config;               // optional: whose camera settings to use
  std::string camera_like;                    // camera id in the config (default: the first camera)
  std::filesystem::path out;                  // created; must not hold an earlier scan
  enum class Progress { kAuto, kBar, kLines, kNone } progress = Progress::kAuto;
};

// Exit code: 0 every file scanned and every clip written; 1 some file could not be read or some clip not
// cut (each named in the report and on stderr); 2 bad input (config, --out, no video file found).
int run_scan(const ScanOptions& options);

// The video files under `inputs`, in a stable order: folders searched recursively for known video
// extensions (case-insensitive), files named directly taken whatever their extension.
std::vector<std::filesystem::path> scan_inputs(const std::vector<std::filesystem::path>& inputs);

}  // namespace matthan
