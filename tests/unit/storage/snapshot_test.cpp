// Snapshots: JPEGs that decode, with the camera's aspect ratio and the boxes drawn.
#include "matthan/storage/snapshot.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

// A horizontal luma ramp so that the picture is not flat.
Frame ramp_frame(PixelFormat format, int width, int height) {
  Frame f = make_owned_frame(format, width, height);
  auto* y = const_cast<std::uint8_t*>(f.plane[0]);
  for (int r = 0; r < height; ++r)
    for (int c = 0; c < width; ++c) y[r * f.stride[0] + c] = static_cast<std::uint8_t>(c * 255 / width);
  return f;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("matthan-snapshot"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(SnapshotTest, I420FrameBecomesAJpegWithTheCameraAspectAndBoxes) {
  Frame f = ramp_frame(PixelFormat::kI420, 320, 240);  // analysis copy squeezed from a 16:9 camera
  f.source_width = 1920;
  f.source_height = 1080;
  const fs::path out = dir_ / "snaps" / "cam" / "inc-1.jpg";
  const std::vector<SnapshotBox> boxes{{Box{0.25, 0.25, 0.5, 0.5}, "person 0.91"}};
  ASSERT_TRUE(write_snapshot(f, boxes, out, 90).ok());

  const cv::Mat img = cv::imread(out.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << "not a decodable JPEG";
  EXPECT_EQ(img.rows, 240);
  EXPECT_EQ(img.cols, 427);  // 240 * 16 / 9
  // The box's left edge (x = 0.25 of the width) at mid height is drawn red; the ramp itself is grey.
  const cv::Vec3b edge = img.at<cv::Vec3b>(120, 107);  // lround(0.25 * 427)
  EXPECT_GT(edge[2], 150);
  EXPECT_LT(edge[1], 100);
  const cv::Vec3b inside = img.at<cv::Vec3b>(120, 213);
  EXPECT_LT(std::abs(int{inside[2]} - int{inside[1]}), 30) << "inside the box the picture is untouched grey";

  // Written by rename: no temporary file left next to it.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out.parent_path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(SnapshotTest, PaddedGrayFrameKeepsItsSizeWithoutSourceSize) {
  // A GRAY8 frame whose rows are padded (stride > width), as GStreamer hands them out.
  constexpr int kW = 150, kH = 100, kStride = 160;
  auto pixels = std::make_shared<std::vector<std::uint8_t>>(kStride * kH, std::uint8_t{200});
  Frame f;
  f.format = PixelFormat::kGray8;
  f.width = kW;
  f.height = kH;
  f.plane[0] = pixels->data();
  f.stride[0] = kStride;
  f.owner = pixels;
  const fs::path out = dir_ / "gray.jpg";
  ASSERT_TRUE(write_snapshot(f, {}, out).ok());
  const cv::Mat img = cv::imread(out.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, kW);
  EXPECT_EQ(img.rows, kH);
  EXPECT_NEAR(img.at<cv::Vec3b>(50, 75)[0], 200, 4);
}

TEST_F(SnapshotTest, RejectsEmptyFramesAndUnwritablePaths) {
  EXPECT_FALSE(write_snapshot(Frame{}, {}, dir_ / "empty.jpg").ok());
  EXPECT_FALSE(fs::exists(dir_ / "empty.jpg"));
  const fs::path blocker = dir_ / "file";
  { std::ofstream(blocker) << "x"; }
  const Status s = write_snapshot(ramp_frame(PixelFormat::kGray8, 64, 48), {}, blocker / "x.jpg");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(blocker.string()), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace matthan
