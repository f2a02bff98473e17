// Wall-clock formatting: local ISO-8601 with offset for events, compact UTC for file names.
#include "matthan/core/time.hpp"

#include <fmt/format.h>

#include <ctime>

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

std::optional<WallTime> utc_time(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (year < 1970 || year > 2200 || !date.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 60)
    return std::nullopt;
  return time_point_cast<WallTime::duration>(sys_days{date} + hours{hour} + minutes{minute} + seconds{second});
}

std::optional<WallTime> parse_file_stamp(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int Y = digits(0, 4), M = digits(4, 2), D = digits(6, 2), h = digits(9, 2), m = digits(11, 2),
            sec = digits(13, 2);
  if (Y < 0 || M < 0 || D < 0 || h < 0 || m < 0 || sec < 0) return std::nullopt;
  return utc_time(Y, M, D, h, m, sec);
}

}  // namespace matthan
