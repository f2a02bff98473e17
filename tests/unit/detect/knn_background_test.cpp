// detail::KnnBackground decides every pixel as cv::BackgroundSubtractorKNN does: the same masks, background images
// and random draws, frame after frame, side by side on synthetic scenes.
#include "knn_background.hpp"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/background_segm.hpp>

namespace matthan {
namespace {

// A textured colour background with a black patch (OpenCV's shadow test gives up on black samples), sensor
// noise, a bright block and a darker copy of the background (a shadow) crossing it, and from `light_from` on the
// whole picture brighter.
cv::Mat scene_frame(cv::Size size, int i, int light_from, cv::RNG& rng) {
  cv::Mat bg(size, CV_8UC3);
  cv::RNG texture(5);
  texture.fill(bg, cv::RNG::UNIFORM, 40, 200);
  cv::GaussianBlur(bg, bg, {5, 5}, 0);
  bg(cv::Rect(2, 2, size.width / 6, size.height / 6)).setTo(cv::Scalar::all(0));
  cv::Mat img = bg.clone();
  const int x = (i * 3) % size.width;
  const cv::Rect shadow =
      cv::Rect(size.width - 1 - x - size.width / 5, size.height / 2, size.width / 5, size.height / 4) &
      cv::Rect({0, 0}, size);
  cv::Mat darker = img(shadow);
  darker.convertTo(darker, -1, 0.7);
  cv::rectangle(img, cv::Rect(x, size.height / 5, size.width / 6, size.height / 4), cv::Scalar(220, 60, 30),
                cv::FILLED);
  cv::Mat noise(size, CV_8UC3);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 6);
  cv::add(img, noise, img);
  if (i >= light_from) cv::add(img, cv::Scalar::all(40), img);
  return img;
}

// Runs both models over the frames with the given learning rates (as MotionDetector passes them), from the same
// random-generator state each frame, and expects the same output throughout.
void expect_same_as_opencv(const std::vector<cv::Mat>& frames, const std::vector<double>& rates, bool shadows,
                           double dist2_threshold = 200.0) {
  cv::Ptr<cv::BackgroundSubtractorKNN> theirs = cv::createBackgroundSubtractorKNN(500, dist2_threshold, shadows);
  detail::KnnBackground ours(500, dist2_threshold, shadows);
  cv::Mat their_mask, our_mask, their_bg, our_bg;
  std::size_t foreground = 0, shadow = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "frame " << i << " rate " << rates[i]);
    const std::uint64_t before = cv::theRNG().state;
    theirs->apply(frames[i], their_mask, rates[i]);
    const std::uint64_t after = cv::theRNG().state;
    cv::theRNG().state = before;
    ours.apply(frames[i], our_mask, rates[i]);
    ASSERT_EQ(cv::theRNG().state, after);  // the same draws
    ASSERT_EQ(cv::norm(our_mask, their_mask, cv::NORM_INF), 0.0);
    theirs->getBackgroundImage(their_bg);
    ours.background_image(our_bg);
    ASSERT_EQ(our_bg.type(), their_bg.type());
    ASSERT_EQ(cv::norm(our_bg, their_bg, cv::NORM_INF), 0.0);
    foreground += static_cast<std::size_t>(cv::countNonZero(their_mask == 255));
    shadow += static_cast<std::size_t>(cv::countNonZero(their_mask == 127));
  }
  // The scene exercised every decision.
  EXPECT_GT(foreground, 0u);
  // A shadow is a darker copy at least dist2_threshold away; at most a quarter of 3 * 255^2 away with a gain of 0.5
  // or more, so none at larger thresholds.
  if (shadows && dist2_threshold < 3 * 255 * 255 / 4) {
    EXPECT_GT(shadow, 0u);
  }
}

TEST(KnnBackground, MatchesOpenCvInColour) {
  const cv::Size size(64, 48);
  cv::RNG rng(3);
  std::vector<cv::Mat> frames;
  std::vector<double> rates;
  for (int i = 0; i < 160; ++i) {
    frames.push_back(scene_frame(size, i, 120, rng));
    // Automatic at first, then MotionDetector's explicit 1 / min(2 n, history) with skipped frames counted.
    rates.push_back(i < 30 ? -1.0 : 1.0 / std::min(2 * (i + 1 + i / 4), 500));
  }
  expect_same_as_opencv(frames, rates, true);
  expect_same_as_opencv(frames, rates, false);
}

TEST(KnnBackground, MatchesOpenCvOnLumaAndAfterRestarts) {
  cv::RNG rng(9);
  std::vector<cv::Mat> frames;
  std::vector<double> rates;
  for (int i = 0; i < 90; ++i) {
    cv::Mat grey;
    // A size change at 40 restarts both models, a learning rate of 1 at 70.
    cv::cvtColor(scene_frame(i < 40 ? cv::Size(48, 36) : cv::Size(40, 30), i, 1000, rng), grey, cv::COLOR_BGR2GRAY);
    frames.push_back(grey);
    rates.push_back(i == 70 ? 1.0 : -1.0);
  }
  expect_same_as_opencv(frames, rates, true);
}

// Uncorrelated colour noise as the background (neighbouring pixels decide differently), a little noise per frame
// and now and then a lot, an inverted block (as far from the background as a pixel gets) and a darker band
// moving across.
cv::Mat noise_frame(cv::Size size, int i, cv::RNG& rng) {
  cv::Mat bg(size, CV_8UC3);
  cv::RNG texture(11);
  texture.fill(bg, cv::RNG::UNIFORM, 0, 256);
  cv::Mat img = bg.clone();
  cv::Mat noise(size, CV_8UC3);
  rng.fill(noise, cv::RNG::UNIFORM, 0, i % 7 == 3 ? 40 : 8);
  cv::add(img, noise, img);
  const cv::Rect whole({0, 0}, size);
  const int x = (i * 2) % size.width;
  const cv::Rect block = cv::Rect(x, 0, std::max(1, size.width / 4), std::max(1, size.height / 2)) & whole;
  cv::Mat inverted = img(block);
  cv::bitwise_not(inverted, inverted);
  const cv::Rect band = cv::Rect(0, size.height / 2, size.width, std::max(1, size.height / 3)) &
                        cv::Rect(size.width - 1 - x, 0, std::max(1, size.width / 3), size.height) & whole;
  if (!band.empty()) {
    cv::Mat darker = img(band);
    darker.convertTo(darker, -1, 0.75);
  }
  return img;
}

// The model tests 16 pixels at once where a row has them and one at a time at the row's end, and one at a time
// everywhere when the threshold does not fit the vector test's 16 bits: every width and both thresholds decide as
// OpenCV does.
TEST(KnnBackground, MatchesOpenCvAtWidthsThatAreNoMultipleOfTheVector) {
  for (const int width : {1, 5, 15, 16, 17, 31, 33, 47}) {
    for (const double threshold : {200.0, 70000.0}) {
      SCOPED_TRACE(testing::Message() << "width " << width << " threshold " << threshold);
      cv::RNG rng(static_cast<std::uint64_t>(width));
      std::vector<cv::Mat> frames;
      std::vector<cv::Mat> greys;
      std::vector<double> rates;
      for (int i = 0; i < 60; ++i) {
        frames.push_back(noise_frame({width, 9}, i, rng));
        cv::Mat grey;
        cv::cvtColor(frames.back(), grey, cv::COLOR_BGR2GRAY);
        greys.push_back(grey);
        rates.push_back(i < 20 ? -1.0 : 1.0 / std::min(2 * (i + 1), 500));
      }
      expect_same_as_opencv(frames, rates, true, threshold);
      expect_same_as_opencv(frames, rates, false, threshold);
      // Luma: at most 255^2 apart, so no foreground at the larger threshold.
      if (threshold < 65025) expect_same_as_opencv(greys, rates, true, threshold);
    }
  }
}

// A view into a larger picture (rows not contiguous) decides as the same picture copied.
TEST(KnnBackground, ViewsDecideAsContiguousCopies) {
  cv::RNG rng(4);
  detail::KnnBackground on_views(500, 200.0, true), on_copies(500, 200.0, true);
  cv::Mat view_mask, copy_mask;
  for (int i = 0; i < 40; ++i) {
    const cv::Mat big = noise_frame({53, 20}, i, rng);
    const cv::Mat view = big(cv::Rect(3, 2, 37, 15));
    ASSERT_FALSE(view.isContinuous());
    const std::uint64_t state = cv::theRNG().state;  // the same random update moments for both
    on_views.apply(view, view_mask);
    cv::theRNG().state = state;
    on_copies.apply(view.clone(), copy_mask);
    ASSERT_EQ(cv::norm(view_mask, copy_mask, cv::NORM_INF), 0.0) << "frame " << i;
  }
}

}  // namespace
}  // namespace matthan
