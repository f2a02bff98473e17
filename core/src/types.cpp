// Owning frames for tests, file sources and synthetic scenes; box overlap.
#include "matthan/core/types.hpp"

#include <algorithm>

namespace matthan {

Frame make_owned_frame(PixelFormat format, int width, int height) {
  Frame f;
  f.format = format;
  f.width = width;
  f.height = height;
  f.source_width = width;
  f.source_height = height;
  const std::size_t luma = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  const int cw = (width + 1) / 2;
  const int ch = (height + 1) / 2;
  const std::size_t chroma = static_cast<std::size_t>(cw) * static_cast<std::size_t>(ch);
  auto buf = std::make_shared<std::vector<std::uint8_t>>(format == PixelFormat::kI420 ? luma + 2 * chroma : luma,
                                                         std::uint8_t{0});
  if (format == PixelFormat::kI420) std::fill(buf->begin() + static_cast<std::ptrdiff_t>(luma), buf->end(), 128);
  f.plane[0] = buf->data();
  f.stride[0] = width;
  if (format == PixelFormat::kI420) {
    f.plane[1] = buf->data() + luma;
    f.plane[2] = buf->data() + luma + chroma;
    f.stride[1] = f.stride[2] = cw;
  }
  f.owner = std::move(buf);
  return f;
}

Box clip_to_picture(const Box& b) {
  const double x0 = std::clamp(b.x, 0.0, 1.0), y0 = std::clamp(b.y, 0.0, 1.0);
  return Box{x0, y0, std::clamp(b.x + b.w, 0.0, 1.0) - x0, std::clamp(b.y + b.h, 0.0, 1.0) - y0};
}

double intersection_area(const Box& a, const Box& b) {
  const double w = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
  const double h = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0.0;
}

double iou(const Box& a, const Box& b) {
  const double inter = intersection_area(a, b);
  if (inter <= 0) return 0.0;
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace matthan
