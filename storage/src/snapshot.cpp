// Incident snapshots: frame planes -> BGR -> aspect-corrected, annotated JPEG, written with temp + rename.
#include "matthan/storage/snapshot.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace matthan {
namespace {

// Copies a strided plane into a contiguous destination region.
void copy_plane(const std::uint8_t* src, int stride, int width, int height, cv::Mat dst) {
  for (int y = 0; y < height; ++y) std::memcpy(dst.ptr(y), src + static_cast<std::ptrdiff_t>(y) * stride, width);
}

// cvtColor wants I420 as one contiguous (h * 3/2) x w image with even sides; odd edges are cropped.
cv::Mat i420_to_bgr(const Frame& f) {
  const int w = f.width & ~1;
  const int h = f.height & ~1;
  cv::Mat yuv(h * 3 / 2, w, CV_8UC1);
  copy_plane(f.plane[0], f.stride[0], w, h, yuv.rowRange(0, h));
  // The U and V planes (w/2 x h/2 each) fill the rows below Y back to back.
  cv::Mat chroma = yuv.rowRange(h, h * 3 / 2);
  cv::Mat u(h / 2, w / 2, CV_8UC1, chroma.data);
  cv::Mat v(h / 2, w / 2, CV_8UC1, chroma.data + static_cast<std::ptrdiff_t>(w / 2) * (h / 2));
  copy_plane(f.plane[1], f.stride[1], w / 2, h / 2, u);
  copy_plane(f.plane[2], f.stride[2], w / 2, h / 2, v);
  cv::Mat bgr;
  cv::cvtColor(yuv, bgr, cv::COLOR_YUV2BGR_I420);
  return bgr;
}

cv::Mat gray_to_bgr(const Frame& f) {
  const cv::Mat gray(f.height, f.width, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]),
                     static_cast<std::size_t>(f.stride[0]));
  cv::Mat bgr;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

// Analysis frames are often squeezed (e.g. 320x240 from 1920x1080); stretch the width back so the
// snapshot looks like the camera's picture.
cv::Mat restore_aspect(const cv::Mat& img, const Frame& f) {
  if (f.source_width <= 0 || f.source_height <= 0) return img;
  const double aspect = static_cast<double>(f.source_width) / f.source_height;
  const int width = std::max(1, static_cast<int>(std::lround(img.rows * aspect)));
  if (width == img.cols) return img;
  cv::Mat out;
  cv::resize(img, out, cv::Size(width, img.rows), 0, 0, cv::INTER_LINEAR);
  return out;
}

void draw_boxes(cv::Mat& img, const std::vector<SnapshotBox>& boxes) {
  const int thickness = std::max(2, img.rows / 240);  // 1 px lines vanish in JPEG
  const double font_scale = std::max(0.4, img.rows / 720.0);
  const cv::Scalar colour(0, 0, 255);
  for (const auto& b : boxes) {
    const cv::Point p0(static_cast<int>(std::lround(b.box.x * img.cols)),
                       static_cast<int>(std::lround(b.box.y * img.rows)));
    const cv::Point p1(static_cast<int>(std::lround((b.box.x + b.box.w) * img.cols)),
                       static_cast<int>(std::lround((b.box.y + b.box.h) * img.rows)));
    cv::rectangle(img, p0, p1, colour, thickness);
    if (b.label.empty()) continue;
    const cv::Point text_at(p0.x, std::max(p0.y - 4, static_cast<int>(12 * font_scale)));
    cv::putText(img, b.label, text_at, cv::FONT_HERSHEY_SIMPLEX, font_scale, colour, thickness);
  }
}

Status write_atomically(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return make_error(fmt::format("snapshot {}: create directory: {}", path.string(), ec.message()));
  std::filesystem::path tmp = path;
  // Unique per process and call, so two writers of one path never share a temporary file.
  static std::atomic<std::uint64_t> counter{0};
  tmp += fmt::format(".tmp{}-{}", ::getpid(), counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return make_error(fmt::format("snapshot {}: cannot write {}", path.string(), tmp.string()));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return make_error(fmt::format("snapshot {}: rename: {}", path.string(), ec.message()));
  }
  return {};
}

}  // namespace

Status write_snapshot(const Frame& frame, const std::vector<SnapshotBox>& boxes, const std::filesystem::path& path,
                      int quality) {
  if (frame.empty()) return make_error(fmt::format("snapshot {}: empty frame", path.string()));
  if (frame.format == PixelFormat::kI420 && (frame.width < 2 || frame.height < 2 || !frame.plane[1] || !frame.plane[2]))
    return make_error(fmt::format("snapshot {}: incomplete I420 frame", path.string()));
  std::vector<std::uint8_t> jpeg;
  try {
    cv::Mat bgr = frame.format == PixelFormat::kI420 ? i420_to_bgr(frame) : gray_to_bgr(frame);
    bgr = restore_aspect(bgr, frame);
    draw_boxes(bgr, boxes);
    const std::vector<int> params{cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)};
    if (!cv::imencode(".jpg", bgr, jpeg, params))
      return make_error(fmt::format("snapshot {}: JPEG encoding failed", path.string()));
  } catch (const cv::Exception& e) {  // OpenCV reports bad input by throwing; keep it a Status
    return make_error(fmt::format("snapshot {}: {}", path.string(), e.what()));
  }
  return write_atomically(jpeg, path);
}

}  // namespace matthan
