// Histogram buckets, RateMeter windows, and the exposition writer's format and escaping.
#include "matthan/core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace matthan {
namespace {

TEST(Histogram, BucketsAreCumulativeAndLessOrEqual) {
  Histogram h({0.01, 0.1, 1.0});
  h.observe(0.01);  // on the bound: counts in le=0.01
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7.0);  // only +Inf
  const auto s = h.snapshot();
  ASSERT_EQ(s.cumulative.size(), 4u);
  EXPECT_EQ(s.cumulative[0], 1u);
  EXPECT_EQ(s.cumulative[1], 2u);
  EXPECT_EQ(s.cumulative[2], 3u);
  EXPECT_EQ(s.cumulative[3], 4u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 7.56);
}

TEST(Histogram, ConcurrentObserversLoseNothing) {
  Histogram h(Histogram::latency_bounds_s());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(0.002);
    });
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative.back(), 40000u);
  EXPECT_NEAR(s.sum, 80.0, 1e-6);
}

TEST(RateMeter, EstimatesPerWindow) {
  RateMeter m(2.0);
  const auto t0 = RateMeter::Clock::time_point(std::chrono::seconds(100));
  EXPECT_EQ(m.update(10, t0), 0.0);
  EXPECT_EQ(m.update(15, t0 + std::chrono::seconds(1)), 0.0);  // window not over yet
  EXPECT_DOUBLE_EQ(m.update(20, t0 + std::chrono::seconds(2)), 5.0);
  EXPECT_DOUBLE_EQ(m.update(20, t0 + std::chrono::seconds(4)), 0.0);
  EXPECT_DOUBLE_EQ(m.update(5, t0 + std::chrono::seconds(6)), 0.0);  // a count that went back: no negative rate
}

TEST(Exposition, Names) {
  EXPECT_TRUE(valid_metric_name("matthan_camera_frames_dropped_total"));
  EXPECT_TRUE(valid_metric_name("ns:rule_name"));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("camera"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"
                               "\n"
                               "d"),
            R"(a\"b\\c\nd)");
  EXPECT_EQ(escape_label_value("Cổng trường"), "Cổng trường");      // UTF-8 passes through
  EXPECT_EQ(escape_help("x \"q\" \\ y\nz"), "x \"q\" \\\\ y\\nz");  // quotes stay in HELP
}

TEST(Exposition, Values) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(12345678901.0), "12345678901");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
}

TEST(Exposition, WritesFamiliesSamplesAndHistograms) {
  ExpositionWriter w;
  w.family("x_total", MetricType::kCounter, "Things.\nMore");
  w.sample({{"camera", "a\"b"}}, 3);
  w.sample({}, 4);
  Histogram h({0.5, 1});
  h.observe(0.25);
  h.observe(2);
  w.family("lat_seconds", MetricType::kHistogram, "Latency.");
  w.histogram({{"detector", "motion"}}, h.snapshot());
  EXPECT_EQ(w.text(),
            "# HELP x_total Things.\\nMore\n"
            "# TYPE x_total counter\n"
            "x_total{camera=\"a\\\"b\"} 3\n"
            "x_total 4\n"
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{detector=\"motion\",le=\"0.5\"} 1\n"
            "lat_seconds_bucket{detector=\"motion\",le=\"1\"} 1\n"
            "lat_seconds_bucket{detector=\"motion\",le=\"+Inf\"} 2\n"
            "lat_seconds_sum{detector=\"motion\"} 2.25\n"
            "lat_seconds_count{detector=\"motion\"} 2\n");
}

}  // namespace
}  // namespace matthan
