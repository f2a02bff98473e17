// OfflineWatch: a camera_offline incident starts once the camera has been without video for `offline_after`,
// dates back to when the video stopped, and ends when it is back or the camera is stopped.
#include "matthan/analysis/offline_watch.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

using namespace std::chrono_literals;
using Clock = OfflineWatch::Clock;

TEST(OfflineWatch, StartsAfterTheDelayDatedBackToTheLastVideoAndEndsWhenBack) {
  const auto t0 = Clock::now();
  const WallTime w0 = std::chrono::system_clock::now();
  OfflineWatch w("gate", 30, t0);
  EXPECT_FALSE(w.update(true, t0 + 1s, w0 + 1s, 1 * kNsPerSecond)) << "streaming: nothing to say";
  EXPECT_FALSE(w.update(false, t0 + 10s, w0 + 10s, 9 * kNsPerSecond)) << "the video stops here";
  EXPECT_FALSE(w.update(false, t0 + 39s, w0 + 39s, 9 * kNsPerSecond)) << "29 s without video is not yet offline";
  const auto start = w.update(false, t0 + 41s, w0 + 41s, 9 * kNsPerSecond);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->phase, IncidentPhase::kStart);
  EXPECT_EQ(to_string(start->incident.kind), "camera_offline");
  EXPECT_EQ(start->incident.camera, "gate");
  EXPECT_EQ(start->incident.started_at, w0 + 10s) << "dated back to when the video stopped";
  EXPECT_EQ(start->incident.start_pts, 9 * kNsPerSecond);
  EXPECT_FALSE(w.update(false, t0 + 60s, w0 + 60s, 9 * kNsPerSecond)) << "one incident per outage";
  EXPECT_TRUE(w.open());
  const auto end = w.update(true, t0 + 70s, w0 + 70s, 12 * kNsPerSecond);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->phase, IncidentPhase::kEnd);
  EXPECT_EQ(end->incident.id, start->incident.id);
  EXPECT_EQ(end->incident.end_reason, "back_online");
  EXPECT_EQ(end->incident.end_pts, 12 * kNsPerSecond);
  EXPECT_FALSE(w.open());
}

TEST(OfflineWatch, ACameraThatNeverStreamsIsOfflineFromItsStart) {
  const auto t0 = Clock::now();
  const WallTime w0 = std::chrono::system_clock::now();
  OfflineWatch w("road", 5, t0);
  const auto start = w.update(false, t0 + 6s, w0 + 6s, 0);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->incident.started_at, w0);
}

TEST(OfflineWatch, ClosingEndsTheOpenIncidentWithTheReasonAndNeverBeforeItsStart) {
  const auto t0 = Clock::now();
  const WallTime w0 = std::chrono::system_clock::now();
  OfflineWatch w("yard", 1, t0);
  EXPECT_FALSE(w.close(w0, 0, "shutdown")) << "nothing open";
  ASSERT_TRUE(w.update(false, t0 + 2s, w0 + 2s, 5 * kNsPerSecond));
  const auto end = w.close(w0 + 3s, 0, "camera_removed");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->end_reason, "camera_removed");
  EXPECT_EQ(end->end_pts, 5 * kNsPerSecond) << "no packet since: the end is the start";
  EXPECT_FALSE(w.open());
}

}  // namespace
}  // namespace matthan
