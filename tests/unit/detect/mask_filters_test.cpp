// detail::binary_median and detail::dilate_near_set give exactly what cv::medianBlur and cv::dilate give on 0 / 255
// masks, detail::dilate_by_runs what cv::dilate gives on any 8-bit picture, and they decline what they do not do.
#include "mask_filters.hpp"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace matthan {
namespace {

// A 0 / 255 mask: speckle of the given density over a few solid blobs (what KNN's thresholded output looks like).
cv::Mat random_mask(int w, int h, double density, int seed) {
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  cv::Mat noise(h, w, CV_32F);
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::Mat mask;
  cv::compare(noise, density, mask, cv::CMP_LT);
  for (int i = 0; i < 4; ++i) {
    const cv::Point c(rng.uniform(0, w), rng.uniform(0, h));
    cv::ellipse(mask, c, {rng.uniform(1, w / 4 + 2), rng.uniform(1, h / 4 + 2)}, 0, 0, 360, cv::Scalar(255),
                cv::FILLED);
  }
  return mask;
}

void expect_same(const cv::Mat& a, const cv::Mat& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.type(), b.type());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

TEST(BinaryMedian, MatchesMedianBlurBitForBit) {
  // The analysis size (320x180) and the shared clips' (320x240 ... 384x256), small and odd sizes, and frames
  // narrower or shorter than the window, where every pixel reads the replicated border.
  const cv::Size sizes[] = {{320, 180}, {384, 256}, {160, 90}, {33, 17}, {7, 5}, {4, 12}, {2, 2}, {1, 1}};
  const double densities[] = {0.0, 0.05, 0.3, 0.5, 0.7, 1.0};
  cv::Mat counts, out;
  int seed = 1;
  for (const cv::Size& s : sizes) {
    for (double d : densities) {
      const cv::Mat mask = random_mask(s.width, s.height, d, seed++);
      for (int k = 3; k <= 15; k += 2) {
        SCOPED_TRACE(testing::Message() << s << " density " << d << " k " << k);
        cv::Mat want, got;
        cv::medianBlur(mask, want, k);
        ASSERT_TRUE(detail::binary_median(mask, got, k, counts, out));
        expect_same(got, want);
      }
    }
  }
}

TEST(BinaryMedian, WorksInPlaceAndOnViews) {
  cv::Mat counts, out;
  const cv::Mat big = random_mask(200, 120, 0.4, 7);
  const cv::Mat view = big(cv::Rect(13, 9, 150, 80));  // rows are strided
  cv::Mat want;
  cv::medianBlur(view, want, 5);
  cv::Mat in_place = view.clone();
  ASSERT_TRUE(detail::binary_median(in_place, in_place, 5, counts, out));
  expect_same(in_place, want);
  cv::Mat from_view;
  ASSERT_TRUE(detail::binary_median(view, from_view, 5, counts, out));
  expect_same(from_view, want);
}

TEST(BinaryMedian, DeclinesWhatItDoesNotDo) {
  cv::Mat counts, out;
  const cv::Mat mask = random_mask(32, 24, 0.4, 3);
  cv::Mat dst(5, 5, CV_8UC1, cv::Scalar(9));
  for (int k : {-1, 0, 1, 2, 4, 17}) {
    EXPECT_FALSE(detail::binary_median(mask, dst, k, counts, out)) << k;
    EXPECT_EQ(dst.size(), cv::Size(5, 5));
    EXPECT_EQ(dst.at<std::uint8_t>(0, 0), 9);
  }
  EXPECT_FALSE(detail::binary_median(cv::Mat(), dst, 5, counts, out));
  EXPECT_FALSE(detail::binary_median(cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(255)), dst, 5, counts, out));
  EXPECT_FALSE(detail::binary_median(cv::Mat(8, 8, CV_16UC1, cv::Scalar(255)), dst, 5, counts, out));
}

TEST(DilateNearSet, MatchesDilateBitForBit) {
  // The gate's map at 320x180 (a 17 x 17 ellipse) and other sizes and elements: empty masks, one pixel, blobs in the
  // middle and on every edge and corner (where the reach is clipped), and masks set all over (the whole-frame path).
  const cv::Size sizes[] = {{320, 180}, {352, 240}, {64, 48}, {9, 7}};
  const int elements[] = {3, 9, 17};
  cv::Mat scratch;
  int seed = 100;
  for (const cv::Size& s : sizes) {
    for (int k : elements) {
      const cv::Mat element = cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k});
      std::vector<cv::Mat> masks;
      masks.push_back(cv::Mat::zeros(s, CV_8UC1));
      cv::Mat one = cv::Mat::zeros(s, CV_8UC1);
      one.at<std::uint8_t>(s.height / 2, s.width / 3) = 255;
      masks.push_back(one);
      for (const cv::Point& p : {cv::Point(0, 0), cv::Point(s.width - 1, s.height - 1), cv::Point(s.width / 2, 0),
                                 cv::Point(0, s.height - 1)}) {
        cv::Mat m = cv::Mat::zeros(s, CV_8UC1);
        cv::circle(m, p, std::max(1, s.height / 10), cv::Scalar(255), cv::FILLED);
        masks.push_back(m);
      }
      masks.push_back(random_mask(s.width, s.height, 0.0, seed++));   // a few blobs
      masks.push_back(random_mask(s.width, s.height, 0.02, seed++));  // speckle all over
      for (const cv::Mat& m : masks) {
        SCOPED_TRACE(testing::Message() << s << " k " << k << " set " << cv::countNonZero(m));
        cv::Mat want;
        cv::dilate(m, want, element);
        cv::Mat got = m.clone();
        detail::dilate_near_set(got, element, scratch);
        expect_same(got, want);
      }
    }
  }
}

// Any 8-bit picture (not only masks), elements whose rows are centred runs of every shape OpenCV makes, sizes down
// to one pixel, in place and into another Mat.
TEST(DilateByRuns, MatchesDilateBitForBit) {
  const cv::Size sizes[] = {{320, 180}, {33, 17}, {1, 9}, {9, 1}, {2, 2}};
  std::vector<std::uint8_t> scratch;
  int seed = 7;
  for (const cv::Size& s : sizes) {
    for (int shape : {cv::MORPH_ELLIPSE, cv::MORPH_RECT, cv::MORPH_CROSS}) {
      for (const cv::Size& k : {cv::Size(17, 17), cv::Size(3, 3), cv::Size(1, 5), cv::Size(7, 3), cv::Size(1, 1)}) {
        SCOPED_TRACE(testing::Message() << s << " shape " << shape << " element " << k);
        const cv::Mat element = cv::getStructuringElement(shape, k);
        cv::Mat grey(s, CV_8UC1);
        cv::RNG rng(static_cast<std::uint64_t>(seed++));
        rng.fill(grey, cv::RNG::UNIFORM, 0, 256);
        for (const cv::Mat& src : {grey, random_mask(s.width, s.height, 0.01, seed++)}) {
          cv::Mat want, got;
          cv::dilate(src, want, element);
          ASSERT_TRUE(detail::dilate_by_runs(src, got, element, scratch));
          expect_same(got, want);
          cv::Mat in_place = src.clone();
          ASSERT_TRUE(detail::dilate_by_runs(in_place, in_place, element, scratch));
          expect_same(in_place, want);
        }
      }
    }
  }
}

TEST(DilateByRuns, DeclinesOtherElements) {
  const cv::Mat src(8, 8, CV_8UC1, cv::Scalar(3));
  std::vector<std::uint8_t> scratch;
  cv::Mat dst;
  cv::Mat ring = cv::getStructuringElement(cv::MORPH_ELLIPSE, {7, 7});
  ring.at<std::uint8_t>(3, 3) = 0;  // the middle row is two runs
  EXPECT_FALSE(detail::dilate_by_runs(src, dst, ring, scratch));
  cv::Mat off_centre = cv::Mat::zeros(3, 3, CV_8UC1);
  off_centre.at<std::uint8_t>(1, 2) = 1;
  EXPECT_FALSE(detail::dilate_by_runs(src, dst, off_centre, scratch));
  EXPECT_FALSE(detail::dilate_by_runs(src, dst, cv::Mat::ones(4, 4, CV_8UC1), scratch)) << "even sides";
  EXPECT_FALSE(detail::dilate_by_runs(src, dst, cv::Mat::zeros(3, 3, CV_8UC1), scratch)) << "no point";
  EXPECT_TRUE(dst.empty());
}

}  // namespace
}  // namespace matthan
