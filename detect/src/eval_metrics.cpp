// Accuracy metrics: CDnet-rule mask counts, IoU box matching, gt_summary.csv parsing.
#include "matthan/detect/eval_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <tuple>

#include "matthan/detect/object_detector.hpp"

namespace matthan {
namespace {

constexpr std::uint8_t kMotion = 255;
constexpr std::uint8_t kUnknown = 170;
constexpr std::uint8_t kOutsideRoi = 85;

bool to_int(std::string_view s, int& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

MaskCounts score_mask(const std::uint8_t* predicted, const std::uint8_t* truth, const std::uint8_t* roi,
                      std::size_t n) {
  MaskCounts c;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t t = truth[i];
    if (t == kUnknown || t == kOutsideRoi || (roi && roi[i] == 0)) continue;
    const bool p = predicted[i] != 0;
    if (t == kMotion)
      (p ? c.tp : c.fn)++;
    else
      (p ? c.fp : c.tn)++;
  }
  return c;
}

BoxCounts score_boxes(const std::vector<Box>& predicted, const std::vector<Box>& truth, double min_iou,
                      double min_truth_area) {
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
  for (std::size_t p = 0; p < predicted.size(); ++p)
    for (std::size_t t = 0; t < truth.size(); ++t)
      if (const double v = iou(predicted[p], truth[t]); v >= min_iou) pairs.emplace_back(v, p, t);
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> p_used(predicted.size(), false), t_used(truth.size(), false);
  BoxCounts c;
  for (const auto& [v, p, t] : pairs) {
    if (p_used[p] || t_used[t]) continue;
    p_used[p] = t_used[t] = true;
    if (truth[t].area() >= min_truth_area) ++c.tp;  // a match with a too-small blob counts for nothing
  }
  for (std::size_t p = 0; p < predicted.size(); ++p) {
    if (p_used[p]) continue;
    // Unmatched, but lying on a small ground-truth blob: not a false alarm either.
    const bool on_small = std::any_of(truth.begin(), truth.end(), [&](const Box& t) {
      return t.area() < min_truth_area && iou(predicted[p], t) >= min_iou;
    });
    if (!on_small) ++c.fp;
  }
  for (std::size_t t = 0; t < truth.size(); ++t)
    if (!t_used[t] && truth[t].area() >= min_truth_area) ++c.fn;
  return c;
}

std::vector<Box> parse_box_list(std::string_view text, int width, int height) {
  std::vector<Box> out;
  if (width <= 0 || height <= 0) return out;
  for (std::string_view item : split(text, ';')) {
    const auto parts = split(item, ':');
    int v[4];
    if (parts.size() != 4) continue;
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok = ok && to_int(parts[i], v[i]);
    if (!ok || v[2] <= 0 || v[3] <= 0) continue;
    out.push_back(Box{static_cast<double>(v[0]) / width, static_cast<double>(v[1]) / height,
                      static_cast<double>(v[2]) / width, static_cast<double>(v[3]) / height});
  }
  return out;
}

Result<std::map<int, std::vector<Box>>> read_gt_summary(const std::filesystem::path& csv, int width, int height) {
  std::ifstream in(csv);
  if (!in) return make_error(fmt::format("cannot read {}", csv.string()));
  std::map<int, std::vector<Box>> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("frame", 0) == 0) continue;
    const auto fields = split(line, ',');
    int frame = 0;
    if (fields.size() < 4 || !to_int(fields[0], frame))
      return make_error(
          fmt::format("{}:{}: expected frame,fg_pixels,unknown_pixels,blobs,boxes", csv.string(), line_no));
    out[frame] = fields.size() >= 5 ? parse_box_list(fields[4], width, height) : std::vector<Box>{};
  }
  return out;
}

}  // namespace matthan
