// The reload outcome on the wire: topic `config` (schemas/config.schema.json) and the heartbeat's `reload`
// (schemas/heartbeat.schema.json, absent before the first reload).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "matthan/events/event_json.hpp"
#include "matthan/events/node_events.hpp"

namespace matthan {
namespace {

JsonSchemaValidator schema(const char* name) {
  auto v = JsonSchemaValidator::from_file(std::filesystem::path(MATTHAN_SCHEMA_DIR) / name);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
  return std::move(v.value());
}

TEST(ReloadEvents, AppliedAndRejectedMatchTheSchema) {
  const JsonSchemaValidator v = schema("config.schema.json");
  ReloadNotice ok;
  ok.figures.ok = true;
  ok.figures.at = std::chrono::system_clock::now();
  ok.figures.needs_restart = {"events.bind"};
  ok.added = {"e"};
  ok.removed = {"b"};
  ok.changed = {"c"};
  ok.unchanged = {"a", "d"};
  const std::string applied = config_event_json(ok, 7, "n1");
  EXPECT_TRUE(v.validate(applied).ok()) << applied;
  const auto j = nlohmann::json::parse(applied);
  EXPECT_EQ(j["event"], "reload_ok");
  EXPECT_EQ(j["added"], nlohmann::json::array({"e"}));
  EXPECT_EQ(j["needs_restart"], nlohmann::json::array({"events.bind"}));

  ReloadNotice bad;
  bad.figures.at = std::chrono::system_clock::now();
  bad.figures.errors = {"/etc/matthan/matthan.yaml:12:5: cameras[1].url: is required"};
  const std::string rejected = config_event_json(bad, 8, "n1");
  EXPECT_TRUE(v.validate(rejected).ok()) << rejected;
  EXPECT_EQ(nlohmann::json::parse(rejected)["event"], "reload_failed");
}

TEST(ReloadEvents, HeartbeatCarriesTheLastReloadOnlyAfterOne) {
  const JsonSchemaValidator v = schema("heartbeat.schema.json");
  HeartbeatFigures f;
  f.cameras = 1;
  const std::string before = heartbeat_event_json(f, 1, "n1", std::chrono::system_clock::now());
  EXPECT_TRUE(v.validate(before).ok()) << before;
  EXPECT_FALSE(nlohmann::json::parse(before).contains("reload"));
  f.reload = ReloadFigures{false, std::chrono::system_clock::now(), {"x.yaml:3:1: (top): unknown key"}, {}};
  const std::string after = heartbeat_event_json(f, 2, "n1", std::chrono::system_clock::now());
  EXPECT_TRUE(v.validate(after).ok()) << after;
  const auto j = nlohmann::json::parse(after);
  EXPECT_EQ(j["reload"]["ok"], false);
  EXPECT_EQ(j["reload"]["errors"].size(), 1u);
}

}  // namespace
}  // namespace matthan
