// Rules end to end: the simulated camera with people walking (a cut of vtest.avi), the engine with
// Yolo-Fastest and a zone over the lower half of the picture with a zone_enter rule for `person`, and a
// real ZeroMQ subscriber that must see `zone_enter` incidents naming the zone, and no `object` ones.
#include <gtest/gtest.h>

#include <fstream>

#include "event_collector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

TEST(RulesE2E, PersonWalkingIntoTheLowerHalfGivesZoneEnterOnZeroMq) {
  if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
  MATTHAN_REQUIRE_SHARED();
  const fs::path models = shared_dir() / "models" / "yolo-fastest-1.1";
  if (!fs::exists(models / "yolo-fastest-1.1.weights")) GTEST_SKIP() << "no model in " << models;
  const fs::path dir = make_temp_dir("matthan-it-rules");
  const fs::path cut = cut_vtest(dir, 20);
  ASSERT_FALSE(cut.empty());
  SimCamera sim("walkers", cut, dir);
  ASSERT_TRUE(sim.ok()) << sim.log();

  const int port = free_tcp_port();
  const fs::path cfg = dir / "rules.yaml";
  const fs::path rel = fs::relative(models, dir);
  std::ofstream(cfg) << "node: it-rules\n"
                     << "time_zone: Asia/Ho_Chi_Minh\n"
                     << "storage: {root: store}\n"
                     << "events: {bind: \"tcp://127.0.0.1:" << port << "\"}\n"
                     << "defaults:\n"
                     << "  detect:\n"
                     << "    width: 640\n    height: 360\n    fps: 5\n"
                     << "    objects:\n"
                     << "      model: {cfg: " << (rel / "yolo-fastest-1.1.cfg").string()
                     << ", weights: " << (rel / "yolo-fastest-1.1.weights").string()
                     << ", names: " << (rel / "coco.names").string() << ", input: 320}\n"
                     << "      labels: [person, bicycle, motorbike, car, bus, truck]\n"
                     << "  motion: {end_seconds: 2}\n"
                     << "  clip: {pre_roll: 1, post_roll: 1, max_length: 60}\n"
                     << "cameras:\n"
                     << "  - id: walkers\n"
                     << "    url: \"" << sim.url() << "\"\n"
                     << "    zones:\n"
                     << "      - {name: lower-half, polygon: [[0,0.5],[1,0.5],[1,1],[0,1]]}\n"
                     << "    rules:\n"
                     << "      - {kind: zone_enter, zone: lower-half, labels: [person], schedule: \"00:00-24:00\"}\n";

  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  Process engine({matthan_binary().string(), "run", "--config", cfg.string(), "--for", "25"},
                 (dir / "engine.log").string());
  const auto rc = engine.wait(std::chrono::seconds(120));
  ASSERT_TRUE(rc.has_value()) << "engine did not stop after --for";
  EXPECT_EQ(*rc, 0) << engine.output();
  events.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; },
                  std::chrono::seconds(3));

  std::ifstream log_in(dir / "engine.log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("zone_enter lower-half"), std::string::npos) << "start-up must list the rules:\n" << log;

  auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
  ASSERT_TRUE(v.ok());
  const auto ev = events.events();
  ASSERT_FALSE(ev.empty()) << "no events; engine log:\n" << log;
  int starts = 0;
  for (const auto& e : ev) {
    EXPECT_TRUE(v->validate(e.payload).ok()) << e.payload;
    EXPECT_EQ(e.json["kind"], "zone_enter") << "with rules, only rule incidents: " << e.payload;
    EXPECT_EQ(e.json["label"], "person") << e.payload;
    EXPECT_EQ(e.json["rule"], nlohmann::json({{"kind", "zone_enter"}, {"zone", "lower-half"}})) << e.payload;
    if (e.json["phase"] != "start") continue;
    ++starts;
    EXPECT_TRUE(e.json["track"].is_number_integer()) << e.payload;
    EXPECT_EQ(e.json["zones"], nlohmann::json::array({"lower-half"})) << e.payload;
    const auto& box = e.json["box"];
    // The event's box is rounded to 4 decimals, so y + h may read 0.5000 for feet just inside the zone.
    EXPECT_GE(box[1].get<double>() + box[3].get<double>(), 0.5 - 1e-4)
        << "its feet are in the lower half: " << e.payload;
    EXPECT_TRUE(fs::exists(dir / "store" / e.json["snapshot"].get<std::string>()));
  }
  EXPECT_GE(starts, 1) << "vtest has people walking in the lower half";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace matthan::test
