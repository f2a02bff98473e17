// Cutting a region out of an analysis frame as BGR (for DNN models) or luma (for HOG), converting only
// the pixels of the region.
#pragma once

#include <opencv2/core.hpp>

#include "matthan/core/types.hpp"

namespace matthan::detail {

// The region in frame pixels, aligned to even coordinates (I420 chroma is subsampled 2x2) and clipped.
cv::Rect pixel_region(const Frame& frame, const Box& region);
// BGR copy of the region; empty on an empty frame or region.
cv::Mat crop_bgr(const Frame& frame, const cv::Rect& r);
// Luma view of the region (no copy; valid while the frame lives).
cv::Mat crop_luma(const Frame& frame, const cv::Rect& r);

}  // namespace matthan::detail
