// ISO-8601 formatting with offset and milliseconds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <regex>

#include "matthan/core/time.hpp"

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

}  // namespace
}  // namespace matthan
