// detect.objects config: defaults, per-label scores, model paths relative to the config file, a
// missing model file reported as a config error naming the file with its line, and the crop (zoom)
// settings reaching the crops CameraAnalysis asks the detector for.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../../../tools/app/src/review_wiring.hpp"
#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/core/time.hpp"
#include "matthan/test/frame_helpers.hpp"
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
  EXPECT_EQ(gate["recheck_s"], 1)
      << "a confirmed track's motion is re-detected about once a second unless asked otherwise";
  EXPECT_TRUE(view["cameras"][1]["detect"]["objects"].is_null()) << "a motion-only camera has no detector";
}

TEST(ObjectsConfig, ModelPathsAreRelativeToTheConfigFile) {
  const fs::path dir = test::make_temp_dir("matthan-objcfg");
  fs::create_directories(dir / "models");
  for (const char* f : {"m.cfg", "m.weights", "names.txt"}) std::ofstream(dir / "models" / f) << "x";
  const std::string yaml =
      std::string("defaults:\n  detect:\n    objects:\n") +
      "      model: {cfg: models/m.cfg, weights: models/m.weights, names: models/names.txt, input: 416}\n"
      "      labels: [person, motorbike]\n"
      "      min_score: {motorbike: 0.3}\n"
      "      confirm_frames: 4\n"
      "      recheck_s: 1.5\n" +
      kCamera;
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
  EXPECT_DOUBLE_EQ(o.recheck_s, 1.5);
  fs::remove_all(dir);
}

TEST(ObjectsConfig, MissingModelFileAndBadValuesAreConfigErrors) {
  const std::string yaml = std::string("defaults:\n  detect:\n    objects:\n") +
                           "      model: {cfg: nowhere/m.cfg, weights: nowhere/m.weights, input: 300}\n"
                           "      min_score: {person: 2}\n"
                           "      colour: red\n" +
                           kCamera;
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

TEST(ObjectsConfig, CropDefaultsToTheModelInputAndIsSetPerCamera) {
  const std::string yaml =
      std::string("defaults:\n  detect:\n    objects: {crop: {min_side: 160}}\n") +
      "cameras:\n  - id: road\n    url: rtsp://127.0.0.1:8554/road\n"
      "  - id: hall\n    url: rtsp://127.0.0.1:8554/hall\n"
      "    detect: {objects: {crop: {min_side: 0, margin: 0.5, whole_frame: 1, one_pass_min_px: 32}}}\n";
  auto load = load_config_text(yaml, "c.yaml", "/tmp");
  ASSERT_TRUE(load.ok()) << load.error_text();
  const CropSettings& road = load.config.cameras[0].detect.objects.crop;
  EXPECT_EQ(road.min_side, 160);
  EXPECT_DOUBLE_EQ(road.margin, 0.25) << "defaults kept for keys not given";
  EXPECT_DOUBLE_EQ(road.whole_frame, 0.6);
  const CropSettings& hall = load.config.cameras[1].detect.objects.crop;
  EXPECT_EQ(hall.min_side, 0);
  EXPECT_DOUBLE_EQ(hall.margin, 0.5);
  EXPECT_DOUBLE_EQ(hall.whole_frame, 1.0);
  EXPECT_DOUBLE_EQ(hall.one_pass_min_px, 32);
  EXPECT_DOUBLE_EQ(road.one_pass_min_px, 0) << "crops are joined only when asked for";
  EXPECT_EQ(CropSettings{}.min_side, 0) << "no zoom unless asked for";
}

TEST(ObjectsConfig, RecheckOutOfRangeIsAConfigError) {
  for (const char* bad : {"-1", "11", "soon"}) {
    auto load = load_config_text(
        std::string("defaults:\n  detect:\n    objects:\n      recheck_s: ") + bad + "\n" + kCamera, "c.yaml", "/tmp");
    EXPECT_FALSE(load.ok()) << bad;
    EXPECT_NE(load.error_text().find("c.yaml:4:"), std::string::npos) << load.error_text();
    EXPECT_NE(load.error_text().find("recheck_s"), std::string::npos) << load.error_text();
  }
}

TEST(ObjectsConfig, BadCropValuesAreConfigErrors) {
  const auto errors = [](const std::string& crop) {
    auto load = load_config_text(
        std::string("defaults:\n  detect:\n    objects:\n      crop: ") + crop + "\n" + kCamera, "c.yaml", "/tmp");
    EXPECT_FALSE(load.ok()) << crop;
    return load.error_text();
  };
  EXPECT_NE(errors("{min_side: 16}").find("crop.min_side: 16 is too small"), std::string::npos)
      << errors("{min_side: 16}");
  EXPECT_NE(errors("{min_side: -1}").find("out of range"), std::string::npos);
  EXPECT_NE(errors("{min_side: big}").find("must be an integer"), std::string::npos);
  EXPECT_NE(errors("{margin: 3}").find("crop.margin"), std::string::npos);
  EXPECT_NE(errors("{whole_frame: 0}").find("crop.whole_frame"), std::string::npos);
  EXPECT_NE(errors("{one_pass_min_px: -1}").find("crop.one_pass_min_px"), std::string::npos);
  EXPECT_NE(
      errors("{zoom: 2}").find("crop.zoom: unknown key (allowed here: min_side, margin, whole_frame, one_pass_min_px)"),
      std::string::npos)
      << errors("{zoom: 2}");
  EXPECT_NE(errors("160").find("crop: must be a mapping"), std::string::npos) << errors("160");
  EXPECT_NE(errors("{min_side: 16}").find("c.yaml:4:"), std::string::npos) << "with the line of the value";
}

// Records the regions it is asked to look at; finds nothing.
class CropRecorder : public ObjectDetector {
 public:
  std::string describe() const override { return "recorder"; }
  int input_size() const override { return 160; }
  std::vector<std::vector<Detection>> detect(std::span<const CropRequest> crops) override {
    for (const auto& c : crops) regions.push_back(c.region);
    return std::vector<std::vector<Detection>>(crops.size());
  }
  std::vector<Box> regions;
};

// The widest crop asked for while a 16x16 px block moves over a 320x240 textured background.
double widest_crop_px(const CropSettings& crop) {
  CameraConfig c;
  c.id = "road";
  c.detect.objects.enabled = true;
  c.detect.objects.crop = crop;
  auto owned = std::make_unique<CropRecorder>();
  CropRecorder* recorder = owned.get();
  auto a = CameraAnalysis::create(c.analysis(), std::move(owned));
  EXPECT_TRUE(a.ok());
  if (!a.ok()) return 0;
  cv::Mat bg(240, 320, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(bg, cv::RNG::UNIFORM, 60, 110);
  cv::GaussianBlur(bg, bg, {7, 7}, 0);
  MediaTimeNs pts = 0;
  for (int i = 0; i < 30; ++i, pts += kNsPerSecond / 5) {
    cv::Mat img = bg.clone();
    if (i >= 15) cv::rectangle(img, cv::Rect(100 + 4 * (i - 15), 100, 16, 16), cv::Scalar(230), cv::FILLED);
    Frame f = test::luma_to_frame(img);
    f.camera = "road";
    f.pts = pts;
    (*a)->process(f);
  }
  EXPECT_FALSE(recorder->regions.empty()) << "the moving block reached the detector";
  double widest = 0;
  for (const Box& r : recorder->regions) widest = std::max(widest, r.w * 320);
  return widest;
}

TEST(ObjectsConfig, CropMinSideZoomsTheDetectorsCrops) {
  EXPECT_NEAR(widest_crop_px(CropSettings{}), 160, 1) << "by default a crop is the model's input size";
  CropSettings zoom;
  zoom.min_side = 64;
  const double zoomed = widest_crop_px(zoom);
  EXPECT_GE(zoomed, 20);
  EXPECT_LE(zoomed, 64.5) << "a 16 px block with its margin fits in a 64 px crop";
}

}  // namespace
}  // namespace matthan
