// Integer-factor area downscale; see the header.
#include "area_scale.hpp"

#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace matthan::detail {
namespace {

// sum / 16 rounded half to even, in integers: what cvRound(sum * 0.0625f) gives (0.0625 is exact).
std::uint8_t quarter_round(unsigned sum) {
  const unsigned q = sum >> 4, r = sum & 15u;
  return static_cast<std::uint8_t>(q + ((r > 8u) | ((r == 8u) & q)));
}

// k = 4, one output row from the four source rows s[0..3]: 16 outputs (64 source columns) at a time in SSE2, the
// rest one by one. Adding 7 and the quotient's low bit before the shift rounds half to even as quarter_round does.
void quarter_row(const std::uint8_t* const* s, std::uint8_t* d, int w) {
  int x = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1), seven = _mm_set1_epi32(7),
                low_bit = _mm_set1_epi32(1);
  for (; x + 16 <= w; x += 16) {
    __m128i quads[4];
    for (int part = 0; part < 4; ++part) {
      const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(x + part * 4) * 4;
      __m128i lo = zero, hi = zero;  // the four rows' sums of 16 columns, 16 bits each
      for (int r = 0; r < 4; ++r) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[r] + at));
        lo = _mm_add_epi16(lo, _mm_unpacklo_epi8(v, zero));
        hi = _mm_add_epi16(hi, _mm_unpackhi_epi8(v, zero));
      }
      // Pairs of columns, then pairs of pairs: four blocks' sums (at most 4080) in 32 bits.
      const __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(lo, ones), _mm_madd_epi16(hi, ones));
      const __m128i sum = _mm_madd_epi16(pairs, ones);
      const __m128i odd = _mm_and_si128(_mm_srli_epi32(sum, 4), low_bit);
      quads[part] = _mm_srli_epi32(_mm_add_epi32(sum, _mm_add_epi32(seven, odd)), 4);
    }
    const __m128i words = _mm_packs_epi32(quads[0], quads[1]), words2 = _mm_packs_epi32(quads[2], quads[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + x), _mm_packus_epi16(words, words2));
  }
#endif
  for (; x < w; ++x) {
    unsigned sum = 0;
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 4; ++j) sum += s[r][x * 4 + j];
    d[x] = quarter_round(sum);
  }
}

}  // namespace

bool area_downscale_integer(const cv::Mat& src, cv::Mat& dst) {
  if (src.type() != CV_8UC1 || dst.type() != CV_8UC1 || dst.empty() || src.empty()) return false;
  const int k = src.cols / dst.cols;
  if (k < 3 || k > 15 || src.cols != dst.cols * k || src.rows != dst.rows * k) return false;
  // 15 x 15 x 255 = 57375: a block's sum fits 16 bits.
  thread_local std::vector<std::uint16_t> rows;
  rows.resize(static_cast<std::size_t>(src.cols));
  const float scale = 1.f / static_cast<float>(k * k);  // as OpenCV's area-fast resize computes it
  const int w = dst.cols, sw = src.cols;
  for (int y = 0; y < dst.rows; ++y) {
    if (k == 4) {
      const std::uint8_t* s[4];
      for (int r = 0; r < 4; ++r) s[r] = src.ptr<std::uint8_t>(y * 4 + r);
      quarter_row(s, dst.ptr<std::uint8_t>(y), w);
      continue;
    }
    std::uint16_t* acc = rows.data();
    const std::uint8_t* s0 = src.ptr<std::uint8_t>(y * k);
    for (int x = 0; x < sw; ++x) acc[x] = s0[x];
    for (int r = 1; r < k; ++r) {
      const std::uint8_t* s = src.ptr<std::uint8_t>(y * k + r);
      for (int x = 0; x < sw; ++x) acc[x] = static_cast<std::uint16_t>(acc[x] + s[x]);
    }
    std::uint8_t* d = dst.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const std::uint16_t* a = acc + static_cast<std::ptrdiff_t>(x) * k;
      int sum = 0;
      for (int j = 0; j < k; ++j) sum += a[j];
      d[x] = cv::saturate_cast<std::uint8_t>(static_cast<float>(sum) * scale);
    }
  }
  return true;
}

}  // namespace matthan::detail
