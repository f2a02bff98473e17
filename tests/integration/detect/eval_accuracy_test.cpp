// Accuracy regression gate: `matthan eval --json` on two short clips with ground truth from
// ../shared/media, motion masks and (with the shared Yolo-Fastest model) person boxes. Thresholds sit a little under
// what the code reached when they were set (docs/ACCURACY.md); a drop below them is a red build.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

// Motion F-measure floors, a little under the values measured when they were set (docs/ACCURACY.md).
constexpr double kHallF1 = 0.89;     // measured 0.913
constexpr double kHighwayF1 = 0.76;  // measured 0.779
// Person box floors on sbi-hallandmonitor with bench/detect/configs/people-near.yaml (1.1 model).
constexpr double kHallBoxPrecision = 0.97;  // measured 0.991
constexpr double kHallBoxRecall = 0.94;     // measured 0.965
// The same with detect.objects.recheck_s 1 (tracks' predicted boxes scored on the frames the detector
// skipped).
constexpr double kHallRecheckBoxPrecision = 0.97;  // measured 0.993
constexpr double kHallRecheckBoxRecall = 0.94;     // measured 0.982

nlohmann::json eval(const std::vector<std::string>& args) {
  std::vector<std::string> argv{matthan_binary().string(), "eval", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [rc, out] = run_command(argv);
  EXPECT_EQ(rc, 0) << out;
  // Logs may precede the JSON line: take the last line.
  const auto start = out.rfind('{', out.rfind("\"clip\""));
  return nlohmann::json::parse(start == std::string::npos ? std::string("{}") : out.substr(start), nullptr, false);
}

fs::path media(const std::string& rel) {
  return shared_dir() / "media" / rel;
}

TEST(EvalAccuracy, HallAndMonitorMotionMask) {
  MATTHAN_REQUIRE_SHARED();
  const auto j = eval({"--clip", media("sbi-hallandmonitor/hallandmonitor.mp4").string(), "--gt-masks",
                       media("sbi-hallandmonitor/groundtruth").string()});
  ASSERT_TRUE(j.is_object() && j["motion"].is_object()) << j.dump();
  EXPECT_EQ(j["frames"], 296);
  EXPECT_GE(j["motion"]["f1"].get<double>(), kHallF1) << j["motion"].dump();
}

TEST(EvalAccuracy, HighwayIMotionMask) {
  MATTHAN_REQUIRE_SHARED();
  const auto j = eval({"--clip", media("sbi-highwayi/highwayi.mp4").string(), "--gt-masks",
                       media("sbi-highwayi/groundtruth").string()});
  ASSERT_TRUE(j.is_object() && j["motion"].is_object()) << j.dump();
  EXPECT_EQ(j["frames"], 440);
  EXPECT_GE(j["motion"]["f1"].get<double>(), kHighwayF1) << j["motion"].dump();
}

// The bench's people-near camera (Yolo-Fastest 1.1, the engine's default score floors) on the hall clip: the
// config is copied next to a link to ../shared/models, as bench/detect/accuracy.sh does. About 10 s of CPU.
TEST(EvalAccuracy, HallAndMonitorPersonBoxes) {
  MATTHAN_REQUIRE_SHARED();
  if (!fs::exists(shared_dir() / "models" / "yolo-fastest-1.1" / "yolo-fastest-1.1.weights"))
    GTEST_SKIP() << "../shared/models/yolo-fastest-1.1 is missing; skipping the box gate";
  const fs::path dir = make_temp_dir("matthan-evalbox");
  fs::copy_file(fs::path(MATTHAN_BENCH_CONFIG_DIR) / "people-near.yaml", dir / "people-near.yaml");
  fs::create_directory_symlink(fs::absolute(shared_dir() / "models"), dir / "models");
  const auto j =
      eval({"--clip", media("sbi-hallandmonitor/hallandmonitor.mp4").string(), "--gt-boxes",
            media("sbi-hallandmonitor/gt_summary.csv").string(), "--config", (dir / "people-near.yaml").string()});
  ASSERT_TRUE(j.is_object() && j["boxes"].is_object()) << j.dump();
  EXPECT_GE(j["boxes"]["precision"].get<double>(), kHallBoxPrecision) << j["boxes"].dump();
  EXPECT_GE(j["boxes"]["recall"].get<double>(), kHallBoxRecall) << j["boxes"].dump();
  fs::remove_all(dir);
}

// detect.objects.recheck_s on the same camera: the detector is spared most frames (a known person's motion is
// explained by the track), and on those frames eval scores the track's predicted box, what the camera
// believes is there. Before that, every spared frame scored as a miss (recall 0.117). The dump lists those
// boxes as "track". Floors a little under what was measured when they were set (docs/ACCURACY.md).
TEST(EvalAccuracy, HallAndMonitorPersonBoxesWithRecheck) {
  MATTHAN_REQUIRE_SHARED();
  if (!fs::exists(shared_dir() / "models" / "yolo-fastest-1.1" / "yolo-fastest-1.1.weights"))
    GTEST_SKIP() << "../shared/models/yolo-fastest-1.1 is missing; skipping the box gate";
  const fs::path dir = make_temp_dir("matthan-evalrecheck");
  std::ifstream in(fs::path(MATTHAN_BENCH_CONFIG_DIR) / "people-near.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto objects = yaml.find("objects:\n");
  ASSERT_NE(objects, std::string::npos) << yaml;
  const auto next = objects + std::string("objects:\n").size();
  const std::string indent = yaml.substr(next, yaml.find_first_not_of(' ', next) - next);
  yaml.insert(next, indent + "recheck_s: 1\n");
  std::ofstream(dir / "people-near.yaml") << yaml;
  fs::create_directory_symlink(fs::absolute(shared_dir() / "models"), dir / "models");
  const auto j = eval({"--clip", media("sbi-hallandmonitor/hallandmonitor.mp4").string(), "--gt-boxes",
                       media("sbi-hallandmonitor/gt_summary.csv").string(), "--config",
                       (dir / "people-near.yaml").string(), "--dump-boxes", (dir / "boxes.csv").string()});
  ASSERT_TRUE(j.is_object() && j["boxes"].is_object()) << j.dump();
  const auto& b = j["boxes"];
  EXPECT_LE(j["forward_calls"].get<long>(), b["frames_scored"].get<long>() / 2) << "recheck_s spares the detector";
  EXPECT_LE(b["frames_detected"].get<long>(), b["frames_scored"].get<long>() / 2) << b.dump();
  EXPECT_GT(b["tracked_boxes"].get<long>(), 0) << b.dump();
  EXPECT_GE(b["precision"].get<double>(), kHallRecheckBoxPrecision) << b.dump();
  EXPECT_GE(b["recall"].get<double>(), kHallRecheckBoxRecall) << "spared frames must not score as misses: " << b.dump();
  std::ifstream dump(dir / "boxes.csv");
  long track_lines = 0;
  for (std::string line; std::getline(dump, line);) track_lines += line.find(",track,") != std::string::npos;
  EXPECT_EQ(track_lines, b["tracked_boxes"].get<long>()) << "the dump lists the track boxes that were scored";
  fs::remove_all(dir);
}

// detect.mode keyframes offline: one analysed frame every --gop seconds (hallandmonitor: 296 frames at 25 fps,
// so frames 0, 50, ..., 250), scored on those frames only. Floors a little under what keyframes mode
// reached when they were set (bench/journal/2026-11-29-keyframes-mode.md): recall holds, precision is the price.
TEST(EvalAccuracy, KeyframesModeAnalysesOneFrameEveryGop) {
  MATTHAN_REQUIRE_SHARED();
  const std::vector<std::string> clip{"--clip", media("sbi-hallandmonitor/hallandmonitor.mp4").string(), "--gt-masks",
                                      media("sbi-hallandmonitor/groundtruth").string()};
  auto args = clip;
  args.insert(args.end(), {"--mode", "keyframes", "--gop", "2"});
  const auto j = eval(args);
  ASSERT_TRUE(j.is_object() && j["motion"].is_object()) << j.dump();
  EXPECT_EQ(j["mode"], "keyframes");
  EXPECT_EQ(j["frames"], 296);
  EXPECT_EQ(j["frames_analysed"], 6);
  EXPECT_LE(j["motion"]["frames_scored"].get<int>(), 6);
  EXPECT_GE(j["motion"]["recall"].get<double>(), 0.85) << j["motion"].dump();  // measured 0.922
  EXPECT_GE(j["motion"]["f1"].get<double>(), 0.55) << j["motion"].dump();      // measured 0.622
  const auto every = eval(clip);
  EXPECT_EQ(every["mode"], "every_frame");
  EXPECT_EQ(every["frames_analysed"], 296);
}

}  // namespace
}  // namespace matthan::test
