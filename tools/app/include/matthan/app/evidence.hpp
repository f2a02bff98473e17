// Evidence export and verification, and replay of stored events: `matthan export`, `verify`, `events`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "matthan/app/config.hpp"
#include "matthan/core/result.hpp"

namespace matthan {

struct ExportResult {
  std::filesystem::path dir;
  std::vector<std::string> files;     // written, relative to dir (manifest.json last)
  std::vector<std::string> warnings;  // e.g. the clip is partial, or its hash differs from the recorded one
};

// Writes the incident's clip and snapshot, incident.json and manifest.json (docs/storage.md) into `out`
// (created; must be empty or absent). Reads the index of config.storage_root; never changes it.
Result<ExportResult> export_incident(const Config& config, const std::string& incident_id,
                                     const std::filesystem::path& out);

struct VerifyResult {
  int checked = 0;
  std::vector<std::string> mismatched;  // file names whose SHA-256 differs from the manifest
  std::vector<std::string> missing;     // listed in the manifest but absent
  bool ok() const { return mismatched.empty() && missing.empty() && checked > 0; }
};
// Checks every file listed in DIR/manifest.json against its SHA-256. Error when the manifest is unreadable.
Result<VerifyResult> verify_export(const std::filesystem::path& dir);

// Prints stored events with since < seq <= until (until absent: to the newest), one JSON line each:
// {"seq":..,"topic":"..","at":"..","payload":{...}}. Returns how many were printed.
Result<std::uint64_t> print_stored_events(const Config& config, std::uint64_t since, std::optional<std::uint64_t> until,
                                          std::FILE* out);

// The CLI commands around them: print results and return the process exit code (0 ok, 1 failed or a
// mismatch, 2 bad config).
int run_export_command(const std::string& config_path, const std::string& incident_id, const std::string& out);
int run_verify_command(const std::string& dir);
int run_events_command(const std::string& config_path, std::uint64_t since, std::optional<std::uint64_t> until);

}  // namespace matthan
