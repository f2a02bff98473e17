// Filters of binary masks: the median by counting, dilation near the set pixels; see the header.
#include "mask_filters.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>
#include <opencv2/imgproc.hpp>

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
  const int left = static_cast<int>(std::find_if(any_in_column.begin(), any_in_column.end(), set) - any_in_column.begin());
  const int right = w - 1 - static_cast<int>(std::find_if(any_in_column.rbegin(), any_in_column.rend(), set) - any_in_column.rbegin());
  return {left, top, right - left + 1, bottom - top + 1};
}

}  // namespace

void dilate_near_set(cv::Mat& mask, const cv::Mat& element, cv::Mat& scratch) {
  thread_local std::vector<std::uint8_t> columns;
  const cv::Rect set = set_bounds(mask, columns);
  if (set.empty()) return;  // nothing to grow: the dilation is the mask itself
  const int rx = element.cols / 2, ry = element.rows / 2;
  const cv::Rect whole(0, 0, mask.cols, mask.rows);
  const cv::Rect reach = cv::Rect(set.x - rx, set.y - ry, set.width + 2 * rx, set.height + 2 * ry) & whole;
  if (reach == whole) {
    cv::dilate(mask, mask, element);
    return;
  }
  // Pixels of the view near its edge read the mask beyond it, which is zero there as it is outside `set`.
  cv::dilate(mask(reach), scratch, element);
  scratch.copyTo(mask(reach));
}

}  // namespace matthan::detail
