// Wall-clock formatting for events and file names.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "matthan/core/types.hpp"

namespace matthan {

// ISO-8601 in the process's local time zone with its UTC offset and milliseconds,
// e.g. 2026-11-28T19:30:12.345+07:00.
std::string format_iso8601(WallTime t);

// Compact UTC stamp for file names, e.g. 20261128T123012Z.
std::string format_file_stamp(WallTime t);
// Its inverse: "20261128T123012Z" -> that instant; nullopt for anything else.
std::optional<WallTime> parse_file_stamp(std::string_view stamp);

// A UTC civil time as an instant (no time zone database involved); nullopt when a field is out of range.
std::optional<WallTime> utc_time(int year, int month, int day, int hour, int minute, int second);

// Seconds (with fraction) between two media times.
inline double media_seconds(MediaTimeNs d) {
  return static_cast<double>(d) / kNsPerSecond;
}

}  // namespace matthan
