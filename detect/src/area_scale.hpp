// Integer-factor area downscale of 8-bit planes: what cv::resize(INTER_AREA) gives, without its cost.
#pragma once

#include <opencv2/core.hpp>

namespace matthan::detail {

// Scales the single-channel 8-bit `src` down into `dst` (already allocated, its own size, may be a view) when
// src is exactly k times dst's size in both directions for a k from 3 to 15, averaging each k x k block. The
// result is bit for bit cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_AREA): the same sum, the same float
// scale and the same rounding (half to even). Returns false, touching nothing, for any other case (the caller
// then uses cv::resize; OpenCV's own k = 2 path is vectorised and rounds half up).
//
// Why: for k >= 3 OpenCV 4.6 takes a scalar path that reads every source pixel through an offset table, about
// 6 instructions a pixel; scaling a 720p frame's three planes to 320 wide was 8 M instructions a frame, a
// third of the motion analysis on a busy scene (callgrind, bench/journal/2026-11-29-per-frame-cost-above-floor.md;
// now BM_MotionClip in bench/detect/motion_bench.cpp). Summing rows first runs in
// straight lines the compiler vectorises; k = 4 (720p to 320 wide) sums each 4 x 4 block in SSE2, 16 outputs at a
// time (0.76 M for the three planes).
bool area_downscale_integer(const cv::Mat& src, cv::Mat& dst);

}  // namespace matthan::detail
