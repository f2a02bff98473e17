// ISO-8601 formatting with offset and milliseconds.
#include "matthan/core/time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <regex>

namespace matthan {
namespace {

TEST(Time, FormatsWithOffsetAndMillis) {
  setenv("TZ", "Asia/Ho_Chi_Minh", 1);
  tzset();
  const WallTime t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  EXPECT_EQ(format_iso8601(t), "2023-11-15T05:13:20.123+07:00");
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(format_iso8601(t), "2023-11-14T22:13:20.123+00:00");
  EXPECT_EQ(format_file_stamp(t), "20231114T221320Z");
  unsetenv("TZ");
  tzset();
}

TEST(Time, FileStampsReadBackToTheSameSecond) {
  const WallTime t = *utc_time(2026, 11, 28, 22, 12, 47);
  EXPECT_EQ(format_file_stamp(t), "20261128T221247Z");
  EXPECT_EQ(parse_file_stamp("20261128T221247Z"), t);
  const auto later = t + std::chrono::milliseconds(900);
  EXPECT_EQ(parse_file_stamp(format_file_stamp(later)), t) << "stamps keep whole seconds";
  for (const char* bad : {"", "20261128T221247", "20261128 221247Z", "2026112XT221247Z", "20261328T221247Z",
                          "20260230T000000Z", "20261128T246000Z", "x20261128T221247Z"})
    EXPECT_FALSE(parse_file_stamp(bad).has_value()) << bad;
  EXPECT_FALSE(utc_time(2026, 2, 29, 0, 0, 0).has_value()) << "2026 is not a leap year";
  EXPECT_TRUE(utc_time(2028, 2, 29, 0, 0, 0).has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*utc_time(1970, 1, 1, 0, 0, 1)), 1);
}

}  // namespace
}  // namespace matthan
