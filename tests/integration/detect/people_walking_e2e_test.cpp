// Object detection end to end: `matthan sim` serving people walking (a cut of vtest.avi), `matthan run`
// with Yolo-Fastest from ../shared/models, and a real ZeroMQ subscriber on the incidents. Without rules the
// camera raises `object` incidents labelled `person`; with a zone over the lower half of the picture and a
// zone_enter rule for `person`, only `zone_enter` incidents naming the zone. Every event is checked against
// the schema.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>

#include "event_collector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

fs::path model_dir() {
  return shared_dir() / "models" / "yolo-fastest-1.1";
}

// The walkers camera served for one test, and one 25 s engine run on it with the model.
class PeopleWalkingWithModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    MATTHAN_REQUIRE_SHARED();
    if (!fs::exists(model_dir() / "yolo-fastest-1.1.weights")) GTEST_SKIP() << "no model in " << model_dir();
    dir_ = make_temp_dir("matthan-it-detect");
    const fs::path cut = cut_vtest(dir_, 20);
    ASSERT_FALSE(cut.empty());
    sim_ = std::make_unique<SimCamera>("walkers", cut, dir_);
    ASSERT_TRUE(sim_->ok()) << sim_->log();
  }

  void TearDown() override {
    sim_.reset();
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  struct Run {
    std::vector<ReceivedEvent> events;  // every incident.* message, in order
    std::string log;                    // the engine's log
  };

  // The config: `node: <name>`, `top` (whole top-level lines), the model and the labels of a street scene plus
  // `objects_extra` (lines inside detect.objects), then the camera `walkers` plus `camera_extra` (lines inside
  // the camera). Storage is under store(). Every event received must be valid against the schema.
  Run run_engine(const std::string& name, const std::string& top, const std::string& objects_extra,
                 const std::string& camera_extra) {
    const int port = free_tcp_port();
    const fs::path cfg = dir_ / (name + ".yaml");
    // Model paths relative to the config file's folder: copy nothing, point at ../shared through a relative path.
    const fs::path rel = fs::relative(model_dir(), dir_);
    std::ofstream(cfg) << "node: " << name << "\n"
                       << top << "storage: {root: store}\n"
                       << "events: {bind: \"tcp://127.0.0.1:" << port << "\"}\n"
                       << "defaults:\n"
                       << "  detect:\n"
                       << "    width: 640\n    height: 360\n    fps: 5\n"
                       << "    objects:\n"
                       << "      model: {cfg: " << (rel / "yolo-fastest-1.1.cfg").string()
                       << ", weights: " << (rel / "yolo-fastest-1.1.weights").string()
                       << ", names: " << (rel / "coco.names").string() << ", input: 320}\n"
                       << "      labels: [person, bicycle, motorbike, car, bus, truck]\n"
                       << objects_extra << "  motion: {end_seconds: 2}\n"
                       << "  clip: {pre_roll: 1, post_roll: 1, max_length: 60}\n"
                       << "cameras:\n"
                       << "  - id: walkers\n"
                       << "    url: \"" << sim_->url() << "\"\n"
                       << camera_extra;
    EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
    const fs::path log_path = dir_ / (name + ".log");
    Process engine({matthan_binary().string(), "run", "--config", cfg.string(), "--for", "25"}, log_path.string());
    const auto rc = engine.wait(std::chrono::seconds(120));
    EXPECT_TRUE(rc.has_value()) << "engine did not stop after --for";
    if (rc) {
      EXPECT_EQ(*rc, 0) << engine.output();
    }
    events.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; },
                    std::chrono::seconds(3));
    Run run{events.events(), read_file(log_path)};
    EXPECT_FALSE(run.events.empty()) << "no events; engine log:\n" << run.log;
    auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
    EXPECT_TRUE(v.ok());
    if (v.ok()) {
      for (const auto& e : run.events) EXPECT_TRUE(v->validate(e.payload).ok()) << e.payload;
    }
    return run;
  }

  fs::path store() const { return dir_ / "store"; }

 private:
  fs::path dir_;
  std::unique_ptr<SimCamera> sim_;
};

using ObjectIncidentE2E = PeopleWalkingWithModel;

TEST_F(ObjectIncidentE2E, PersonWalkingGivesAnObjectIncidentOnZeroMq) {
  const Run run = run_engine("it-detect", "", "      min_score: {person: 0.4, default: 0.5}\n", "");
  EXPECT_NE(run.log.find("dnn yolo-fastest-1.1.weights"), std::string::npos) << "start-up must name the detector:\n"
                                                                             << run.log;

  int person_starts = 0;
  for (const auto& e : run.events) {
    EXPECT_EQ(e.json["kind"], "object") << "a camera with detect.objects raises object incidents, not motion";
    if (e.json["phase"] == "start" && e.json["label"] == "person") {
      ++person_starts;
      EXPECT_TRUE(e.json["track"].is_number_integer()) << e.payload;
      EXPECT_GE(e.json["score"].get<double>(), 0.4);
      EXPECT_TRUE(fs::exists(store() / e.json["snapshot"].get<std::string>()));
    }
  }
  EXPECT_GE(person_starts, 1) << "vtest has people walking throughout";
}

using RulesE2E = PeopleWalkingWithModel;

TEST_F(RulesE2E, PersonWalkingIntoTheLowerHalfGivesZoneEnterOnZeroMq) {
  const Run run =
      run_engine("it-rules", "time_zone: Asia/Ho_Chi_Minh\n", "",
                 "    zones:\n"
                 "      - {name: lower-half, polygon: [[0,0.5],[1,0.5],[1,1],[0,1]]}\n"
                 "    rules:\n"
                 "      - {kind: zone_enter, zone: lower-half, labels: [person], schedule: \"00:00-24:00\"}\n");
  EXPECT_NE(run.log.find("zone_enter lower-half"), std::string::npos) << "start-up must list the rules:\n" << run.log;

  int starts = 0;
  for (const auto& e : run.events) {
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
    EXPECT_TRUE(fs::exists(store() / e.json["snapshot"].get<std::string>()));
  }
  EXPECT_GE(starts, 1) << "vtest has people walking in the lower half";
}

}  // namespace
}  // namespace matthan::test
