// detail::area_downscale_integer gives exactly what cv::resize(INTER_AREA) gives, and declines what it does not do.
#include "area_scale.hpp"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace matthan {
namespace {

cv::Mat random_plane(int w, int h, int seed) {
  cv::Mat m(h, w, CV_8UC1);
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

TEST(AreaScale, IntegerFactorsMatchOpenCvBitForBit) {
  // 720p luma and chroma to 320 wide (k = 4), 1080p to 320 (k = 6), odd factors and sizes (3, 5, 7), the
  // extremes of the range (15), flat planes whose block sums fall exactly between two levels.
  const int cases[][3] = {{1280, 720, 4}, {640, 360, 4}, {1920, 1080, 6}, {960, 540, 3},
                          {35, 25, 5},    {49, 7, 7},    {150, 45, 15},   {8 * 3, 3 * 3, 3}};
  int seed = 1;
  for (const auto& c : cases) {
    const cv::Mat src = random_plane(c[0], c[1], seed++);
    const cv::Size ds(c[0] / c[2], c[1] / c[2]);
    cv::Mat expected, got(ds, CV_8UC1);
    cv::resize(src, expected, ds, 0, 0, cv::INTER_AREA);
    ASSERT_TRUE(detail::area_downscale_integer(src, got)) << c[0] << "x" << c[1] << " / " << c[2];
    EXPECT_EQ(cv::norm(expected, got, cv::NORM_INF), 0.0) << c[0] << "x" << c[1] << " / " << c[2];
  }
  // Half-way sums: blocks of 8 and 9 in a checkerboard of 4x4 blocks give averages like 8.5 (rounded to even).
  for (int k : {3, 4, 6}) {
    cv::Mat src(4 * k, 8 * k, CV_8UC1);
    for (int y = 0; y < src.rows; ++y)
      for (int x = 0; x < src.cols; ++x)
        src.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(((x + y) % 2 ? 8 : 9) + (x / k));
    cv::Mat expected, got(4, 8, CV_8UC1);
    cv::resize(src, expected, got.size(), 0, 0, cv::INTER_AREA);
    ASSERT_TRUE(detail::area_downscale_integer(src, got));
    EXPECT_EQ(cv::norm(expected, got, cv::NORM_INF), 0.0) << "k " << k;
  }
}

// k = 4 takes 16 outputs at a time and the rest of a row one by one: every output width from 1 to 50, random
// planes, white ones (the largest sums) and half-way sums of both parities in the vector part too.
TEST(AreaScale, QuarterAtEveryWidthMatchesOpenCv) {
  for (int w = 1; w <= 50; ++w) {
    SCOPED_TRACE(testing::Message() << "output width " << w);
    const cv::Mat white(8, 4 * w, CV_8UC1, cv::Scalar(255));
    cv::Mat halfway(8, 4 * w, CV_8UC1);
    for (int y = 0; y < halfway.rows; ++y)
      for (int x = 0; x < halfway.cols; ++x)
        halfway.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(((x + y) % 2 ? 8 : 9) + (x / 4) * 7);
    for (const cv::Mat& src : {random_plane(4 * w, 12, w), white, halfway}) {
      cv::Mat expected, got(src.rows / 4, w, CV_8UC1);
      cv::resize(src, expected, got.size(), 0, 0, cv::INTER_AREA);
      ASSERT_TRUE(detail::area_downscale_integer(src, got));
      ASSERT_EQ(cv::norm(expected, got, cv::NORM_INF), 0.0);
    }
  }
}

TEST(AreaScale, ReadsAndWritesThroughStrides) {
  // The source is a view into a wider frame (padded rows), the destination a view into a packed I420 buffer.
  const cv::Mat big = random_plane(1344, 738, 7);
  const cv::Mat src = big(cv::Rect(0, 0, 1280, 720));
  cv::Mat buffer(270, 400, CV_8UC1, cv::Scalar(77));
  cv::Mat got = buffer(cv::Rect(40, 10, 320, 180));
  cv::Mat expected;
  cv::resize(src, expected, got.size(), 0, 0, cv::INTER_AREA);
  ASSERT_TRUE(detail::area_downscale_integer(src, got));
  EXPECT_EQ(cv::norm(expected, got, cv::NORM_INF), 0.0);
  EXPECT_EQ(buffer.at<std::uint8_t>(5, 5), 77) << "nothing outside the view is written";
  EXPECT_EQ(buffer.at<std::uint8_t>(200, 380), 77);
}

TEST(AreaScale, DeclinesWhatItDoesNotDo) {
  const cv::Mat src = random_plane(1280, 720, 3);
  cv::Mat half(360, 640, CV_8UC1, cv::Scalar(1)), odd(240, 384, CV_8UC1, cv::Scalar(1)),
      uneven(200, 320, CV_8UC1, cv::Scalar(1));
  EXPECT_FALSE(detail::area_downscale_integer(src, half)) << "k = 2 stays with OpenCV";
  EXPECT_FALSE(detail::area_downscale_integer(src, odd)) << "1280 / 384 is no integer";
  EXPECT_FALSE(detail::area_downscale_integer(src, uneven)) << "4 across, 3.6 down";
  cv::Mat colour(180, 320, CV_8UC3);
  EXPECT_FALSE(detail::area_downscale_integer(src, colour));
  EXPECT_EQ(half.at<std::uint8_t>(0, 0), 1) << "a declined call writes nothing";
}

}  // namespace
}  // namespace matthan
