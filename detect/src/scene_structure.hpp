// The scene's structure, compared independently of its brightness: shared by tamper detection (a cover or a
// turn loses it, lighting does not) and the motion detector's global-change veto (lighting keeps it, a large
// object in front of the camera does not), so that both judge "only the light changed" the same way.
#pragma once

#include <opencv2/core.hpp>

namespace matthan::detail {

// The structure grid: cells compared one by one.
inline constexpr int kStructureCols = 8;
inline constexpr int kStructureRows = 6;

// Edge-strength map of a CV_32F luma image: sqrt of the Sobel gradient magnitude, downscaled (INTER_AREA) to
// half the size (at least the grid). Downscaling tolerates a pixel or two of shake; sqrt keeps a few very
// strong edges (a headlight's rim) from outweighing the rest. `gx`, `gy`, `mag` are scratch buffers.
void edge_structure(const cv::Mat& luma_f32, cv::Mat& edges, cv::Mat& gx, cv::Mat& gy, cv::Mat& mag);

// Share (0..1) of textured grid cells of `reference` whose edge pattern correlates less than `cell_match`
// with `edges` (same size). A cell is textured when its reference edges vary at least `textured` times the
// whole reference map's variation; 0 when no cell is textured. Brightness gain and offset cancel out.
double structure_change(const cv::Mat& edges, const cv::Mat& reference, double cell_match = 0.35,
                        double textured = 0.25);

// Share (0..1) of a float (CV_32F) patch's pixels that are the reference's times one common gain (the median ratio),
// within `tolerance` (relative): light changing on an unchanged surface scales every pixel alike.
double gain_consistency(const cv::Mat& patch, const cv::Mat& reference, double tolerance = 0.15);

}  // namespace matthan::detail
