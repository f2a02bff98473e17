// The reports of `matthan scan` (report.md, report.html) and the values they are made from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matthan/app/scan.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"

namespace matthan::scan_report {

namespace fs = std::filesystem;

struct ScanIncident {
  Incident incident;
  double start_s = 0, end_s = 0;  // from the file's first frame
  std::string snapshot;           // relative to --out; empty when none was written
  std::optional<ClipRef> clip;    // path relative to --out
  double clip_offset_s = 0;       // where in the file the clip starts
  std::string clip_error;
};

struct FileResult {
  fs::path path;
  std::string folder;       // relative to --out
  std::string error;        // the file could not be read at all
  std::string time_source;  // "creation_time" or "file_start"
  std::optional<WallTime> started_at;
  std::int64_t frames = 0, analysed = 0;
  double duration_s = 0;
  int width = 0, height = 0;
  std::vector<ScanIncident> incidents;
};

struct Totals {
  std::size_t files = 0, failed = 0, incidents = 0, clip_errors = 0;
  std::int64_t frames = 0;
  double media_s = 0, elapsed_s = 0;
  std::map<std::string, int> by_what;
};

// "M:SS" or "H:MM:SS".
std::string clock_text(double s);
Totals totals_of(const std::vector<FileResult>& files, double elapsed_s);
std::string totals_line(const Totals& t);
void write_markdown(const fs::path& path, const ScanOptions& o, const std::string& detector,
                    const std::vector<FileResult>& files, const Totals& t);
void write_html(const fs::path& path, const ScanOptions& o, const std::string& detector,
                const std::vector<FileResult>& files, const Totals& t);

}  // namespace matthan::scan_report
