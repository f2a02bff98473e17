// Eval metric code on hand-made masks and boxes: CDnet rules (170 / 85 ignored, 50 is background), ROI,
// IoU matching with small ground-truth blobs left out, gt_summary.csv parsing.
#include "matthan/detect/eval_metrics.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

TEST(MaskScore, CountsByCdnetRules) {
  //                         TP   FN   FP  TN  unk  roi  shadow(bg, predicted) shadow(bg)
  const std::uint8_t truth[] = {255, 255, 0, 0, 170, 85, 50, 50};
  const std::uint8_t pred[] = {255, 0, 255, 0, 255, 255, 255, 0};
  const MaskCounts c = score_mask(pred, truth, nullptr, 8);
  EXPECT_EQ(c.tp, 1u);
  EXPECT_EQ(c.fn, 1u);
  EXPECT_EQ(c.fp, 2u);
  EXPECT_EQ(c.tn, 2u);
  EXPECT_DOUBLE_EQ(c.precision(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.recall(), 0.5);
  EXPECT_NEAR(c.f1(), 0.4, 1e-12);
}

TEST(MaskScore, RoiZeroIsNotScored) {
  const std::uint8_t truth[] = {255, 255, 0, 0};
  const std::uint8_t pred[] = {0, 255, 255, 0};
  const std::uint8_t roi[] = {0, 255, 0, 255};
  const MaskCounts c = score_mask(pred, truth, roi, 4);
  EXPECT_EQ(c.tp, 1u);
  EXPECT_EQ(c.fn, 0u);
  EXPECT_EQ(c.fp, 0u);
  EXPECT_EQ(c.tn, 1u);
  EXPECT_DOUBLE_EQ(c.f1(), 1.0);
}

TEST(MaskScore, EmptyCountsGiveZeroNotNan) {
  const MaskCounts c;
  EXPECT_EQ(c.f1(), 0.0);
  EXPECT_EQ(c.precision(), 0.0);
}

TEST(BoxScore, MatchesAtIouAndIgnoresSmallTruth) {
  const std::vector<Box> truth{{0.1, 0.1, 0.2, 0.4}, {0.6, 0.1, 0.2, 0.4}, {0.9, 0.9, 0.02, 0.02}};
  const std::vector<Box> pred{{0.12, 0.1, 0.2, 0.4},    // matches truth 0
                              {0.5, 0.6, 0.1, 0.1},     // nothing there: false alarm
                              {0.9, 0.9, 0.02, 0.02}};  // on the small blob: ignored
  const BoxCounts c = score_boxes(pred, truth, 0.3, 0.005);
  EXPECT_EQ(c.tp, 1u);
  EXPECT_EQ(c.fp, 1u);
  EXPECT_EQ(c.fn, 1u) << "truth 1 missed; the small truth is not counted";
  EXPECT_DOUBLE_EQ(c.precision(), 0.5);
  EXPECT_DOUBLE_EQ(c.recall(), 0.5);
}

TEST(BoxScore, OneToOne) {
  const std::vector<Box> truth{{0.1, 0.1, 0.2, 0.4}};
  const std::vector<Box> pred{{0.1, 0.1, 0.2, 0.4}, {0.11, 0.1, 0.2, 0.4}};
  const BoxCounts c = score_boxes(pred, truth, 0.3, 0.0);
  EXPECT_EQ(c.tp, 1u);
  EXPECT_EQ(c.fp, 1u) << "a second box on the same object is a duplicate";
}

TEST(GtSummary, ParsesBoxesPerFrame) {
  const auto dir = test::make_temp_dir("matthan-gt");
  const auto csv = dir / "gt_summary.csv";
  std::ofstream(csv)
      << "frame,fg_pixels,unknown_pixels,blobs,boxes\n0,0,0,0,\n1,3046,989,2,32:24:64:48;160:120:32:24\n";
  auto gt = read_gt_summary(csv, 320, 240);
  ASSERT_TRUE(gt.ok()) << gt.error().message;
  ASSERT_EQ(gt->size(), 2u);
  EXPECT_TRUE(gt->at(0).empty());
  ASSERT_EQ(gt->at(1).size(), 2u);
  EXPECT_EQ(gt->at(1)[0], (Box{0.1, 0.1, 0.2, 0.2}));
  EXPECT_EQ(gt->at(1)[1], (Box{0.5, 0.5, 0.1, 0.1}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace matthan
