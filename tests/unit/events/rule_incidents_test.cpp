// RuleIncidentManager on synthetic tracks: zone_enter lasts while the object stays in the zone (edge
// dithering keeps one incident), line_cross is a moment, loiter starts after its seconds, schedules,
// tracks dropped by the tracker end their incidents and are forgotten by the rules.
#include "matthan/events/rule_incidents.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = kNsPerSecond / 5;
constexpr int kNight = 23 * 60;
constexpr int kNoon = 12 * 60;

WallTime wall_at(MediaTimeNs pts) {
  return WallTime{} + std::chrono::hours(24 * 365 * 56) + std::chrono::nanoseconds(pts);
}

// A person 0.1 x 0.2 whose feet are at (x, y).
TrackObservation person(std::int64_t id, double x, double y, bool seen = true) {
  TrackObservation t;
  t.id = id;
  t.label = "person";
  t.score = 0.7;
  t.box = Box{x - 0.05, y - 0.2, 0.1, 0.2};
  t.confirmed = true;
  t.seen = seen;
  t.speed = 0.2;  // walking
  return t;
}

const Zone kYard{"yard", {{0.0, 0.5}, {1.0, 0.5}, {1.0, 1.0}, {0.0, 1.0}}};
const Line kRoad{"road", {0.0, 0.5}, {1.0, 0.5}, LineDirection::kAToB};  // a_to_b: moving down

RuleIncidentPolicy policy() {
  RuleIncidentPolicy p;
  p.end_seconds = 2;
  return p;
}

struct Feed {
  std::vector<std::pair<IncidentPhase, Incident>> events;
  MediaTimeNs pts = 0;
  void add(const ObjectObserveResult& r) { events.insert(events.end(), r.events.begin(), r.events.end()); }
  int count(IncidentPhase p, const std::string& kind = "") const {
    int n = 0;
    for (const auto& [ph, inc] : events) n += ph == p && (kind.empty() || to_string(inc.kind) == kind);
    return n;
  }
};

TEST(RuleIncidents, ZoneEnterLastsWhileInsideAndEndsAfterLeaving) {
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kZoneEnter, "yard", {"person"}, std::nullopt, 0}},
                        policy());
  Feed run;
  for (double y = 0.3; y < 0.8; y += 0.02, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, y)}, run.pts, wall_at(run.pts), kNoon));
  ASSERT_EQ(run.count(IncidentPhase::kStart), 1);
  const Incident& start = run.events.front().second;
  EXPECT_EQ(to_string(start.kind), "zone_enter");
  EXPECT_EQ(start.label, "person");
  EXPECT_EQ(start.track, 1);
  EXPECT_EQ(start.zones, std::vector<std::string>{"yard"});
  ASSERT_TRUE(start.rule.has_value());
  EXPECT_EQ(start.rule->kind, "zone_enter");
  EXPECT_EQ(start.rule->zone, "yard");
  EXPECT_TRUE(start.rule->line.empty());
  EXPECT_EQ(m.open_count(), 1u);
  // Dithering on the edge (out and back in within end_seconds) is the same incident.
  for (int i = 0; i < 10; ++i, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, (i % 2) ? 0.48 : 0.52)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 1);
  EXPECT_EQ(run.count(IncidentPhase::kEnd), 0);
  // Walking out and staying out ends it, at the last frame inside.
  const MediaTimeNs left_at = run.pts;
  for (int i = 0; i < 15; ++i, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, 0.3)}, run.pts, wall_at(run.pts), kNoon));
  ASSERT_EQ(run.count(IncidentPhase::kEnd), 1);
  const Incident& end = run.events.back().second;
  EXPECT_EQ(end.end_reason, "left_zone");
  EXPECT_LT(end.end_pts, left_at);
  EXPECT_EQ(m.open_count(), 0u);
  // Coming back is a new entry.
  for (int i = 0; i < 3; ++i, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, 0.7)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 2);
}

TEST(RuleIncidents, ZoneEnterEndsQuietWhenTheTrackIsLost) {
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kZoneEnter, "yard", {}, std::nullopt, 0}}, policy());
  Feed run;
  for (int i = 0; i < 3; ++i, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, 0.7)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 1);
  // The tracker drops the track: the incident ends at once, and the rules forget it.
  run.add(m.observe({}, run.pts, wall_at(run.pts), kNoon));
  ASSERT_EQ(run.count(IncidentPhase::kEnd), 1);
  EXPECT_EQ(run.events.back().second.end_reason, "quiet");
  // Unseen (a still person the detector does not look at) for end_seconds ends it too.
  run.pts += kFrame;
  run.add(m.observe({person(2, 0.5, 0.7)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 2);
  for (int i = 0; i < 15; ++i) {
    run.pts += kFrame;
    run.add(m.observe({person(2, 0.5, 0.7, false)}, run.pts, wall_at(run.pts), kNoon));
  }
  EXPECT_EQ(run.count(IncidentPhase::kEnd), 2);
  EXPECT_EQ(run.events.back().second.end_reason, "quiet");
  // Seen again where it stood: no new entry, no new incident.
  run.pts += kFrame;
  run.add(m.observe({person(2, 0.5, 0.7)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 2);
}

TEST(RuleIncidents, AParkedObjectSeenAgainDoesNotReEnter) {
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kZoneEnter, "yard", {"car"}, std::nullopt, 0}}, policy());
  Feed run;
  auto car = [](std::int64_t id, double speed) {
    TrackObservation t = person(id, 0.5, 0.8);
    t.label = "car";
    t.speed = speed;
    return t;
  };
  // A car drives in and parks: one zone_enter, which ends once it is unseen.
  for (int i = 0; i < 3; ++i, run.pts += kFrame) run.add(m.observe({car(1, 0.2)}, run.pts, wall_at(run.pts), kNoon));
  for (int i = 0; i < 3; ++i, run.pts += kFrame) run.add(m.observe({car(1, 0.0)}, run.pts, wall_at(run.pts), kNoon));
  for (int i = 0; i < 15; ++i, run.pts += kFrame) {
    TrackObservation parked = car(1, 0.0);
    parked.seen = false;
    run.add(m.observe({parked}, run.pts, wall_at(run.pts), kNoon));
  }
  ASSERT_EQ(run.count(IncidentPhase::kStart), 1);
  ASSERT_EQ(run.count(IncidentPhase::kEnd), 1);
  // The tracker dropped it long ago; someone walks by, the detector sees the car again as a new track.
  run.add(m.observe({}, run.pts, wall_at(run.pts), kNoon));
  for (int i = 0; i < 5; ++i, run.pts += kFrame) run.add(m.observe({car(2, 0.0)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 1) << "the parked car is not a new arrival";
  // A car that drives in to the same spot is.
  for (int i = 0; i < 3; ++i, run.pts += kFrame) run.add(m.observe({car(3, 0.3)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 2);
}

TEST(RuleIncidents, LineCrossIsAMomentAndOnlyInItsDirection) {
  RuleIncidentManager m("cam", {}, {kRoad}, {Rule{RuleKind::kLineCross, "road", {}, std::nullopt, 0}}, policy());
  Feed run;
  for (double y = 0.9; y > 0.2; y -= 0.05, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, y)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_TRUE(run.events.empty()) << "walking up is b_to_a";
  for (double y = 0.2; y < 0.9; y += 0.05, run.pts += kFrame)
    run.add(m.observe({person(2, 0.5, y)}, run.pts, wall_at(run.pts), kNoon));
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].first, IncidentPhase::kStart);
  EXPECT_EQ(run.events[1].first, IncidentPhase::kEnd);
  const Incident& inc = run.events[1].second;
  EXPECT_EQ(to_string(inc.kind), "line_cross");
  EXPECT_EQ(inc.end_reason, "crossed");
  EXPECT_EQ(inc.end_pts, inc.start_pts);
  ASSERT_TRUE(inc.rule.has_value());
  EXPECT_EQ(inc.rule->line, "road");
  EXPECT_TRUE(inc.rule->zone.empty());
  EXPECT_EQ(m.open_count(), 0u);
}

TEST(RuleIncidents, LoiterStartsAfterItsSecondsAndOnlyRuleIncidentsAreRaised) {
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kLoiter, "yard", {"person"}, std::nullopt, 10}}, policy());
  Feed run;
  MediaTimeNs started = -1;
  for (int i = 0; i < 5 * 15; ++i, run.pts += kFrame) {
    run.add(m.observe({person(1, 0.3 + 0.01 * (i % 10), 0.8)}, run.pts, wall_at(run.pts), kNoon));
    if (started < 0 && run.count(IncidentPhase::kStart) == 1) started = run.pts;
  }
  EXPECT_EQ(started, 10 * kNsPerSecond);
  EXPECT_EQ(run.count(IncidentPhase::kStart), 1);
  EXPECT_EQ(run.count(IncidentPhase::kStart, "loiter"), 1);
  // A car loitering is not what the rule asks for, and there is no `object` incident for it either.
  Feed cars;
  for (int i = 0; i < 5 * 15; ++i, cars.pts += kFrame) {
    TrackObservation car = person(9, 0.5, 0.8);
    car.label = "car";
    cars.add(m.observe({person(1, 0.3, 0.8), car}, run.pts + cars.pts, wall_at(run.pts + cars.pts), kNoon));
  }
  EXPECT_EQ(cars.count(IncidentPhase::kStart), 0);
  EXPECT_EQ(m.close_all("shutdown").size(), 1u);
}

TEST(RuleIncidents, ScheduleOutsideItsWindowRaisesNothing) {
  auto night = Schedule::parse("22:00-05:00");
  ASSERT_TRUE(night.ok());
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kZoneEnter, "yard", {}, night.value(), 0}}, policy());
  Feed run;
  for (double y = 0.3; y < 0.8; y += 0.05, run.pts += kFrame)
    run.add(m.observe({person(1, 0.5, y)}, run.pts, wall_at(run.pts), kNoon));
  EXPECT_TRUE(run.events.empty());
  for (double y = 0.3; y < 0.8; y += 0.05, run.pts += kFrame)
    run.add(m.observe({person(2, 0.5, y)}, run.pts, wall_at(run.pts), kNight));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 1);
  for (double y = 0.3; y < 0.8; y += 0.05, run.pts += kFrame)
    run.add(m.observe({person(3, 0.5, y)}, run.pts, wall_at(run.pts), 2 * 60));
  EXPECT_EQ(run.count(IncidentPhase::kStart), 2) << "02:00 is inside 22:00-05:00";
}

TEST(RuleIncidents, UnconfirmedTracksAreIgnored) {
  RuleIncidentManager m("cam", {kYard}, {}, {Rule{RuleKind::kZoneEnter, "yard", {}, std::nullopt, 0}}, policy());
  Feed run;
  for (double y = 0.3; y < 0.8; y += 0.05, run.pts += kFrame) {
    TrackObservation t = person(1, 0.5, y);
    t.confirmed = false;
    run.add(m.observe({t}, run.pts, wall_at(run.pts), kNoon));
  }
  EXPECT_TRUE(run.events.empty());
}

}  // namespace
}  // namespace matthan
