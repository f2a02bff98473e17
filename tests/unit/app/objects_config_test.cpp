// detect.objects config: defaults, per-label scores, model paths relative to the config file, and a
// missing model file reported as a config error naming the file with its line.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "../../../tools/app/src/review_wiring.hpp"
#include "matthan/app/config.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

const char* kCamera = "cameras:\n  - id: gate\n    url: rtsp://127.0.0.1:8554/gate\n";

TEST(ObjectsConfig, AbsentMeansMotionOnlyEmptyMeansHogDefaults) {
  auto plain = load_config_text(kCamera, "c.yaml", "/tmp");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_FALSE(plain.config.cameras[0].detect.objects.enabled);

  auto hog = load_config_text(std::string("defaults:\n  detect:\n    objects: {}\n") + kCamera, "c.yaml", "/tmp");
  ASSERT_TRUE(hog.ok()) << hog.error_text();
  const ObjectSettings& o = hog.config.cameras[0].detect.objects;
  EXPECT_TRUE(o.enabled);
  EXPECT_FALSE(o.model.has_value());
  EXPECT_EQ(o.labels, (std::vector<std::string>{"person", "bicycle", "motorbike", "car", "bus", "truck"}));
  EXPECT_DOUBLE_EQ(o.min_score.at("person"), 0.4);
  EXPECT_DOUBLE_EQ(o.min_score.at("default"), 0.5);
}

TEST(ObjectsConfig, AdminViewShowsTheDetectorOfEachCamera) {
  auto hog = load_config_text(std::string("cameras:\n  - id: gate\n    url: rtsp://127.0.0.1:8554/gate\n"
                                          "    detect: {objects: {labels: [person]}}\n"
                                          "  - id: yard\n    url: rtsp://127.0.0.1:8554/yard\n"),
                              "c.yaml", "/tmp");
  ASSERT_TRUE(hog.ok()) << hog.error_text();
  const auto view = nlohmann::json::parse(admin_config_json(hog.config));
  const auto& gate = view["cameras"][0]["detect"]["objects"];
  ASSERT_TRUE(gate.is_object()) << view.dump();
  EXPECT_EQ(gate["labels"], nlohmann::json::array({"person"}));
  EXPECT_NE(gate["model"].get<std::string>().find("hog"), std::string::npos);
  EXPECT_EQ(gate["confirm_frames"], 3);
  EXPECT_TRUE(view["cameras"][1]["detect"]["objects"].is_null()) << "a motion-only camera has no detector";
}

TEST(ObjectsConfig, ModelPathsAreRelativeToTheConfigFile) {
  const fs::path dir = test::make_temp_dir("matthan-objcfg");
  fs::create_directories(dir / "models");
  for (const char* f : {"m.cfg", "m.weights", "names.txt"}) std::ofstream(dir / "models" / f) << "x";
  const std::string yaml = std::string("defaults:\n  detect:\n    objects:\n") +
                           "      model: {cfg: models/m.cfg, weights: models/m.weights, names: models/names.txt, input: 416}\n"
                           "      labels: [person, motorbike]\n"
                           "      min_score: {motorbike: 0.3}\n"
                           "      confirm_frames: 4\n" + kCamera;
  std::ofstream(dir / "c.yaml") << yaml;
  auto load = load_config_file(dir / "c.yaml");
  ASSERT_TRUE(load.ok()) << load.error_text();
  const ObjectSettings& o = load.config.cameras[0].detect.objects;
  ASSERT_TRUE(o.model.has_value());
  EXPECT_EQ(o.model->cfg, (dir / "models" / "m.cfg").lexically_normal());
  EXPECT_EQ(o.model->input, 416);
  EXPECT_EQ(o.labels, (std::vector<std::string>{"person", "motorbike"}));
  EXPECT_DOUBLE_EQ(o.min_score.at("motorbike"), 0.3);
  EXPECT_DOUBLE_EQ(o.min_score.at("person"), 0.4) << "defaults kept for labels not given";
  EXPECT_EQ(o.confirm_frames, 4);
  fs::remove_all(dir);
}

TEST(ObjectsConfig, MissingModelFileAndBadValuesAreConfigErrors) {
  const std::string yaml = std::string("defaults:\n  detect:\n    objects:\n") +
                           "      model: {cfg: nowhere/m.cfg, weights: nowhere/m.weights, input: 300}\n"
                           "      min_score: {person: 2}\n"
                           "      colour: red\n" + kCamera;
  auto load = load_config_text(yaml, "c.yaml", "/etc/matthan");
  ASSERT_FALSE(load.ok());
  const std::string text = load.error_text();
  EXPECT_NE(text.find("c.yaml:4:"), std::string::npos) << text;
  EXPECT_NE(text.find("/etc/matthan/nowhere/m.cfg does not exist"), std::string::npos) << text;
  EXPECT_NE(text.find("/etc/matthan/nowhere/m.weights"), std::string::npos) << text;
  EXPECT_NE(text.find("multiple of 32"), std::string::npos) << text;
  EXPECT_NE(text.find("min_score.person"), std::string::npos) << text;
  EXPECT_NE(text.find("colour: unknown key"), std::string::npos) << text;
}

}  // namespace
}  // namespace matthan
