// MotionDetector on synthetic luma scenes: boxes, masks, noise, minimum area, size changes, a real clip.
#include "matthan/detect/motion_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>

#include "matthan/test/frame_helpers.hpp"
#include "matthan/test/paths.hpp"
#include "rect_box.hpp"

namespace matthan {
namespace {

// A textured, static background so the model has something real to learn.
cv::Mat make_background(int width, int height) {
  cv::Mat bg(height, width, CV_8UC1);
  cv::RNG rng(1234);
  rng.fill(bg, cv::RNG::UNIFORM, 60, 110);
  cv::GaussianBlur(bg, bg, {7, 7}, 0);
  return bg;
}

// A GRAY8 (or I420) frame whose luma is `luma`, optionally with padding after each row.
Frame to_frame(const cv::Mat& luma, PixelFormat format = PixelFormat::kGray8) {
  return test::luma_to_frame(luma, format);
}

Frame to_padded_frame(const cv::Mat& luma, int padding) {
  const int stride = luma.cols + padding;
  auto buf = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(stride) * luma.rows, 0xEE);
  cv::Mat dst(luma.rows, luma.cols, CV_8UC1, buf->data(), static_cast<std::size_t>(stride));
  luma.copyTo(dst);
  Frame f;
  f.format = PixelFormat::kGray8;
  f.width = luma.cols;
  f.height = luma.rows;
  f.plane[0] = buf->data();
  f.stride[0] = stride;
  f.owner = std::move(buf);
  return f;
}

cv::Mat with_square(const cv::Mat& bg, cv::Rect r, int value = 230) {
  cv::Mat img = bg.clone();
  cv::rectangle(img, r, cv::Scalar(value), cv::FILLED);
  return img;
}

void warm_up(MotionDetector& d, const cv::Mat& bg, int frames, PixelFormat format = PixelFormat::kGray8) {
  for (int i = 0; i < frames; ++i) {
    const MotionResult r = d.process(to_frame(bg, format));
    ASSERT_FALSE(r.motion) << "frame " << i;
  }
}

TEST(MotionDetector, FindsMovingSquareWithNormalisedBoxAfterWarmup) {
  const cv::Mat bg = make_background(640, 360);
  MotionConfig cfg;  // analysis_width 320: this also exercises the downscale path
  MotionDetector d(cfg);
  warm_up(d, bg, 20);
  MotionResult last;
  cv::Rect square;
  for (int i = 0; i < 10; ++i) {
    square = cv::Rect(100 + 12 * i, 120, 80, 80);
    last = d.process(to_frame(with_square(bg, square)));
    EXPECT_TRUE(last.motion) << "frame " << i;
  }
  ASSERT_FALSE(last.boxes.empty());
  const Box& b = last.boxes.front();
  const double tol = 0.025;
  EXPECT_NEAR(b.x, square.x / 640.0, tol);
  EXPECT_NEAR(b.y, square.y / 360.0, tol);
  EXPECT_NEAR(b.w, square.width / 640.0, tol);
  EXPECT_NEAR(b.h, square.height / 360.0, tol);
  EXPECT_GT(last.score, 0.8) << "a solid square fills its box";
  EXPECT_LE(last.score, 1.0);
  EXPECT_GT(last.foreground_fraction, 0.0);
  EXPECT_LT(last.foreground_fraction, 0.1);
}

// background_match: a patch of the same surface lit brighter is the background times one gain; a patch
// with something else in front of it is not.
TEST(MotionDetector, BackgroundMatchTellsRelitSurfaceFromAnObject) {
  const cv::Mat bg = make_background(320, 180);
  MotionDetector d{MotionConfig{}};
  warm_up(d, bg, 20);
  const cv::Rect patch(100, 60, 60, 50);
  const Box box{100 / 320.0, 60 / 180.0, 60 / 320.0, 50 / 180.0};

  cv::Mat relit = bg.clone();
  relit(patch).convertTo(relit(patch), -1, 1.35, 0);  // a lamp brightening one wall
  ASSERT_TRUE(d.process(to_frame(relit)).motion) << "the relit patch is foreground to the model";
  EXPECT_GT(d.background_match(box), 0.7);

  MotionDetector d2{MotionConfig{}};
  warm_up(d2, bg, 20);
  cv::Mat object = bg.clone();
  cv::RNG rng(99);
  cv::Mat coat(patch.size(), CV_8UC1);
  rng.fill(coat, cv::RNG::UNIFORM, 140, 250);  // a patterned coat, unlike the wall behind it
  coat.copyTo(object(patch));
  ASSERT_TRUE(d2.process(to_frame(object)).motion);
  EXPECT_LT(d2.background_match(box), 0.5);
}

// A red square whose luma equals the grey background's: only colour tells them apart.
TEST(MotionDetector, SeesAnObjectOfTheBackgroundsLumaThroughItsColour) {
  cv::Mat bg(180, 320, CV_8UC3);
  cv::RNG rng(99);
  rng.fill(bg, cv::RNG::UNIFORM, 110, 130);
  cv::cvtColor(bg, bg, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bg, bg, cv::COLOR_GRAY2BGR);      // grey, so every pixel's luma is its value
  const cv::Scalar same_luma_red(116, 80, 200);  // 0.114*116 + 0.587*80 + 0.299*200 = 120
  auto scene = [&](int i) {
    cv::Mat img = bg.clone();
    if (i >= 0) cv::rectangle(img, cv::Rect(60 + 8 * i, 60, 50, 50), same_luma_red, cv::FILLED);
    return test::bgr_to_i420_frame(img);
  };
  for (const bool color : {true, false}) {
    MotionConfig cfg;
    cfg.use_color = color;
    MotionDetector d(cfg);
    for (int i = 0; i < 20; ++i) ASSERT_FALSE(d.process(scene(-1)).motion);
    int seen = 0;
    for (int i = 0; i < 8; ++i) seen += d.process(scene(i)).motion ? 1 : 0;
    if (color)
      EXPECT_EQ(seen, 8) << "colour model";
    else
      EXPECT_EQ(seen, 0) << "luma-only model: the square has the background's luma";
  }
}

// Lights switched on: the whole picture brighter at once, the same scene. Vetoed, counted, re-learnt.
TEST(MotionDetector, LightingStepIsVetoedCountedAndRelearnt) {
  const cv::Mat dim = make_background(320, 180);
  cv::Mat bright;
  dim.convertTo(bright, -1, 1.6, 25);
  MotionDetector d(MotionConfig{});
  warm_up(d, dim, 20, PixelFormat::kI420);
  const MotionResult step = d.process(to_frame(bright, PixelFormat::kI420));
  EXPECT_TRUE(step.global_change);
  EXPECT_FALSE(step.motion);
  EXPECT_EQ(d.global_changes(), 1U);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(d.process(to_frame(bright, PixelFormat::kI420)).motion) << "frame " << i;
  EXPECT_EQ(d.global_changes(), 1U);
  // The new light is the background now: a moving square is found again.
  int seen = 0;
  for (int i = 0; i < 5; ++i)
    seen += d.process(to_frame(with_square(bright, {40 + 10 * i, 60, 50, 50}, 250), PixelFormat::kI420)).motion;
  EXPECT_EQ(seen, 5);
}

// Flicker: the picture alternating between two exposures. Never motion.
TEST(MotionDetector, ExposureFlickerIsNeverMotion) {
  const cv::Mat a = make_background(320, 180);
  cv::Mat b;
  a.convertTo(b, -1, 0.55, 0);
  MotionDetector d(MotionConfig{});
  warm_up(d, a, 20, PixelFormat::kI420);
  for (int i = 0; i < 60; ++i) {
    const MotionResult r = d.process(to_frame((i / 4) % 2 ? a : b, PixelFormat::kI420));
    EXPECT_FALSE(r.motion) << "frame " << i;
  }
  EXPECT_GE(d.global_changes(), 1U);
}

// A large object in front of the camera changes the structure: motion, not a lighting veto.
TEST(MotionDetector, LargeObjectIsNotVetoed) {
  const cv::Mat bg = make_background(320, 180);
  MotionDetector d(MotionConfig{});
  warm_up(d, bg, 20, PixelFormat::kI420);
  cv::Mat near = bg.clone();
  cv::Mat cover(180, 220, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(cover, cv::RNG::UNIFORM, 150, 250);
  cv::GaussianBlur(cover, cover, {3, 3}, 0);
  cover.copyTo(near(cv::Rect(50, 0, 220, 180)));
  const MotionResult r = d.process(to_frame(near, PixelFormat::kI420));
  EXPECT_FALSE(r.global_change);
  EXPECT_TRUE(r.motion);
  EXPECT_EQ(d.global_changes(), 0U);
}

TEST(MotionDetector, VetoCanBeDisabled) {
  const cv::Mat dim = make_background(320, 180);
  cv::Mat bright;
  dim.convertTo(bright, -1, 1.6, 25);
  MotionConfig cfg;
  cfg.veto_fraction = 1.0;
  MotionDetector d(cfg);
  warm_up(d, dim, 20, PixelFormat::kI420);
  const MotionResult r = d.process(to_frame(bright, PixelFormat::kI420));
  EXPECT_FALSE(r.global_change);
  EXPECT_TRUE(r.motion);
  EXPECT_EQ(d.global_changes(), 0U);
}

// detect.mode keyframes: one frame every 2 s, so the model cannot spend ten real frames learning. Priming
// learns the first frame ten times; the second frame already shows the object, and only the object.
TEST(MotionDetector, PrimedModelFindsTheObjectInTheSecondFrame) {
  const cv::Mat bg = make_background(640, 360);
  const cv::Rect square(200, 120, 80, 80);
  MotionConfig cfg;
  cfg.warmup_frames = 1;
  cfg.prime_repeats = 9;
  MotionDetector primed(cfg);
  EXPECT_FALSE(primed.process(to_frame(bg)).motion) << "the primed frame is still warm-up";
  const MotionResult r = primed.process(to_frame(with_square(bg, square)));
  EXPECT_FALSE(r.global_change);
  ASSERT_TRUE(r.motion);
  EXPECT_NEAR(r.boxes.front().x, square.x / 640.0, 0.025);
  EXPECT_NEAR(r.boxes.front().w, square.width / 640.0, 0.025);
  EXPECT_LT(r.foreground_fraction, 0.06) << "only the square is foreground";

  cfg.prime_repeats = 0;  // the same two frames without priming: the model has not learnt the background
  MotionDetector unprimed(cfg);
  unprimed.process(to_frame(bg));
  const MotionResult u = unprimed.process(to_frame(with_square(bg, square)));
  std::cout << "[ figures ] unprimed: foreground " << u.foreground_fraction << ", global change " << u.global_change
            << "\n";
}

TEST(MotionDetector, ReportsNothingDuringWarmup) {
  const cv::Mat bg = make_background(320, 180);
  MotionConfig cfg;
  cfg.warmup_frames = 15;
  MotionDetector d(cfg);
  for (int i = 0; i < 15; ++i) {
    // Changing content during warm-up would be motion afterwards; during it, nothing is reported.
    const MotionResult r = d.process(to_frame(i % 2 ? with_square(bg, {50, 50, 60, 60}) : bg));
    EXPECT_FALSE(r.motion) << "frame " << i;
    EXPECT_TRUE(r.boxes.empty());
  }
}

TEST(MotionDetector, TwoObjectsGiveTwoBoxesLargestFirst) {
  const cv::Mat bg = make_background(320, 180);
  MotionDetector d(MotionConfig{});
  warm_up(d, bg, 15);
  cv::Mat img = with_square(bg, {20, 20, 30, 30});
  cv::rectangle(img, cv::Rect(200, 90, 70, 60), cv::Scalar(10), cv::FILLED);
  MotionResult r;
  for (int i = 0; i < 3; ++i) r = d.process(to_frame(img));
  ASSERT_EQ(r.boxes.size(), 2u);
  EXPECT_GT(r.boxes[0].area(), r.boxes[1].area());
  EXPECT_NEAR(r.boxes[0].x, 200 / 320.0, 0.02);
  EXPECT_NEAR(r.boxes[1].x, 20 / 320.0, 0.02);
}

TEST(MotionDetector, IgnoresMotionInsideMask) {
  const cv::Mat bg = make_background(320, 180);
  MotionConfig cfg;
  cfg.masks.push_back(Polygon{{0.0, 0.0}, {0.5, 0.0}, {0.5, 1.0}, {0.0, 1.0}});  // the left half
  MotionDetector d(cfg);
  warm_up(d, bg, 15);
  for (int i = 0; i < 8; ++i) {
    const MotionResult r = d.process(to_frame(with_square(bg, {20 + 5 * i, 60, 50, 50})));
    EXPECT_FALSE(r.motion) << "masked frame " << i;
    EXPECT_EQ(r.foreground_fraction, 0.0);
  }
  // The same object in the right half is seen: the mask, not the model, silenced it above.
  MotionResult r;
  for (int i = 0; i < 3; ++i) r = d.process(to_frame(with_square(bg, {220 + 5 * i, 60, 50, 50})));
  ASSERT_TRUE(r.motion);
  EXPECT_GE(r.boxes.front().x, 0.5);
}

TEST(MotionDetector, GaussianNoiseAloneIsNotMotion) {
  const cv::Mat bg = make_background(320, 180);
  MotionDetector d(MotionConfig{});
  cv::RNG rng(99);
  int motion_frames = 0;
  for (int i = 0; i < 60; ++i) {
    cv::Mat noise(bg.size(), CV_16SC1);
    rng.fill(noise, cv::RNG::NORMAL, 0, 4);
    cv::Mat noisy;
    bg.convertTo(noisy, CV_16SC1);
    noisy += noise;
    noisy.convertTo(noisy, CV_8UC1);
    if (d.process(to_frame(noisy)).motion) ++motion_frames;
  }
  EXPECT_EQ(motion_frames, 0);
}

TEST(MotionDetector, BlobBelowMinAreaIsIgnored) {
  const cv::Mat bg = make_background(320, 180);
  // A 6x6 blob is 36 / 57600 = 0.000625 of the frame: below the default 0.002, above 0.0002.
  auto run = [&](double min_area) {
    MotionConfig cfg;
    cfg.min_area = min_area;
    cfg.close_kernel = 1;  // keep the blob its own size
    MotionDetector d(cfg);
    for (int i = 0; i < 15; ++i) d.process(to_frame(bg));
    int motion_frames = 0;
    for (int i = 0; i < 5; ++i) {
      if (d.process(to_frame(with_square(bg, {150 + 8 * i, 80, 6, 6}))).motion) ++motion_frames;
    }
    return motion_frames;
  };
  EXPECT_EQ(run(0.002), 0);
  EXPECT_EQ(run(0.0002), 5) << "control: the blob is found once min_area allows it";
}

TEST(MotionDetector, SizeChangeMidStreamRestartsWarmupWithoutCrashing) {
  MotionConfig cfg;
  cfg.warmup_frames = 5;
  MotionDetector d(cfg);
  const cv::Mat small = make_background(320, 180);
  const cv::Mat large = make_background(640, 480);
  const cv::Mat tiny = make_background(160, 120);
  for (int i = 0; i < 8; ++i) d.process(to_frame(small));
  EXPECT_TRUE(d.process(to_frame(with_square(small, {100, 50, 60, 60}))).motion);
  // New size: the old model cannot judge it, so nothing is reported until a new warm-up is done.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.process(to_frame(large)).motion) << i;
  MotionResult r;
  for (int i = 0; i < 2; ++i) r = d.process(to_frame(with_square(large, {300, 200, 120, 120})));
  ASSERT_TRUE(r.motion);
  EXPECT_NEAR(r.boxes.front().x, 300 / 640.0, 0.03);
  for (int i = 0; i < 7; ++i) d.process(to_frame(tiny, PixelFormat::kI420));
  r = d.process(to_frame(with_square(tiny, {40, 40, 40, 40}), PixelFormat::kI420));
  ASSERT_TRUE(r.motion);
  EXPECT_NEAR(r.boxes.front().y, 40 / 120.0, 0.03);
}

TEST(MotionDetector, ReadsPaddedRowsThroughStride) {
  const cv::Mat bg = make_background(320, 180);
  MotionDetector d(MotionConfig{});
  // Padding bytes are 0xEE; if the stride were ignored they would shear into the image as motion.
  for (int i = 0; i < 15; ++i) EXPECT_FALSE(d.process(to_padded_frame(bg, 64)).motion);
  const MotionResult r = d.process(to_padded_frame(with_square(bg, {10, 100, 40, 40}), 64));
  ASSERT_EQ(r.boxes.size(), 1u);
  EXPECT_NEAR(r.boxes[0].x, 10 / 320.0, 0.02);
  EXPECT_NEAR(r.boxes[0].y, 100 / 180.0, 0.02);
}

TEST(MotionDetector, ResetForgetsTheBackground) {
  const cv::Mat bg = make_background(320, 180);
  MotionConfig cfg;
  cfg.warmup_frames = 5;
  MotionDetector d(cfg);
  for (int i = 0; i < 6; ++i) d.process(to_frame(bg));
  const cv::Mat moved = with_square(bg, {100, 60, 60, 60});
  EXPECT_TRUE(d.process(to_frame(moved)).motion);
  d.reset();
  // After a reset the square is learnt as background during the new warm-up.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.process(to_frame(moved)).motion);
  EXPECT_FALSE(d.process(to_frame(moved)).motion);
  EXPECT_TRUE(d.process(to_frame(bg)).motion) << "the old background now differs from the learnt one";
}

TEST(MotionDetector, EmptyFrameGivesEmptyResult) {
  MotionDetector d(MotionConfig{});
  const MotionResult r = d.process(Frame{});
  EXPECT_FALSE(r.motion);
  EXPECT_TRUE(r.boxes.empty());
}

// Real footage: a corridor with people walking (SBI2015 CAVIAR1), decoded to gray with the ffmpeg CLI
// (OpenCV videoio is not part of our build). Every frame has a person in the ground truth.
struct GtBox {
  int x, y, w, h;
};

std::vector<std::vector<GtBox>> read_gt_boxes(const std::filesystem::path& csv) {
  std::vector<std::vector<GtBox>> frames;
  std::FILE* f = std::fopen(csv.c_str(), "r");
  if (!f) return frames;
  char line[4096];
  bool header = true;
  while (std::fgets(line, sizeof line, f)) {
    if (header) {
      header = false;
      continue;
    }
    std::stringstream ss(line);
    std::string field;
    std::vector<std::string> fields;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    std::vector<GtBox> boxes;
    if (fields.size() >= 5) {
      std::stringstream bs(fields[4]);
      std::string b;
      while (std::getline(bs, b, ';')) {
        GtBox g{};
        if (std::sscanf(b.c_str(), "%d:%d:%d:%d", &g.x, &g.y, &g.w, &g.h) == 4) boxes.push_back(g);
      }
    }
    frames.push_back(std::move(boxes));
  }
  std::fclose(f);
  return frames;
}

TEST(MotionDetector, FindsPeopleInCaviarCorridor) {
  MATTHAN_REQUIRE_SHARED();
  const auto dir = test::shared_dir() / "media" / "sbi-caviar1";
  const auto clip = dir / "caviar1.mp4";
  if (!std::filesystem::exists(clip)) GTEST_SKIP() << clip << " is missing";
  const auto gt = read_gt_boxes(dir / "gt_summary.csv");
  ASSERT_FALSE(gt.empty());
  constexpr int kW = 384, kH = 256;
  const std::string cmd = "ffmpeg -v error -nostdin -i '" + clip.string() + "' -f rawvideo -pix_fmt gray -";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) GTEST_SKIP() << "cannot run ffmpeg";

  MotionDetector d(MotionConfig{});
  int frames = 0, scored = 0, hits = 0, false_boxes = 0;
  cv::Mat luma(kH, kW, CV_8UC1);
  while (std::fread(luma.data, 1, luma.total(), pipe.get()) == luma.total()) {
    const MotionResult r = d.process(to_frame(luma));
    const std::size_t i = static_cast<std::size_t>(frames++);
    if (i < 30 || i >= gt.size() || gt[i].empty()) continue;
    ++scored;
    // A hit: one of our boxes matches a ground-truth person box (IoU above 0.3), so a box covering the
    // whole frame does not count.
    bool hit = false;
    for (const Box& b : r.boxes) {
      const cv::Rect ours(static_cast<int>(b.x * kW), static_cast<int>(b.y * kH), static_cast<int>(b.w * kW),
                          static_cast<int>(b.h * kH));
      for (const GtBox& g : gt[i]) {
        const cv::Rect truth(g.x, g.y, g.w, g.h);
        hit = hit || iou(detail::box_of(ours), detail::box_of(truth)) > 0.3;
      }
    }
    if (hit) ++hits;
    false_boxes += static_cast<int>(r.boxes.size()) - (hit ? 1 : 0);
  }
  ASSERT_EQ(frames, static_cast<int>(gt.size())) << "ffmpeg decoded a different number of frames";
  ASSERT_GT(scored, 400);
  const double recall = static_cast<double>(hits) / scored;
  RecordProperty("caviar1_frame_recall", std::to_string(recall));
  std::printf("caviar1: %d/%d frames with a box on a person (%.3f), %d other boxes\n", hits, scored, recall,
              false_boxes);
  EXPECT_GT(recall, 0.8);
}

// ---- still-frame gate (MotionConfig::still_level) ----

// Frame `index` of a 640x360 colour scene (I420) at 5 fps, with 0..2 levels of per-pixel noise, optionally
// brightened and with a solid object.
Frame still_scene_frame(const cv::Mat& bg_bgr, int index, double brightness = 0.0, cv::Rect object = {}) {
  cv::Mat img;
  bg_bgr.convertTo(img, -1, 1.0, brightness);
  cv::Mat noise(img.size(), CV_8UC3);
  cv::RNG rng(static_cast<std::uint64_t>(1000 + index));
  rng.fill(noise, cv::RNG::UNIFORM, 0, 3);
  cv::add(img, noise, img);
  if (object.area() > 0) cv::rectangle(img, object, cv::Scalar(40, 180, 220), cv::FILLED);
  Frame f = test::bgr_to_i420_frame(img);
  f.pts = static_cast<MediaTimeNs>(index) * 200'000'000;  // 5 fps
  return f;
}

cv::Mat still_background() {
  cv::Mat bg(360, 640, CV_8UC3);
  cv::RNG rng(4321);
  rng.fill(bg, cv::RNG::UNIFORM, 50, 140);
  cv::GaussianBlur(bg, bg, {9, 9}, 0);
  return bg;
}

// The still scene's first `frames` frames, so the gate has its reference and (past the first frames) skips;
// returns the index of the next frame.
int warm_up_on_still_scene(MotionDetector& d, const cv::Mat& bg, int frames) {
  for (int i = 0; i < frames; ++i) d.process(still_scene_frame(bg, i));
  return frames;
}

TEST(MotionStillGate, StillSceneIsSkippedButRefreshedEveryTwoSeconds) {
  const cv::Mat bg = still_background();
  MotionDetector d{MotionConfig{}};
  int i = 0;
  for (; i < 20; ++i) ASSERT_FALSE(d.process(still_scene_frame(bg, i)).motion) << i;
  const std::uint64_t before = d.still_skipped();
  int processed = 0, run = 0, longest_run = 0;
  for (int n = 0; n < 50; ++n, ++i) {
    const std::uint64_t s = d.still_skipped();
    const MotionResult r = d.process(still_scene_frame(bg, i));
    EXPECT_FALSE(r.motion) << i;
    int w = 0, h = 0;
    EXPECT_FALSE(d.last_mask(w, h).empty()) << "the empty mask of the last processed frame stands";
    if (d.still_skipped() == s) {
      ++processed;
      run = 0;
    } else {
      longest_run = std::max(longest_run, ++run);
    }
  }
  EXPECT_GE(d.still_skipped() - before, 40U) << "10 s of a still scene at 5 fps is mostly skipped";
  EXPECT_GE(processed, 5) << "a full update at least every 2 s";
  EXPECT_LE(longest_run, 9) << "2 s at 5 fps: at most 9 skipped frames between two updates";
}

TEST(MotionStillGate, HeldWhileAnIncidentIsOpenSkipsNothing) {
  const cv::Mat bg = still_background();
  MotionDetector d{MotionConfig{}};
  int i = warm_up_on_still_scene(d, bg, 30);
  ASSERT_GT(d.still_skipped(), 0U) << "the gate is active on the still scene";
  d.hold_still_gate(true);
  const std::uint64_t held_from = d.still_skipped();
  for (int n = 0; n < 20; ++n, ++i) d.process(still_scene_frame(bg, i));
  EXPECT_EQ(d.still_skipped(), held_from) << "while held (an incident open), every frame is processed";
  d.hold_still_gate(false);
  for (int n = 0; n < 20; ++n, ++i) d.process(still_scene_frame(bg, i));
  EXPECT_GT(d.still_skipped(), held_from) << "released, the still scene is skipped again";
}

// While held, no frame can be skipped, so no thumbnail is built before processing; a processed frame whose mask is
// empty still becomes the reference. The scene drifts while held: the first frame after the release is compared
// with the last held frame (and skipped), not with the picture from before the hold (8 levels away).
TEST(MotionStillGate, LastHeldFrameIsTheReferenceAfterRelease) {
  const cv::Mat bg = still_background();
  MotionDetector d{MotionConfig{}};
  int i = warm_up_on_still_scene(d, bg, 30);
  ASSERT_GT(d.still_skipped(), 0U) << "the gate is active on the still scene";
  d.hold_still_gate(true);
  double level = 0;
  for (int n = 0; n < 16; ++n, ++i) {
    level += 0.5;
    EXPECT_FALSE(d.process(still_scene_frame(bg, i, level)).motion) << "held frame " << n;
  }
  for (int n = 0; n < 4; ++n, ++i) d.process(still_scene_frame(bg, i, level));
  d.hold_still_gate(false);
  const std::uint64_t before = d.still_skipped();
  EXPECT_FALSE(d.process(still_scene_frame(bg, i, level)).motion);
  EXPECT_EQ(d.still_skipped(), before + 1) << "the first frame after the release matches the last held frame";
}

TEST(MotionStillGate, SmallMovingObjectIsNeverSkipped) {
  const cv::Mat bg = still_background();
  MotionDetector d{MotionConfig{}};
  int i = warm_up_on_still_scene(d, bg, 40);
  ASSERT_GT(d.still_skipped(), 0U) << "the gate is active before the object comes";
  // 28x28 of 640x360 (0.0034 of the frame, not far above min_area's 0.002), moving 10 px a frame.
  const std::uint64_t skipped = d.still_skipped();
  int seen = 0;
  for (int n = 0; n < 15; ++n, ++i) {
    const MotionResult r = d.process(still_scene_frame(bg, i, 0.0, cv::Rect(100 + 10 * n, 150, 28, 28)));
    seen += r.motion ? 1 : 0;
    EXPECT_EQ(d.still_skipped(), skipped) << "frame " << n << " with a moving object was skipped";
  }
  EXPECT_GE(seen, 13) << "the object is seen in (nearly) every frame";
}

// An object that comes and stays: it is seen at once, and while the model sees it as foreground every frame is
// processed. When the model absorbs it may differ a little from the run without the gate: KNN's sample updates
// run on frame counters, and the gate feeds it fewer frames while the scene is still (measured here, with the
// learning rate counting skipped frames: foreground for 20 frames with the gate, 18-19 without (KNN draws on a shared
// RNG); 8 before that fix).
TEST(MotionStillGate, ObjectThatStopsIsProcessedWhileItIsForeground) {
  const cv::Mat bg = still_background();
  MotionConfig off;
  off.still_level = 0;
  MotionDetector gated{MotionConfig{}}, plain(off);
  const cv::Rect parked(200, 120, 40, 40);
  int motion_gated = 0, motion_plain = 0;
  for (int i = 0; i < 120; ++i) {
    const Frame f = still_scene_frame(bg, i, 0.0, i >= 30 ? parked : cv::Rect());
    const std::uint64_t skipped = gated.still_skipped();
    const MotionResult a = gated.process(f), b = plain.process(f);
    if (i >= 30 && i < 35) {
      EXPECT_TRUE(a.motion) << "frame " << i;
      EXPECT_TRUE(b.motion) << "frame " << i;
    }
    if (a.motion) {
      EXPECT_EQ(gated.still_skipped(), skipped) << "a frame with foreground was skipped: " << i;
    }
    motion_gated += a.motion ? 1 : 0;
    motion_plain += b.motion ? 1 : 0;
  }
  EXPECT_GE(motion_gated, 5);
  EXPECT_GE(motion_plain, 5);
  std::cout << "[ figures ] parked object foreground for " << motion_gated << " frames with the gate, " << motion_plain
            << " without\n";
  EXPECT_GT(gated.still_skipped(), 40U) << "once absorbed, the scene is still again and skipped";
}

TEST(MotionStillGate, SlowDriftIsEventuallyProcessed) {
  const cv::Mat bg = still_background();
  MotionConfig cfg;
  cfg.still_refresh_s = 1000;  // only the drift can force an update
  MotionDetector d(cfg);
  int i = warm_up_on_still_scene(d, bg, 20);
  // +0.5 level per frame: each frame is within the noise of the one before, but not of the last processed.
  int processed = 0;
  for (int n = 1; n <= 40; ++n, ++i) {
    const std::uint64_t s = d.still_skipped();
    d.process(still_scene_frame(bg, i, 0.5 * n));
    if (d.still_skipped() == s) ++processed;
  }
  EXPECT_GE(processed, 4) << "20 levels of drift in steps of 0.5 are processed every few levels";
  EXPECT_GE(d.still_skipped(), 20U);
}

TEST(MotionStillGate, DisabledAtLevelZero) {
  const cv::Mat bg = still_background();
  MotionConfig cfg;
  cfg.still_level = 0;
  MotionDetector d(cfg);
  for (int i = 0; i < 40; ++i) d.process(still_scene_frame(bg, i));
  EXPECT_EQ(d.still_skipped(), 0U);
}

}  // namespace
}  // namespace matthan
