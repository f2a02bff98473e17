// Accuracy metrics for `matthan eval`: motion masks scored by CDnet rules, boxes matched at an IoU, and
// the ground-truth file formats of ../shared/media (gt_summary.csv boxes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// CDnet ground-truth values: 255 motion, 170 unknown (ignored), 85 outside the ROI (ignored), 50 shadow
// (counts as background), 0 background.
struct MaskCounts {
  std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  void add(const MaskCounts& o) { tp += o.tp, fp += o.fp, fn += o.fn, tn += o.tn; }
  double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
};

// `predicted` is 0 / non-zero (foreground), `truth` a CDnet mask, `roi` (may be null) 0 = not scored.
// All three are `n` bytes, same size and layout.
MaskCounts score_mask(const std::uint8_t* predicted, const std::uint8_t* truth, const std::uint8_t* roi, std::size_t n);

struct BoxCounts {
  std::uint64_t tp = 0, fp = 0, fn = 0;
  void add(const BoxCounts& o) { tp += o.tp, fp += o.fp, fn += o.fn; }
  double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
};

// Greedy one-to-one matching by IoU (best pairs first) at `min_iou`. Ground-truth boxes smaller than
// `min_truth_area` (fraction of the frame) are not counted: missing them is no miss, and a predicted box
// matching one is no false alarm.
BoxCounts score_boxes(const std::vector<Box>& predicted, const std::vector<Box>& truth, double min_iou,
                      double min_truth_area);

// "x:y:w:h;x:y:w:h" in pixels -> normalised boxes. Malformed entries are skipped.
std::vector<Box> parse_box_list(std::string_view text, int width, int height);

// gt_summary.csv (`frame,fg_pixels,unknown_pixels,blobs,boxes`) -> boxes by frame number.
Result<std::map<int, std::vector<Box>>> read_gt_summary(const std::filesystem::path& csv, int width, int height);

}  // namespace matthan
