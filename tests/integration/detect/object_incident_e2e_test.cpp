// End to end with object detection: a simulated camera with people walking (a cut of vtest.avi), the
// engine with Yolo-Fastest from ../shared/models, and a real ZeroMQ subscriber that must see an
// `object` incident labelled `person`, with a track id, valid against the schema.
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

fs::path model_dir() { return shared_dir() / "models" / "yolo-fastest-1.1"; }

TEST(ObjectIncidentE2E, PersonWalkingGivesAnObjectIncidentOnZeroMq) {
  if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
  MATTHAN_REQUIRE_SHARED();
  if (!fs::exists(model_dir() / "yolo-fastest-1.1.weights")) GTEST_SKIP() << "no model in " << model_dir();
  const fs::path dir = make_temp_dir("matthan-it-detect");
  const fs::path cut = cut_vtest(dir, 20);
  ASSERT_FALSE(cut.empty());
  SimCamera sim("walkers", cut, dir);
  ASSERT_TRUE(sim.ok()) << sim.log();

  const int port = free_tcp_port();
  const fs::path cfg = dir / "objects.yaml";
  // Model paths relative to the config file's folder: copy nothing, point at ../shared through a relative path.
  const fs::path rel = fs::relative(model_dir(), dir);
  std::ofstream(cfg) << "node: it-detect\n"
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
                     << "      min_score: {person: 0.4, default: 0.5}\n"
                     << "  motion: {end_seconds: 2}\n"
                     << "  clip: {pre_roll: 1, post_roll: 1, max_length: 60}\n"
                     << "cameras:\n"
                     << "  - {id: walkers, url: \"" << sim.url() << "\"}\n";

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
  EXPECT_NE(log.find("dnn yolo-fastest-1.1.weights"), std::string::npos) << "start-up must name the detector:\n" << log;

  auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
  ASSERT_TRUE(v.ok());
  const auto ev = events.events();
  ASSERT_FALSE(ev.empty()) << "no events; engine log:\n" << log;
  int person_starts = 0;
  for (const auto& e : ev) {
    EXPECT_TRUE(v->validate(e.payload).ok()) << e.payload;
    EXPECT_EQ(e.json["kind"], "object") << "a camera with detect.objects raises object incidents, not motion";
    if (e.json["phase"] == "start" && e.json["label"] == "person") {
      ++person_starts;
      EXPECT_TRUE(e.json["track"].is_number_integer()) << e.payload;
      EXPECT_GE(e.json["score"].get<double>(), 0.4);
      EXPECT_TRUE(fs::exists(dir / "store" / e.json["snapshot"].get<std::string>()));
    }
  }
  EXPECT_GE(person_starts, 1) << "vtest has people walking throughout";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace matthan::test
