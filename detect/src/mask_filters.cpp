// Filters of binary masks: the median by counting, dilation near the set pixels; see the header.
#include "mask_filters.hpp"

#include <algorithm>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace matthan::detail {

bool binary_median(const cv::Mat& src, cv::Mat& dst, int k, cv::Mat& counts, cv::Mat& out) {
  if (src.type() != CV_8UC1 || src.empty() || k < 3 || k > 15 || k % 2 == 0) return false;
  const int r = k / 2, w = src.cols, h = src.rows;
  // 15 x 15 = 225 foreground pixels at most: a window's count fits 8 bits.
  const auto more_than = static_cast<std::uint8_t>(k * k / 2);
  counts.create(1, w + 2 * r, CV_8UC1);
  out.create(src.size(), CV_8UC1);
  // The source rows and the output row are distinct from the counts (restrict lets the compiler vectorise the byte
  // loops without checking for overlap).
  std::uint8_t* col = counts.ptr<std::uint8_t>(0);
  for (int y = 0; y < h; ++y) {
    // Per column, the foreground pixels of rows y - r .. y + r (rows beyond the edge repeat the edge row).
    std::uint8_t* c = col + r;
    std::fill(c, c + w, std::uint8_t{0});
    for (int dy = -r; dy <= r; ++dy) {
      const std::uint8_t* __restrict s = src.ptr<std::uint8_t>(std::clamp(y + dy, 0, h - 1));
      for (int x = 0; x < w; ++x) c[x] = static_cast<std::uint8_t>(c[x] + (s[x] & 1));  // 255 & 1 = 1
    }
    // Columns beyond the edge repeat the edge column.
    std::fill(col, c, c[0]);
    std::fill(c + w, c + w + r, c[w - 1]);
    std::uint8_t* __restrict o = out.ptr<std::uint8_t>(y);
    std::fill(o, o + w, std::uint8_t{0});
    for (int dx = 0; dx < k; ++dx) {
      const std::uint8_t* from = col + dx;
      for (int x = 0; x < w; ++x) o[x] = static_cast<std::uint8_t>(o[x] + from[x]);
    }
    for (int x = 0; x < w; ++x) o[x] = o[x] > more_than ? 255 : 0;
  }
  out.copyTo(dst);  // src may be dst: every source row was read before any output row was written back
  return true;
}

namespace {

// The bounding box of the non-zero pixels (empty when there are none). Not cv::boundingRect: OpenCV 4.6's mask
// version misses pixels of the last row in some layouts (a unit test caught it at 9x7).
cv::Rect set_bounds(const cv::Mat& mask, std::vector<std::uint8_t>& any_in_column) {
  const int w = mask.cols;
  any_in_column.assign(static_cast<std::size_t>(w), 0);
  std::uint8_t* __restrict any = any_in_column.data();
  int top = -1, bottom = -1;
  for (int y = 0; y < mask.rows; ++y) {
    const std::uint8_t* __restrict m = mask.ptr<std::uint8_t>(y);
    unsigned row_any = 0;
    for (int x = 0; x < w; ++x) row_any |= m[x];
    if (row_any == 0) continue;
    for (int x = 0; x < w; ++x) any[x] = static_cast<std::uint8_t>(any[x] | m[x]);
    if (top < 0) top = y;
    bottom = y;
  }
  if (top < 0) return {};
  const auto set = [](std::uint8_t v) { return v != 0; };
  const int left =
      static_cast<int>(std::find_if(any_in_column.begin(), any_in_column.end(), set) - any_in_column.begin());
  const int right =
      w - 1 -
      static_cast<int>(std::find_if(any_in_column.rbegin(), any_in_column.rend(), set) - any_in_column.rbegin());
  return {left, top, right - left + 1, bottom - top + 1};
}

}  // namespace

bool dilate_by_runs(const cv::Mat& src, cv::Mat& dst, const cv::Mat& element, std::vector<std::uint8_t>& scratch) {
  if (src.type() != CV_8UC1 || src.empty() || element.type() != CV_8UC1 || element.rows % 2 == 0 ||
      element.cols % 2 == 0)
    return false;
  // Per element row, the half-width of its run about the anchor column (-1: an empty row).
  const int ay = element.rows / 2, ax = element.cols / 2;
  std::vector<int> half(static_cast<std::size_t>(element.rows), -1);
  int widest = -1;
  for (int i = 0; i < element.rows; ++i) {
    const std::uint8_t* e = element.ptr<std::uint8_t>(i);
    int first = -1, last = -1;
    for (int j = 0; j < element.cols; ++j) {
      if (e[j] == 0) continue;
      if (first < 0)
        first = j;
      else if (last != j - 1)
        return false;  // two runs
      last = j;
    }
    if (first < 0) continue;
    if (ax - first != last - ax) return false;  // not centred on the anchor
    half[static_cast<std::size_t>(i)] = ax - first;
    widest = std::max(widest, ax - first);
  }
  if (widest < 0) return false;
  const int w = src.cols, h = src.rows;
  const std::size_t plane = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  // Level l: each row's maximum over x - l .. x + l (within the row), one plane per level the element uses;
  // level l + 1 is the maximum of level l's three neighbours. All of src is read before dst is written.
  std::vector<int> slot(static_cast<std::size_t>(widest) + 1, -1);
  int slots = 0;
  for (int hw : half)
    if (hw >= 0 && slot[static_cast<std::size_t>(hw)] < 0) slot[static_cast<std::size_t>(hw)] = slots++;
  scratch.resize(plane * static_cast<std::size_t>(slots) + 2 * static_cast<std::size_t>(w));
  std::uint8_t* levels = scratch.data();
  std::uint8_t* row_a = levels + plane * static_cast<std::size_t>(slots);
  std::uint8_t* row_b = row_a + w;
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* s = src.ptr<std::uint8_t>(y);
    std::copy(s, s + w, row_a);
    for (int l = 0;; ++l) {
      if (slot[static_cast<std::size_t>(l)] >= 0)
        std::copy(row_a, row_a + w,
                  levels + plane * static_cast<std::size_t>(slot[static_cast<std::size_t>(l)]) +
                      static_cast<std::size_t>(y) * w);
      if (l == widest) break;
      const std::uint8_t* __restrict a = row_a;
      std::uint8_t* __restrict b = row_b;
      if (w == 1) {
        b[0] = a[0];
      } else {
        b[0] = std::max(a[0], a[1]);
        for (int x = 1; x < w - 1; ++x) b[x] = std::max(std::max(a[x - 1], a[x]), a[x + 1]);
        b[w - 1] = std::max(a[w - 2], a[w - 1]);
      }
      std::swap(row_a, row_b);
    }
  }
  // Per output row, the maximum of the element rows' levels, over the rows inside the image.
  dst.create(src.size(), CV_8UC1);
  for (int y = 0; y < h; ++y) {
    std::uint8_t* __restrict o = dst.ptr<std::uint8_t>(y);
    std::fill(o, o + w, std::uint8_t{0});
    for (int i = 0; i < element.rows; ++i) {
      const int hw = half[static_cast<std::size_t>(i)], sy = y + i - ay;
      if (hw < 0 || sy < 0 || sy >= h) continue;
      const std::uint8_t* __restrict l = levels + plane * static_cast<std::size_t>(slot[static_cast<std::size_t>(hw)]) +
                                         static_cast<std::size_t>(sy) * w;
      for (int x = 0; x < w; ++x) o[x] = std::max(o[x], l[x]);
    }
  }
  return true;
}

void dilate_near_set(cv::Mat& mask, const cv::Mat& element, cv::Mat& scratch) {
  thread_local std::vector<std::uint8_t> columns;
  const cv::Rect set = set_bounds(mask, columns);
  if (set.empty()) return;  // nothing to grow: the dilation is the mask itself
  const int rx = element.cols / 2, ry = element.rows / 2;
  const cv::Rect whole(0, 0, mask.cols, mask.rows);
  const cv::Rect reach = cv::Rect(set.x - rx, set.y - ry, set.width + 2 * rx, set.height + 2 * ry) & whole;
  thread_local std::vector<std::uint8_t> levels;
  if (reach == whole) {
    if (!dilate_by_runs(mask, mask, element, levels)) cv::dilate(mask, mask, element);
    return;
  }
  // Pixels of the view near its edge read the mask beyond it, which is zero there as it is outside `set` (and
  // dilate_by_runs reads nothing beyond the view, which is the same for a maximum).
  if (!dilate_by_runs(mask(reach), scratch, element, levels)) cv::dilate(mask(reach), scratch, element);
  scratch.copyTo(mask(reach));
}

}  // namespace matthan::detail
