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
// Per byte lane, 0xFF where the squared distance of the CN channels between 16 samples (channel c at
// samples + 16 c) and 16 pixels (channel c at p[c] + at) is below threshold_minus_1 + 1 <= 65535. Squares are at most
// 255^2 and the sums saturate at 65535, at or above the threshold, so the comparison is exact.
template <int CN>
__m128i near16(const std::uint8_t* samples, const std::uint8_t* const* p, int at, __m128i threshold_minus_1) {
  const __m128i zero = _mm_setzero_si128();
  __m128i lo = zero, hi = zero;
  for (int c = 0; c < CN; ++c) {
    const __m128i a = _mm_load_si128(reinterpret_cast<const __m128i*>(samples + 16 * c));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[c] + at));
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
  // In blocks of 16 pixels of a row (the last one padded): the newest samples' channels and flags, 16 bytes each,
  // then the second newest's.
  newest_ = cv::Mat::zeros(1, size.height * ((size.width + 15) / 16) * 16 * 2 * ndata, CV_8U);
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
    near = (near_bits & (near_bits - 1)) != 0 ? kNeighbours : 0;  // two or more is all that counts
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
  // A darker copy of enough background samples: the gain a in [tau, 1], and little colour distortion, in OpenCV's
  // order of samples (a black one ends the search). The numerator and the denominator of the gain are sums of
  // products of bytes, at most 3 * 255^2: OpenCV's float sums of them are exact, so they are summed and compared in
  // integers (tau is 1/2), and the distortion is computed in float in OpenCV's order for the samples that get
  // that far, so the same pixels are shadows.
  static_assert(kShadowTau == 0.5f);
  const float tb = dist2_threshold_;
  int shadows = 0;
  for (int n = 0; n < samples; ++n) {
    const std::uint8_t* s = m + n * ndata;
    if (s[CN] == 0) continue;
    int numerator = 0, denominator = 0;
    for (int c = 0; c < CN; ++c) {
      numerator += px[c] * s[c];
      denominator += s[c] * s[c];
    }
    if (denominator == 0) break;  // a black background sample: OpenCV gives up (foreground)
    if (numerator > denominator || 2 * numerator < denominator) continue;
    const float a = static_cast<float>(numerator) / static_cast<float>(denominator);
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
  std::uint8_t* model = model_.ptr<std::uint8_t>();
  std::uint8_t* idx_short = index_short_.ptr<std::uint8_t>();
  std::uint8_t* idx_mid = index_mid_.ptr<std::uint8_t>();
  std::uint8_t* idx_long = index_long_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_short = next_short_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_mid = next_mid_.ptr<std::uint8_t>();
  const std::uint8_t* nxt_long = next_long_.ptr<std::uint8_t>();
  const int short_now = short_counter_, mid_now = mid_counter_, long_now = long_counter_;
  // Copies of each pixel's two newest short-term samples, kept as its short list takes samples, so that 16 pixels
  // are tested at once: per block of 16 pixels of a row, plane (age * ndata + c) of 16 bytes, the flag at c = CN.
  constexpr int kBlock = 16 * 2 * ndata;
  std::uint8_t* fresh = newest_.ptr<std::uint8_t>();
  const int blocks = (w + 15) / 16;
  include_row_.resize(static_cast<std::size_t>(blocks) * 16);
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
  const auto fresh_background = [&](const std::uint8_t* f, const std::uint8_t* px) {  // f: the pixel's lane
    for (int a = 0; a < 2; ++a) {
      if (f[16 * (a * ndata + CN)] == 0) return false;
      int d2 = 0;
      for (int c = 0; c < CN; ++c) {
        const int d = static_cast<int>(f[16 * (a * ndata + c)]) - static_cast<int>(px[c]);
        d2 += d * d;
      }
      if (d2 >= threshold) return false;
    }
    return true;
  };

  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* px = image.ptr<std::uint8_t>(y);
    std::uint8_t* mask = fgmask.ptr<std::uint8_t>(y);
    const std::size_t row = static_cast<std::size_t>(y) * w;
    std::uint8_t* fresh_row = fresh + static_cast<std::size_t>(y) * blocks * kBlock;
    const std::uint8_t* channel[CN];
    for (int c = 0; c < CN; ++c) channel[c] = CN == 1 ? px : planar_[c].ptr<std::uint8_t>(y);

    // Pass 1: every pixel's decision, from the model as it was before this frame.
    const auto decide = [&](int col) {
      const std::size_t i = row + col;
      const auto newest = static_cast<std::uint8_t>(idx_short[i] == 0 ? kSamples - 1 : idx_short[i] - 1);
      mask[col] = classify<CN>(model + i * step, newest, px + col * CN, threshold, include[col]);
    };
    int x = 0;
#if defined(__SSE2__)
    if (vector) {
      const __m128i all = _mm_set1_epi8(static_cast<char>(0xFF)), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
      for (; x + 16 <= w; x += 16) {
        const std::uint8_t* f = fresh_row + (x / 16) * kBlock;
        __m128i ok = _mm_and_si128(near16<CN>(f, channel, x, threshold_minus_1),
                                   near16<CN>(f + 16 * ndata, channel, x, threshold_minus_1));
        ok = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(f + 16 * CN)), zero), ok);
        ok = _mm_andnot_si128(
            _mm_cmpeq_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(f + 16 * (ndata + CN))), zero), ok);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(mask + x), _mm_andnot_si128(ok, all));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(include + x), _mm_and_si128(ok, one));
        for (unsigned rest = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xFFFFu; rest != 0; rest &= rest - 1)
          decide(x + __builtin_ctz(rest));
      }
    }
#endif
    for (; x < w; ++x) {
      if (fresh_background(fresh_row + (x / 16) * kBlock + x % 16, px + x * CN)) {
        mask[x] = 0;
        include[x] = 1;
      } else {
        decide(x);
      }
    }

    // Pass 2: the lists take their samples at each pixel's own moment: long from mid, mid from short, short from
    // now (in that order for each pixel). Only the pixels whose moment it is, found 16 at a time, list by list.
    const auto each_due = [&](const std::uint8_t* next, int now, auto&& take) {
      int col = 0;
#if defined(__SSE2__)
      for (; col + 16 <= w; col += 16)
        for (unsigned due = equal16(next + row + col, now); due != 0; due &= due - 1) take(col + __builtin_ctz(due));
#endif
      for (; col < w; ++col)
        if (next[row + col] == now) take(col);
    };
    each_due(nxt_long, long_now, [&](int col) {
      const std::size_t i = row + col;
      std::uint8_t* m = model + i * step;
      std::memcpy(m + ndata * (idx_long[i] + 2 * kSamples), m + ndata * (idx_mid[i] + kSamples), ndata);
      idx_long[i] = advance(idx_long[i], kSamples);
    });
    each_due(nxt_mid, mid_now, [&](int col) {
      const std::size_t i = row + col;
      std::uint8_t* m = model + i * step;
      std::memcpy(m + ndata * (idx_mid[i] + kSamples), m + ndata * idx_short[i], ndata);
      idx_mid[i] = advance(idx_mid[i], kSamples);
    });
    each_due(nxt_short, short_now, [&](int col) {
      const std::size_t i = row + col;
      std::uint8_t sample[ndata];
      std::memcpy(sample, px + col * CN, CN);
      sample[CN] = include[col];
      std::memcpy(model + i * step + ndata * idx_short[i], sample, ndata);
      idx_short[i] = advance(idx_short[i], kSamples);
      std::uint8_t* f = fresh_row + (col / 16) * kBlock + col % 16;
      for (int c = 0; c < ndata; ++c) {
        f[16 * (ndata + c)] = f[16 * c];
        f[16 * c] = sample[c];
      }
    });
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

  if (image.channels() == 3)
    apply_rows<3>(image, fgmask);
  else
    apply_rows<1>(image, fgmask);

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
