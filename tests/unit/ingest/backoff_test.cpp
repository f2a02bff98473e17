// Reconnect backoff: steps, cap at the last step, jitter bounds.
#include <gtest/gtest.h>

#include "matthan/ingest/supervisor.hpp"

namespace matthan {
namespace {

TEST(Backoff, FollowsTheStepsWithoutJitterAtTheMiddleOfTheRange) {
  BackoffPolicy p;  // 1 2 5 10 30 60
  const std::vector<double> expected{1, 2, 5, 10, 30, 60};
  for (int i = 0; i < 6; ++i)
    EXPECT_DOUBLE_EQ(backoff_delay(p, i, 0.5), expected[static_cast<std::size_t>(i)]) << i;
}

TEST(Backoff, CapsAtTheLastStep) {
  BackoffPolicy p;
  EXPECT_DOUBLE_EQ(backoff_delay(p, 6, 0.5), 60);
  EXPECT_DOUBLE_EQ(backoff_delay(p, 1000, 0.5), 60);
  EXPECT_DOUBLE_EQ(backoff_delay(p, -3, 0.5), 1);
}

TEST(Backoff, JitterStaysWithinItsBounds) {
  BackoffPolicy p;
  p.jitter = 0.2;
  for (int failures = 0; failures < 8; ++failures) {
    const double step = backoff_delay(p, failures, 0.5);
    double lo = step, hi = step;
    for (int i = 0; i < 1000; ++i) {
      const double d = backoff_delay(p, failures, i / 1000.0);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    EXPECT_NEAR(lo, step * 0.8, 1e-9);
    EXPECT_LE(hi, step * 1.2);
    EXPECT_GT(hi, step * 1.19);
  }
}

TEST(Backoff, JitterSpreadsRetries) {
  BackoffPolicy p;
  EXPECT_LT(backoff_delay(p, 2, 0.1), backoff_delay(p, 2, 0.9));
  p.jitter = 0;
  EXPECT_DOUBLE_EQ(backoff_delay(p, 2, 0.1), backoff_delay(p, 2, 0.9));
}

TEST(Backoff, DegenerateInputsStaySane) {
  BackoffPolicy p;
  p.steps_s.clear();
  EXPECT_EQ(backoff_delay(p, 3, 0.7), 0);
  p.steps_s = {4};
  p.jitter = 5;  // more than 100 % would allow negative delays
  EXPECT_GE(backoff_delay(p, 0, 0.0), 0);
  EXPECT_LE(backoff_delay(p, 0, 2.0), 8);
}

}  // namespace
}  // namespace matthan
