// Brightness-normalised scene structure: edge maps and their per-cell correlation (see scene_structure.hpp).
#include "scene_structure.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace matthan::detail {
namespace {

// Normalised cross-correlation of two equally sized float images; 0 when either is flat.
double ncc(const cv::Mat& a, const cv::Mat& b) {
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  if (sa[0] < 1e-6 || sb[0] < 1e-6) return 0.0;
  const double cov = cv::mean(a.mul(b))[0] - ma[0] * mb[0];
  return cov / (sa[0] * sb[0]);
}

}  // namespace

void edge_structure(const cv::Mat& luma_f32, cv::Mat& edges, cv::Mat& gx, cv::Mat& gy, cv::Mat& mag) {
  cv::Sobel(luma_f32, gx, CV_32F, 1, 0, 3);
  cv::Sobel(luma_f32, gy, CV_32F, 0, 1, 3);
  cv::magnitude(gx, gy, mag);
  cv::resize(mag, edges, {std::max(kStructureCols, luma_f32.cols / 2), std::max(kStructureRows, luma_f32.rows / 2)}, 0,
             0, cv::INTER_AREA);
  cv::sqrt(edges, edges);
}

double gain_consistency(const cv::Mat& patch, const cv::Mat& reference, double tolerance) {
  std::vector<float> ratios;
  ratios.reserve(patch.total());
  for (int y = 0; y < patch.rows; ++y) {
    const float* p = patch.ptr<float>(y);
    const float* r = reference.ptr<float>(y);
    for (int x = 0; x < patch.cols; ++x) ratios.push_back((p[x] + 4.0f) / (r[x] + 4.0f));  // +4: dark pixels are noise
  }
  if (ratios.empty()) return 1.0;
  std::vector<float> sorted = ratios;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::size_t alike = 0;
  for (float v : ratios) alike += std::abs(v - median) <= tolerance * median ? 1 : 0;
  return static_cast<double>(alike) / static_cast<double>(ratios.size());
}

double structure_change(const cv::Mat& edges, const cv::Mat& reference, double cell_match, double textured) {
  cv::Scalar gm, gsd;
  cv::meanStdDev(reference, gm, gsd);
  const double min_sd = textured * gsd[0];
  int cells = 0, changed = 0;
  for (int r = 0; r < kStructureRows; ++r) {
    for (int c = 0; c < kStructureCols; ++c) {
      const cv::Rect cell(c * edges.cols / kStructureCols, r * edges.rows / kStructureRows,
                          (c + 1) * edges.cols / kStructureCols - c * edges.cols / kStructureCols,
                          (r + 1) * edges.rows / kStructureRows - r * edges.rows / kStructureRows);
      cv::Scalar cm, csd;
      cv::meanStdDev(reference(cell), cm, csd);
      if (csd[0] < min_sd || csd[0] < 1e-3) continue;
      ++cells;
      if (ncc(edges(cell), reference(cell)) < cell_match) ++changed;
    }
  }
  return cells > 0 ? static_cast<double>(changed) / cells : 0.0;
}

}  // namespace matthan::detail
