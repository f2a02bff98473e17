// Region crops of analysis frames: only the crop's pixels are copied and colour-converted.
#include "frame_crop.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>

namespace matthan::detail {

cv::Rect pixel_region(const Frame& frame, const Box& region) {
  const int W = frame.width & ~1;
  const int H = frame.height & ~1;
  int x0 = static_cast<int>(std::floor(std::clamp(region.x, 0.0, 1.0) * W)) & ~1;
  int y0 = static_cast<int>(std::floor(std::clamp(region.y, 0.0, 1.0) * H)) & ~1;
  int x1 = static_cast<int>(std::ceil(std::clamp(region.x + region.w, 0.0, 1.0) * W));
  int y1 = static_cast<int>(std::ceil(std::clamp(region.y + region.h, 0.0, 1.0) * H));
  x1 = std::min(W, (x1 + 1) & ~1);
  y1 = std::min(H, (y1 + 1) & ~1);
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

cv::Mat crop_luma(const Frame& frame, const cv::Rect& r) {
  if (frame.empty() || r.empty()) return {};
  // Read-only use of the frame's memory; cv::Mat wants a non-const pointer.
  const cv::Mat luma(frame.height, frame.width, CV_8UC1, const_cast<std::uint8_t*>(frame.plane[0]),
                     static_cast<std::size_t>(frame.stride[0]));
  return luma(r);
}

cv::Mat crop_bgr(const Frame& frame, const cv::Rect& r) {
  if (frame.empty() || r.empty()) return {};
  cv::Mat bgr;
  if (frame.format == PixelFormat::kGray8) {
    cv::cvtColor(crop_luma(frame, r), bgr, cv::COLOR_GRAY2BGR);
    return bgr;
  }
  // Pack the region's Y, U and V rows into one contiguous I420 image, then convert just that.
  const int w = r.width;
  const int h = r.height;
  cv::Mat i420(h * 3 / 2, w, CV_8UC1);
  std::uint8_t* dst = i420.data;
  for (int y = 0; y < h; ++y, dst += w)
    std::memcpy(dst, frame.plane[0] + static_cast<std::ptrdiff_t>(r.y + y) * frame.stride[0] + r.x, w);
  for (int p = 1; p <= 2; ++p) {
    for (int y = 0; y < h / 2; ++y, dst += w / 2) {
      std::memcpy(dst, frame.plane[p] + static_cast<std::ptrdiff_t>(r.y / 2 + y) * frame.stride[p] + r.x / 2, w / 2);
    }
  }
  cv::cvtColor(i420, bgr, cv::COLOR_YUV2BGR_I420);
  return bgr;
}

}  // namespace matthan::detail
