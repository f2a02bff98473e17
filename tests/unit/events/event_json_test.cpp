// The incident JSON: topics, encoding of start/update/end, and the schema accepting it and rejecting
// malformed messages with a useful error.
#include "matthan/events/event_json.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "matthan/core/time.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

using Json = nlohmann::json;

const std::filesystem::path kSchema = std::filesystem::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json";
const WallTime kWall0 = WallTime{} + std::chrono::milliseconds(1'790'000'000'123);

JsonSchemaValidator load_validator() {
  auto v = JsonSchemaValidator::from_file(kSchema);
  if (!v) ADD_FAILURE() << v.error().message;
  return std::move(v).value();
}

// Runs a real manager through start, one update and end, as the engine would.
struct Lifecycle {
  Incident start, update, end;
};

Lifecycle run_lifecycle() {
  IncidentManager m("cam1", IncidentPolicy{});
  Lifecycle out;
  for (int i = 0; i < 80; ++i) {
    Observation o;
    o.pts = i * kNsPerSecond / 10;
    o.wall = kWall0 + std::chrono::milliseconds(100 * i);
    o.motion = i < 20;
    o.box = Box{0.1 + 0.01 * i, 0.25, 0.2, 0.5};
    o.score = 0.8;
    for (auto& [phase, inc] : m.observe(o).events) {
      if (phase == IncidentPhase::kStart) out.start = inc;
      if (phase == IncidentPhase::kUpdate && out.update.id.empty()) out.update = inc;
      if (phase == IncidentPhase::kEnd) out.end = inc;
    }
  }
  return out;
}

ClipRef clip_for(const Incident& inc) {
  ClipRef c;
  c.path = "clips/cam1/" + inc.id + ".mp4";
  c.start = inc.started_at - std::chrono::seconds(5);
  c.end = *inc.ended_at + std::chrono::seconds(5);
  c.duration_s = 12.0;
  return c;
}

TEST(IncidentTopic, NamesCameraAndPhase) {
  EXPECT_EQ(incident_topic("cam1", IncidentPhase::kStart), "incident.cam1.start");
  EXPECT_EQ(incident_topic("gate_2", IncidentPhase::kUpdate), "incident.gate_2.update");
  EXPECT_EQ(incident_topic("x", IncidentPhase::kEnd), "incident.x.end");
}

TEST(IncidentJson, LifecycleEncodesAndValidates) {
  const JsonSchemaValidator v = load_validator();
  const Lifecycle l = run_lifecycle();
  ASSERT_FALSE(l.start.id.empty());
  ASSERT_FALSE(l.update.id.empty());
  ASSERT_FALSE(l.end.id.empty());

  const std::string start =
      incident_event_json(l.start, IncidentPhase::kStart, 1, "node-a", "snapshots/cam1/a.jpg", {});
  const std::string update = incident_event_json(l.update, IncidentPhase::kUpdate, 2, "node-a", "", {});
  const std::string end =
      incident_event_json(l.end, IncidentPhase::kEnd, 3, "node-a", "snapshots/cam1/a.jpg", clip_for(l.end));
  for (const std::string* s : {&start, &update, &end}) {
    const Status st = v.validate(*s);
    EXPECT_TRUE(st.ok()) << st.error().message << "\n" << *s;
  }

  const Json js = Json::parse(start);
  EXPECT_EQ(js["schema"], "matthan.incident/1");
  EXPECT_EQ(js["phase"], "start");
  EXPECT_EQ(js["seq"], 1);
  EXPECT_EQ(js["id"], l.start.id);
  EXPECT_EQ(js["node"], "node-a");
  EXPECT_EQ(js["camera"], "cam1");
  EXPECT_EQ(js["kind"], "motion");
  EXPECT_TRUE(js["label"].is_null());
  EXPECT_DOUBLE_EQ(js["score"].get<double>(), 0.8);
  ASSERT_EQ(js["box"].size(), 4u);
  EXPECT_NEAR(js["box"][0].get<double>(), l.start.box.x, 1e-4);
  EXPECT_NEAR(js["box"][3].get<double>(), 0.5, 1e-9);
  EXPECT_EQ(js["started_at"], format_iso8601(kWall0));
  EXPECT_TRUE(js["ended_at"].is_null());
  EXPECT_FALSE(js.contains("end_reason"));
  EXPECT_EQ(js["snapshot"], "snapshots/cam1/a.jpg");
  EXPECT_TRUE(js["clip"].is_null());

  const Json ju = Json::parse(update);
  EXPECT_EQ(ju["phase"], "update");
  EXPECT_TRUE(ju["snapshot"].is_null()) << "an empty snapshot path is null, not \"\"";
  EXPECT_GT(ju["box"][0].get<double>(), js["box"][0].get<double>()) << "the update carries the moved box";

  const Json je = Json::parse(end);
  EXPECT_EQ(je["phase"], "end");
  EXPECT_EQ(je["end_reason"], "quiet");
  EXPECT_EQ(je["ended_at"], format_iso8601(kWall0 + std::chrono::milliseconds(1900)));
  EXPECT_EQ(je["clip"]["path"], "clips/cam1/" + l.end.id + ".mp4");
  EXPECT_EQ(je["clip"]["start"], format_iso8601(kWall0 - std::chrono::seconds(5)));
  EXPECT_DOUBLE_EQ(je["clip"]["duration_s"].get<double>(), 12.0);
}

TEST(IncidentJson, OutOfRangeValuesAreClampedSoTheMessageStillValidates) {
  const JsonSchemaValidator v = load_validator();
  Incident inc;
  inc.id = make_incident_id("cam1", kWall0);
  inc.camera = "cam1";
  inc.label = "person";
  inc.kind = IncidentKind::kObject;
  inc.score = 1.5;
  inc.box = Box{0.9, -0.1, 0.3, 1.2};  // spills over the right and top edges
  inc.started_at = kWall0;
  const std::string s = incident_event_json(inc, IncidentPhase::kStart, 7, "n", "", {});
  ASSERT_TRUE(v.validate(s).ok()) << v.validate(s).error().message << "\n" << s;
  const Json j = Json::parse(s);
  EXPECT_EQ(j["label"], "person");
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), 1.0);
  EXPECT_LE(j["box"][0].get<double>() + j["box"][2].get<double>(), 1.0 + 1e-9);
  EXPECT_DOUBLE_EQ(j["box"][1].get<double>(), 0.0);
}

TEST(IncidentJson, ObjectIncidentCarriesTrackAndZonesAndMotionHasNullTrack) {
  const JsonSchemaValidator v = load_validator();
  Incident inc;
  inc.id = make_incident_id("cam1", kWall0);
  inc.camera = "cam1";
  inc.kind = IncidentKind::kZoneEnter;
  inc.label = "motorbike";
  inc.track = 42;
  inc.zones = {"cong-truong", "san", "cong-truong"};
  inc.score = 0.8;
  inc.box = Box{0.1, 0.2, 0.3, 0.4};
  inc.started_at = kWall0;
  const std::string s = incident_event_json(inc, IncidentPhase::kStart, 3, "n", "", {});
  ASSERT_TRUE(v.validate(s).ok()) << v.validate(s).error().message << "\n" << s;
  const Json j = Json::parse(s);
  EXPECT_EQ(j["kind"], "zone_enter");
  EXPECT_EQ(j["track"], 42);
  EXPECT_EQ(j["zones"], Json::array({"cong-truong", "san"})) << "duplicates dropped, order kept";

  Incident motion = inc;
  motion.kind = IncidentKind::kMotion;
  motion.label.reset();
  motion.track.reset();
  motion.zones.clear();
  const Json m = Json::parse(incident_event_json(motion, IncidentPhase::kStart, 4, "n", "", {}));
  EXPECT_TRUE(m["track"].is_null());
  EXPECT_TRUE(m["zones"].is_array() && m["zones"].empty());
  // Old messages without the new keys still validate: the change is additive.
  Json old = m;
  old.erase("track");
  old.erase("zones");
  EXPECT_TRUE(v.validate(old.dump()).ok());
  Json bad = m;
  bad["track"] = 0;
  EXPECT_FALSE(v.validate(bad.dump()).ok()) << "track ids start at 1";
}

TEST(IncidentJson, RuleIncidentNamesItsRuleAndTheSchemaChecksIt) {
  const JsonSchemaValidator v = load_validator();
  Incident inc;
  inc.id = make_incident_id("cam1", kWall0);
  inc.camera = "cam1";
  inc.kind = IncidentKind::kLineCross;
  inc.label = "car";
  inc.track = 7;
  inc.score = 0.6;
  inc.box = Box{0.1, 0.2, 0.3, 0.4};
  inc.started_at = kWall0;
  inc.rule = IncidentRule{"line_cross", "", "duong-vao"};
  const std::string s = incident_event_json(inc, IncidentPhase::kStart, 3, "n", "", {});
  ASSERT_TRUE(v.validate(s).ok()) << v.validate(s).error().message << "\n" << s;
  const Json j = Json::parse(s);
  EXPECT_EQ(j["rule"], Json({{"kind", "line_cross"}, {"line", "duong-vao"}}));

  inc.kind = IncidentKind::kLoiter;
  inc.rule = IncidentRule{"loiter", "cong-truong", ""};
  const Json z = Json::parse(incident_event_json(inc, IncidentPhase::kStart, 4, "n", "", {}));
  EXPECT_EQ(z["rule"], Json({{"kind", "loiter"}, {"zone", "cong-truong"}}));
  EXPECT_TRUE(v.validate(z.dump()).ok());

  // Plain incidents carry no `rule` key; a rule must name its zone or its line, matching its kind.
  inc.rule.reset();
  EXPECT_FALSE(Json::parse(incident_event_json(inc, IncidentPhase::kStart, 5, "n", "", {})).contains("rule"));
  Json bad = z;
  bad["rule"] = Json({{"kind", "loiter"}, {"line", "duong-vao"}});
  EXPECT_FALSE(v.validate(bad.dump()).ok()) << "loiter names a zone";
  bad["rule"] = Json({{"kind", "zone_enter"}});
  EXPECT_FALSE(v.validate(bad.dump()).ok()) << "the zone is required";
  bad["rule"] = Json({{"kind", "trespass"}, {"zone", "x"}});
  EXPECT_FALSE(v.validate(bad.dump()).ok());
  bad["rule"] = Json({{"kind", "zone_enter"}, {"zone", "x"}, {"extra", 1}});
  EXPECT_FALSE(v.validate(bad.dump()).ok());
}

class SchemaRejects : public ::testing::Test {
 protected:
  void SetUp() override {
    const Lifecycle l = run_lifecycle();
    start_ = Json::parse(incident_event_json(l.start, IncidentPhase::kStart, 1, "node-a", "snap/a.jpg", {}));
    end_ = Json::parse(incident_event_json(l.end, IncidentPhase::kEnd, 2, "node-a", "snap/a.jpg", clip_for(l.end)));
    ASSERT_TRUE(validator_.validate(start_.dump()).ok());
    ASSERT_TRUE(validator_.validate(end_.dump()).ok());
  }

  // The validator's error for `j`, or "" when it (wrongly) passes.
  std::string error_for(const Json& j) const {
    const Status st = validator_.validate(j.dump());
    return st.ok() ? std::string() : st.error().message;
  }

  JsonSchemaValidator validator_ = load_validator();
  Json start_, end_;
};

TEST_F(SchemaRejects, MissingField) {
  Json j = start_;
  j.erase("id");
  const std::string e = error_for(j);
  EXPECT_NE(e.find("required"), std::string::npos) << e;
  EXPECT_NE(e.find("missing 'id'"), std::string::npos) << e;
}

TEST_F(SchemaRejects, BoxOutOfRangeNamesTheElement) {
  Json j = start_;
  j["box"][2] = 1.5;
  const std::string e = error_for(j);
  EXPECT_NE(e.find("maximum"), std::string::npos) << e;
  EXPECT_NE(e.find("/box/2"), std::string::npos) << e;
  j["box"] = Json::array({0.1, 0.2, 0.3});
  EXPECT_NE(error_for(j).find("minItems"), std::string::npos) << error_for(j);
  j["box"] = Json::array({0.1, 0.2, 0.3, -0.01});
  EXPECT_NE(error_for(j).find("minimum"), std::string::npos) << error_for(j);
}

TEST_F(SchemaRejects, ExtraKey) {
  Json j = start_;
  j["password"] = "hunter2";
  const std::string e = error_for(j);
  EXPECT_NE(e.find("additionalProperties"), std::string::npos) << e;
  EXPECT_NE(e.find("/password"), std::string::npos) << "names the key: " << e;
  Json c = end_;
  c["clip"]["codec"] = "h264";
  const std::string ce = error_for(c);
  EXPECT_FALSE(ce.empty()) << "the clip object is closed too";
}

TEST_F(SchemaRejects, EndWithoutClipOrReasonAndStartWithEndFields) {
  Json j = end_;
  j["clip"] = nullptr;
  std::string e = error_for(j);
  EXPECT_NE(e.find("oneOf"), std::string::npos) << e;
  EXPECT_NE(e.find("clip"), std::string::npos) << "the hint names the phase fields: " << e;
  j = end_;
  j.erase("end_reason");
  EXPECT_FALSE(error_for(j).empty());
  j = end_;
  j["ended_at"] = nullptr;
  EXPECT_FALSE(error_for(j).empty());
  j = start_;
  j["end_reason"] = "quiet";
  EXPECT_FALSE(error_for(j).empty()) << "start must not carry an end reason";
  j = start_;
  j["clip"] = end_["clip"];
  EXPECT_FALSE(error_for(j).empty()) << "start must not carry a clip";
}

TEST_F(SchemaRejects, EndWithoutClipNeedsClipErrorAndNothingElseMayCarryIt) {
  Json j = end_;
  j["clip"] = nullptr;
  j["clip_error"] = "storage full";
  EXPECT_TRUE(error_for(j).empty()) << "an end whose clip failed says why: " << error_for(j);
  j = end_;
  j["clip_error"] = "storage full";
  EXPECT_FALSE(error_for(j).empty()) << "a clip and a clip error together";
  j = start_;
  j["clip_error"] = "storage full";
  EXPECT_FALSE(error_for(j).empty()) << "start must not carry a clip error";
}

TEST(IncidentJson, EndWithoutClipCarriesTheReason) {
  Incident inc;
  inc.id = "cam-1";
  inc.camera = "cam";
  inc.ended_at = inc.started_at;
  inc.end_reason = "quiet";
  const Json j = Json::parse(incident_event_json(inc, IncidentPhase::kEnd, 7, "n", "", std::nullopt, "disk full"));
  EXPECT_TRUE(j["clip"].is_null());
  EXPECT_EQ(j["clip_error"], "disk full");
  const Json k = Json::parse(incident_event_json(inc, IncidentPhase::kStart, 8, "n", "", std::nullopt, "ignored"));
  EXPECT_FALSE(k.contains("clip_error"));
}

TEST_F(SchemaRejects, BadScalars) {
  auto rejected = [&](const char* key, Json value) {
    Json j = start_;
    j[key] = std::move(value);
    return !error_for(j).empty();
  };
  EXPECT_TRUE(rejected("seq", 0));
  EXPECT_TRUE(rejected("seq", 1.5));
  EXPECT_TRUE(rejected("seq", "1"));
  EXPECT_TRUE(rejected("phase", "begin"));
  EXPECT_TRUE(rejected("schema", "matthan.incident/2"));
  EXPECT_TRUE(rejected("score", 1.01));
  EXPECT_TRUE(rejected("camera", "cam.1"));
  EXPECT_TRUE(rejected("camera", ""));
  EXPECT_TRUE(rejected("label", ""));
  EXPECT_TRUE(rejected("started_at", "2026-11-28 19:30:12"));
  EXPECT_TRUE(rejected("started_at", "2026-11-28T19:30:12+07:00"));  // milliseconds are part of the format
  EXPECT_TRUE(rejected("snapshot", "/etc/passwd"));
  EXPECT_TRUE(rejected("snapshot", "../outside.jpg"));
  EXPECT_TRUE(rejected("snapshot", "a/../../b.jpg"));
  EXPECT_TRUE(rejected("snapshot", "a\\b.jpg"));
  // Controls, so the checks above can be trusted to be about the value.
  EXPECT_FALSE(rejected("seq", 9007199254740991ull));
  EXPECT_FALSE(rejected("label", "person"));
  EXPECT_FALSE(rejected("started_at", "2026-11-28T19:30:12.345-03:30"));
  EXPECT_FALSE(rejected("started_at", "2026-11-28T12:30:12.345Z"));
  EXPECT_FALSE(rejected("snapshot", "snapshots/cam1/2026/x..y.jpg"));
  EXPECT_FALSE(rejected("snapshot", nullptr));
  EXPECT_FALSE(rejected("zones", Json::array({"gate", "yard"})));
}

TEST(JsonSchemaValidator, ReportsUnreadableOrBrokenSchemasAndNonJson) {
  const auto missing = JsonSchemaValidator::from_file("/nonexistent/incident.schema.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/incident.schema.json"), std::string::npos);
  const auto broken = JsonSchemaValidator::from_string("{\"type\": ");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("offset"), std::string::npos) << broken.error().message;

  const JsonSchemaValidator v = load_validator();
  const Status st = v.validate("{not json");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not valid JSON"), std::string::npos) << st.error().message;
}

TEST(JsonSchemaValidator, CopiesShareTheSchema) {
  const JsonSchemaValidator a = load_validator();
  const JsonSchemaValidator b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_FALSE(b.validate("{}").ok());
  EXPECT_FALSE(a.validate("[]").ok());
}

}  // namespace
}  // namespace matthan
