// Test helpers: BGR images (files, synthetic scenes) turned into engine frames.
#pragma once

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/core/types.hpp"

namespace matthan::test {

// An owning I420 frame with the picture of `bgr` (even width and height).
inline Frame bgr_to_i420_frame(const cv::Mat& bgr) {
  cv::Mat even = bgr(cv::Rect(0, 0, bgr.cols & ~1, bgr.rows & ~1)).clone();
  cv::Mat i420;
  cv::cvtColor(even, i420, cv::COLOR_BGR2YUV_I420);
  Frame f = make_owned_frame(PixelFormat::kI420, even.cols, even.rows);
  // The frame's memory is a fresh vector of exactly this layout (Y, then U, then V, tightly packed).
  std::memcpy(const_cast<std::uint8_t*>(f.plane[0]), i420.data, i420.total());
  return f;
}

}  // namespace matthan::test
