// A pixel rectangle (OpenCV) as a Box in the same pixel coordinates, for core's box overlap measures.
#pragma once

#include <opencv2/core.hpp>

#include "matthan/core/types.hpp"

namespace matthan::detail {

inline Box box_of(const cv::Rect& r) {
  return Box{static_cast<double>(r.x), static_cast<double>(r.y), static_cast<double>(r.width),
             static_cast<double>(r.height)};
}

}  // namespace matthan::detail
