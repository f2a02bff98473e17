// The KNN background model, OpenCV's decisions for fewer instructions; see the header.
#include "knn_background.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace matthan::detail {
namespace {

constexpr int kLists = 3;  // short, mid and long term

std::uint8_t advance(std::uint8_t i, int samples) {
  return static_cast<std::uint8_t>(i >= samples - 1 ? 0 : i + 1);
}

#if defined(__SSE2__)
// Per byte lane, 0xFF where the squared distance of the CN channels between the samples s[c] and the pixels p[c]
// (16 pixels each) is below threshold_minus_1 + 1 <= 65535. Squares are at most 255^2 and the sums saturate at
// 65535, at or above the threshold, so the comparison is exact.
template <int CN>
__m128i near16(const std::uint8_t* const* s, std::size_t s_at, const std::uint8_t* const* p, std::size_t p_at,
               __m128i threshold_minus_1) {
  const __m128i zero = _mm_setzero_si128();
  __m128i lo = zero, hi = zero;
  for (int c = 0; c < CN; ++c) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[c] + s_at));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[c] + p_at));
    const __m128i d = _mm_or_si128(_mm_subs_epu8(a, b), _mm_subs_epu8(b, a));  // |a - b|
    const __m128i dlo = _mm_unpacklo_epi8(d, zero), dhi = _mm_unpackhi_epi8(d, zero);
    lo = _mm_adds_epu16(lo, _mm_mullo_epi16(dlo, dlo));
    hi = _mm_adds_epu16(hi, _mm_mullo_epi16(dhi, dhi));
  }
  // d2 < threshold  <=>  d2 saturating-minus (threshold - 1) == 0
  lo = _mm_cmpeq_epi16(_mm_subs_epu16(lo, threshold_minus_1), zero);
  hi = _mm_cmpeq_epi16(_mm_subs_epu16(hi, threshold_minus_1), zero);
  return _mm_packs_epi16(lo, hi);
}

// Bit x set where byte x of the 16 at `a` equals v (none when v is no byte value).
unsigned equal16(const std::uint8_t* a, int v) {
  if (v < 0 || v > 255) return 0;
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(static_cast<char>(v)))));
}
#endif

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
  // 16 bytes more: classify reads the last pixel's samples 16 bytes at a time.
  model_ = cv::Mat::zeros(1, kLists * kSamples * ndata * pixels + 16, CV_8U);
  newest_ = cv::Mat::zeros(1, 2 * ndata * pixels, CV_8U);
  // 1 x pixels, as OpenCV keeps them: cv::randu then draws the same numbers in the same order.
  for (cv::Mat* m : {&index_short_, &index_mid_, &index_long_, &next_short_, &next_mid_, &next_long_})
    *m = cv::Mat::zeros(1, pixels, CV_8U);
}

template <int CN>
std::uint8_t KnnBackground::classify(const std::uint8_t* m, std::uint8_t newest, const std::uint8_t* px, int threshold,
                                     std::uint8_t& include) const {
  constexpr int ndata = CN + 1;
  constexpr int samples = kLists * kSamples;
  // Background when kNeighbours of its background samples are near; counting all near samples decides whether a
  // pixel that is not background still goes into the model. Only these counts matter, not the order the samples
  // are visited in.
  static_assert(kNeighbours == 2);
  bool background = false;
  int near = 0;
#if defined(__SSE2__)
  if constexpr (CN == 3) {
    // All 21 samples (4 bytes each: the channels and the flag), four at a time, as bit sets; the last load reads
    // into the next pixel's samples (the model is padded after the last pixel), which are masked off.
    (void)newest;
    const __m128i pixel = _mm_set1_epi32(static_cast<int>(px[0] | px[1] << 8 | px[2] << 16));
    const __m128i channels = _mm_set1_epi32(0x00FFFFFF), zero = _mm_setzero_si128();
    const __m128i limit = _mm_set1_epi32(threshold);
    unsigned near_bits = 0, flag_bits = 0;
    for (int v = 0; v < 6; ++v) {
      const __m128i all = _mm_loadu_si128(reinterpret_cast<const __m128i*>(m + 16 * v));
      const __m128i s = _mm_and_si128(all, channels);
      const __m128i d = _mm_or_si128(_mm_subs_epu8(s, pixel), _mm_subs_epu8(pixel, s));
      const __m128i lo = _mm_unpacklo_epi8(d, zero), hi = _mm_unpackhi_epi8(d, zero);
      // Per sample (b^2 + g^2, r^2): the even and odd 32-bit lanes of the two halves, added.
      const __m128 sq_lo = _mm_castsi128_ps(_mm_madd_epi16(lo, lo)), sq_hi = _mm_castsi128_ps(_mm_madd_epi16(hi, hi));
      const __m128i d2 = _mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(sq_lo, sq_hi, _MM_SHUFFLE(2, 0, 2, 0))),
                                       _mm_castps_si128(_mm_shuffle_ps(sq_lo, sq_hi, _MM_SHUFFLE(3, 1, 3, 1))));
      near_bits |= static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(limit, d2)))) << (4 * v);
      const __m128i unflagged = _mm_cmpeq_epi32(_mm_andnot_si128(channels, all), zero);
      flag_bits |= static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(unflagged)) ^ 0xF) << (4 * v);
    }
    near_bits &= (1u << samples) - 1;
    const unsigned near_background = near_bits & flag_bits;
    background = (near_background & (near_background - 1)) != 0;  // two or more
    near = (near_bits & (near_bits - 1)) != 0 ? kNeighbours : 0;    // two or more is all that counts
  } else
#endif
  {
    // One sample at a time, the short list first and newest first: on a still background the newest samples are
    // the likeliest to be near.
    int near_background = 0;
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
    for (int n = newest; n >= 0 && !background; --n) background = visit(n);
    for (int n = kSamples - 1; n > newest && !background; --n) background = visit(n);
    for (int n = kSamples; n < samples && !background; ++n) background = visit(n);
  }
  include = background || near >= kNeighbours ? 1 : 0;
  if (background) return 0;
  if (!detect_shadows_) return 255;
  // A darker copy of enough background samples: the gain a in [tau, 1], and little colour distortion. Float
  // arithmetic in OpenCV's order (its order of samples too: a black sample ends the search), so the same pixels
  // are shadows.
  const float tb = dist2_threshold_;
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
    if (dist2a < tb * a * a && ++shadows >= kNeighbours) return kShadowValue;
  }
  return 255;
}

template <int CN>
void KnnBackground::apply_rows(const cv::Mat& image, cv::Mat& fgmask) {
  constexpr int ndata = CN + 1;
  constexpr int step = kLists * kSamples * ndata;
  // The squared distances are integers, and OpenCV's float sums of them are exact, so `d2 < threshold` in float
  // is `d2 < ceil(threshold)` in integers.
  const int threshold = static_cast<int>(std::ceil(dist2_threshold_));
  const int w = image.cols;
  const std::size_t pixels = static_cast<std::size_t>(size_.area());
  std::uint8_t* model = model_.ptr<std::uint8_t>();
  std::uint8_t* idx_short = index_short_.ptr<std::uint8_t>();
  std::uint8_t* idx_mid = index_mid_.ptr<std::uint8_t>();
  std::uint8_t* idx_long = index_long_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_short = next_short_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_mid = next_mid_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_long = next_long_.ptr<std::uint8_t>();
  const int short_now = short_counter_, mid_now = mid_counter_, long_now = long_counter_;
  // The two newest short-term samples of every pixel, channel by channel (plane a * ndata + c, flag at c = CN):
  // copies of the model's, kept as its short list takes samples, so that 16 pixels are tested at once.
  std::uint8_t* fresh[2][ndata];
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < ndata; ++c) fresh[a][c] = newest_.ptr<std::uint8_t>() + (a * ndata + c) * pixels;
  include_row_.resize(static_cast<std::size_t>(w));
  std::uint8_t* include = include_row_.data();
  if constexpr (CN > 1) cv::split(image, planar_);  // the vector test reads each channel 16 pixels at a time
#if defined(__SSE2__)
  // The vector test needs the threshold in 16 bits (the default is 200; at most 3 * 255^2 is meaningful).
  const bool vector = threshold <= 65535;
  const __m128i threshold_minus_1 = _mm_set1_epi16(static_cast<short>(static_cast<unsigned short>(threshold - 1)));
#endif

  // Most pixels of a scene are background whose two newest samples are near and background (kNeighbours is 2):
  // decided from those alone. Otherwise the counts start afresh over every sample (classify).
  static_assert(kNeighbours == 2);
  const auto fresh_background = [&](std::size_t i, const std::uint8_t* px) {
    for (int a = 0; a < 2; ++a) {
      if (fresh[a][CN][i] == 0) return false;
      int d2 = 0;
      for (int c = 0; c < CN; ++c) {
        const int d = static_cast<int>(fresh[a][c][i]) - static_cast<int>(px[c]);
        d2 += d * d;
      }
      if (d2 >= threshold) return false;
    }
    return true;
  };
  const auto newest_of = [&](std::size_t i) {
    return static_cast<std::uint8_t>(idx_short[i] == 0 ? kSamples - 1 : idx_short[i] - 1);
  };

  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* px = image.ptr<std::uint8_t>(y);
    std::uint8_t* mask = fgmask.ptr<std::uint8_t>(y);
    const std::size_t row = static_cast<std::size_t>(y) * w;
    const std::uint8_t* channel[CN];
    for (int c = 0; c < CN; ++c) channel[c] = CN == 1 ? px : planar_[c].ptr<std::uint8_t>(y);

    // Pass 1: every pixel's decision, from the model as it was before this frame.
    const auto decide = [&](int col) {
      const std::size_t i = row + col;
      mask[col] = classify<CN>(model + i * step, newest_of(i), px + col * CN, threshold, include[col]);
    };
    int x = 0;
#if defined(__SSE2__)
    if (vector) {
      const __m128i all = _mm_set1_epi8(static_cast<char>(0xFF)), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
      for (; x + 16 <= w; x += 16) {
        const std::size_t at = row + x;
        __m128i ok = _mm_and_si128(near16<CN>(fresh[0], at, channel, x, threshold_minus_1),
                                   near16<CN>(fresh[1], at, channel, x, threshold_minus_1));
        ok = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(fresh[0][CN] + at)), zero), ok);
        ok = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(fresh[1][CN] + at)), zero), ok);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(mask + x), _mm_andnot_si128(ok, all));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(include + x), _mm_and_si128(ok, one));
        for (unsigned rest = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xFFFFu; rest != 0; rest &= rest - 1)
          decide(x + __builtin_ctz(rest));
      }
    }
#endif
    for (; x < w; ++x) {
      if (fresh_background(row + x, px + x * CN)) {
        mask[x] = 0;
        include[x] = 1;
      } else {
        decide(x);
      }
    }

    // Pass 2: the lists take their samples at each pixel's own moment: long from mid, mid from short, short from
    // now. Only the pixels whose moment it is, found 16 at a time.
    const auto update = [&](int col) {
      const std::size_t i = row + col;
      std::uint8_t* m = model + i * step;
      std::uint8_t* s_long = m + ndata * (idx_long[i] + 2 * kSamples);
      std::uint8_t* s_mid = m + ndata * (idx_mid[i] + kSamples);
      std::uint8_t* s_short = m + ndata * idx_short[i];
      if (nxt_long[i] == long_now) {
        std::memcpy(s_long, s_mid, ndata);
        idx_long[i] = advance(idx_long[i], kSamples);
      }
      if (nxt_mid[i] == mid_now) {
        std::memcpy(s_mid, s_short, ndata);
        idx_mid[i] = advance(idx_mid[i], kSamples);
      }
      if (nxt_short[i] == short_now) {
        const std::uint8_t* p = px + col * CN;
        for (int c = 0; c < CN; ++c) {
          s_short[c] = p[c];
          fresh[1][c][i] = fresh[0][c][i];
          fresh[0][c][i] = p[c];
        }
        s_short[CN] = include[col];
        fresh[1][CN][i] = fresh[0][CN][i];
        fresh[0][CN][i] = include[col];
        idx_short[i] = advance(idx_short[i], kSamples);
      }
    };
    x = 0;
#if defined(__SSE2__)
    for (; x + 16 <= w; x += 16) {
      const std::size_t at = row + x;
      for (unsigned due = equal16(nxt_long + at, long_now) | equal16(nxt_mid + at, mid_now) | equal16(nxt_short + at, short_now);
           due != 0; due &= due - 1)
        update(x + __builtin_ctz(due));
    }
#endif
    for (; x < w; ++x) {
      const std::size_t i = row + x;
      if (nxt_long[i] == long_now || nxt_mid[i] == mid_now || nxt_short[i] == short_now) update(x);
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
