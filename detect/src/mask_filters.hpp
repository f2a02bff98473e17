// Filters of binary (0 / 255) masks that give what OpenCV's general ones give on such masks, at a fraction of their
// cost: the detector's median, the persistence gate's dilation.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace matthan::detail {

// Writes to `dst` the k x k median of the 0 / 255 mask `src` (CV_8UC1, every pixel 0 or 255), with the border
// replicated as cv::medianBlur does. On such a mask the median is 255 exactly where more than half of the
// window is 255, so counting the window decides it, and the result is bit for bit cv::medianBlur(src, dst, k).
// `counts` and `out` are scratch buffers the caller keeps between frames; src and dst may be the same Mat.
// Returns false, touching nothing, when k is not odd or not in 3..15 (the caller then uses cv::medianBlur).
//
// Why: cv::medianBlur's 5-wide sorting network was 5 M instructions a frame at 320x180, a fifth of the motion
// analysis on a busy scene, and cv::boxFilter's unnormalised 8-bit path still 1.7 M; two counting passes in
// straight loops the compiler vectorises take about 0.1 M (BM_MotionClip under callgrind,
// bench/journal/2026-12-07-motion-model-cost.md).
bool binary_median(const cv::Mat& src, cv::Mat& dst, int k, cv::Mat& counts, cv::Mat& out);

// cv::dilate(src, dst, element) with the default anchor and border, for an 8-bit single-channel src and an element
// with odd sides whose every row is one run centred on the anchor column (rectangles, ellipses, crosses): each row's
// maximum over the runs' widths first, then the maximum over the element's rows. src and dst may be the same Mat;
// `scratch` is the caller's buffer. Returns false, touching nothing, for any other element.
//
// Why: OpenCV visits every point of a non-rectangular element for each pixel; a 17 x 17 ellipse has 225.
bool dilate_by_runs(const cv::Mat& src, cv::Mat& dst, const cv::Mat& element, std::vector<std::uint8_t>& scratch);

// cv::dilate(mask, mask, element) (default anchor and border), computed only over the bounding box of the mask's
// set pixels widened by the element's reach: nothing beyond it can change, so the result is the same bit for bit.
// `scratch` is the caller's buffer. mask is CV_8UC1; element has odd sides.
//
// Why: the persistence gate dilates its habitual-foreground map (a 17 x 17 ellipse at 320x180) on every frame with
// motion, 1.5 M instructions a frame on a busy scene, while the map is empty or small almost everywhere but in
// front of trees and screens.
void dilate_near_set(cv::Mat& mask, const cv::Mat& element, cv::Mat& scratch);

}  // namespace matthan::detail
