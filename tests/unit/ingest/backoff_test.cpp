// Reconnect backoff: steps, cap at the last step, jitter bounds.
#include <gtest/gtest.h>

#include <algorithm>

#include "matthan/ingest/supervisor.hpp"

namespace matthan {
namespace {

TEST(Backoff, FollowsTheStepsWithoutJitterAtTheMiddleOfTheRange) {
  BackoffPolicy p;  // 1 2 5 10 30 60
  const std::vector<double> expected{1, 2, 5, 10, 30, 60};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(backoff_delay(p, i, 0.5), expected[static_cast<std::size_t>(i)]) << i;
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

// Issue 19, section 3: a camera revived after 18 s was read again only 30 s later (the 30 s step). The
// engine's policy caps ordinary failures at ingest.backoff_max_s (10 s by default), jitter included.
TEST(Backoff, OrdinaryFailuresNeverWaitPastTheCap) {
  const BackoffPolicy p = backoff_policy(10);
  double longest = 0;
  for (int failures = 0; failures < 50; ++failures) {
    for (int i = 0; i <= 1000; ++i) {
      const double d = backoff_delay(p, failures, i / 1000.0);
      EXPECT_LE(d, 10.0) << failures << " " << i;
      longest = std::max(longest, d);
    }
  }
  EXPECT_NEAR(longest, 10.0, 1e-9) << "the cap is reached";
  // The early steps are untouched, and capped retries keep their spread (they do not all land on the cap).
  EXPECT_DOUBLE_EQ(backoff_delay(p, 0, 0.5), 1);
  EXPECT_DOUBLE_EQ(backoff_delay(p, 2, 0.5), 5);
  EXPECT_LT(backoff_delay(p, 5, 0.0), 7.0);
  EXPECT_LE(backoff_delay(p, 4, 1.0), 10.0);
  EXPECT_LE(backoff_delay(backoff_policy(3), 9, 0.999), 3.0);
}

// 401 and 404 cannot be cured by retrying sooner: they keep the slower steps, up to the old 60 s.
TEST(Backoff, RefusalsStaySlowerThanTheCap) {
  const BackoffPolicy p = backoff_policy(10);
  for (const FailureKind kind : {FailureKind::kUnauthorized, FailureKind::kNotFound}) {
    const std::vector<double> expected{5, 10, 30, 60, 60};
    for (int i = 0; i < 5; ++i) {
      EXPECT_DOUBLE_EQ(backoff_delay(p, i, 0.5, kind), expected[static_cast<std::size_t>(i)]) << i;
      EXPECT_GT(backoff_delay(p, i, 0.5, kind), backoff_delay(p, i, 0.5)) << "slower than an ordinary failure";
    }
    EXPECT_DOUBLE_EQ(backoff_delay(p, 1000, 0.5, kind), 60);
  }
  // Without a cap (BackoffPolicy{}), a refusal is the ordinary failure `refused_skip` steps further on.
  const BackoffPolicy plain;
  for (int i = 0; i < 8; ++i)
    EXPECT_DOUBLE_EQ(backoff_delay(plain, i, 0.3, FailureKind::kUnauthorized), backoff_delay(plain, i + 2, 0.3));
}

}  // namespace
}  // namespace matthan
