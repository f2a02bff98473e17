// zones / lines / rules and the node's time_zone: parsed into the camera, every mistake reported with its
// file:line and key.
#include <gtest/gtest.h>

#include "matthan/app/config.hpp"

namespace matthan {
namespace {

ConfigLoad load(const std::string& yaml) {
  return load_config_text(yaml, "cam.yaml", "/etc/matthan");
}

bool has_issue(const ConfigLoad& l, int line, const std::string& key, const std::string& fragment) {
  for (const auto& i : l.issues)
    if (i.line == line && i.key == key && i.message.find(fragment) != std::string::npos) return true;
  return false;
}

// Line 1..5 are the camera; a test appends its own lines from line 6 on.
const char* kHead = R"(cameras:
  - id: gate
    url: rtsp://127.0.0.1:8554/gate
    detect:
      objects: {labels: [person, motorbike, car, truck]}
)";

TEST(RulesConfig, ParsesTheIssueExample) {
  const std::string yaml = std::string("time_zone: Asia/Ho_Chi_Minh\n") + kHead + R"(    zones:
      - {name: cong-truong, polygon: [[0.1,0.5],[0.6,0.5],[0.6,1.0],[0.1,1.0]]}
    lines:
      - {name: duong-vao, from: [0.2,0.7], to: [0.8,0.7], direction: a_to_b}
    rules:
      - {kind: zone_enter, zone: cong-truong, labels: [person, motorbike], schedule: "22:00-05:00"}
      - {kind: line_cross, line: duong-vao, labels: [car, truck]}
      - {kind: loiter, zone: cong-truong, labels: [person], seconds: 60}
)";
  auto l = load(yaml);
  ASSERT_TRUE(l.ok()) << l.error_text();
  const RuleSettings& r = l.config.cameras[0].rules;
  EXPECT_EQ(r.time_zone, "Asia/Ho_Chi_Minh");
  ASSERT_EQ(r.zones.size(), 1u);
  EXPECT_EQ(r.zones[0].name, "cong-truong");
  ASSERT_EQ(r.zones[0].polygon.size(), 4u);
  EXPECT_DOUBLE_EQ(r.zones[0].polygon[1][0], 0.6);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].direction, LineDirection::kAToB);
  EXPECT_DOUBLE_EQ(r.lines[0].b[0], 0.8);
  ASSERT_EQ(r.rules.size(), 3u);
  EXPECT_EQ(r.rules[0].kind, RuleKind::kZoneEnter);
  EXPECT_EQ(r.rules[0].target, "cong-truong");
  EXPECT_EQ(r.rules[0].labels, (std::set<std::string>{"person", "motorbike"}));
  ASSERT_TRUE(r.rules[0].schedule.has_value());
  EXPECT_EQ(r.rules[0].schedule->start_minute, 22 * 60);
  EXPECT_EQ(r.rules[0].schedule->end_minute, 5 * 60);
  EXPECT_EQ(r.rules[1].kind, RuleKind::kLineCross);
  EXPECT_FALSE(r.rules[1].schedule.has_value());
  EXPECT_EQ(r.rules[2].kind, RuleKind::kLoiter);
  EXPECT_DOUBLE_EQ(r.rules[2].seconds, 60);
}

// detect.objects.recheck_s defaults to 1 s, but a rule camera's zones and lines would judge a box up to that
// old: with rules it defaults to 0, and a value the config gives (here or in defaults) is kept.
TEST(RulesConfig, ARuleCameraDetectsEveryFrameUnlessRecheckIsGiven) {
  const std::string rules =
      "    lines:\n      - {name: l, from: [0.2,0.7], to: [0.8,0.7]}\n"
      "    rules:\n      - {kind: line_cross, line: l, labels: [car]}\n";
  auto plain = load(kHead);
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_DOUBLE_EQ(plain.config.cameras[0].detect.objects.recheck_s, 1.0);
  auto ruled = load(std::string(kHead) + rules);
  ASSERT_TRUE(ruled.ok()) << ruled.error_text();
  EXPECT_DOUBLE_EQ(ruled.config.cameras[0].detect.objects.recheck_s, 0.0);
  auto given = load(std::string("defaults:\n  detect:\n    objects: {recheck_s: 1.5}\n") + kHead + rules);
  ASSERT_TRUE(given.ok()) << given.error_text();
  EXPECT_DOUBLE_EQ(given.config.cameras[0].detect.objects.recheck_s, 1.5);
}

TEST(RulesConfig, TimeZoneDefaultsToHoChiMinhAndUnknownZonesAreErrors) {
  auto l = load(kHead);
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.time_zone, "Asia/Ho_Chi_Minh");
  EXPECT_EQ(l.config.cameras[0].rules.time_zone, "Asia/Ho_Chi_Minh");
  auto utc = load(std::string("time_zone: UTC\n") + kHead);
  ASSERT_TRUE(utc.ok()) << utc.error_text();
  EXPECT_EQ(utc.config.cameras[0].rules.time_zone, "UTC");
  auto bad = load(std::string("time_zone: Mars/Olympus_Mons\n") + kHead);
  EXPECT_TRUE(has_issue(bad, 1, "time_zone", "unknown time zone")) << bad.error_text();
  auto evil = load(std::string("time_zone: ../../etc/passwd\n") + kHead);
  EXPECT_TRUE(has_issue(evil, 1, "time_zone", "not a time zone name")) << evil.error_text();
}

TEST(RulesConfig, ZoneErrors) {
  auto few = load(std::string(kHead) + "    zones:\n      - {name: a, polygon: [[0.1,0.1],[0.2,0.2]]}\n");
  EXPECT_TRUE(has_issue(few, 7, "cameras[0].zones[0].polygon", "at least 3")) << few.error_text();
  auto outside = load(std::string(kHead) + "    zones:\n      - {name: a, polygon: [[0.1,0.1],[1.2,0.2],[0.1,0.9]]}\n");
  EXPECT_TRUE(has_issue(outside, 7, "cameras[0].zones[0].polygon[1]", "within 0..1")) << outside.error_text();
  auto noname = load(std::string(kHead) + "    zones:\n      - {polygon: [[0.1,0.1],[0.2,0.2],[0.1,0.9]]}\n");
  EXPECT_TRUE(has_issue(noname, 7, "cameras[0].zones[0].name", "required")) << noname.error_text();
  auto dup = load(
      std::string(kHead) +
      "    zones:\n      - {name: a, polygon: [[0,0],[1,0],[1,1]]}\n      - {name: a, polygon: [[0,0],[1,0],[1,1]]}\n");
  EXPECT_TRUE(has_issue(dup, 8, "cameras[0].zones[1].name", "duplicate zone")) << dup.error_text();
  auto nopoly = load(std::string(kHead) + "    zones:\n      - {name: a}\n");
  EXPECT_TRUE(has_issue(nopoly, 7, "cameras[0].zones[0].polygon", "required")) << nopoly.error_text();
}

TEST(RulesConfig, LineErrors) {
  auto dir =
      load(std::string(kHead) + "    lines:\n      - {name: l, from: [0.1,0.5], to: [0.9,0.5], direction: up}\n");
  EXPECT_TRUE(has_issue(dir, 7, "cameras[0].lines[0].direction", "a_to_b, b_to_a, both")) << dir.error_text();
  auto outside = load(std::string(kHead) + "    lines:\n      - {name: l, from: [-0.1,0.5], to: [0.9,0.5]}\n");
  EXPECT_TRUE(has_issue(outside, 7, "cameras[0].lines[0].from", "within 0..1")) << outside.error_text();
  auto missing = load(std::string(kHead) + "    lines:\n      - {name: l, from: [0.1,0.5]}\n");
  EXPECT_TRUE(has_issue(missing, 7, "cameras[0].lines[0].to", "required")) << missing.error_text();
  auto same = load(std::string(kHead) + "    lines:\n      - {name: l, from: [0.5,0.5], to: [0.5,0.5]}\n");
  EXPECT_TRUE(has_issue(same, 7, "cameras[0].lines[0].to", "two points")) << same.error_text();
  auto ok = load(std::string(kHead) + "    lines:\n      - {name: l, from: [0.1,0.5], to: [0.9,0.5]}\n");
  ASSERT_TRUE(ok.ok()) << ok.error_text();
  EXPECT_EQ(ok.config.cameras[0].rules.lines[0].direction, LineDirection::kBoth) << "direction defaults to both";
}

const char* kShapes = R"(    zones:
      - {name: yard, polygon: [[0.1,0.5],[0.6,0.5],[0.6,1.0],[0.1,1.0]]}
    lines:
      - {name: road, from: [0.2,0.7], to: [0.8,0.7]}
    rules:
)";  // lines 6..10; a rule is line 11

TEST(RulesConfig, RuleErrors) {
  auto rule = [](const std::string& r) { return load(std::string(kHead) + kShapes + "      - " + r + "\n"); };
  auto unknown_zone = rule("{kind: zone_enter, zone: garden}");
  EXPECT_TRUE(has_issue(unknown_zone, 11, "cameras[0].rules[0].zone", "unknown zone 'garden'"))
      << unknown_zone.error_text();
  auto unknown_line = rule("{kind: line_cross, line: river}");
  EXPECT_TRUE(has_issue(unknown_line, 11, "cameras[0].rules[0].line", "unknown line 'river'"))
      << unknown_line.error_text();
  auto wrong_target = rule("{kind: line_cross, zone: yard}");
  EXPECT_TRUE(has_issue(wrong_target, 11, "cameras[0].rules[0].zone", "does not apply to line_cross"))
      << wrong_target.error_text();
  EXPECT_TRUE(has_issue(wrong_target, 11, "cameras[0].rules[0].line", "required")) << wrong_target.error_text();
  auto kind = rule("{kind: trespass, zone: yard}");
  EXPECT_TRUE(has_issue(kind, 11, "cameras[0].rules[0].kind", "zone_enter, line_cross, loiter")) << kind.error_text();
  auto no_kind = rule("{zone: yard}");
  EXPECT_TRUE(has_issue(no_kind, 11, "cameras[0].rules[0].kind", "required")) << no_kind.error_text();
  auto schedule = rule("{kind: zone_enter, zone: yard, schedule: \"22:00 to 05:00\"}");
  EXPECT_TRUE(has_issue(schedule, 11, "cameras[0].rules[0].schedule", "HH:MM-HH:MM")) << schedule.error_text();
  auto hour = rule("{kind: zone_enter, zone: yard, schedule: \"25:00-05:00\"}");
  EXPECT_TRUE(has_issue(hour, 11, "cameras[0].rules[0].schedule", "HH:MM-HH:MM")) << hour.error_text();
  auto loiter = rule("{kind: loiter, zone: yard}");
  EXPECT_TRUE(has_issue(loiter, 11, "cameras[0].rules[0].seconds", "seconds > 0")) << loiter.error_text();
  auto loiter0 = rule("{kind: loiter, zone: yard, seconds: 0}");
  EXPECT_TRUE(has_issue(loiter0, 11, "cameras[0].rules[0].seconds", "seconds > 0")) << loiter0.error_text();
  auto seconds = rule("{kind: zone_enter, zone: yard, seconds: 5}");
  EXPECT_TRUE(has_issue(seconds, 11, "cameras[0].rules[0].seconds", "only applies to loiter")) << seconds.error_text();
  auto label = rule("{kind: zone_enter, zone: yard, labels: [person, dog]}");
  EXPECT_TRUE(has_issue(label, 11, "cameras[0].rules[0].labels[1]", "'dog' is not in detect.objects.labels"))
      << label.error_text();
  auto empty_labels = rule("{kind: zone_enter, zone: yard, labels: []}");
  EXPECT_TRUE(has_issue(empty_labels, 11, "cameras[0].rules[0].labels", "non-empty")) << empty_labels.error_text();
  auto key = rule("{kind: zone_enter, zone: yard, when: night}");
  EXPECT_TRUE(has_issue(key, 11, "cameras[0].rules[0].when", "unknown key")) << key.error_text();
  auto good = rule("{kind: zone_enter, zone: yard}");
  ASSERT_TRUE(good.ok()) << good.error_text();
  EXPECT_TRUE(good.config.cameras[0].rules.rules[0].labels.empty()) << "no labels: every detect.objects label";
}

TEST(RulesConfig, RulesNeedADetectObjectsBlock) {
  auto l = load(std::string("cameras:\n  - id: gate\n    url: rtsp://127.0.0.1:8554/gate\n") +
                "    zones:\n      - {name: yard, polygon: [[0,0.5],[1,0.5],[1,1]]}\n"
                "    rules:\n      - {kind: zone_enter, zone: yard}\n");
  EXPECT_TRUE(has_issue(l, 7, "cameras[0].rules", "detect.objects")) << l.error_text();
  // From defaults is enough.
  auto d = load(std::string("defaults:\n  detect:\n    objects: {labels: [person]}\n") +
                "cameras:\n  - id: gate\n    url: rtsp://127.0.0.1:8554/gate\n"
                "    zones:\n      - {name: yard, polygon: [[0,0.5],[1,0.5],[1,1]]}\n"
                "    rules:\n      - {kind: zone_enter, zone: yard, labels: [person]}\n");
  EXPECT_TRUE(d.ok()) << d.error_text();
}

TEST(RulesConfig, ZonesAndRulesAreNotDefaults) {
  auto l = load(std::string("defaults:\n  zones: []\n") + kHead);
  EXPECT_TRUE(has_issue(l, 2, "defaults.zones", "unknown key")) << l.error_text();
}

}  // namespace
}  // namespace matthan
