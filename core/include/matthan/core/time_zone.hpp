// A named time zone's UTC offset at any instant, read from the system's tz database (TZif files under
// /usr/share/zoneinfo, Debian's tzdata), with a small built-in table of fixed-offset zones as a fallback
// when tzdata is not installed. The process's own TZ is never touched (no setenv/tzset): each camera can
// ask about the node's zone from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

class TimeZone {
 public:
  // Loads `name` ("Asia/Ho_Chi_Minh", "Europe/Berlin", "UTC") from `dir`. Names with "..", a leading '/'
  // or characters outside [A-Za-z0-9_+-/] are refused. A zone not found there is looked up in the
  // built-in fixed-offset table (UTC, Etc/UTC, Asia/Ho_Chi_Minh, Asia/Saigon, Asia/Bangkok, ...).
  static Result<TimeZone> load(const std::string& name, const std::filesystem::path& dir = "/usr/share/zoneinfo");
  // A zone with one fixed offset (minutes east of UTC).
  static TimeZone fixed(std::string name, int utc_offset_minutes);

  const std::string& name() const { return name_; }
  // Minutes east of UTC in force at `t`. After the database's last listed transition the last offset
  // stays in force (Debian's files list transitions up to 2037).
  int offset_minutes(WallTime t) const;
  // Minutes since local midnight at `t`.
  int minute_of_day(WallTime t) const;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int> offsets_;               // offset (s) in force from transitions_[i]
  int initial_offset_s_ = 0;               // before the first transition (or always, without any)
};

}  // namespace matthan
