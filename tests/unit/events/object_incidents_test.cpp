// ObjectIncidentManager on synthetic tracks: start on confirmation, throttled updates, end after the
// track is unseen, one incident per track, parked objects do not re-fire, unwanted labels are ignored.
#include "matthan/events/object_incidents.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = kNsPerSecond / 5;

WallTime wall_at(MediaTimeNs pts) {
  return WallTime{} + std::chrono::hours(24 * 365 * 56) + std::chrono::nanoseconds(pts);
}

TrackObservation track(std::int64_t id, const std::string& label, Box box, MediaTimeNs pts, double speed = 0.1,
                       bool confirmed = true) {
  TrackObservation t;
  t.id = id;
  t.label = label;
  t.score = 0.7;
  t.box = box;
  t.confirmed = confirmed;
  t.seen = true;
  t.speed = speed;
  t.last_seen = pts;
  return t;
}

int count(const ObjectObserveResult& r, IncidentPhase p) {
  int n = 0;
  for (const auto& e : r.events) n += e.first == p;
  return n;
}

ObjectIncidentPolicy policy() {
  ObjectIncidentPolicy p;
  p.labels = {"person", "car"};
  p.end_seconds = 3;
  return p;
}

TEST(ObjectIncidents, StartsOnConfirmationUpdatesAtMostOncePerSecondEndsWhenUnseen) {
  ObjectIncidentManager m("cam", policy());
  int starts = 0, updates = 0, ends = 0;
  std::optional<Incident> ended;
  MediaTimeNs pts = 0;
  for (int i = 0; i < 40; ++i, pts += kFrame) {  // 8 s of a walking person
    auto t = track(7, "person", Box{0.1 + 0.01 * i, 0.3, 0.05, 0.2}, pts);
    t.confirmed = i >= 2;
    const auto r = m.observe({t}, pts, wall_at(pts));
    starts += count(r, IncidentPhase::kStart);
    updates += count(r, IncidentPhase::kUpdate);
    if (i == 2) {
      ASSERT_EQ(count(r, IncidentPhase::kStart), 1);
      const Incident& inc = r.events[0].second;
      EXPECT_EQ(to_string(inc.kind), "object");
      EXPECT_EQ(inc.label, "person");
      EXPECT_EQ(inc.track, 7);
      EXPECT_EQ(r.best_frame_ids, std::vector<std::string>{inc.id});
    }
  }
  EXPECT_EQ(starts, 1);
  EXPECT_GE(updates, 5);
  EXPECT_LE(updates, 8) << "at most one update a second over ~7.4 s";
  // Unseen from now on (the tracker still holds it): ends once 3 s have passed since the last sighting.
  const MediaTimeNs last = pts - kFrame;
  auto unseen = track(7, "person", Box{0.49, 0.3, 0.05, 0.2}, last);
  unseen.seen = false;
  for (; pts < last + 5 * kNsPerSecond; pts += kFrame) {
    const auto r = m.observe({unseen}, pts, wall_at(pts));
    for (const auto& [phase, inc] : r.events) {
      if (phase != IncidentPhase::kEnd) continue;
      ++ends;
      ended = inc;
      EXPECT_GT(pts - last, 3 * kNsPerSecond);
      EXPECT_LE(pts - last, 3 * kNsPerSecond + kFrame);
    }
  }
  ASSERT_EQ(ends, 1);
  EXPECT_EQ(ended->end_pts, last) << "the incident ends at the last sighting";
  EXPECT_EQ(ended->end_reason, "quiet");
  // Seen again with the same track id: no second incident for the same track.
  const auto again = m.observe({track(7, "person", Box{0.5, 0.3, 0.05, 0.2}, pts)}, pts, wall_at(pts));
  EXPECT_EQ(count(again, IncidentPhase::kStart), 0);
}

TEST(ObjectIncidents, UnwantedLabelsAndUnconfirmedTracksRaiseNothing) {
  ObjectIncidentManager m("cam", policy());
  EXPECT_TRUE(m.observe({track(1, "dog", Box{0.1, 0.1, 0.1, 0.1}, 0)}, 0, wall_at(0)).events.empty());
  EXPECT_TRUE(m.observe({track(2, "person", Box{0.1, 0.1, 0.1, 0.1}, 0, 0.1, false)}, 0, wall_at(0)).events.empty());
}

TEST(ObjectIncidents, ParkedCarSeenAgainAsANewTrackDoesNotReFire) {
  ObjectIncidentManager m("cam", policy());
  const Box parked{0.6, 0.5, 0.2, 0.1};
  MediaTimeNs pts = 0;
  int starts = 0;
  // The car parks (still), its incident ends; the tracker later forgets it. Every 2 minutes someone
  // walks past, the detector sees the car again under a new track id: no new car incident.
  for (int k = 0; k < 5; ++k) {
    const std::int64_t id = 100 + k;
    for (int i = 0; i < 5; ++i, pts += kFrame)
      starts += count(m.observe({track(id, "car", parked, pts, 0.0)}, pts, wall_at(pts)), IncidentPhase::kStart);
    for (int i = 0; i < 30; ++i, pts += kFrame) m.observe({}, pts, wall_at(pts));
    pts += 120 * kNsPerSecond;
  }
  EXPECT_EQ(starts, 1);
  // A car driving through the same spot (moving) is a new object and does raise an incident.
  const auto r = m.observe({track(200, "car", parked, pts, 0.3)}, pts, wall_at(pts));
  EXPECT_EQ(count(r, IncidentPhase::kStart), 1);
}

TEST(ObjectIncidents, TwoObjectsTwoIncidentsAndCloseAllEndsBoth) {
  ObjectIncidentManager m("cam", policy());
  const auto r = m.observe(
      {track(1, "person", Box{0.1, 0.1, 0.1, 0.2}, 0), track(2, "car", Box{0.5, 0.5, 0.2, 0.1}, 0)}, 0, wall_at(0));
  EXPECT_EQ(count(r, IncidentPhase::kStart), 2);
  EXPECT_EQ(m.open_count(), 2u);
  const auto ended = m.close_all(kFrame, wall_at(kFrame), "shutdown");
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].end_reason, "shutdown");
  EXPECT_TRUE(ended[0].ended_at.has_value());
  EXPECT_EQ(m.open_count(), 0u);
}

}  // namespace
}  // namespace matthan
