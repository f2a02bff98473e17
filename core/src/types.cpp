// Owning frames for tests, file sources and synthetic scenes.
#include "matthan/core/types.hpp"

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

}  // namespace matthan
