// The KNN background model, OpenCV's decisions for fewer instructions; see the header.
#include "knn_background.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace matthan::detail {
namespace {

constexpr int kLists = 3;  // short, mid and long term

}  // namespace

KnnBackground::KnnBackground(int history, double dist2_threshold, bool detect_shadows)
    : history_(history > 0 ? history : 500),
      dist2_threshold_(dist2_threshold > 0 ? static_cast<float>(dist2_threshold) : 400.f),
      detect_shadows_(detect_shadows) {}

void KnnBackground::initialize(cv::Size size, int type) {
  size_ = size;
  type_ = type;
  frames_ = 0;
  short_counter_ = mid_counter_ = long_counter_ = 0;
  const int pixels = size.area();
  const int ndata = CV_MAT_CN(type) + 1;
  model_ = cv::Mat::zeros(1, kLists * kSamples * ndata * pixels, CV_8U);
  // 1 x pixels, as OpenCV keeps them: cv::randu then draws the same numbers in the same order.
  for (cv::Mat* m : {&index_short_, &index_mid_, &index_long_, &next_short_, &next_mid_, &next_long_})
    *m = cv::Mat::zeros(1, pixels, CV_8U);
}

template <int CN>
void KnnBackground::apply_rows(const cv::Mat& image, cv::Mat& fgmask) {
  constexpr int ndata = CN + 1;
  constexpr int samples = kLists * kSamples;
  constexpr int step = samples * ndata;
  // The squared distances are integers, and OpenCV's float sums of them are exact, so `d2 < threshold` in float
  // is `d2 < ceil(threshold)` in integers.
  const int threshold = static_cast<int>(std::ceil(dist2_threshold_));
  const float tb = dist2_threshold_;
  const int w = image.cols;
  std::uint8_t* model = model_.ptr<std::uint8_t>();
  std::uint8_t* idx_short = index_short_.ptr<std::uint8_t>();
  std::uint8_t* idx_mid = index_mid_.ptr<std::uint8_t>();
  std::uint8_t* idx_long = index_long_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_short = next_short_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_mid = next_mid_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_long = next_long_.ptr<std::uint8_t>();
  const auto advance = [](std::uint8_t i) { return static_cast<std::uint8_t>(i >= kSamples - 1 ? 0 : i + 1); };

  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* px = image.ptr<std::uint8_t>(y);
    std::uint8_t* mask = fgmask.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x, px += CN) {
      const int i = y * w + x;
      std::uint8_t* m = model + static_cast<std::size_t>(i) * step;

      // Background when kNeighbours of its background samples are near; counting all near samples decides
      // whether a pixel that is not background still goes into the model. Only these counts matter, not the
      // order the samples are visited in, so the short list goes first and newest first: on a still background
      // the newest samples are the likeliest to be near, and the search mostly stops after two or three.
      int result = 0;  // 0 foreground, 1 background, 2 shadow
      std::uint8_t include = 0;
      int near = 0, near_background = 0;
      const auto visit = [&](int n) {
        const std::uint8_t* s = m + n * ndata;
        int d2 = 0;
        for (int c = 0; c < CN; ++c) {
          const int d = static_cast<int>(s[c]) - static_cast<int>(px[c]);
          d2 += d * d;
        }
        if (d2 >= threshold) return false;
        ++near;
        return s[CN] != 0 && ++near_background >= kNeighbours;
      };
      const int newest = idx_short[i] == 0 ? kSamples - 1 : idx_short[i] - 1;
      // Most pixels of a scene are background whose two newest samples are near (kNeighbours is 2): decided
      // without the loops. Otherwise the counts start afresh over every sample.
      static_assert(kNeighbours == 2);
      visit(newest);  // never decides alone: one near background sample is not enough
      bool background = visit(newest == 0 ? kSamples - 1 : newest - 1);
      if (!background) {
        near = near_background = 0;
        for (int n = newest; n >= 0 && !background; --n) background = visit(n);
        for (int n = kSamples - 1; n > newest && !background; --n) background = visit(n);
        for (int n = kSamples; n < samples && !background; ++n) background = visit(n);
      }
      if (background) result = 1;
      if (result == 1 || near >= kNeighbours) include = 1;
      if (result == 0 && detect_shadows_) {
        // A darker copy of enough background samples: the gain a in [tau, 1], and little colour distortion.
        // Float arithmetic in OpenCV's order, so the same pixels are shadows.
        int shadows = 0;
        for (int n = 0; n < samples; ++n) {
          const std::uint8_t* s = m + n * ndata;
          if (s[CN] == 0) continue;
          float numerator = 0.f, denominator = 0.f;
          for (int c = 0; c < CN; ++c) {
            numerator += static_cast<float>(px[c]) * static_cast<float>(s[c]);
            denominator += static_cast<float>(s[c]) * static_cast<float>(s[c]);
          }
          if (denominator == 0.f) break;  // a black background sample: OpenCV gives up (foreground)
          if (numerator > denominator || numerator < kShadowTau * denominator) continue;
          const float a = numerator / denominator;
          float dist2a = 0.f;
          for (int c = 0; c < CN; ++c) {
            const float d = a * static_cast<float>(s[c]) - static_cast<float>(px[c]);
            dist2a += d * d;
          }
          if (dist2a < tb * a * a && ++shadows >= kNeighbours) {
            result = 2;
            break;
          }
        }
      }

      // The lists take their samples at each pixel's own moment: long from mid, mid from short, short from now.
      std::uint8_t* s_long = m + ndata * (idx_long[i] + 2 * kSamples);
      std::uint8_t* s_mid = m + ndata * (idx_mid[i] + kSamples);
      std::uint8_t* s_short = m + ndata * idx_short[i];
      if (nxt_long[i] == long_counter_) {
        std::memcpy(s_long, s_mid, ndata);
        idx_long[i] = advance(idx_long[i]);
      }
      if (nxt_mid[i] == mid_counter_) {
        std::memcpy(s_mid, s_short, ndata);
        idx_mid[i] = advance(idx_mid[i]);
      }
      if (nxt_short[i] == short_counter_) {
        std::memcpy(s_short, px, CN);
        s_short[CN] = include;
        idx_short[i] = advance(idx_short[i]);
      }
      mask[x] = result == 1 ? 0 : result == 2 ? kShadowValue : 255;
    }
  }
}

void KnnBackground::apply(const cv::Mat& image, cv::Mat& fgmask, double learning_rate) {
  CV_Assert(image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3));
  if (frames_ == 0 || learning_rate >= 1 || image.size() != size_ || image.type() != type_)
    initialize(image.size(), image.type());
  fgmask.create(image.size(), CV_8U);
  ++frames_;
  if (learning_rate < 0 || frames_ <= 1) learning_rate = 1. / std::min(2 * frames_, history_);
  // How many frames each list spans (an approximately exponential forgetting), and so how often each list takes a
  // sample, in OpenCV's arithmetic.
  const int k_short = static_cast<int>(std::log(0.7) / std::log(1 - learning_rate)) + 1;
  const int k_mid = static_cast<int>(std::log(0.4) / std::log(1 - learning_rate)) - k_short + 1;
  const int k_long = static_cast<int>(std::log(0.1) / std::log(1 - learning_rate)) - k_short - k_mid + 1;
  const int short_every = k_short / kSamples + 1;
  const int mid_every = k_mid / kSamples + 1;
  const int long_every = k_long / kSamples + 1;

  if (image.channels() == 3) apply_rows<3>(image, fgmask);
  else apply_rows<1>(image, fgmask);

  if (++short_counter_ >= short_every) {
    short_counter_ = 0;
    cv::randu(next_short_, cv::Scalar::all(0), cv::Scalar::all(short_every));
  }
  if (++mid_counter_ >= mid_every) {
    mid_counter_ = 0;
    cv::randu(next_mid_, cv::Scalar::all(0), cv::Scalar::all(mid_every));
  }
  if (++long_counter_ >= long_every) {
    long_counter_ = 0;
    cv::randu(next_long_, cv::Scalar::all(0), cv::Scalar::all(long_every));
  }
}

void KnnBackground::background_image(cv::Mat& out) const {
  const int cn = CV_MAT_CN(type_);
  const int ndata = cn + 1;
  const int step = kLists * kSamples * ndata;
  out.create(size_, type_);
  const std::uint8_t* m = model_.ptr<std::uint8_t>();
  for (int y = 0; y < size_.height; ++y) {
    std::uint8_t* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < size_.width; ++x, m += step, o += cn) {
      std::fill(o, o + cn, std::uint8_t{0});
      for (int n = 0; n < kLists * kSamples; ++n) {
        const std::uint8_t* s = m + n * ndata;
        if (s[cn] == 0) continue;
        std::copy(s, s + cn, o);
        break;
      }
    }
  }
}

}  // namespace matthan::detail
