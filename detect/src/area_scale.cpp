// Integer-factor area downscale; see the header.
#include "area_scale.hpp"

#include <cstdint>
#include <vector>

namespace matthan::detail {

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
    std::uint16_t* acc = rows.data();
    const std::uint8_t* s0 = src.ptr<std::uint8_t>(y * k);
    for (int x = 0; x < sw; ++x) acc[x] = s0[x];
    for (int r = 1; r < k; ++r) {
      const std::uint8_t* s = src.ptr<std::uint8_t>(y * k + r);
      for (int x = 0; x < sw; ++x) acc[x] = static_cast<std::uint16_t>(acc[x] + s[x]);
    }
    std::uint8_t* d = dst.ptr<std::uint8_t>(y);
    if (k == 4) {
      // sum / 16 rounded half to even, in integers: what cvRound(sum * 0.0625f) gives (0.0625 is exact).
      for (int x = 0; x < w; ++x) {
        const std::uint16_t* a = acc + static_cast<std::ptrdiff_t>(x) * 4;
        const unsigned sum = static_cast<unsigned>(a[0]) + a[1] + a[2] + a[3];
        const unsigned q = sum >> 4, r = sum & 15u;
        d[x] = static_cast<std::uint8_t>(q + ((r > 8u) | ((r == 8u) & q)));
      }
      continue;
    }
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
