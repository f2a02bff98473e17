// Object detection: the DnnDetector on the model's test images, batching, model errors, the HOG
// fallback on a real vtest.avi frame, and crop planning geometry.
#include "matthan/detect/object_detector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>
#include <vector>

#include "matthan/test/frame_helpers.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

fs::path model_dir() {
  return test::shared_dir() / "models" / "yolo-fastest-1.1";
}

DnnModelConfig fastest_config() {
  DnnModelConfig c;
  c.cfg = model_dir() / "yolo-fastest-1.1.cfg";
  c.weights = model_dir() / "yolo-fastest-1.1.weights";
  c.names = model_dir() / "coco.names";
  c.min_score = {{"default", 0.25}};
  return c;
}

std::set<std::string> labels_of(const std::vector<Detection>& ds) {
  std::set<std::string> out;
  for (const auto& d : ds) out.insert(d.label);
  return out;
}

class DnnDetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MATTHAN_REQUIRE_SHARED();
    if (!fs::exists(model_dir())) GTEST_SKIP() << "no model at " << model_dir();
    const cv::Mat dog = cv::imread((model_dir() / "test-images" / "dog.jpg").string());
    ASSERT_FALSE(dog.empty());
    frame_ = test::bgr_to_i420_frame(dog);
  }
  Frame frame_;
};

TEST_F(DnnDetectorTest, FindsCarAndBicycleInDogJpg) {
  auto det = make_dnn_detector(fastest_config());
  ASSERT_TRUE(det.ok()) << det.error().message;
  const CropRequest whole{&frame_, Box{0, 0, 1, 1}};
  const auto found = (*det)->detect(std::span(&whole, 1));
  ASSERT_EQ(found.size(), 1u);
  const auto labels = labels_of(found[0]);
  EXPECT_TRUE(labels.count("car")) << "labels found: " << ::testing::PrintToString(labels);
  EXPECT_TRUE(labels.count("bicycle")) << "labels found: " << ::testing::PrintToString(labels);
  EXPECT_EQ((*det)->forward_calls(), 1u);
  for (const auto& d : found[0]) {
    EXPECT_GE(d.box.x, 0.0);
    EXPECT_LE(d.box.x + d.box.w, 1.0 + 1e-9);
    EXPECT_GE(d.score, 0.25);
  }
  // The truck/car at the top right of dog.jpg: its box is in the right part of the picture.
  for (const auto& d : found[0])
    if (d.label == "car") {
      EXPECT_GT(d.box.x + d.box.w / 2, 0.5);
    }
}

TEST_F(DnnDetectorTest, LabelFilterAndPerLabelFloorsApply) {
  DnnModelConfig c = fastest_config();
  c.labels = {"bicycle"};
  auto det = make_dnn_detector(c);
  ASSERT_TRUE(det.ok()) << det.error().message;
  const CropRequest whole{&frame_, Box{0, 0, 1, 1}};
  const auto found = (*det)->detect(std::span(&whole, 1));
  EXPECT_EQ(labels_of(found[0]), std::set<std::string>{"bicycle"});

  c.labels = {};
  c.min_score = {{"default", 0.25}, {"bicycle", 0.999}};
  auto strict = make_dnn_detector(c);
  ASSERT_TRUE(strict.ok());
  const auto found2 = (*strict)->detect(std::span(&whole, 1));
  EXPECT_FALSE(labels_of(found2[0]).count("bicycle"));
  EXPECT_TRUE(labels_of(found2[0]).count("car"));
}

TEST_F(DnnDetectorTest, OneBatchedForwardGivesTheSameAsSeparateCalls) {
  auto det = make_dnn_detector(fastest_config());
  ASSERT_TRUE(det.ok());
  const std::vector<CropRequest> crops{
      {&frame_, Box{0, 0, 1, 1}}, {&frame_, Box{0.5, 0, 0.5, 0.5}}, {&frame_, Box{0, 0, 1, 1}}};
  const auto batched = (*det)->detect(crops);
  EXPECT_EQ((*det)->forward_calls(), 1u) << "three crops, one forward call";
  EXPECT_EQ((*det)->crops_seen(), 3u);
  ASSERT_EQ(batched.size(), 3u);
  for (std::size_t i = 0; i < crops.size(); ++i) {
    const auto single = (*det)->detect(std::span(&crops[i], 1));
    ASSERT_EQ(single[0].size(), batched[i].size()) << "crop " << i;
    for (std::size_t k = 0; k < single[0].size(); ++k) {
      EXPECT_EQ(single[0][k].label, batched[i][k].label);
      EXPECT_NEAR(single[0][k].score, batched[i][k].score, 1e-3);
      EXPECT_NEAR(single[0][k].box.x, batched[i][k].box.x, 1e-3);
    }
  }
  // A crop's boxes come back in whole-frame coordinates: the top-right crop's objects sit in the top right
  // (a predicted box may reach a little past its crop's edge).
  for (const auto& d : batched[1]) EXPECT_GE(d.box.x, 0.5 - 0.02);
}

// A network keeps its layers' buffers (tens of MB): detectors of one model borrow from one pool per call
// instead of holding one each, so a node with many cameras holds about one per analysis worker.
TEST_F(DnnDetectorTest, DetectorsOfOneModelShareItsNetworksAndAnswerAlike) {
  const std::size_t before = dnn_networks_in_memory();
  std::vector<std::unique_ptr<ObjectDetector>> cameras;
  for (int i = 0; i < 6; ++i) {
    auto det = make_dnn_detector(fastest_config());
    ASSERT_TRUE(det.ok()) << det.error().message;
    cameras.push_back(std::move(det.value()));
  }
  EXPECT_EQ(dnn_networks_in_memory(), before + 1) << "six detectors of one model, one network";
  const CropRequest whole{&frame_, Box{0, 0, 1, 1}};
  const auto first = cameras[0]->detect(std::span(&whole, 1));
  ASSERT_FALSE(first[0].empty());
  for (auto& c : cameras) {
    const auto found = c->detect(std::span(&whole, 1));
    ASSERT_EQ(found[0].size(), first[0].size());
    for (std::size_t k = 0; k < found[0].size(); ++k) {
      EXPECT_EQ(found[0][k].label, first[0][k].label);
      EXPECT_FLOAT_EQ(static_cast<float>(found[0][k].score), static_cast<float>(first[0][k].score));
      EXPECT_EQ(found[0][k].box, first[0][k].box);
    }
  }
  EXPECT_EQ(dnn_networks_in_memory(), before + 1) << "calls one after another borrow the same network";
  cameras.clear();
  EXPECT_EQ(dnn_networks_in_memory(), before) << "the last detector of a model frees its networks";
}

TEST_F(DnnDetectorTest, CallsAtOnceGetANetworkEachAndTheSameAnswer) {
  const std::size_t before = dnn_networks_in_memory();
  auto a = make_dnn_detector(fastest_config());
  auto b = make_dnn_detector(fastest_config());
  ASSERT_TRUE(a.ok() && b.ok());
  const CropRequest whole{&frame_, Box{0, 0, 1, 1}};
  const auto reference = (*a)->detect(std::span(&whole, 1))[0];
  std::vector<std::vector<Detection>> got_a, got_b;
  std::thread other([&] {
    for (int i = 0; i < 6; ++i) got_b.push_back((*b)->detect(std::span(&whole, 1))[0]);
  });
  for (int i = 0; i < 6; ++i) got_a.push_back((*a)->detect(std::span(&whole, 1))[0]);
  other.join();
  // Two threads never need more than two networks, and never share one in a call (the answers would differ).
  EXPECT_LE(dnn_networks_in_memory(), before + 2);
  EXPECT_GE(dnn_networks_in_memory(), before + 1);
  for (const auto* got : {&got_a, &got_b})
    for (const auto& found : *got) {
      ASSERT_EQ(found.size(), reference.size());
      for (std::size_t k = 0; k < found.size(); ++k) EXPECT_EQ(found[k].box, reference[k].box);
    }
}

TEST_F(DnnDetectorTest, AnotherInputSizeOrAModelFileReplacedOnDiskLoadsItsOwnNetwork) {
  const std::size_t before = dnn_networks_in_memory();
  auto at320 = make_dnn_detector(fastest_config());
  ASSERT_TRUE(at320.ok());
  DnnModelConfig c416 = fastest_config();
  c416.input = 416;
  auto at416 = make_dnn_detector(c416);
  ASSERT_TRUE(at416.ok());
  EXPECT_EQ(dnn_networks_in_memory(), before + 2);

  // An update of the model under the same path (a reload after it) must not keep running the old one.
  const fs::path dir = test::make_temp_dir("matthan-dnn-pool");
  DnnModelConfig copy = fastest_config();
  copy.cfg = dir / "m.cfg";
  copy.weights = dir / "m.weights";
  fs::copy_file(fastest_config().cfg, copy.cfg);
  fs::copy_file(fastest_config().weights, copy.weights);
  auto old_model = make_dnn_detector(copy);
  ASSERT_TRUE(old_model.ok());
  EXPECT_EQ(dnn_networks_in_memory(), before + 3);
  fs::last_write_time(copy.weights, fs::last_write_time(copy.weights) + std::chrono::seconds(10));
  auto new_model = make_dnn_detector(copy);
  ASSERT_TRUE(new_model.ok());
  EXPECT_EQ(dnn_networks_in_memory(), before + 4);
  fs::remove_all(dir);
}

TEST(DnnDetectorErrors, MissingFilesAreNamed) {
  DnnModelConfig c;
  c.cfg = "/nonexistent/model.cfg";
  c.weights = "/nonexistent/model.weights";
  auto det = make_dnn_detector(c);
  ASSERT_FALSE(det.ok());
  EXPECT_NE(det.error().message.find("/nonexistent/model.cfg"), std::string::npos) << det.error().message;
}

TEST(DnnDetectorErrors, CorruptWeightsAreNamed) {
  MATTHAN_REQUIRE_SHARED();
  const fs::path dir = test::make_temp_dir("matthan-dnn");
  DnnModelConfig c = fastest_config();
  c.weights = dir / "broken.weights";
  std::ofstream(c.weights) << "this is not a darknet weights file";
  auto det = make_dnn_detector(c);
  ASSERT_FALSE(det.ok());
  EXPECT_NE(det.error().message.find("broken.weights"), std::string::npos) << det.error().message;
  c = fastest_config();
  c.labels = {"unicorn"};
  auto unknown = make_dnn_detector(c);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unicorn"), std::string::npos);
  fs::remove_all(dir);
}

TEST(HogDetector, FindsAPersonInARealVtestFrame) {
  if (test::vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
  const fs::path dir = test::make_temp_dir("matthan-hog");
  const fs::path png = dir / "frame.png";
  // Frame 50 (5 s in): several people walk across the square.
  auto [rc, out] =
      test::run_command({"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", test::vtest_avi().string(), "-vf",
                         "select=eq(n\\,50),scale=640:360", "-frames:v", "1", png.string()});
  ASSERT_EQ(rc, 0) << out;
  const cv::Mat img = cv::imread(png.string());
  ASSERT_FALSE(img.empty());
  const Frame frame = test::bgr_to_i420_frame(img);
  HogConfig hc;
  hc.min_scan_height = 720;  // people are ~70 px tall here; the 128-px window needs them doubled
  auto hog = make_hog_detector(hc);
  const CropRequest whole{&frame, Box{0, 0, 1, 1}};
  const auto found = hog->detect(std::span(&whole, 1));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_FALSE(found[0].empty()) << "HOG found nobody";
  for (const auto& d : found[0]) {
    EXPECT_EQ(d.label, "person");
    EXPECT_GT(d.box.h, d.box.w) << "a standing person is taller than wide";
  }
  EXPECT_EQ(hog->forward_calls(), 1u);
  fs::remove_all(dir);
}

TEST(CropPlanning, NoMotionNoCrop) {
  EXPECT_TRUE(plan_crops({}, 640, 360, CropPlan{}).empty());
}

TEST(CropPlanning, SmallBoxGetsASquareCropOfAtLeastMinSideInsideTheFrame) {
  CropPlan p;
  p.min_side = 200;
  const auto crops = plan_crops({Box{0.95, 0.9, 0.03, 0.05}}, 640, 360, p);
  ASSERT_EQ(crops.size(), 1u);
  EXPECT_NEAR(crops[0].w * 640, 200, 1e-6);
  EXPECT_NEAR(crops[0].h * 360, 200, 1e-6);
  EXPECT_LE(crops[0].x + crops[0].w, 1.0 + 1e-9);
  EXPECT_LE(crops[0].y + crops[0].h, 1.0 + 1e-9);
  // The motion box is inside its crop.
  EXPECT_LE(crops[0].x, 0.95);
  EXPECT_LE(crops[0].y, 0.9);
}

TEST(CropPlanning, FarApartBoxesGiveTwoCropsOverlappingOnesOne) {
  CropPlan p;
  p.min_side = 100;
  EXPECT_EQ(plan_crops({Box{0.0, 0.0, 0.05, 0.1}, Box{0.9, 0.8, 0.05, 0.1}}, 1280, 720, p).size(), 2u);
  EXPECT_EQ(plan_crops({Box{0.40, 0.4, 0.05, 0.1}, Box{0.42, 0.42, 0.05, 0.1}}, 1280, 720, p).size(), 1u);
}

TEST(CropPlanning, MotionOverMostOfTheFrameUsesTheWholeFrame) {
  CropPlan p;
  p.min_side = 320;
  const auto crops = plan_crops({Box{0.1, 0.1, 0.8, 0.8}}, 640, 360, p);
  ASSERT_EQ(crops.size(), 1u);
  EXPECT_EQ(crops[0], (Box{0, 0, 1, 1}));
}

// one_pass_min_px: each crop is a whole forward pass, so two crops become one on the square around them
// when every motion box in it keeps enough input pixels; small objects keep their own crops.
TEST(CropPlanning, TwoCropsBecomeOnePassWhileTheirObjectsStayResolved) {
  CropPlan p;  // 320 px crops, input 320
  // Two people 64 x 144 px on a 1280x720 frame, 320 px apart: crops [224, 544) and [544, 864), not
  // overlapping.
  const std::vector<Box> people{Box{0.275, 0.4, 0.05, 0.2}, Box{0.525, 0.4, 0.05, 0.2}};
  EXPECT_EQ(plan_crops(people, 1280, 720, p).size(), 2u) << "0: crops are never joined";
  // Joined, the square around both is 640 px: each person is sqrt(32 x 72) = 48 input pixels.
  p.one_pass_min_px = 40;
  const auto one = plan_crops(people, 1280, 720, p);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NEAR(one[0].w * 1280, 640, 1e-6);
  EXPECT_NEAR(one[0].h * 720, 640, 1e-6);
  for (const Box& b : people) EXPECT_GE(intersection_area(one[0], b), b.area() - 1e-9) << "both people are in it";
  p.one_pass_min_px = 50;
  EXPECT_EQ(plan_crops(people, 1280, 720, p).size(), 2u) << "48 px is under the floor: two passes at full size";
  // Sizes are counted on the network input (CropPlan::input), not in crop pixels.
  p.min_side = 160;
  p.input = 320;
  p.one_pass_min_px = 40;
  EXPECT_EQ(plan_crops(people, 1280, 720, p).size(), 1u);
  p.input = 160;
  EXPECT_EQ(plan_crops(people, 1280, 720, p).size(), 2u) << "at a 160 px input each person is about 29 px";
}

// The joined pass also sees what lies between its crops; detections count only where a crop was.
TEST(CropPlanning, AJoinedPassCountsOnlyWhatItsCropsWouldHaveSeen) {
  CropPlan p;
  p.one_pass_min_px = 40;
  const std::vector<Box> people{Box{0.275, 0.4, 0.05, 0.2}, Box{0.525, 0.4, 0.05, 0.2}};
  const auto passes = plan_crop_passes(people, 1280, 720, p);
  ASSERT_EQ(passes.size(), 1u);
  ASSERT_EQ(passes[0].crops.size(), 2u) << "the pass stands for the two 320 px crops";
  EXPECT_TRUE(within_crops(passes[0], people[0]));
  EXPECT_TRUE(within_crops(passes[0], people[1]));
  // A parked car in the joined square, above both crops (they span y 200 .. 520 px): not counted.
  EXPECT_FALSE(within_crops(passes[0], Box{0.35, 0.08, 0.1, 0.15}));
  // Without a join the pass is its crop: every detection of it counts, as before.
  p.one_pass_min_px = 0;
  const auto apart = plan_crop_passes(people, 1280, 720, p);
  ASSERT_EQ(apart.size(), 2u);
  EXPECT_EQ(apart[0].crops, std::vector<Box>{apart[0].region});
  EXPECT_TRUE(within_crops(apart[0], Box{0.35, 0.08, 0.1, 0.15}));
}

TEST(CropPlanning, OnePassJoinsTheNearestCropsFirstAndLeavesSmallObjectsAlone) {
  CropPlan p;
  p.one_pass_min_px = 40;
  // Two large people side by side on the left, one small person far right: the large two share a pass, the
  // small one (16 x 36 px) keeps its own crop at full size.
  const std::vector<Box> boxes{Box{0.05, 0.3, 0.06, 0.3}, Box{0.30, 0.3, 0.06, 0.3}, Box{0.9, 0.5, 0.0125, 0.05}};
  const auto crops = plan_crops(boxes, 1280, 720, p);
  ASSERT_EQ(crops.size(), 2u);
  const auto holding = [&](const Box& b) {
    return std::count_if(crops.begin(), crops.end(),
                         [&](const Box& c) { return intersection_area(c, b) >= b.area() - 1e-9; });
  };
  for (const Box& b : boxes) EXPECT_GE(holding(b), 1) << "every motion box is looked at";
  const auto small =
      std::find_if(crops.begin(), crops.end(), [&](const Box& c) { return intersection_area(c, boxes[2]) > 0; });
  ASSERT_NE(small, crops.end());
  EXPECT_NEAR(small->w * 1280, 320, 1e-6) << "the small person's crop is not enlarged";
}

TEST(Suppression, KeepsTheBestPerLabelAndKeepsOtherLabels) {
  std::vector<Detection> ds{{"person", 0.6, {0.1, 0.1, 0.2, 0.4}},
                            {"person", 0.9, {0.11, 0.1, 0.2, 0.4}},
                            {"bicycle", 0.5, {0.1, 0.1, 0.2, 0.4}},
                            {"person", 0.7, {0.6, 0.1, 0.2, 0.4}}};
  const auto kept = suppress_duplicates(ds, 0.5);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_DOUBLE_EQ(kept[0].score, 0.9);
}

TEST(Suppression, OneVehicleCalledCarAndTruckIsOneDetection) {
  std::vector<Detection> ds{{"truck", 0.5, {0.50, 0.10, 0.20, 0.20}},
                            {"car", 0.7, {0.51, 0.11, 0.19, 0.20}},
                            {"bus", 0.4, {0.50, 0.12, 0.20, 0.19}},
                            {"motorbike", 0.6, {0.50, 0.10, 0.20, 0.20}},
                            {"truck", 0.6, {0.10, 0.10, 0.20, 0.20}}};
  const auto kept = suppress_duplicates(ds, 0.5);
  ASSERT_EQ(kept.size(), 3u) << "the car stays, its truck and bus twins go; the motorbike and the other truck stay";
  EXPECT_EQ(kept[0].label, "car");
  EXPECT_EQ(kept[1].label, "motorbike");
  EXPECT_EQ(kept[2].label, "truck");
  EXPECT_DOUBLE_EQ(kept[2].box.x, 0.10);
}

}  // namespace
}  // namespace matthan
