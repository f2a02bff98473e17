// Test and bench helpers: luma and BGR images (files, synthetic scenes) turned into engine frames.
#pragma once

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/core/types.hpp"

namespace matthan::test {

// An owning GRAY8 (or I420, chroma neutral) frame whose luma is `luma` (CV_8UC1).
inline Frame luma_to_frame(const cv::Mat& luma, PixelFormat format = PixelFormat::kGray8) {
  Frame f = make_owned_frame(format, luma.cols, luma.rows);
  // The frame's memory is a fresh vector of ours, so writing the picture into it is its initialisation.
  cv::Mat dst(luma.rows, luma.cols, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]),
              static_cast<std::size_t>(f.stride[0]));
  luma.copyTo(dst);
  return f;
}

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
