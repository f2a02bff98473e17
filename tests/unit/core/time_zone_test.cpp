// TimeZone: offsets from the system tz database (Debian tzdata), the fixed-offset fallback, bad names.
#include "matthan/core/time_zone.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "matthan/core/time.hpp"

namespace matthan {
namespace {

bool have_tzdata() {
  return std::filesystem::exists("/usr/share/zoneinfo/Europe/Berlin");
}

TEST(TimeZone, HoChiMinhIsPlusSevenAllYear) {
  auto z = TimeZone::load("Asia/Ho_Chi_Minh");
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 1, 15, 12, 0, 0)), 420);
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 7, 15, 12, 0, 0)), 420);
  // 15:30 UTC is 22:30 in Vietnam.
  EXPECT_EQ(z.value().minute_of_day(*utc_time(2026, 11, 28, 15, 30, 0)), 22 * 60 + 30);
  // 20:00 UTC is 03:00 the next day.
  EXPECT_EQ(z.value().minute_of_day(*utc_time(2026, 11, 28, 20, 0, 0)), 3 * 60);
}

TEST(TimeZone, DaylightSavingComesFromTheDatabase) {
  if (!have_tzdata()) GTEST_SKIP() << "tzdata is not installed";
  auto z = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 1, 15, 12, 0, 0)), 60);
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 7, 15, 12, 0, 0)), 120);
  // 2026-03-29 01:00 UTC is the switch to summer time.
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 3, 29, 0, 59, 59)), 60);
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 3, 29, 1, 0, 0)), 120);
}

TEST(TimeZone, FixedOffsetTableWithoutTzdata) {
  auto z = TimeZone::load("Asia/Ho_Chi_Minh", "/nonexistent-zoneinfo");
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z.value().offset_minutes(*utc_time(2026, 1, 1, 0, 0, 0)), 420);
  auto utc = TimeZone::load("UTC", "/nonexistent-zoneinfo");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc.value().offset_minutes(*utc_time(2026, 1, 1, 0, 0, 0)), 0);
  EXPECT_FALSE(TimeZone::load("Europe/Berlin", "/nonexistent-zoneinfo").ok()) << "DST zones need tzdata";
}

TEST(TimeZone, BadOrUnknownNamesAreErrors) {
  EXPECT_FALSE(TimeZone::load("../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::load("/etc/localtime").ok());
  EXPECT_FALSE(TimeZone::load("Asia/../../etc").ok());
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(TimeZone::load("").ok());
}

}  // namespace
}  // namespace matthan
