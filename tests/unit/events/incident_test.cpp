// IncidentManager: start after N consecutive motion frames, throttled updates, quiet / max-length end,
// forced close, best-frame flag, ids.
#include "matthan/events/incident.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

namespace matthan {
namespace {

using namespace std::chrono_literals;

const WallTime kWall0 = WallTime{} + std::chrono::seconds(1'790'000'000);
constexpr MediaTimeNs kFrameNs = kNsPerSecond / 10;  // 10 fps

// The observation of frame i at 10 fps.
Observation frame(int i, bool motion, Box box = {0.1, 0.2, 0.3, 0.4}, double score = 0.5) {
  Observation o;
  o.pts = i * kFrameNs;
  o.wall = kWall0 + std::chrono::milliseconds(100 * i);
  o.motion = motion;
  o.box = box;
  o.score = score;
  return o;
}

int count_phase(const ObserveResult& r, IncidentPhase phase) {
  int n = 0;
  for (const auto& e : r.events) n += e.first == phase ? 1 : 0;
  return n;
}

TEST(IncidentPhase, ToString) {
  EXPECT_EQ(to_string(IncidentPhase::kStart), "start");
  EXPECT_EQ(to_string(IncidentPhase::kUpdate), "update");
  EXPECT_EQ(to_string(IncidentPhase::kEnd), "end");
}

TEST(IncidentManager, StartsOnTheNthConsecutiveMotionFrameNotBefore) {
  IncidentManager m("cam1", IncidentPolicy{});  // start_frames = 3
  EXPECT_TRUE(m.observe(frame(0, false)).events.empty());
  EXPECT_TRUE(m.observe(frame(1, true)).events.empty());
  const ObserveResult second = m.observe(frame(2, true));
  EXPECT_TRUE(second.events.empty());
  EXPECT_FALSE(second.best_frame);
  EXPECT_FALSE(m.active());

  const ObserveResult r = m.observe(frame(3, true, {0.5, 0.5, 0.2, 0.1}, 0.7));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].first, IncidentPhase::kStart);
  const Incident& inc = r.events[0].second;
  EXPECT_EQ(inc.camera, "cam1");
  EXPECT_EQ(to_string(inc.kind), "motion");
  EXPECT_FALSE(inc.label.has_value());
  EXPECT_EQ(inc.start_pts, frame(1, true).pts) << "the incident starts at the first frame of the run";
  EXPECT_EQ(inc.started_at, frame(1, true).wall);
  EXPECT_EQ(inc.box, (Box{0.5, 0.5, 0.2, 0.1}));
  EXPECT_DOUBLE_EQ(inc.score, 0.7);
  EXPECT_FALSE(inc.ended_at.has_value());
  EXPECT_EQ(inc.id.rfind("cam1-", 0), 0u) << inc.id;
  EXPECT_TRUE(r.best_frame);
  ASSERT_TRUE(m.active());
  EXPECT_EQ(m.current()->id, inc.id);
}

// The motion gate confirms a region on evidence from earlier frames: the incident is dated from the first of
// them (the onset), not from the frame that confirmed it.
TEST(IncidentManager, StartIsDatedFromTheObservationsSinceFrame) {
  IncidentPolicy p;
  p.start_frames = 1;
  IncidentManager m("cam1", p);
  EXPECT_TRUE(m.observe(frame(0, false)).events.empty());
  Observation o = frame(4, true);
  o.since_pts = frame(2, true).pts;
  o.since_wall = frame(2, true).wall;
  const ObserveResult r = m.observe(o);
  ASSERT_EQ(count_phase(r, IncidentPhase::kStart), 1);
  EXPECT_EQ(r.events[0].second.start_pts, frame(2, true).pts);
  EXPECT_EQ(r.events[0].second.started_at, frame(2, true).wall);
  // A since that is not earlier than the frame itself changes nothing.
  IncidentManager n("cam1", p);
  Observation later = frame(5, true);
  later.since_pts = frame(6, true).pts;
  later.since_wall = frame(6, true).wall;
  const ObserveResult s = n.observe(later);
  ASSERT_EQ(count_phase(s, IncidentPhase::kStart), 1);
  EXPECT_EQ(s.events[0].second.started_at, frame(5, true).wall);
}

TEST(IncidentManager, InterruptedRunsDoNotStart) {
  IncidentPolicy p;
  p.start_frames = 3;
  IncidentManager m("cam1", p);
  int i = 0;
  for (int round = 0; round < 5; ++round) {
    EXPECT_TRUE(m.observe(frame(i++, true)).events.empty());
    EXPECT_TRUE(m.observe(frame(i++, true)).events.empty());
    EXPECT_TRUE(m.observe(frame(i++, false)).events.empty());
  }
  EXPECT_FALSE(m.active());
  const int first = i;
  m.observe(frame(i++, true));
  m.observe(frame(i++, true));
  const ObserveResult r = m.observe(frame(i++, true));
  ASSERT_EQ(count_phase(r, IncidentPhase::kStart), 1);
  EXPECT_EQ(r.events[0].second.start_pts, frame(first, true).pts);
}

TEST(IncidentManager, StartFramesOfOneStartsImmediately) {
  IncidentPolicy p;
  p.start_frames = 1;
  IncidentManager m("cam1", p);
  EXPECT_EQ(count_phase(m.observe(frame(0, true)), IncidentPhase::kStart), 1);
}

TEST(IncidentManager, UpdatesAtMostOncePerIntervalWhenTheBoxKeepsChanging) {
  IncidentManager m("cam1", IncidentPolicy{});  // update_interval_s = 1
  std::vector<int> update_frames;
  for (int i = 0; i < 32; ++i) {
    const Box moving{0.01 * i, 0.2, 0.3, 0.4};
    const ObserveResult r = m.observe(frame(i, true, moving));
    if (count_phase(r, IncidentPhase::kUpdate) == 1) {
      update_frames.push_back(i);
      EXPECT_EQ(r.events[0].second.box, moving) << "an update carries the current box";
    }
  }
  // Started on frame 2 (pts 0.2 s): updates are due at 1.2 s and 2.2 s, then 3.2 s is past the end.
  EXPECT_EQ(update_frames, (std::vector<int>{12, 22}));
}

TEST(IncidentManager, NoUpdateWhenNothingChanged) {
  IncidentManager m("cam1", IncidentPolicy{});
  int updates = 0;
  // The same box with sub-pixel jitter for 5 s: nothing worth telling.
  for (int i = 0; i < 50; ++i) {
    const Box jitter{0.1 + (i % 2) * 0.001, 0.2, 0.3, 0.4};
    updates += count_phase(m.observe(frame(i, true, jitter)), IncidentPhase::kUpdate);
  }
  EXPECT_EQ(updates, 0);
  // A real change is published at once, because the last publication is long past.
  const ObserveResult r = m.observe(frame(50, true, {0.5, 0.2, 0.3, 0.4}));
  EXPECT_EQ(count_phase(r, IncidentPhase::kUpdate), 1);
  // A score change alone is a change too, once the interval has passed.
  EXPECT_EQ(count_phase(m.observe(frame(55, true, {0.5, 0.2, 0.3, 0.4}, 0.9)), IncidentPhase::kUpdate), 0);
  EXPECT_EQ(count_phase(m.observe(frame(60, true, {0.5, 0.2, 0.3, 0.4}, 0.9)), IncidentPhase::kUpdate), 1);
}

TEST(IncidentManager, EndsAfterEndSecondsOfQuietAtTheLastMotionFrame) {
  IncidentManager m("cam1", IncidentPolicy{});  // end_seconds = 5
  for (int i = 0; i < 10; ++i) m.observe(frame(i, true));
  ASSERT_TRUE(m.active());
  const std::string id = m.current()->id;
  // Last motion at frame 9 (0.9 s); quiet frames until 5.8 s keep it open.
  for (int i = 10; i <= 58; ++i) EXPECT_TRUE(m.observe(frame(i, false)).events.empty()) << i;
  ASSERT_TRUE(m.active());
  const ObserveResult r = m.observe(frame(59, false));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].first, IncidentPhase::kEnd);
  const Incident& inc = r.events[0].second;
  EXPECT_EQ(inc.id, id);
  EXPECT_EQ(inc.end_reason, "quiet");
  EXPECT_EQ(inc.end_pts, frame(9, true).pts);
  ASSERT_TRUE(inc.ended_at.has_value());
  EXPECT_EQ(*inc.ended_at, frame(9, true).wall);
  EXPECT_EQ(inc.start_pts, 0);
  EXPECT_FALSE(m.active());
  EXPECT_FALSE(r.best_frame);
}

TEST(IncidentManager, MotionWithinEndSecondsKeepsTheSameIncident) {
  IncidentManager m("cam1", IncidentPolicy{});
  for (int i = 0; i < 5; ++i) m.observe(frame(i, true));
  const std::string id = m.current()->id;
  int events = 0;
  for (int i = 5; i < 45; ++i) events += static_cast<int>(m.observe(frame(i, false)).events.size());  // 4 s quiet
  events += static_cast<int>(m.observe(frame(45, true)).events.size());
  for (int i = 46; i < 90; ++i) events += count_phase(m.observe(frame(i, false)), IncidentPhase::kEnd);
  EXPECT_EQ(events, 0);
  ASSERT_TRUE(m.active());
  EXPECT_EQ(m.current()->id, id);
  const ObserveResult r = m.observe(frame(95, false));
  ASSERT_EQ(count_phase(r, IncidentPhase::kEnd), 1);
  EXPECT_EQ(r.events[0].second.end_pts, frame(45, true).pts);
}

TEST(IncidentManager, MaxLengthCutsTheIncidentAndANewOneNeedsStartFramesAgain) {
  IncidentPolicy p;
  p.max_length_s = 10;
  IncidentManager m("cam1", p);
  std::string first_id;
  int i = 0;
  for (; i < 100; ++i) {
    const ObserveResult r = m.observe(frame(i, true));
    if (i == 2) first_id = r.events.at(0).second.id;
    EXPECT_EQ(count_phase(r, IncidentPhase::kEnd), 0) << i;
  }
  const ObserveResult cut = m.observe(frame(i++, true));  // pts 10.0 s = start + 10 s
  ASSERT_EQ(count_phase(cut, IncidentPhase::kEnd), 1);
  const Incident& ended = cut.events.back().second;
  EXPECT_EQ(ended.id, first_id);
  EXPECT_EQ(ended.end_reason, "max_length");
  EXPECT_EQ(ended.end_pts, frame(100, true).pts);
  EXPECT_FALSE(m.active());

  EXPECT_TRUE(m.observe(frame(i++, true)).events.empty());
  EXPECT_TRUE(m.observe(frame(i++, true)).events.empty());
  const ObserveResult again = m.observe(frame(i++, true));
  ASSERT_EQ(count_phase(again, IncidentPhase::kStart), 1);
  EXPECT_NE(again.events[0].second.id, first_id);
  EXPECT_EQ(again.events[0].second.start_pts, frame(101, true).pts);
}

TEST(IncidentManager, CloseDuringMotionEndsAtTheGivenTime) {
  IncidentManager m("cam1", IncidentPolicy{});
  for (int i = 0; i < 5; ++i) m.observe(frame(i, true));
  const Observation now = frame(6, false);
  const std::optional<Incident> inc = m.close(now.pts, now.wall, "shutdown");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->end_reason, "shutdown");
  EXPECT_EQ(inc->end_pts, now.pts);
  EXPECT_EQ(*inc->ended_at, now.wall);
  EXPECT_FALSE(m.active());
  EXPECT_FALSE(m.close(now.pts, now.wall, "shutdown").has_value()) << "closing twice gives nothing";
}

TEST(IncidentManager, CloseDuringTheQuietTailEndsAtTheLastMotion) {
  IncidentManager m("cam1", IncidentPolicy{});
  for (int i = 0; i < 5; ++i) m.observe(frame(i, true));
  for (int i = 5; i < 20; ++i) m.observe(frame(i, false));
  const std::optional<Incident> inc = m.close(frame(20, false).pts, frame(20, false).wall, "shutdown");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->end_pts, frame(4, true).pts);
  EXPECT_EQ(*inc->ended_at, frame(4, true).wall);
}

TEST(IncidentManager, CloseWhenIdleForgetsThePendingRun) {
  IncidentManager m("cam1", IncidentPolicy{});
  m.observe(frame(0, true));
  m.observe(frame(1, true));
  EXPECT_FALSE(m.close(frame(2, true).pts, frame(2, true).wall, "shutdown").has_value());
  EXPECT_TRUE(m.observe(frame(3, true)).events.empty()) << "the run restarted after close()";
}

TEST(IncidentManager, BestFrameMarksEachNewLargestBox) {
  IncidentPolicy p;
  p.start_frames = 1;
  IncidentManager m("cam1", p);
  const std::vector<double> sides = {0.2, 0.3, 0.25, 0.3, 0.5, 0.1};
  std::vector<bool> best;
  for (std::size_t i = 0; i < sides.size(); ++i) {
    best.push_back(m.observe(frame(static_cast<int>(i), true, {0, 0, sides[i], sides[i]})).best_frame);
  }
  EXPECT_EQ(best, (std::vector<bool>{true, true, false, false, true, false}));
  EXPECT_FALSE(m.observe(frame(10, false)).best_frame);
}

TEST(IncidentManager, ScoresAreClampedIntoUnitRange) {
  IncidentPolicy p;
  p.start_frames = 1;
  IncidentManager high("cam1", p);
  EXPECT_DOUBLE_EQ(high.observe(frame(0, true, {}, 1.7)).events.at(0).second.score, 1.0);
  IncidentManager nan("cam1", p);
  EXPECT_DOUBLE_EQ(nan.observe(frame(0, true, {}, std::numeric_limits<double>::quiet_NaN())).events.at(0).second.score,
                   0.0);
}

TEST(IncidentId, UniqueEvenAtTheSameInstantAndNamesTheCamera) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(make_incident_id("gate-2", kWall0));
  EXPECT_EQ(ids.size(), 1000u);
  const std::string id = *ids.begin();
  EXPECT_EQ(id.rfind("gate-2-", 0), 0u) << id;
  EXPECT_NE(id.find("Z-"), std::string::npos) << "carries a UTC stamp: " << id;
}

}  // namespace
}  // namespace matthan

namespace matthan {
namespace {

TEST(IncidentKind, EveryKindHasOneWireNameThatParsesBack) {
  const std::vector<std::pair<IncidentKind, std::string>> kinds = {{IncidentKind::kMotion, "motion"},
                                                                   {IncidentKind::kObject, "object"},
                                                                   {IncidentKind::kZoneEnter, "zone_enter"},
                                                                   {IncidentKind::kLineCross, "line_cross"},
                                                                   {IncidentKind::kLoiter, "loiter"},
                                                                   {IncidentKind::kTamper, "tamper"},
                                                                   {IncidentKind::kCameraOffline, "camera_offline"}};
  for (const auto& [kind, name] : kinds) {
    EXPECT_EQ(to_string(kind), name);
    EXPECT_EQ(parse_incident_kind(name), kind) << name;
  }
  EXPECT_FALSE(parse_incident_kind("Motion").has_value());
  EXPECT_FALSE(parse_incident_kind("").has_value());
}

}  // namespace
}  // namespace matthan
