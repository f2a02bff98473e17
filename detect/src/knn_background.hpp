// The KNN background model of Zivkovic and van der Heijden (2006), as OpenCV 4.6's BackgroundSubtractorKNN
// computes it, bit for bit, for a third of its instructions.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace matthan::detail {

// Per pixel, three lists of nN samples (short, mid and long term; a sample is the pixel's channels and whether it
// was background when taken). A pixel is background when at least kNN of its background samples lie within
// dist2_threshold (squared distance over the channels); otherwise it is a shadow when kNN of its background
// samples are a darker copy of it (a gain between 0.5 and 1 with a small colour distortion), else foreground.
// Samples move from short to mid to long term at per-pixel random moments, drawn with cv::randu from OpenCV's
// thread-local generator exactly when and as OpenCV draws them. The masks (255, the shadow value 127, 0), the
// model and the background image equal cv::BackgroundSubtractorKNN's with the same parameters and defaults
// (nN 7, kNN 2, shadow threshold 0.5) for the same frames and learning rates: a unit test runs both side by side.
//
// Why our own: OpenCV's loop converts every sample's channels to float and copies samples through memcpy calls;
// it was 13.6 M instructions a frame at 320x180 in colour, two thirds of the motion analysis on a busy scene.
// Integer distances and fixed channel counts give the same decisions in 4.4 M (BM_MotionClip under callgrind,
// bench/journal/2026-12-07-motion-path-round-two.md): most pixels are background whose two newest samples are
// near, tested 16 pixels at a time in SSE2 (the x86-64 baseline)
// against copies of those samples kept in 16-pixel blocks; the rest count all their samples four at a time; only
// the pixels due a new sample are visited for the update. The model and the decisions do not depend on SSE2 (a
// scalar path does the same elsewhere). It runs on the calling thread (OpenCV's version spread each frame over its
// thread pool).
class KnnBackground {
 public:
  KnnBackground(int history, double dist2_threshold, bool detect_shadows);

  // image: CV_8UC1 or CV_8UC3. learning_rate < 0: automatic (1 / min(2 * frames seen, history)); >= 1, a new
  // size or type: the model starts afresh. fgmask becomes CV_8U of the image's size.
  void apply(const cv::Mat& image, cv::Mat& fgmask, double learning_rate = -1);
  // Per pixel, its first background sample (zero where there is none), in the image's type.
  void background_image(cv::Mat& out) const;

 private:
  void initialize(cv::Size size, int type);
  template <int CN>
  void apply_rows(const cv::Mat& image, cv::Mat& fgmask);
  // One pixel's decision over all its samples (m: its model; newest: its newest short-term slot; px: its channels):
  // the mask value, and in `include` whether the pixel goes into the model as a background sample.
  template <int CN>
  std::uint8_t classify(const std::uint8_t* m, std::uint8_t newest, const std::uint8_t* px, int threshold,
                        std::uint8_t& include) const;

  int history_;
  float dist2_threshold_;
  bool detect_shadows_;
  static constexpr int kSamples = 7;     // nN, per list
  static constexpr int kNeighbours = 2;  // kNN: OpenCV's max(1, round(0.1 * nN * 3 + 0.4))
  static constexpr float kShadowTau = 0.5f;
  static constexpr std::uint8_t kShadowValue = 127;

  cv::Size size_;
  int type_ = 0;
  int frames_ = 0;
  int short_counter_ = 0, mid_counter_ = 0, long_counter_ = 0;
  cv::Mat model_;                                 // per pixel 3 * kSamples samples of (channels..., flag)
  cv::Mat index_short_, index_mid_, index_long_;  // per pixel, the next slot of each list
  cv::Mat next_short_, next_mid_, next_long_;     // per pixel, the counter value at which its list takes a sample
  cv::Mat newest_;  // copies of each pixel's two newest short-term samples, planar per channel (apply_rows)
  std::vector<std::uint8_t> include_row_;  // apply_rows' scratch: one row's decisions
  cv::Mat planar_[3];                      // and the image's channels, one plane each
};

}  // namespace matthan::detail
