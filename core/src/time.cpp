// Wall-clock formatting: local ISO-8601 with offset for events, compact UTC for file names.
#include "matthan/core/time.hpp"

#include <ctime>

#include <fmt/format.h>

namespace matthan {

std::string format_iso8601(WallTime t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long millis = static_cast<long>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  std::tm tm{};
  localtime_r(&secs, &tm);
  const long off = tm.tm_gmtoff;
  const char sign = off < 0 ? '-' : '+';
  const long aoff = off < 0 ? -off : off;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis, sign, aoff / 3600, (aoff % 3600) / 60);
}

std::string format_file_stamp(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace matthan
